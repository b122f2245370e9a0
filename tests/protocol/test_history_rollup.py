"""The queue report's roll-up on both real databases: what a supervisor reads from it is
what the calls say, however the history got there (entries applied twice, amended,
applied by two writers at once, purged, or a version 2 database upgraded)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import inspect, select, text

from acd.callflow.record import CallRecord
from acd.history import schema
from acd.history.rows import Entry, batch_of
from acd.history.store import HistoryDatabase
from acd.reports.buckets import parse_range
from acd.reports.engine import ReportEngine
from acd.reports.figures import ALL, Report
from acd.reports.queries import Thresholds
from tests import reports_reference as reference
from tests.history_month import generate, insert
from tests.protocol.test_history import LATEST, undo_version_3

ZONE = "Asia/Shanghai"
DAY = "2026-11-02"
#: 10:00 on DAY in Shanghai
T0 = 1_793_584_800.0
TABLES = ("calls, ring_attempts, survey_answers, agent_events, queue_slots, queue_departures, "
          "agent_slots, "
          "schema_version")


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path
                   ) -> AsyncIterator[HistoryDatabase]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/history.db"
    else:
        url = request.getfixturevalue("postgres_url")
        fresh = HistoryDatabase(url)
        async with fresh.engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {TABLES} CASCADE"))
        await fresh.close()
    db = HistoryDatabase(url)
    await db.open()
    yield db
    await db.close()


def entry(order: int, call_id: str, **fields: object) -> Entry:
    """A history entry of a closed call: answered after 30 s in support unless told."""
    record = CallRecord(call_id=call_id, caller="13800138000", called="4008001234",
                        arrived_at=T0, queues=["support"], enqueued_at=T0 + 5,
                        answered_at=T0 + 35, agent="1001", talk_seconds=60.0,
                        outcome="answered", ended_at=T0 + 95)
    for name, value in fields.items():
        setattr(record, name, value)
    return Entry(f"{order}-0", {"kind": "call", "record": json.dumps(record.to_hash())})


async def queue_report(db: HistoryDatabase, *, rollup: bool = True,
                       limits: Thresholds | None = None, start: str = DAY,
                       end: str = DAY, interval: str = "15m", total: bool = False
                       ) -> dict[tuple[str, str], dict[str, Any]]:
    """Each queue's rows (and with `total`, the all-queues rows)."""
    engine = ReportEngine(db.engine, limits or Thresholds())
    engine.use_rollup = rollup
    report = await engine.report("queues", parse_range(start, end, interval, ZONE, 93))
    return {key: figures for key, figures in table(report).items()
            if total or key[1] != ALL}


def table(report: Report) -> dict[tuple[str, str], dict[str, Any]]:
    names = [c.name for c in report.columns]
    return {(str(row[0]), str(row[1])): dict(zip(names[2:], row[2:], strict=True))
            for row in report.rows}


async def test_a_call_applied_twice_is_offered_and_answered_once(
        database: HistoryDatabase) -> None:
    for _ in range(2):  # a crash between the commit and the acknowledgement
        await database.apply(batch_of([entry(1, "c1"), entry(2, "c2", answered_at=None,
                                                             outcome="abandoned",
                                                             left_queue_at=T0 + 65)]))
    [(bucket, figures)] = [(k[0], v) for k, v in (await queue_report(database)).items()]
    assert bucket == "2026-11-02T10:00:00+08:00"
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (2, 1, 1)
    assert figures["longest_wait"] == 60.0 and figures["asa"] == 30.0


async def test_an_amended_record_replaces_its_call_in_the_report_in_either_order(
        database: HistoryDatabase) -> None:
    first, amended = entry(1, "c1"), entry(2, "c1", transfer="queue:sales",
                                           wrap_up_seconds=20.0)
    await database.apply(batch_of([first]))
    await database.apply(batch_of([amended]))
    await database.apply(batch_of([first]))  # the older entry again: it changes nothing
    [figures] = (await queue_report(database)).values()
    assert (figures["offered"], figures["transfers"], figures["aht"]) == (1, 1, 80.0)


async def test_a_call_whose_amendment_takes_it_out_of_a_queue_leaves_that_queue(
        database: HistoryDatabase) -> None:
    await database.apply(batch_of([entry(1, "c1", queues=["support", "sales"])]))
    await database.apply(batch_of([entry(2, "c1", queues=["sales"])]))
    for rollup in (True, False):
        report = await queue_report(database, rollup=rollup)
        assert [queue for _, queue in report] == ["sales"]


async def test_an_overflowed_call_is_offered_in_both_queues_and_answered_in_the_last(
        database: HistoryDatabase) -> None:
    await database.apply(batch_of([entry(1, "c1", queues=["support", "sales"]),
                                   entry(2, "c2", queues=["support"])]))
    for rollup in (True, False):  # from the roll-up, and from the calls
        report = {queue: figures for (_, queue), figures in
                  (await queue_report(database, rollup=rollup)).items()}
        support, sales = report["support"], report["sales"]
        assert (support["offered"], support["overflowed_out"], support["answered"]) == (
            2, 1, 1)
        assert support["service_level"] == 0.0 or support["service_level"] == 1.0
        assert support["unanswered_other"] == 0  # the overflowed call is accounted for
        assert (sales["offered"], sales["overflowed_out"], sales["answered"]) == (1, 0, 1)
        assert sales["asa"] == 30.0 and sales["talk_seconds"] == 60.0
        assert support["talk_seconds"] == 60.0  # only c2's: c1 talked in sales


async def test_two_writers_applying_at_once_count_every_call_once(
        database: HistoryDatabase) -> None:
    other = HistoryDatabase(database.url)
    await other.open()
    batches = [[entry(n * 10 + k, f"w{n}-{k}", arrived_at=T0 + k * 7.0)
                for k in range(10)] for n in range(12)]
    await asyncio.gather(*((database if n % 2 else other).apply(batch_of(batch))
                           for n, batch in enumerate(batches)))
    await other.close()
    figures = list((await queue_report(database)).values())
    assert sum(f["offered"] for f in figures) == 120
    assert sum(f["answered"] for f in figures) == 120


async def test_the_purge_leaves_the_roll_up_of_the_calls_it_kept(
        database: HistoryDatabase) -> None:
    early, late = T0, T0 + 600  # the same 15 minutes: the purge cuts the slot in two
    await database.apply(batch_of([entry(1, "old", arrived_at=early),
                                   entry(2, "kept", arrived_at=late)]))
    await database.purge({"calls": T0 + 300})
    [figures] = (await queue_report(database)).values()
    assert figures["offered"] == 1


async def test_thresholds_between_the_roll_ups_edges_give_the_figures_of_the_calls(
        database: HistoryDatabase) -> None:
    """Service levels of 22 s (between edges), 20 s (on one) and 3 s (below all), a short
    abandon of 4.5 s: each figure equals the one computed from every call, including
    calls that waited exactly a threshold."""
    month = generate(date(2026, 11, 1), 3, 150, ZONE, seed=11)
    for n, (queue, wait, outcome) in enumerate([
            ("sales", 22.0, "answered"), ("vip", 20.0, "answered"),
            ("support", 3.0, "answered"), ("sales", 4.5, "abandoned"),
            ("vip", 4.4999, "abandoned"), ("support", 5.0, "abandoned")]):
        month.calls.append({"call_id": f"exact{n}", "arrived_at": T0 + n, "queue": queue,
                            "wait_seconds": wait, "outcome": outcome,
                            "answered_at": T0 + wait if outcome == "answered" else None})
    await insert(database.engine, month)
    limits = Thresholds(short_abandon_seconds=4.5, service_levels={"sales": 22, "vip": 20},
                        default_service_level=3)
    for interval in ("15m", "day", "total"):
        fast = await queue_report(database, limits=limits, start="2026-11-01",
                                  end="2026-11-03", interval=interval, total=True)
        plain = await queue_report(database, rollup=False, limits=limits, total=True,
                                   start="2026-11-01", end="2026-11-03", interval=interval)
        assert fast == plain
    day = fast  # (total) the exact calls: each on the right side of its threshold
    span = parse_range("2026-11-01", "2026-11-03", "total", ZONE, 93)
    want = {**reference.queues(month, "total", ZONE, span.start, span.end, short=4.5,
                               levels={"sales": 22, "vip": 20}, default_level=3),
            **reference.queues(month, "total", ZONE, span.start, span.end, short=4.5,
                               levels={"sales": 22, "vip": 20}, default_level=3,
                               total=True)}
    for (bucket, queue), figures in day.items():
        assert figures["answered_in_service_level"] == \
            want[(bucket, queue)]["answered_in_service_level"]
        assert figures["short_abandoned"] == want[(bucket, queue)]["short_abandoned"]


async def test_a_version_2_database_is_upgraded_with_a_roll_up_of_the_calls_it_kept(
        database: HistoryDatabase) -> None:
    month = generate(date(2026, 11, 1), 2, 120, ZONE, seed=4, agent_events=False)
    await insert(database.engine, month)
    before = await queue_report(database, rollup=False, start="2026-11-01",
                                end="2026-11-02")
    async with database.engine.begin() as conn:
        await undo_version_3(conn)
    await database.close()
    upgraded = HistoryDatabase(database.url)
    assert await upgraded.open() == LATEST
    async with upgraded.engine.connect() as conn:
        slots = (await conn.execute(select(schema.queue_slots.c.offered))).scalars().all()
        indexes = await conn.run_sync(lambda sync: {
            i["name"] for t in ("calls", "ring_attempts")
            for i in inspect(sync).get_indexes(t)})
    offered = [c for c in month.calls if c["queue"] and c.get("direction") != "outbound"]
    overflowed = [c for c in offered if "," in str(c["queues"])]
    assert overflowed and sum(slots) == len(offered) + len(overflowed)
    assert {"calls_wait_arrived", "calls_report", "ring_attempts_report"} <= indexes
    assert await queue_report(upgraded, start="2026-11-01", end="2026-11-02") == before
    await upgraded.close()


async def test_a_queue_name_longer_than_the_column_still_counts_its_calls(
        database: HistoryDatabase) -> None:
    long = "q" * 80  # cut to 64 characters in the row, as every history row is
    await database.apply(batch_of([entry(1, "c1", queues=[long, "sales"]),
                                   entry(2, "c2", queues=[long])]))
    report = {queue: figures for (_, queue), figures in (await queue_report(database)).items()}
    assert report["q" * 64]["offered"] == 2 and report["q" * 64]["overflowed_out"] == 1
