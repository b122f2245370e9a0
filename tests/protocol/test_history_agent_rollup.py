"""The agent report's roll-up on both real databases: what a supervisor reads from it is what
the calls and rings say, however the history got there (entries applied twice, amended to
another agent, two writers at once, purged, or a version 3 database upgraded)."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from acd.callflow.record import CallRecord
from acd.history import schema
from acd.history.rows import Entry, batch_of
from acd.history.store import HistoryDatabase
from acd.reports.buckets import parse_range
from acd.reports.engine import ReportEngine
from acd.reports.figures import ALL
from acd.reports.queries import Thresholds
from tests import reports_reference as reference
from tests.history_month import generate, insert
from tests.protocol.test_history import LATEST, undo_version_4
from tests.protocol.test_history_rollup import DAY, T0, ZONE, table
from tests.protocol.test_history_rollup import database as fresh_database

#: a fresh history database on SQLite and on PostgreSQL (the queue roll-up's tests')
database = fresh_database

Table = dict[tuple[str, str], dict[str, Any]]


def ring(agent: str, started: float, rang: float, result: str) -> dict[str, object]:
    return {"agent": agent, "device": f"PJSIP/{agent}", "queue": "support",
            "started_at": started, "ended_at": started + rang, "result": result}


def entry(order: int, call_id: str, **fields: object) -> Entry:
    """A closed call: 1002 did not answer, then 1001 answered after ringing 4 s."""
    record = CallRecord(call_id=call_id, caller="13800138000", called="4008001234",
                        arrived_at=T0, queues=["support"], enqueued_at=T0 + 5,
                        answered_at=T0 + 35, agent="1001", talk_seconds=60.0,
                        wrap_up_seconds=10.0, outcome="answered", ended_at=T0 + 95,
                        rings=[ring("1002", T0 + 6, 20, "no-answer"),
                               ring("1001", T0 + 31, 4, "answered")])
    for name, value in fields.items():
        setattr(record, name, value)
    return Entry(f"{order}-0", {"kind": "call", "record": json.dumps(record.to_hash())})


async def agent_report(db: HistoryDatabase, *, rollup: bool = True,
                       limits: Thresholds | None = None, start: str = DAY, end: str = DAY,
                       interval: str = "15m") -> Table:
    """Each agent's rows and the all-agents rows, by (bucket, agent)."""
    engine = ReportEngine(db.engine, limits or Thresholds())
    engine.use_rollup = rollup
    return table(await engine.report("agents", parse_range(start, end, interval, ZONE, 93)))


def assert_same(got: Table, want: Table) -> None:
    """The same rows and figures (sums added in another order differ in the last bits)."""
    assert set(got) == set(want), sorted(set(got) ^ set(want))[:5]
    for key, figures in got.items():
        for name, value in figures.items():
            other = want[key].get(name, 0)
            if value is None or other is None:
                assert value is other, (key, name, value, other)
            else:
                assert math.isclose(value, other, rel_tol=1e-6, abs_tol=0.011), (
                    key, name, value, other)


async def test_an_agents_calls_and_rings_applied_twice_are_counted_once(
        database: HistoryDatabase) -> None:
    for _ in range(2):  # a crash between the commit and the acknowledgement
        await database.apply(batch_of([entry(1, "c1")]))
    report = await agent_report(database)
    assert_same(report, await agent_report(database, rollup=False))
    one, other = report[("2026-11-02T10:00:00+08:00", "1001")], \
        report[("2026-11-02T10:00:00+08:00", "1002")]
    assert (one["answered"], one["aht"], one["rings_answered"]) == (1, 70.0, 1)
    assert (one["average_ring_to_answer"], one["answered_within_rings_share"]) == (4.0, 1.0)
    assert (other["answered"], other["rings"], other["missed_rings"]) == (0, 1, 1)
    assert report[("2026-11-02T10:00:00+08:00", ALL)]["rings"] == 2


async def test_a_call_amended_to_another_agent_leaves_the_first_agents_row(
        database: HistoryDatabase) -> None:
    await database.apply(batch_of([entry(1, "c1")]))
    await database.apply(batch_of([entry(2, "c1", agent="1003", rings=[
        ring("1002", T0 + 6, 20, "no-answer"), ring("1003", T0 + 31, 4, "answered")])]))
    for rollup in (True, False):
        report = await agent_report(database, rollup=rollup)
        assert sorted(agent for _, agent in report) == [ALL, "1002", "1003"]


async def test_two_writers_applying_at_once_count_every_call_and_ring_once(
        database: HistoryDatabase) -> None:
    other = HistoryDatabase(database.url)
    await other.open()
    batches = [[entry(n * 10 + k, f"w{n}-{k}", arrived_at=T0 + k * 7.0)
                for k in range(10)] for n in range(12)]
    await asyncio.gather(*((database if n % 2 else other).apply(batch_of(batch))
                           for n, batch in enumerate(batches)))
    await other.close()
    report = await agent_report(database)
    totals = [f for (_, agent), f in report.items() if agent == ALL]
    assert sum(f["answered"] for f in totals) == 120 and sum(f["rings"] for f in totals) == 240


async def test_the_purge_leaves_the_agents_roll_up_of_the_calls_and_rings_it_kept(
        database: HistoryDatabase) -> None:
    await database.apply(batch_of([entry(1, "old"), entry(2, "kept", arrived_at=T0 + 600,
                                                          rings=[])]))
    await database.purge({"calls": T0 + 300, "ring_attempts": T0 + 300})
    report = await agent_report(database)
    assert report == await agent_report(database, rollup=False)
    assert report[("2026-11-02T10:00:00+08:00", "1001")]["answered"] == 1
    assert ("2026-11-02T10:00:00+08:00", "1002") not in report  # its ring was purged


@pytest.mark.parametrize("within", [15.0, 12.5, 3.0, 90.0])
async def test_any_answer_within_threshold_gives_the_figures_of_the_rings(
        database: HistoryDatabase, within: float) -> None:
    """On one of the roll-up's edges (15 s), between two (12.5 s), under all (3 s) and
    over all (90 s): the same figures as from every ring, and as computed by hand."""
    month = generate(date(2026, 11, 1), 3, 150, ZONE, seed=11)
    await insert(database.engine, month)
    limits = Thresholds(answer_within_seconds=within)
    for interval in ("15m", "day"):
        fast = await agent_report(database, limits=limits, start="2026-11-01",
                                  end="2026-11-03", interval=interval)
        assert_same(fast, await agent_report(database, rollup=False, limits=limits,
                                             start="2026-11-01", end="2026-11-03",
                                             interval=interval))
    span = parse_range("2026-11-01", "2026-11-03", "day", ZONE, 93)
    args = (month, "day", ZONE, span.start, span.end)
    assert_same(fast, {**reference.agents(*args, within=within),
                       **reference.agents(*args, within=within, total=True)})


async def test_a_version_3_database_is_upgraded_with_an_agents_roll_up_of_what_it_kept(
        database: HistoryDatabase) -> None:
    month = generate(date(2026, 11, 1), 2, 120, ZONE, seed=4)
    await insert(database.engine, month)
    before = await agent_report(database, rollup=False, start="2026-11-01",
                                end="2026-11-02")
    async with database.engine.begin() as conn:
        await undo_version_4(conn)
    await database.close()
    upgraded = HistoryDatabase(database.url)
    assert await upgraded.open() == LATEST == 4
    async with upgraded.engine.connect() as conn:
        rings = (await conn.execute(select(func.sum(schema.agent_slots.c.rings)))).scalar()
    assert rings == len(month.rings)
    assert_same(await agent_report(upgraded, start="2026-11-01", end="2026-11-02"), before)
    await upgraded.close()
