"""`acd lists add|remove|show|import|export|clear`: the caller lists in Redis.

Every subcommand takes `--redis redis://[:PASSWORD@]HOST:PORT[/DB]` (rediss:// for TLS;
ACD_REDIS_PASSWORD when the URL has none) and `--prefix`; a
running service picks changes up on its next call (see acd.adapters.redis.list_store).
`add` and `import` read `--config` for the prompts folder when an entry announces a
prompt, and refuse one with no recording (acd.announce_prompts).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncio_redis

from acd.adapters.redis.list_store import ListStore
from acd.adapters.redis.store import RedisRefused, connect_redis
from acd.announce_prompts import AnnouncePrompts
from acd.config.settings import ConfigError, RedisConfig, load_config
from acd.rules.caller_csv import MAX_FILE_BYTES, MAX_ROWS, CsvError, format_csv
from acd.rules.caller_entries import (
    Action,
    CallerEntry,
    EntryError,
    ListKind,
    MatchKind,
    format_expires,
    make_entry,
)
from acd.rules.callers import CallerRules

DEFAULT_REDIS = "redis://127.0.0.1:6390"
DEFAULT_CONFIG = "config.yaml"
DEFAULT_PREFIX = "acd:"
_LISTS = [k.value for k in ListKind]
_MATCHES = [m.value for m in MatchKind]
_ACTIONS = [a.value for a in Action]


class CliError(Exception):
    """A problem to print as one line and exit 1."""


def parse_redis_url(url: str) -> RedisConfig:
    """redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS). Without a password in the
    URL, ACD_REDIS_PASSWORD from the environment is used (keep it out of shell history)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 6379
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise CliError(f"bad --redis URL {url!r}: write redis://HOST:PORT/DB") from None
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise CliError(f"bad --redis URL {url!r}: write redis://HOST:PORT/DB")
    password = unquote(parts.password or "") or os.environ.get("ACD_REDIS_PASSWORD", "")
    return RedisConfig(host=parts.hostname, port=port, db=db, password=password,
                       tls=parts.scheme == "rediss")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `lists` and its subcommands to the `acd` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis", default=DEFAULT_REDIS, metavar="URL",
                        help=f"Redis URL (default {DEFAULT_REDIS})")
    common.add_argument("--prefix", default=DEFAULT_PREFIX, help="key prefix (default acd:)")
    lists = subparsers.add_parser("lists", help="show and change the blacklist and whitelist")
    sub = lists.add_subparsers(dest="lists_command", required=True, metavar="COMMAND")

    add = sub.add_parser("add", parents=[common], help="add or replace an entry")
    add.add_argument("list", choices=_LISTS)
    add.add_argument("value", nargs="?", default="",
                     help="number, prefix or pattern (none for --match anonymous)")
    add.add_argument("--match", choices=_MATCHES, default="exact")
    add.add_argument("--action", required=True, choices=_ACTIONS,
                     help="black: hangup, announce, route; white: vip, queue, skip_menu")
    add.add_argument("--target", default="", help="prompt name, flow:NAME, exten:N, queue:NAME, "
                     "group:NAME or node:NAME, as the action needs")
    add.add_argument("--priority", default="", help="queue priority 1-1000, higher first")
    add.add_argument("--expires", default="", help="epoch seconds or 2026-12-31[T18:00]")
    add.add_argument("--note", default="")
    add.add_argument("--config", default=DEFAULT_CONFIG, help="where prompts are, to check "
                     f"an announce target (default {DEFAULT_CONFIG})")
    add.set_defaults(func=_runner(_add))

    remove = sub.add_parser("remove", parents=[common], help="remove an entry")
    remove.add_argument("list", choices=_LISTS)
    remove.add_argument("value", nargs="?", default="")
    remove.add_argument("--match", choices=_MATCHES, default="exact")
    remove.set_defaults(func=_runner(_remove))

    show = sub.add_parser("show", parents=[common], help="print the entries (as CSV)")
    show.add_argument("list", nargs="?", choices=_LISTS)
    show.add_argument("--caller", help="instead, say which entry applies to this caller id")
    show.set_defaults(func=_runner(_show))

    imp = sub.add_parser("import", parents=[common], help="add every row of a CSV file, "
                         "or none if a row is bad")
    imp.add_argument("file", help="CSV with header list,match,value,action,target,priority,"
                     "expires,note; - for stdin")
    imp.add_argument("--replace", action="store_true", help="empty both lists first")
    imp.add_argument("--encoding", default="utf-8-sig", help="e.g. gbk for Excel on "
                     "Chinese Windows (default utf-8, BOM allowed)")
    imp.add_argument("--config", default=DEFAULT_CONFIG, help="where prompts are, to check "
                     f"announce targets (default {DEFAULT_CONFIG})")
    imp.set_defaults(func=_runner(_import))

    exp = sub.add_parser("export", parents=[common], help="write the entries as CSV")
    exp.add_argument("file", nargs="?", default="-", help="output file (default stdout)")
    exp.add_argument("--list", dest="only", choices=_LISTS)
    exp.set_defaults(func=_runner(_export))

    clear = sub.add_parser("clear", parents=[common], help="remove every entry (of a list)")
    clear.add_argument("list", nargs="?", choices=_LISTS)
    clear.add_argument("--yes", action="store_true", help="really do it")
    clear.set_defaults(func=_runner(_clear))


Command = Callable[[ListStore, argparse.Namespace], Awaitable[str]]


def _runner(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            output = asyncio.run(_with_store(command, args))
        except (CliError, EntryError) as exc:
            print(f"acd lists: {exc}", file=sys.stderr)
            return 1
        except (asyncio_redis.Error, ConnectionError) as exc:
            print(f"acd lists: Redis error: {exc}", file=sys.stderr)
            return 1
        except CsvError as exc:
            print(f"acd lists: nothing imported; fix these rows:\n{exc}", file=sys.stderr)
            return 1
        if output:
            print(output, end="" if output.endswith("\n") else "\n")
        return 0
    return run


async def _with_store(command: Command, args: argparse.Namespace) -> str:
    config = parse_redis_url(args.redis)
    where = f"{config.host}:{config.port}/{config.db}"  # never the URL: it may hold a password
    try:
        connection = await asyncio.wait_for(
            connect_redis(config, poolsize=1, retry_forever=False), timeout=10)
    except RedisRefused as exc:
        raise CliError(str(exc)) from None
    except (TimeoutError, OSError) as exc:
        raise CliError(f"cannot connect to Redis at {where}: {exc or 'timeout'}; "
                       "is it running (scripts/redis.sh start)?") from None
    try:
        return await command(ListStore(connection, args.prefix), args)
    finally:
        connection.close()


def _list_kind(text: str | None) -> ListKind | None:
    return ListKind(text) if text else None


async def _add(store: ListStore, args: argparse.Namespace) -> str:
    entry = make_entry(args.list, args.match, args.value, args.action, args.target,
                       args.priority, args.expires, args.note)
    problem = _announce_check(args.config)(entry)
    if problem:
        raise CliError(problem)
    new = await store.add(entry)
    return f"{'added' if new else 'replaced'} {entry.list.value}list {entry.match.value} " \
           f"{entry.value or '(withheld)'}: {entry.action.value}"


async def _remove(store: ListStore, args: argparse.Namespace) -> str:
    if not await store.remove(ListKind(args.list), MatchKind(args.match), args.value):
        raise CliError(f"no {args.list}list {args.match} entry {args.value!r}")
    return f"removed {args.list}list {args.match} {args.value}"


async def _show(store: ListStore, args: argparse.Namespace) -> str:
    if args.caller is None:
        return format_csv(await store.entries(_list_kind(args.list)))
    rules = await store.load_rules()
    return describe_caller(rules, args.caller, time.time())


def describe_caller(rules: CallerRules, caller: str, now: float) -> str:
    decision = rules.evaluate(caller, now)
    if decision is None:
        return f"{caller}: no entry applies"
    entry = decision.entry
    parts = [f"{caller}: {decision.reason} -> {decision.action.value}"]
    if decision.target:
        parts.append(f"target {decision.target}")
    if decision.priority is not None:
        parts.append(f"priority {decision.priority}")
    if entry.expires is not None:
        parts.append(f"expires {format_expires(entry.expires)}")
    return ", ".join(parts)


async def _import(store: ListStore, args: argparse.Namespace) -> str:
    text = _read_bounded(args.file, args.encoding)
    count = await store.import_csv(text, replace=args.replace,
                                   check=_announce_check(args.config))
    return f"imported {count} entries" + (" (lists replaced)" if args.replace else "")


def _announce_check(config_path: str) -> Callable[[CallerEntry], str]:
    """What is wrong with an entry's announce prompt ('' if nothing), the configuration
    read only when an announce entry comes (other entries need no config.yaml)."""
    prompts: list[AnnouncePrompts] = []

    def check(entry: CallerEntry) -> str:
        if entry.action is not Action.ANNOUNCE:
            return ""
        if not prompts:
            try:
                config = load_config(config_path, allow_missing_env=True)
            except ConfigError as exc:
                raise CliError(f"cannot check the announce prompt: {config_path} does not "
                               f"load (pass --config):\n{exc}") from None
            prompts.append(AnnouncePrompts.of_config(config))
        return prompts[0].problem(entry)

    return check


def _read_bounded(name: str, encoding: str) -> str:
    """The file's text, refused past MAX_FILE_BYTES before it is all in memory."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(name, "rb") as source:
                data = source.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise CliError(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MiB; "
                           f"split it (at most {MAX_ROWS:,} rows a file)")
        return data.decode(encoding)
    except (OSError, UnicodeDecodeError, LookupError) as exc:
        raise CliError(f"cannot read {name}: {exc}") from None


async def _export(store: ListStore, args: argparse.Namespace) -> str:
    text = await store.export_csv(_list_kind(args.only))
    if args.file == "-":
        return text
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {args.file}: {exc.strerror}") from None
    return f"exported {text.count(chr(10)) - 1} entries to {args.file}"


async def _clear(store: ListStore, args: argparse.Namespace) -> str:
    what = f"the {args.list}list" if args.list else "both lists"
    if not args.yes:
        raise CliError(f"this removes every entry of {what}; add --yes to do it")
    removed = await store.clear(_list_kind(args.list))
    return f"removed {removed} entries from {what}"

