"""Reports read from the history database: the one place the reports' SQL is run.

`ReportEngine` is what the HTTP routes and `acd report` ask for a report (through
the `ReportSource` port); it is given an SQLAlchemy AsyncEngine by whoever owns
the history database, so it runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Select, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.gc_policy import collections_paused
from acd.history.schema import SLOT_SECONDS
from acd.reports import agent_slot_queries, agent_table, figures, queries, rollup_queries
from acd.reports.buckets import ReportRange, make_buckets, segments
from acd.reports.figures import Report
from acd.reports.queries import Filters, Thresholds

REPORT_KINDS = ("queues", "agents", "surveys", "agent-states")


class UnknownReport(ValueError):
    """A report name that is not one of REPORT_KINDS."""


class ReportSource(Protocol):
    """What the API and the command line ask for a report."""

    async def report(self, kind: str, span: ReportRange, *, queue: str | None = None,
                     agent: str | None = None) -> Report: ...


class ReportEngine:
    def __init__(self, engine: AsyncEngine, limits: Thresholds,
                 now: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.limits = limits
        self.now = now
        #: queue and agent reports from the roll-ups where they are made of their slots
        #: (the bench turns it off to time the statements over every call)
        self.use_rollup = True

    async def report(self, kind: str, span: ReportRange, *, queue: str | None = None,
                     agent: str | None = None) -> Report:
        if kind not in REPORT_KINDS:
            raise UnknownReport(f"no report {kind!r}; reports: {', '.join(REPORT_KINDS)}")
        limits = self.limits  # a reload meanwhile applies from the next report
        buckets = make_buckets(span)
        parts = segments(buckets, span.interval)
        where = Filters(span.start, span.end, queue, agent)
        labels = [b.label for b in buckets]
        shape: figures.Shape
        if kind == "agents" and self.use_rollup and agent_slot_queries.covers(buckets, where):
            with collections_paused():  # a quarter of a million rows (gc_policy)
                async with self.engine.begin() as conn:
                    await _tune(conn, sorts=False)
                    slots = await _agent_slot_rows(conn, buckets, parts, where, limits)
                return await asyncio.to_thread(
                    agent_table.build, slots, labels, interval=span.interval.value,
                    timezone=span.zone, start=_label(span, span.start),
                    end=_label(span, span.end))
        async with self.engine.begin() as conn:
            await _tune(conn, sorts=kind == "agent-states")
            if kind == "queues":
                sums = await _queue_rows(conn, buckets, parts, where, limits,
                                         rollup=self.use_rollup)
                shape = figures.QUEUES
            elif kind == "agents":
                sums = _merge(await _rows(conn, queries.agent_call_sums(parts, where)),
                              await _rows(conn, queries.agent_ring_sums(parts, where,
                                                                        limits)))
                shape = figures.AGENTS
            elif kind == "surveys":
                sums = figures.add_all_questions(
                    await _rows(conn, queries.survey_sums(parts, where)))
                shape = figures.SURVEYS
            else:
                spent = await self._state_rows(conn, buckets, parts, where, limits)
                sums, reasons = figures.pivot_states(spent)
                shape = figures.Shape("agent-states", ("agent",),
                                      figures.state_figures(reasons))
        # the total of all queues (agents), unless the report is of one of them
        one = queue if shape.keys[0] == "queue" else agent
        # a month of 15-minute rows per agent is seconds of Python: on a thread, so the
        # event loop (FastAGI sessions) gets its turns meanwhile
        return await asyncio.to_thread(
            _built, shape, sums, labels, span,
            totals=one is None)

    async def _state_rows(self, conn: AsyncConnection, buckets: list[Any], parts: Any,
                          where: Filters, limits: Thresholds) -> list[dict[str, Any]]:
        """The state sums, with the range's buckets in a temporary table of this
        transaction for the statement to cut intervals at."""
        await conn.execute(text("DROP TABLE IF EXISTS report_buckets"))
        await conn.run_sync(lambda sync: queries.report_buckets.create(sync))
        await conn.execute(insert(queries.report_buckets), [
            {"idx": i, "start_at": b.start, "end_at": b.end} for i, b in enumerate(buckets)])
        rows = await _rows(conn, queries.state_sums(parts, where, limits, self.now()))
        await conn.execute(text("DROP TABLE report_buckets"))
        return rows


async def _queue_rows(conn: AsyncConnection, buckets: list[Any], parts: Any, where: Filters,
                      limits: Thresholds, *, rollup: bool) -> list[dict[str, Any]]:
    """The queue sums: from the roll-up where the report is made of its slots."""
    if not (rollup and rollup_queries.covers(buckets, where)):
        return figures.add_departures(
            await _rows(conn, queries.queue_sums(parts, where, limits)),
            await _rows(conn, queries.departure_sums(parts, where)))
    sums = await _rows(conn, rollup_queries.slot_sums(parts, where, limits))
    extra = [row for statement in rollup_queries.corrections(parts, where, limits)
             for row in await _rows(conn, statement)]
    return rollup_queries.combine(sums, extra)


async def _agent_slot_rows(conn: AsyncConnection, buckets: list[Any], parts: Any,
                          where: Filters, limits: Thresholds) -> list[Any]:
    """The agent sums from the roll-up, as rows (bucket, agent, *SUMS), in no order."""
    per_slot = all(b.end - b.start == SLOT_SECONDS for b in buckets)
    rows: list[Any] = []
    for statement in agent_slot_queries.slot_sums(parts, where, limits, per_slot=per_slot):
        rows += (await conn.execute(statement)).all()
    missed = agent_slot_queries.corrections(parts, where, limits)
    if missed is None:
        return rows
    extra = list(await conn.execute(missed))
    return agent_slot_queries.corrected(rows, extra, totals=where.agent is None)


async def _tune(conn: AsyncConnection, *, sorts: bool) -> None:
    """PostgreSQL, for this report's transaction only: no JIT (compiling the agent-state
    statement took 0.7 s, longer than running it); for a statement that sorts a month
    of state changes (`sorts`), room to sort in memory rather than on disk. (More memory
    for the queue report made PostgreSQL pick a slower sorted plan over hashing.)"""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL jit = off"))
        if sorts:
            await conn.execute(text("SET LOCAL work_mem = '64MB'"))


async def _rows(conn: AsyncConnection, statement: Select[Any]) -> list[dict[str, Any]]:
    result = await conn.execute(statement)
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def _merge(*parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of different statements about the same bucket and agent as one row."""
    merged: dict[tuple[object, object], dict[str, Any]] = {}
    for rows in parts:
        for row in rows:
            merged.setdefault((row["bucket"], row["agent"]), {}).update(row)
    return list(merged.values())


def _built(shape: figures.Shape, sums: list[dict[str, Any]], labels: list[str],
           span: ReportRange, *, totals: bool) -> Report:
    rows = figures.add_totals(sums, shape.keys) if totals else sums
    return figures.build(shape, rows, labels, interval=span.interval.value,
                         timezone=span.zone, start=_label(span, span.start),
                         end=_label(span, span.end))


def _label(span: ReportRange, moment: float) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(moment, ZoneInfo(span.zone)).isoformat()
