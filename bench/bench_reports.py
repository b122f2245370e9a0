"""Benchmark: a month's reports over a million call records, on SQLite and PostgreSQL.

Fills a history database with --calls call records over November 2026 (default
1,000,000: ~33,000 a day over 8 queues and 150 agents), their ring attempts
(~1.3 per call), two-question survey answers and the agents' state changes
(logins, pauses, calls, logouts), all from tests/history_month.py's seeded
generator, with the queue and agent reports' roll-ups recomputed for each day as it is
loaded (acd.history.rollup and agent_rollup, what the history writer keeps as calls
close). Then times each report over the whole month, --runs times each, as the API and
`acd report` run it (acd.reports.engine: the SQL and the figures), on the schema of
version 4 (its covering indexes); the queue and agent reports twice: from the roll-ups
(what acd does) and from every call and ring (the statements acd ran before the
roll-ups, with the same indexes). Last, it times recomputing the whole month's
roll-ups (what the migrations to versions 3 and 4 do to an existing history).

SQLite is a file in a temporary folder; PostgreSQL is a throw-away cluster of
Debian's postgresql (tests/pg_process.py: fsync off, default memory settings).

    python bench/bench_reports.py                         # both databases
    python bench/bench_reports.py --calls 100000 --only sqlite --runs 3
    python bench/bench_reports.py --queues-only     # the queue reports alone
    python bench/bench_reports.py --agents-only     # the agent reports alone
    python bench/bench_reports.py --queues-only --between-edges   # thresholds that the
        # roll-up's counts by wait do not settle alone (4.5 s, 12, 17, 22 s)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from acd.history import agent_rollup, rollup  # noqa: E402
from acd.reports.buckets import parse_range  # noqa: E402
from acd.reports.database import create_tables  # noqa: E402
from acd.reports.engine import ReportEngine  # noqa: E402
from acd.reports.queries import Thresholds  # noqa: E402
from bench.common import machine  # noqa: E402
from tests.history_month import Month, generate, insert  # noqa: E402
from tests.pg_process import PostgresProcess  # noqa: E402

ZONE = "Asia/Shanghai"
FIRST, DAYS = date(2026, 11, 1), 30
QUEUES = ("sales", "support", "vip", "billing", "tech", "returns", "orders", "complaints")
AGENTS = tuple(str(n) for n in range(2001, 2151))
#: (name, report kind, interval, queue filter or "agent:NUMBER")
REPORTS = [
    ("queues, 15 min, all queues", "queues", "15m", None),
    ("queues, 15 min, one queue", "queues", "15m", "sales"),
    ("queues, day", "queues", "day", None),
    ("agents, 15 min, all agents", "agents", "15m", None),
    ("agents, 15 min, one agent", "agents", "15m", "agent:2001"),
    ("agents, day", "agents", "day", None),
    ("surveys, 15 min", "surveys", "15m", None),
    ("agent states, 15 min", "agent-states", "15m", None),
]


async def load(engine: AsyncEngine, calls: int) -> tuple[dict[str, int], float]:
    """The month into `engine`'s database, a day at a time; (rows per table, seconds)."""
    await create_tables(engine)
    per_day = max(1, calls // DAYS - 2)
    counts = {"calls": 0, "ring_attempts": 0, "survey_answers": 0, "agent_events": 0}
    began = time.perf_counter()
    for n in range(DAYS):
        day = generate(FIRST + timedelta(days=n), 1, per_day, ZONE, seed=n,
                       agent_events=False, queues=QUEUES, agents=AGENTS, prefix=f"d{n}-")
        await insert(engine, day, batch=10000)
        _count(counts, day)
    shifts = generate(FIRST, DAYS, 0, ZONE, seed=99, queues=QUEUES, agents=AGENTS,
                      prefix="shift-")
    shifts.calls = []
    await insert(engine, shifts, batch=10000)
    _count(counts, shifts)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    return counts, time.perf_counter() - began


def _count(counts: dict[str, int], month: Month) -> None:
    counts["calls"] += len(month.calls)
    counts["ring_attempts"] += len(month.rings)
    counts["survey_answers"] += len(month.surveys)
    counts["agent_events"] += len(month.events)


Timed = list[tuple[str, int, list[float]]]
#: the thresholds the reports are timed with (--between-edges replaces them)
THRESHOLDS = [Thresholds(service_levels={"vip": 10, "sales": 20})]
BETWEEN_EDGES = Thresholds(short_abandon_seconds=4.5, default_service_level=17,
                           service_levels={"vip": 12, "sales": 22})


async def time_reports(engine: AsyncEngine, runs: int, kinds: tuple[str, ...], *,
                       from_rollup: bool = True) -> Timed:
    """Each report of `kinds` (from the roll-ups, or from every call and ring)."""
    reports = ReportEngine(engine, THRESHOLDS[0])
    reports.use_rollup = from_rollup
    out = []
    for name, kind, interval, queue in REPORTS:
        if kind not in kinds:
            continue
        span = parse_range("2026-11-01", "2026-11-30", interval, ZONE, 93)
        times, rows = [], 0
        for _ in range(runs):
            began = time.perf_counter()
            agent = queue[6:] if queue and queue.startswith("agent:") else None
            report = await reports.report(kind, span, queue=None if agent else queue,
                                          agent=agent)
            times.append(time.perf_counter() - began)
            rows = len(report.rows)
        out.append((name, rows, times))
    return out


async def rebuild_rollups(engine: AsyncEngine) -> tuple[float, float]:
    """The whole month's queue and agent roll-ups recomputed from the rows; seconds
    taken by each."""
    taken = []
    for which in (rollup, agent_rollup):
        began = time.perf_counter()
        async with engine.begin() as conn:
            await which.rebuild(conn)
        taken.append(time.perf_counter() - began)
    return taken[0], taken[1]


async def bench(url: str, calls: int, runs: int, kinds: tuple[str, ...]
                ) -> tuple[dict[str, int], float, tuple[float, float], Timed, Timed]:
    """Load; time the reports (from the roll-ups); time the queue and agent reports
    from every call and ring; time a rebuild of the roll-ups."""
    engine = create_async_engine(url)
    try:
        counts, loaded = await load(engine, calls)
        if engine.dialect.name == "postgresql":  # index-only scans need all-visible pages
            async with engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE"))
        fast = await time_reports(engine, runs, kinds)
        plain = await time_reports(engine, runs, tuple(k for k in kinds
                                                       if k in ("queues", "agents")),
                                   from_rollup=False)
        return counts, loaded, await rebuild_rollups(engine), fast, plain
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--queues-only", action="store_true",
                        help="time the queue reports only")
    parser.add_argument("--agents-only", action="store_true",
                        help="time the agent reports only")
    parser.add_argument("--between-edges", action="store_true",
                        help="thresholds between the roll-up's wait edges (4.5 s short "
                             "abandon; 12, 17, 22 s service levels)")
    args = parser.parse_args()
    if args.between_edges:
        THRESHOLDS[0] = BETWEEN_EDGES
    kinds = ("queues",) if args.queues_only else ("agents",) if args.agents_only else (
        "queues", "agents", "surveys", "agent-states")
    print(machine())
    results = []
    folder = tempfile.mkdtemp(prefix="acd-bench-reports-")
    try:
        if args.only != "postgresql":
            url = f"sqlite+aiosqlite:///{folder}/history.db"
            results.append(("SQLite", *asyncio.run(bench(url, args.calls, args.runs,
                                                         kinds))))
        if args.only != "sqlite":
            server = PostgresProcess()
            try:
                server.start()
                results.append(("PostgreSQL",
                                *asyncio.run(bench(server.url, args.calls, args.runs,
                                                  kinds))))
            finally:
                server.remove()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for database, counts, loaded, rebuilt, fast, plain in results:
        print(f"\n{database}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
              + f"; loaded in {loaded:.0f} s; the month's roll-ups recomputed in "
              f"{rebuilt[0]:.1f} s (queues) and {rebuilt[1]:.1f} s (agents)")
        from_calls = {name: times for name, _, times in plain}
        print("| report | rows | min / median / max s | queue and agent reports from every "
              "call and ring: min / median / max s |\n|---|---:|---:|---:|")
        for name, rows, times in fast:
            before = _spread(from_calls[name]) if name in from_calls else ""
            print(f"| {name} | {rows:,} | {_spread(times)} | {before} |")


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f} / {statistics.median(times):.2f} / {max(times):.2f}"

if __name__ == "__main__":
    main()
