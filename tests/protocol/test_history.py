"""The call history from Redis to SQL, on a real Redis and on both real databases
(SQLite in a file, PostgreSQL in a throw-away cluster): what a closed call leaves in
the history, amendments, agent state changes, outages, two writers, schema upgrades
and the retention purge."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio
from sqlalchemy import insert, select, text

from acd.adapters.redis.history_stream import AgentEventRecorder, HistoryStream
from acd.adapters.redis.store import CallStore
from acd.config.history import HistoryConfig, HistoryRetention
from acd.core import commands as cmd
from acd.core.model import AgentState
from acd.history import schema
from acd.history.migrations import MIGRATIONS, Migration
from acd.history.retention import DAY, purge_once
from acd.history.rows import Entry
from acd.history.store import HistoryDatabase
from acd.history.writer import BadRows, HistoryWriter

DB = 14  # this module's own Redis database; keys also carry a per-test prefix
T0 = 1_795_000_000.0
TABLES = ("calls, ring_attempts, survey_answers, agent_events, queue_slots, queue_departures, "
          "agent_slots, "
          "schema_version")


@pytest.fixture
def prefix() -> str:
    return f"test-history-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def redis(redis_server: Any, prefix: str) -> AsyncIterator[asyncio_redis.Pool]:
    pool = await asyncio_redis.Pool.create(host=redis_server.host, port=redis_server.port,
                                           db=DB, poolsize=4)
    yield pool
    cursor = await pool.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await pool.delete(keys)
    pool.close()


async def _fresh_postgres(url: str) -> None:
    database = HistoryDatabase(url)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {TABLES} CASCADE"))
    await database.close()


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/var/history.db"
    pg: str = request.getfixturevalue("postgres_url")
    await _fresh_postgres(pg)
    return pg


@pytest_asyncio.fixture
async def database(url: str) -> AsyncIterator[HistoryDatabase]:
    db = HistoryDatabase(url)
    await db.open()
    yield db
    await db.close()


def stores(redis: Any, prefix: str) -> tuple[CallStore, HistoryStream]:
    stream = HistoryStream(redis, prefix)
    return CallStore(redis, prefix, history_stream=stream.key,
                     keep_closed_seconds=7 * 86400), stream


def record(call_id: str, at: float = T0) -> dict[str, object]:
    return {"call_id": call_id, "caller": "13800138000", "called": "4008001234",
            "arrived_at": at, "queues": ["support"], "enqueued_at": at + 5}


def closing(at: float = T0) -> dict[str, object]:
    """What the session's close adds to an answered, surveyed call."""
    return {
        "ended_at": at + 80, "answered_at": at + 30, "agent": "1002", "ring_attempts": 2,
        "talk_seconds": 45.0, "outcome": "answered", "hung_up_by": "agent", "survey": "1",
        "rings": [
            {"queue": "support", "agent": "1001", "device": "PJSIP/agent1001",
             "started_at": at + 6, "ended_at": at + 21, "result": "no-answer"},
            {"queue": "support", "agent": "1002", "device": "PJSIP/agent1002",
             "started_at": at + 22, "ended_at": at + 30, "result": "answered"}],
        "survey_answers": [{"question": "satisfaction", "answer": "1", "queue": "support",
                            "agent": "1002", "answered_at": at + 78}]}


async def rows(db: HistoryDatabase, table: Any, *order: str) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        result = await conn.execute(select(table).order_by(*[table.c[o] for o in order]))
        return [dict(r._mapping) for r in result]


async def drain(writer: HistoryWriter) -> int:
    total = 0
    while applied := await writer.drain_once():
        total += applied
    return total


# -- what a call leaves ---------------------------------------------------------------------


async def test_a_closed_call_lands_in_sql_with_its_ring_attempts_and_survey_answers(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await calls.open_call("c1", record("c1"))
    assert await stream.backlog() == 0  # an open call is not history yet
    await calls.close_call("c1", closing())
    assert await stream.backlog() == 1  # written with the close, in the same step
    assert await drain(HistoryWriter(stream, database, "w1")) == 1
    [call] = await rows(database, schema.calls, "call_id")
    assert (call["queue"], call["agent"], call["outcome"], call["survey"]) == (
        "support", "1002", "answered", "1")
    assert call["wait_seconds"] == 25.0  # queued at +5, answered at +30
    assert call["ring_attempts"] == 2 and call["talk_seconds"] == 45.0
    rings = await rows(database, schema.ring_attempts, "attempt")
    assert [(r["attempt"], r["agent"], r["result"], r["ended_at"] - r["started_at"])
            for r in rings] == [(1, "1001", "no-answer", 15.0), (2, "1002", "answered", 8.0)]
    [answer] = await rows(database, schema.survey_answers, "question")
    assert (answer["question"], answer["answer"], answer["agent"]) == ("satisfaction", "1",
                                                                       "1002")
    assert await stream.backlog() == 0  # applied: gone from Redis


async def test_an_abandoned_call_waited_until_the_caller_left_the_queue(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await calls.record_call("c2", {**record("c2"), "ended_at": T0 + 70, "outcome": "abandoned",
                                   "left_queue_at": T0 + 65})
    await drain(HistoryWriter(stream, database, "w1"))
    [call] = await rows(database, schema.calls, "call_id")
    assert call["wait_seconds"] == 60.0 and call["answered_at"] is None


async def test_a_caller_id_longer_than_its_column_is_cut_not_a_stop_of_the_history(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await calls.record_call("c1", {**record("c1"), "caller": "8" * 100, "outcome": "shed"})
    await calls.record_call("c2", record("c2"))
    assert await drain(HistoryWriter(stream, database, "w1")) == 2
    got = await rows(database, schema.calls, "call_id")
    assert [len(r["caller"]) for r in got] == [64, 11]


async def test_an_amended_record_is_updated_not_duplicated(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await calls.open_call("c1", record("c1"))
    await calls.close_call("c1", closing())
    await calls.save_call("c1", {"wrap_up_seconds": 12.5})  # the agent's wrap-up, later
    writer = HistoryWriter(stream, database, "w1", batch_size=1)  # one entry per batch
    assert await drain(writer) == 2
    [call] = await rows(database, schema.calls, "call_id")
    assert call["wrap_up_seconds"] == 12.5
    assert len(await rows(database, schema.ring_attempts, "attempt")) == 2


async def test_a_close_applied_after_its_amendment_does_not_undo_it(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await calls.open_call("c1", record("c1"))
    await calls.close_call("c1", closing())
    await calls.save_call("c1", {"wrap_up_seconds": 12.5})
    close, amendment = await stream.read("w1", 10, 60_000)
    from acd.history.rows import batch_of

    await database.apply(batch_of([amendment]))  # a second writer was faster
    await database.apply(batch_of([close]))
    [call] = await rows(database, schema.calls, "call_id")
    assert call["wrap_up_seconds"] == 12.5


async def test_a_closed_record_expires_from_redis_after_the_configured_days(
        redis: Any, prefix: str) -> None:
    calls, _ = stores(redis, prefix)
    await calls.open_call("c1", record("c1"))
    assert await redis.ttl(f"{prefix}call:c1") == -1  # a call in progress never expires
    await calls.close_call("c1", closing())
    assert 7 * 86400 - 5 < await redis.ttl(f"{prefix}call:c1") <= 7 * 86400


# -- agents ----------------------------------------------------------------------------------


async def test_agent_login_pause_with_reason_resume_and_logout_become_rows(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    _, stream = stores(redis, prefix)
    recorder = AgentEventRecorder(stream)
    changes = [(AgentState.AVAILABLE, "", 0), (AgentState.PAUSED, "lunch", 3600),
               (AgentState.AVAILABLE, "", 5400), (AgentState.LOGGED_OUT, "", 28800)]
    for state, reason, after in changes:
        recorder.on_routing(cmd.AgentStateChanged("1001", state, reason, T0 + after))
    recorder.on_routing(cmd.RingAgents("c1", "support", (), 15))  # not an agent change
    await recorder.flush()
    await drain(HistoryWriter(stream, database, "w1"))
    got = await rows(database, schema.agent_events, "at")
    assert [(r["state"], r["reason"], r["at"] - T0) for r in got] == [
        ("available", "", 0), ("paused", "lunch", 3600), ("available", "", 5400),
        ("logged-out", "", 28800)]


async def test_agent_changes_made_while_redis_is_away_are_written_when_it_is_back(
        redis: Any, prefix: str) -> None:
    _, stream = stores(redis, prefix)

    class Flaky:
        key, fail = stream.key, True

        async def append_agent_events(self, events: list[Any]) -> None:
            if self.fail:
                raise ConnectionError("Redis away")
            await stream.append_agent_events(events)

    flaky = Flaky()
    recorder = AgentEventRecorder(flaky)  # type: ignore[arg-type]
    task = recorder.start()
    recorder.on_routing(cmd.AgentStateChanged("1001", AgentState.PAUSED, "away", T0))
    await asyncio.sleep(0.2)
    flaky.fail = False
    deadline = time.monotonic() + 5
    while await stream.backlog() < 1:
        assert time.monotonic() < deadline, "the held change was never written"
        await asyncio.sleep(0.05)
    task.cancel()


# -- outages and several writers -------------------------------------------------------------


async def _close_calls(calls: CallStore, ids: list[str]) -> None:
    for call_id in ids:
        await calls.open_call(call_id, record(call_id))
        await calls.close_call(call_id, closing())


async def _wait_rows(db: HistoryDatabase, count: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if await db.count(schema.calls) >= count:
                return
        except Exception:  # noqa: S110 - the database coming back
            pass
        assert time.monotonic() < deadline, f"fewer than {count} calls in SQL in time"
        await asyncio.sleep(0.1)


async def test_calls_closed_while_postgres_is_down_are_applied_once_when_it_returns(
        redis: Any, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    from tests.pg_process import PostgresProcess

    server = PostgresProcess()
    server.start()
    try:
        database = HistoryDatabase(server.url)
        await database.open()
        calls, stream = stores(redis, prefix)
        writer = HistoryWriter(stream, database, "w1", batch_size=7)
        writer.FIRST_DELAY, writer.MAX_DELAY = 0.05, 0.4
        task = writer.start()
        await _close_calls(calls, [f"a{n}" for n in range(5)])
        await _wait_rows(database, 5)
        server.stop()
        await _close_calls(calls, [f"b{n}" for n in range(40)])  # the call path goes on
        await asyncio.sleep(1.5)  # several failed attempts
        assert not writer.healthy and writer.status()["status"] == "degraded"
        assert writer.status()["backlog"] == 40
        assert await stream.backlog() == 40  # all waiting in Redis
        server.start()
        await _wait_rows(database, 45)
        await writer.stop()
        await task
        assert await database.count(schema.calls) == 45
        assert await database.count(schema.ring_attempts) == 90  # once each
        assert await stream.backlog() == 0 and writer.healthy
        outage = [r for r in caplog.records if "unreachable" in r.getMessage()]
        back = [r for r in caplog.records if "is back" in r.getMessage()]
        assert len(outage) == 1 and len(back) == 1  # said once each, not per retry
        await database.close()
    finally:
        server.remove()


async def test_calls_closed_while_the_sqlite_file_cannot_be_opened_wait_and_are_applied(
        redis: Any, prefix: str, tmp_path: Path) -> None:
    blocked = tmp_path / "var"
    blocked.write_text("a file where the database's folder should be")
    database = HistoryDatabase(f"sqlite+aiosqlite:///{blocked}/history.db")
    calls, stream = stores(redis, prefix)
    writer = HistoryWriter(stream, database, "w1")
    writer.FIRST_DELAY, writer.MAX_DELAY = 0.05, 0.2
    task = writer.start()
    await _close_calls(calls, [f"c{n}" for n in range(10)])
    await asyncio.sleep(0.6)
    assert not writer.database_up and await stream.backlog() == 10
    blocked.unlink()  # the operator fixes it
    await _wait_rows(database, 10)
    await writer.stop()
    await task
    assert await database.count(schema.calls) == 10 and await stream.backlog() == 0
    await database.close()


async def test_two_writers_on_one_stream_never_apply_an_entry_twice(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await _close_calls(calls, [f"c{n}" for n in range(300)])
    seen: dict[str, list[str]] = {"w1": [], "w2": []}

    def counting(name: str) -> Any:
        return lambda entries: seen[name].extend(e.id for e in entries)

    writers = [HistoryWriter(stream, database, name, batch_size=20, on_applied=counting(name))
               for name in ("w1", "w2")]
    await asyncio.gather(*(drain(w) for w in writers))
    assert seen["w1"] and seen["w2"]  # both took part
    assert not set(seen["w1"]) & set(seen["w2"])
    assert len(seen["w1"]) + len(seen["w2"]) == 300
    assert await database.count(schema.calls) == 300


async def test_entries_a_dead_writer_left_pending_are_taken_over(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    calls, stream = stores(redis, prefix)
    await _close_calls(calls, ["c1", "c2"])
    await stream.read("dead", 10, 60_000)  # read, never applied: it died
    survivor = HistoryWriter(stream, database, "w2")
    survivor.CLAIM_IDLE_MS = 0
    assert await drain(survivor) == 2
    assert await database.count(schema.calls) == 2


async def test_an_entry_that_cannot_be_read_is_set_aside_and_the_rest_applied(
        redis: Any, prefix: str, database: HistoryDatabase) -> None:
    class Feed:
        def __init__(self) -> None:
            self.entries = [Entry("1-0", {"kind": "call", "record": "{not json"}),
                            Entry("2-0", {"kind": "agent", "agent": "1001",
                                          "state": "available", "reason": "", "at": "5"})]
            self.acked: list[str] = []

        async def read(self, *_: Any) -> list[Entry]:
            out, self.entries = self.entries, []
            return out

        async def done(self, ids: list[str]) -> None:
            self.acked += ids

        async def backlog(self) -> int:
            return 0

    feed = Feed()
    assert await HistoryWriter(feed, database, "w1").drain_once() == 2
    assert feed.acked == ["1-0", "2-0"] and await database.count(schema.agent_events) == 1


async def test_a_record_the_database_refuses_is_set_aside_and_the_others_written(
        redis: Any, prefix: str, database: HistoryDatabase,
        caplog: pytest.LogCaptureFixture) -> None:
    class Picky:  # the real database, refusing one record's value as PostgreSQL might
        where = database.where

        async def apply(self, batch: Any) -> None:
            if "bad" in batch.calls:
                raise BadRows("value out of range")
            await database.apply(batch)

    calls, stream = stores(redis, prefix)
    for call_id in ("c1", "bad", "c2"):
        await calls.record_call(call_id, record(call_id))
    writer = HistoryWriter(stream, Picky(), "w1")
    assert await drain(writer) == 3
    assert sorted(r["call_id"] for r in await rows(database, schema.calls, "call_id")) == [
        "c1", "c2"]
    assert await stream.backlog() == 0 and writer.database_up
    assert any("set aside" in r.getMessage() for r in caplog.records)


# -- schema and retention -------------------------------------------------------------------


async def _add_note(conn: Any) -> None:
    await conn.execute(text("ALTER TABLE calls ADD COLUMN test_note VARCHAR(32) "
                            "DEFAULT '' NOT NULL"))


async def _broken(conn: Any) -> None:
    await conn.execute(text("ALTER TABLE calls ADD COLUMN half_done VARCHAR(8)"))
    raise RuntimeError("step failed halfway")


LATEST = len(MIGRATIONS)


async def undo_version_4(conn: Any) -> None:
    """The database as version 3 left it: no agents' roll-up."""
    await conn.execute(text("DROP TABLE agent_slots"))
    await conn.execute(text("UPDATE schema_version SET version = 3"))


async def undo_version_3(conn: Any) -> None:
    """The database as version 2 left it: no roll-up, no reports' indexes."""
    await undo_version_4(conn)
    for index in ("calls_wait_arrived", "calls_report", "ring_attempts_report"):
        await conn.execute(text(f"DROP INDEX {index}"))
    await conn.execute(text("DROP TABLE queue_slots"))
    await conn.execute(text("DROP TABLE queue_departures"))
    await conn.execute(text("UPDATE schema_version SET version = 2"))


async def test_an_existing_database_is_upgraded_in_place(url: str) -> None:
    old = HistoryDatabase(url)
    assert await old.open() == LATEST
    async with old.engine.begin() as conn:
        await conn.execute(insert(schema.calls).values(call_id="kept", arrived_at=T0))
    await old.close()
    step = Migration(LATEST + 1, "a note on each call (test only)", _add_note)
    new = HistoryDatabase(url)
    assert await new.open((*MIGRATIONS, step)) == LATEST + 1
    async with new.engine.connect() as conn:
        got = (await conn.execute(text("SELECT call_id, test_note FROM calls"))).all()
    assert [tuple(r) for r in got] == [("kept", "")]
    assert await new.open((*MIGRATIONS, step)) == LATEST + 1  # nothing left to run
    await new.close()


async def test_a_version_1_database_gets_the_columns_of_version_2(url: str) -> None:
    old = HistoryDatabase(url)
    await old.open()
    async with old.engine.begin() as conn:  # as version 1 made it: without them
        await undo_version_3(conn)
        for name in ("direction", "disposition", "disposition_note"):
            await conn.execute(text(f"ALTER TABLE calls DROP COLUMN {name}"))
        await conn.execute(text("UPDATE schema_version SET version = 1"))
        await conn.execute(text("INSERT INTO calls (call_id, arrived_at) VALUES ('kept', 1)"))
    await old.close()
    new = HistoryDatabase(url)
    assert await new.open() == LATEST
    async with new.engine.connect() as conn:
        got = (await conn.execute(text(
            "SELECT call_id, direction, disposition, disposition_note FROM calls"))).all()
    assert [tuple(r) for r in got] == [("kept", "", "", "")]
    await new.close()


async def test_a_failing_migration_leaves_the_database_as_it_was(url: str) -> None:
    db = HistoryDatabase(url)
    await db.open()
    with pytest.raises(RuntimeError, match="halfway"):
        await db.open((*MIGRATIONS, Migration(LATEST + 1, "broken", _broken)))
    async with db.engine.connect() as conn:
        version = (await conn.execute(text("SELECT version FROM schema_version"))).scalar()
        columns = await conn.run_sync(
            lambda c: [col["name"] for col in __import__("sqlalchemy").inspect(c)
                       .get_columns("calls")])
    assert version == LATEST and "half_done" not in columns
    await db.close()


async def test_the_purge_deletes_history_older_than_each_kinds_retention(
        redis: Any, prefix: str, database: HistoryDatabase,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("acd.history.store.PURGE_BATCH", 3)  # several bounded deletes
    now = T0 + 400 * DAY
    calls, stream = stores(redis, prefix)
    for n in range(8):  # 8 calls 401 days old, 2 of yesterday
        await calls.record_call(f"old{n}", {**record(f"old{n}", T0 - DAY), **closing(T0 - DAY)})
    for n in range(2):
        await calls.record_call(f"new{n}", {**record(f"new{n}", now - DAY),
                                            **closing(now - DAY)})
    recorder = AgentEventRecorder(stream)
    recorder.on_routing(cmd.AgentStateChanged("1001", AgentState.AVAILABLE, "", T0))
    recorder.on_routing(cmd.AgentStateChanged("1001", AgentState.LOGGED_OUT, "", now - 60))
    await recorder.flush()
    await drain(HistoryWriter(stream, database, "w1"))
    config = HistoryConfig(retention=HistoryRetention(calls=365, ring_attempts=365,
                                                      survey_answers=0, agent_events=30),
                           redis_records_days=7)
    removed = await purge_once(config, database, calls, now)
    assert removed["calls"] == 8 and removed["ring_attempts"] == 16
    assert removed["agent_events"] == 1 and "survey_answers" not in removed  # 0: for ever
    assert removed["redis_index"] == 8  # the old ones left the recent-calls index
    assert sorted(r["call_id"] for r in await rows(database, schema.calls, "call_id")) == [
        "new0", "new1"]
    assert await database.count(schema.survey_answers) == 10
