"""`acd asterisk-queues`: write each acd queue's twin in app_queue, rung while acd is away.

    acd asterisk-queues                      # -> paths.fallback_queues (config.yaml)
    acd asterisk-queues -o /etc/asterisk/queues_fallback.conf
    asterisk -rx 'module reload app_queue'   # Asterisk reads it (queues.conf includes it)

The queues come from --config (acd.adapters.asterisk.fallback_queues says what each
becomes); scripts/sandbox.sh runs this at every start.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from acd.config.settings import ConfigError, load_config

DEFAULT_CONFIG = "config.yaml"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "asterisk-queues", help="write app_queue's fallback queues (one per acd queue)",
        description="Write queues_fallback.conf: for each queue of --config, the app_queue "
                    "queue the dialplan puts its callers in while acd is away.")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--output", "-o",
                        help="file to write, '-' for stdout (default: paths.fallback_queues)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acd.adapters.asterisk.fallback_queues import CATCH_ALL, render, twin_of
    from acd.config.sections import load_sections

    try:
        config = load_config(args.config, allow_missing_env=True)
        queues = load_sections(config).queues
    except ConfigError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print("acd: fix the configuration first (acd check)", file=sys.stderr)
        return 1
    catch_all = config.ami.fallback_queue or CATCH_ALL
    text = render(queues, str(config.source), catch_all)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.output) if args.output else config.path(config.paths.fallback_queues)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)  # Asterisk never reads half a file
    except OSError as exc:
        print(f"acd: cannot write {target}: {exc}", file=sys.stderr)
        return 1
    named = [q.name for q in queues if twin_of(q.name, catch_all) is not None]
    print(f"wrote {len(named)} fallback queue(s) to {target}: {', '.join(named) or 'none'}; "
          "Asterisk reads it at its start or on 'module reload app_queue'")
    for queue in queues:
        if twin_of(queue.name, catch_all) is None:
            print(f"warning: queue {queue.name!r}: no app_queue queue can be named so "
                  f"(letters, digits, _ . - only); its callers go to {catch_all}",
                  file=sys.stderr)
    return 0
