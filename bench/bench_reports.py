"""Benchmark: a month's reports over a million call records, on SQLite and PostgreSQL.

Fills a history database with --calls call records over November 2026 (default
1,000,000: ~33,000 a day over 8 queues and 150 agents), their ring attempts
(~1.3 per call), two-question survey answers and the agents' state changes
(logins, pauses, calls, logouts), all from tests/history_month.py's seeded
generator. Then times each report over the whole month, --runs times each, as
the API and `acd report` run it (acd.reports.engine: the SQL and the figures),
first on the schema's own indexes, then again after adding the covering indexes of
acd.reports.database.REPORT_INDEXES (a proposal, not in the schema).

SQLite is a file in a temporary folder; PostgreSQL is a throw-away cluster of
Debian's postgresql (tests/pg_process.py: fsync off, default memory settings).

    python bench/bench_reports.py                         # both databases
    python bench/bench_reports.py --calls 100000 --only sqlite --runs 3
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

from acd.reports.buckets import parse_range  # noqa: E402
from acd.reports.database import create_report_indexes, create_tables  # noqa: E402
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


async def time_reports(engine: AsyncEngine, runs: int) -> list[tuple[str, int, list[float]]]:
    reports = ReportEngine(engine, Thresholds(service_levels={"vip": 10, "sales": 20}))
    out = []
    for name, kind, interval, queue in REPORTS:
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


async def add_covering_indexes(engine: AsyncEngine) -> float:
    """acd.reports.database.REPORT_INDEXES, and fresh statistics; seconds taken."""
    began = time.perf_counter()
    await create_report_indexes(engine)
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # PostgreSQL reads an index alone only where VACUUM marked the pages all-visible
        await auto.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                                else "ANALYZE"))
    return time.perf_counter() - began


async def bench(url: str, calls: int, runs: int) -> tuple[dict[str, int], float, float,
                                                          list, list]:
    """Load, time the reports on the schema's indexes, add the covering ones, time again."""
    engine = create_async_engine(url)
    try:
        counts, loaded = await load(engine, calls)
        plain = await time_reports(engine, runs)
        indexed = await add_covering_indexes(engine)
        return counts, loaded, indexed, plain, await time_reports(engine, runs)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(machine())
    results = []
    folder = tempfile.mkdtemp(prefix="acd-bench-reports-")
    try:
        if args.only != "postgresql":
            url = f"sqlite+aiosqlite:///{folder}/history.db"
            results.append(("SQLite", *asyncio.run(bench(url, args.calls, args.runs))))
        if args.only != "sqlite":
            server = PostgresProcess()
            try:
                server.start()
                results.append(("PostgreSQL",
                                *asyncio.run(bench(server.url, args.calls, args.runs))))
            finally:
                server.remove()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for database, counts, loaded, indexed, plain, covered in results:
        print(f"\n{database}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
              + f"; loaded in {loaded:.0f} s; covering indexes added in {indexed:.0f} s")
        print("| report | rows | schema's indexes: min / median / max s "
              "| + covering indexes: min / median / max s |\n|---|---:|---:|---:|")
        for (name, rows, before), (_, _, after) in zip(plain, covered, strict=True):
            print(f"| {name} | {rows:,} | {_spread(before)} | {_spread(after)} |")


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f} / {statistics.median(times):.2f} / {max(times):.2f}"

if __name__ == "__main__":
    main()
