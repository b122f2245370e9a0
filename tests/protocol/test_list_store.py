"""The caller lists in a real Redis: run-time changes, versions, CSV, persistence, CLI."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio

from acd import cli_lists
from acd.adapters.redis.changes import follow_changes
from acd.adapters.redis.list_store import CachedRules, ListStore
from acd.checks import check_caller_lists
from acd.cli_lists import register
from acd.config.settings import RedisConfig
from acd.rules.caller_csv import CsvError
from acd.rules.caller_entries import Action, ListKind, MatchKind, make_entry

DB = 11  # this module's own database; keys also carry a per-test prefix
NOW = 1795000000.0  # 2026-11-18


async def _connect(redis_server: Any) -> asyncio_redis.Connection:
    return await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)


@pytest.fixture
def prefix() -> str:
    return f"test-lists-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def store(redis_server: Any, prefix: str) -> AsyncIterator[ListStore]:
    connection = await _connect(redis_server)
    yield ListStore(connection, prefix)
    await connection.delete([f"{prefix}lists:entries", f"{prefix}lists:version"])
    connection.close()


BLOCKED = make_entry("black", "exact", "+8613800138000", "hangup", note="abusive")
VIP = make_entry("white", "prefix", "010", "vip", priority="9")
CSV = ("list,match,value,action,target,priority,expires,note\n"
       "black,exact,13800138000,hangup,,,,\n"
       "white,prefix,010,vip,,9,2027-01-01,\n"
       "black,anonymous,,announce,show_your_number,,,\n")


async def test_an_added_entry_is_seen_by_load_rules(store: ListStore) -> None:
    assert await store.add(BLOCKED) is True
    rules = await store.load_rules()
    decision = rules.evaluate("008613800138000", NOW)
    assert decision is not None and decision.action is Action.HANGUP
    assert decision.entry.note == "abusive"


async def test_every_change_moves_the_version(store: ListStore) -> None:
    assert await store.version() == 0
    await store.add(BLOCKED)
    assert await store.version() == 1
    assert await store.add(BLOCKED) is False  # replaced, still a change
    assert await store.remove(ListKind.BLACK, MatchKind.EXACT, "13800138000") is True
    assert await store.version() == 3
    assert await store.remove(ListKind.BLACK, MatchKind.EXACT, "13800138000") is False


async def test_a_running_service_applies_a_change_to_the_next_call_once_it_is_announced(
        store: ListStore, redis_server: Any, prefix: str) -> None:
    cached = CachedRules(store)
    assert (await cached.rules()).evaluate("13800138000", NOW) is None
    first = await cached.rules()
    assert await cached.rules() is first  # nothing changed: nothing read again
    heard = asyncio.Event()

    def invalidate() -> None:
        cached.invalidate()
        heard.set()

    config = RedisConfig(host=redis_server.host, port=redis_server.port, db=DB, prefix=prefix)
    feed = asyncio.create_task(follow_changes(config, {"lists": invalidate}))
    try:
        await asyncio.wait_for(heard.wait(), 5)  # subscribed (and told to drop its cache)
        heard.clear()
        await store.add(BLOCKED)  # e.g. `acd lists add` in another process
        await asyncio.wait_for(heard.wait(), 5)
        assert (await cached.rules()).evaluate("13800138000", NOW) is not None
    finally:
        feed.cancel()


async def test_csv_round_trip(store: ListStore) -> None:
    assert await store.import_csv(CSV) == 3
    exported = await store.export_csv()
    await store.clear()
    assert await store.entries() == []
    await store.import_csv(exported)
    assert await store.export_csv() == exported
    assert "2027-01-01T00:00:00+08:00" in exported


async def test_a_bad_csv_row_is_reported_and_nothing_is_imported(store: ListStore) -> None:
    await store.add(VIP)
    version = await store.version()
    bad = CSV + "white,exact,13900139000,vip,,,,\n"
    with pytest.raises(CsvError) as caught:
        await store.import_csv(bad, replace=True)
    assert caught.value.problems == [(5, "action vip needs a priority (1-1000, higher first)")]
    assert await store.entries() == [VIP]
    assert await store.version() == version


async def test_import_with_replace_empties_both_lists_first(store: ListStore) -> None:
    await store.add(make_entry("black", "prefix", "170", "hangup"))
    await store.import_csv(CSV, replace=True)
    assert {e.value for e in await store.entries()} == {"13800138000", "010", ""}


async def test_clear_one_list_keeps_the_other(store: ListStore) -> None:
    await store.import_csv(CSV)
    assert await store.clear(ListKind.BLACK) == 2
    assert [e.list for e in await store.entries()] == [ListKind.WHITE]
    assert await store.clear(ListKind.BLACK) == 0


async def test_lists_survive_a_new_connection(store: ListStore, redis_server: Any,
                                              prefix: str) -> None:
    await store.import_csv(CSV)
    connection = await _connect(redis_server)
    try:
        again = ListStore(connection, prefix)
        assert await again.version() == await store.version()
        assert await again.entries() == await store.entries()
    finally:
        connection.close()


async def test_an_unreadable_stored_entry_is_skipped_not_fatal(store: ListStore,
                                                               prefix: str) -> None:
    await store.add(BLOCKED)
    raw = store._redis  # the test's own connection
    await raw.hset(f"{prefix}lists:entries", "black|pattern|x", '{"match": "pattern"}')
    assert len(await store.load_rules()) == 1


# The CLI, run as `acd lists ...` would run it (it owns its event loop, so
# these tests are synchronous).
def project(tmp_path: Path, redis_server: Any, prefix: str) -> Path:
    """A config.yaml on the test Redis whose prompts folder holds the recordings
    zh/bye.wav and zh/show_your_number.wav."""
    for name in ("bye", "show_your_number"):
        (tmp_path / "prompts" / "zh").mkdir(parents=True, exist_ok=True)
        (tmp_path / "prompts" / "zh" / f"{name}.wav").write_bytes(b"RIFF")
    config = tmp_path / "config.yaml"
    config.write_text(f"languages: [zh, en]\n"
                      f"numbers: {{'4008001234': {{flow: main, language: zh}}}}\n"
                      f"redis: {{host: {redis_server.host}, port: {redis_server.port}, "
                      f"db: {DB}, prefix: '{prefix}'}}\n")
    return config


@pytest.fixture
def lists_cli(redis_server: Any, prefix: str, tmp_path: Path) -> Iterator[Callable[..., int]]:
    parser = argparse.ArgumentParser(prog="acd")
    register(parser.add_subparsers(dest="command", required=True))
    url = f"redis://{redis_server.host}:{redis_server.port}/{DB}"
    config = project(tmp_path, redis_server, prefix)

    def run(*argv: str) -> int:
        checked = ["--config", str(config)] if argv[0] in ("add", "import") else []
        args = parser.parse_args(["lists", *argv, "--redis", url, "--prefix", prefix,
                                  *checked])
        return int(args.func(args))

    yield run
    run("clear", "--yes")


def test_cli_add_show_remove(lists_cli: Callable[..., int],
                             capsys: pytest.CaptureFixture[str]) -> None:
    run = lists_cli
    assert run("add", "black", "+86 138 0013 8000", "--action", "announce",
               "--target", "bye") == 0
    assert "added blacklist exact 13800138000: announce" in capsys.readouterr().out
    assert run("show", "--caller", "008613800138000") == 0
    assert "blacklist exact 13800138000 -> announce, target bye" in capsys.readouterr().out
    assert run("show", "black") == 0
    assert "black,exact,13800138000,announce,bye" in capsys.readouterr().out
    assert run("remove", "black", "13800138000") == 0
    assert run("remove", "black", "13800138000") == 1
    assert "no blacklist exact entry" in capsys.readouterr().err


def test_cli_reports_bad_input_clearly(lists_cli: Callable[..., int], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = lists_cli
    assert run("add", "white", "138", "--action", "vip") == 1
    assert "acd lists: action vip needs a priority" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "black,exact,1,explode,,,,\n", encoding="utf-8")
    assert run("import", str(bad)) == 1
    assert "nothing imported; fix these rows:\nrow 5: unknown action" in capsys.readouterr().err
    assert run("clear") == 1
    assert "add --yes" in capsys.readouterr().err


def test_cli_import_export_files(lists_cli: Callable[..., int], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = lists_cli
    source = tmp_path / "lists.csv"
    source.write_text(CSV, encoding="gbk")
    assert run("import", str(source), "--encoding", "gbk") == 0
    out = tmp_path / "out.csv"
    assert run("export", str(out)) == 0
    assert "exported 3 entries" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").count("\n") == 4


def test_cli_import_refuses_an_oversized_file_and_reports_a_nul_by_row(
        lists_cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    run = lists_cli
    source = tmp_path / "lists.csv"
    source.write_bytes(CSV.encode() + b"black,exact,1,hangup,,,,a\x00b\n")
    assert run("import", str(source)) == 1
    assert "nothing imported; fix these rows:\nrow 5: the note cell holds a NUL character" \
        in capsys.readouterr().err
    monkeypatch.setattr(cli_lists, "MAX_FILE_BYTES", len(CSV) - 1)
    source.write_text(CSV, encoding="utf-8")
    assert run("import", str(source)) == 1
    assert "is larger than" in capsys.readouterr().err


def test_cli_refuses_an_announce_entry_whose_prompt_does_not_exist(
        lists_cli: Callable[..., int], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = lists_cli
    assert run("add", "black", "170", "--match", "prefix", "--action", "announce",
               "--target", "no_virtual") == 1
    err = capsys.readouterr().err
    assert "acd lists: announce prompt 'no_virtual' does not exist: acd looked for " \
           f"{tmp_path / 'prompts' / 'zh' / 'no_virtual.wav'}" in err
    assert run("add", "black", "171", "--match", "prefix", "--action", "announce",
               "--target", "blocked") == 0  # the service's own message
    assert run("show", "black") == 0
    assert "no_virtual" not in capsys.readouterr().out


def test_cli_import_names_the_row_whose_announce_prompt_does_not_exist(
        lists_cli: Callable[..., int], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = lists_cli
    source = tmp_path / "lists.csv"
    source.write_text(CSV + "black,prefix,170,announce,no_virtual,,,\n", encoding="utf-8")
    assert run("import", str(source)) == 1
    assert "nothing imported; fix these rows:\nrow 5: announce prompt 'no_virtual' does " \
           "not exist" in capsys.readouterr().err
    assert run("show") == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header: nothing imported


async def test_acd_check_reports_stored_entries_whose_announce_prompt_does_not_exist(
        store: ListStore, redis_server: Any, prefix: str, tmp_path: Path) -> None:
    config = str(project(tmp_path, redis_server, prefix))
    await store.add(make_entry("black", "prefix", "170", "announce", "bye"))
    assert await asyncio.to_thread(check_caller_lists, config) == ([], [])
    # stored before the check existed, or by another tool
    await store.add(make_entry("black", "prefix", "165", "announce", "gone_prompt"))
    problems, warnings = await asyncio.to_thread(check_caller_lists, config)
    [problem] = problems
    assert problem.startswith(f"caller lists (Redis at {redis_server.host}:"
                              f"{redis_server.port} db {DB}, {prefix}lists:entries): "
                              "blacklist prefix 165: announce prompt 'gone_prompt' does not "
                              f"exist: acd looked for {tmp_path / 'prompts' / 'zh'}")
    assert warnings == []


def test_acd_check_says_when_it_could_not_read_the_caller_lists(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("redis: {host: 127.0.0.1, port: 1}\n")
    problems, [warning] = check_caller_lists(str(config))
    assert problems == []
    assert warning.startswith("caller lists not checked: cannot read them from Redis at "
                              "127.0.0.1:1 db 0")


def test_cli_says_when_redis_is_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="acd")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["lists", "show", "--redis", "redis://127.0.0.1:1"])
    assert args.func(args) == 1
    assert "cannot connect to Redis at 127.0.0.1:1/0" in capsys.readouterr().err
    args = parser.parse_args(["lists", "show", "--redis", "http://x"])
    assert args.func(args) == 1
    assert "bad --redis URL" in capsys.readouterr().err
