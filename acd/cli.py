"""Command line: `acd serve`, `acd check`, `acd simulate`, `acd lists ...`, `acd hash-password`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from acd.config.settings import ConfigError, load_config

DEFAULT_CONFIG = "config.yaml"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("panoramisk").setLevel(logging.WARNING)
    logging.getLogger("asyncio_redis").setLevel(logging.WARNING)
    # The format shows no file, line, thread or process: finding the caller's frame for
    # every record was a tenth of acd's logging cost per call under load.
    logging._srcfile = None  # type: ignore[attr-defined]  # documented in logging's source
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def cmd_serve(args: argparse.Namespace) -> int:
    from acd.app import App

    _setup_logging(args.verbose)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        print(f"acd: fix the problems above in {args.config} (acd check shows them too)",
              file=sys.stderr)
        return 2
    from acd.adapters.redis.store import RedisRefused

    try:
        app = App(config)
        asyncio.run(app.run_forever())
    except RedisRefused as exc:
        print(f"acd: {exc}", file=sys.stderr)
        return 2
    return app.exit_code


def cmd_check(args: argparse.Namespace) -> int:
    from acd.checks import check_all, check_caller_lists

    problems, warnings = check_all(args.config)
    if not args.no_redis:
        more_problems, more_warnings = check_caller_lists(args.config)
        problems += more_problems
        warnings += more_warnings
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    for line in problems:
        print(line)
    return 1 if problems else 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Print the `password_hash:` line for a password read from the terminal (or stdin)."""
    import getpass

    from acd.adapters.http.auth import hash_password

    if sys.stdin.isatty():
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 1
        if password != again:
            print("acd: the passwords differ; nothing written", file=sys.stderr)
            return 1
    else:  # piped: one line, e.g. `printf %s "$PW" | acd hash-password`
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        print("acd: an empty password cannot log in; nothing written", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def cmd_calls_export(args: argparse.Namespace) -> int:
    """Write call records as CSV to stdout (or --output), a batch at a time.

    An operator tool run with Redis access: full numbers unless --masked.
    """
    from datetime import datetime
    from pathlib import Path
    from typing import TextIO
    from zoneinfo import ZoneInfo

    import asyncio_redis

    from acd import call_csv
    from acd.adapters.redis.store import CallStore, RedisRefused, connect_redis

    try:
        config = load_config(args.config, allow_missing_env=True)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    def epoch(text: str | None, default: float) -> float:
        if not text:
            return default
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(config.timezone))
        return moment.timestamp()

    try:
        since, until = epoch(args.since, 0), epoch(args.until, float("inf"))
    except ValueError as exc:
        print(f"acd: cannot export: {exc}", file=sys.stderr)
        return 1

    async def run(out: TextIO) -> None:
        redis = await connect_redis(config.redis, poolsize=1, retry_forever=False)
        try:
            out.write(call_csv.header())
            async for batch in CallStore(redis, config.redis.prefix).call_hashes(since, until):
                out.write(call_csv.rows(batch, masked=args.masked))
        finally:
            redis.close()

    try:
        if not args.output:
            asyncio.run(run(sys.stdout))
        else:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                asyncio.run(run(out))
    except (OSError, ValueError, asyncio_redis.Error, RedisRefused) as exc:
        print(f"acd: cannot export: {exc}", file=sys.stderr)
        if args.output:  # a cut file would pass for a whole one
            Path(args.output).unlink(missing_ok=True)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acd", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--config", default=DEFAULT_CONFIG)
    serve.set_defaults(func=cmd_serve)
    check = sub.add_parser("check", help="validate the configuration and IVR flows")
    check.add_argument("--config", default=DEFAULT_CONFIG)
    check.add_argument("--no-redis", action="store_true",
                       help="do not read the caller lists from Redis (their announce "
                            "prompts are checked otherwise)")
    check.set_defaults(func=cmd_check)
    calls = sub.add_parser("calls", help="call records")
    calls_sub = calls.add_subparsers(dest="calls_command", required=True)
    export = calls_sub.add_parser("export", help="call records as CSV")
    export.add_argument("--config", default=DEFAULT_CONFIG)
    export.add_argument("--since", help="local ISO time, e.g. 2026-11-23T00:00")
    export.add_argument("--until", help="local ISO time")
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    export.add_argument("--masked", action="store_true",
                        help="mask callers' numbers as for roles that may not see them")
    export.set_defaults(func=cmd_calls_export)
    hasher = sub.add_parser(
        "hash-password", help="print a password_hash for config.yaml's users:",
        description="Read a password (twice from the terminal, or one line from stdin) and "
                    "print the pbkdf2_sha256$... line to paste into a user's password_hash:.")
    hasher.set_defaults(func=cmd_hash_password)
    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Subcommands that live in their own modules."""
    try:
        from acd import simulate
    except ImportError:
        simulate = None  # type: ignore[assignment]
    if simulate is not None and hasattr(simulate, "add_arguments"):
        sim = sub.add_parser("simulate", help="discrete-event simulation of the routing core")
        simulate.add_arguments(sim)
        sim.set_defaults(func=simulate.run)
    try:
        from acd import cli_lists
    except ImportError:
        cli_lists = None  # type: ignore[assignment]
    if cli_lists is not None and hasattr(cli_lists, "register"):
        cli_lists.register(sub)
    from acd import cli_asterisk, cli_reports

    cli_reports.register(sub)
    cli_asterisk.register(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
