"""Every figure of every report, on a generated month, equals a plain computation from the
raw rows: on SQLite and on PostgreSQL, in a zone without and with daylight saving time."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.history.schema import metadata
from acd.reports.buckets import make_buckets, parse_range
from acd.reports.database import create_tables
from acd.reports.engine import ReportEngine
from acd.reports.figures import Report
from acd.reports.queries import Thresholds
from tests import reports_reference as reference
from tests.history_month import generate, insert

#: October 2026: Europe/Berlin leaves summer time on the 25th (a 25-hour day)
FIRST = date(2026, 10, 1)
LIMITS = Thresholds(short_abandon_seconds=5, answer_within_seconds=15,
                    service_levels={"sales": 20, "vip": 10}, default_service_level=15)
#: "now" is mid-month: agents still logged in then count until now, not the range's end
NOW_OFFSET = 20 * 86400 + 3600 * 15


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/history.db")
    else:
        engine = create_async_engine(request.getfixturevalue("postgres_url"))
        await _drop(engine)
    await create_tables(engine)
    yield engine
    await _drop(engine)
    await engine.dispose()


async def _drop(engine: AsyncEngine) -> None:
    """The history's tables and schema version gone (the session's PostgreSQL is shared)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS schema_version"))


def _table(report: Report) -> dict[tuple[str, ...], dict[str, object]]:
    names = [c.name for c in report.columns]
    keys = 1 + len(report.keys)
    return {tuple(str(v) for v in row[:keys]): dict(zip(names[keys:], row[keys:], strict=True))
            for row in report.rows}


def _same(got: object, want: object) -> bool:
    if want is None or got is None:
        return got is want
    assert isinstance(got, int | float) and isinstance(want, int | float)
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=0.011)


def _compare(report: Report, expected: dict[tuple[str, ...], dict[str, object]]) -> None:
    got = _table(report)
    assert set(got) == set(expected), (sorted(set(got) ^ set(expected))[:5])
    wrong = [(key, name, figures[name], expected[key].get(name, 0))
             for key, figures in got.items() for name in figures
             if not _same(figures[name], expected[key].get(name, 0))]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_every_figure_of_every_report_equals_a_direct_computation_from_the_rows(
        database: AsyncEngine, zone: str) -> None:
    month = generate(FIRST, 31, 60, zone, seed=7)
    await insert(database, month)
    start = parse_range("2026-10-01", "2026-10-31", "total", zone, 93).start
    now = start + NOW_OFFSET
    engine = ReportEngine(database, LIMITS, now=lambda: now)
    for interval in ("15m", "hour", "day", "total"):
        span = parse_range("2026-10-01", "2026-10-31", interval, zone, 93)
        args = (month, interval, zone, span.start, span.end)
        # each queue's (agent's) rows, and the total of all of them
        queues = {**reference.queues(*args, short=5, levels={"sales": 20, "vip": 10},
                                     default_level=15),
                  **reference.queues(*args, short=5, levels={"sales": 20, "vip": 10},
                                     default_level=15, total=True)}
        for from_rollup in (True, False):
            engine.use_rollup = from_rollup
            _compare(await engine.report("queues", span), queues)
        agents = {**reference.agents(*args, within=15),
                  **reference.agents(*args, within=15, total=True)}
        for from_rollup in (True, False):  # from the agents' roll-up, and from the rows
            engine.use_rollup = from_rollup
            _compare(await engine.report("agents", span), agents)
        _compare(await engine.report("surveys", span), {
            **reference.surveys(*args), **reference.surveys(*args, total=True)})
        buckets = make_buckets(span)
        states = (month, [b.start for b in buckets] + [span.end], [b.label for b in buckets],
                  span.start, span.end, now)
        _compare(await engine.report("agent-states", span), {
            **reference.agent_states(*states), **reference.agent_states(*states, total=True)})


async def test_filters_by_queue_and_agent_keep_only_their_rows(database: AsyncEngine) -> None:
    zone = "Asia/Shanghai"
    month = generate(FIRST, 3, 80, zone, seed=3)
    await insert(database, month)
    engine = ReportEngine(database, LIMITS)
    span = parse_range("2026-10-01", "2026-10-03", "day", zone, 93)
    args = (month, "day", zone, span.start, span.end)
    queues = await engine.report("queues", span, queue="vip")
    want = {k: v for k, v in reference.queues(*args, short=5, levels={"vip": 10},
                                              default_level=15).items() if k[1] == "vip"}
    _compare(queues, want)
    agents = await engine.report("agents", span, agent="1003")
    assert {row[1] for row in agents.rows} == {"1003"}
    states = await engine.report("agent-states", span, agent="1003")
    assert {row[1] for row in states.rows} == {"1003"}


async def test_a_repeated_autumn_hour_is_two_buckets_and_the_day_has_25_hours(
        database: AsyncEngine) -> None:
    zone = "Europe/Berlin"
    month = generate(date(2026, 10, 25), 1, 10, zone, seed=5, agent_events=False)
    # one call in each 02:00 of the night the clocks go back (00:30 and 01:30 UTC)
    night = parse_range("2026-10-25", "2026-10-25", "hour", zone, 93)
    for n, moment in enumerate((night.start + 2.5 * 3600, night.start + 3.5 * 3600)):
        month.calls.append({"call_id": f"night{n}", "arrived_at": moment, "queue": "sales",
                            "outcome": "abandoned", "wait_seconds": 30.0})
    await insert(database, month)
    engine = ReportEngine(database, LIMITS)
    hours = await engine.report("queues", night)
    labels = [row[0] for row in hours.rows
              if row[0].startswith("2026-10-25T02") and row[1] == "sales"]
    assert labels == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    assert len(hours.buckets) == 25
