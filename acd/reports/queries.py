"""The reports' SQL: sums per bucket and per queue or agent, one statement per report.

Everything is added up by the database (GROUP BY bucket), so a month of a million
calls never crosses into Python; acd.reports.figures derives the ratios from the
sums. Each statement runs unchanged on SQLite (3.25 or later, for LEAD) and
PostgreSQL. A time becomes its bucket's number through acd.reports.buckets'
segments (a short CASE), and each statement filters on the indexed time column
first. docs/reports.md defines what each sum counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    select,
    union_all,
)

from acd.history.schema import (
    NOT_MISSED,
    OUTBOUND,
    agent_events,
    calls,
    queue_departures,
    ring_attempts,
    survey_answers,
)
from acd.history.sql_math import floor_int
from acd.reports.buckets import Segment


@dataclass(frozen=True)
class Thresholds:
    """The report settings the sums depend on (config `reports:` and each queue's
    service_level_seconds)."""

    #: a caller who hung up within this many seconds of waiting is a short abandon
    short_abandon_seconds: float = 5.0
    #: an agent who answered within this many seconds of ringing answered "within
    #: three rings" (a ring cycle is about 5 s in China)
    answer_within_seconds: float = 15.0
    #: each queue's service-level threshold (answered within); others: the default
    service_levels: Mapping[str, float] = field(default_factory=dict)
    default_service_level: float = 15.0
    #: how far before the range an agent's last state change is looked for
    state_lookback_seconds: float = 31 * 86400


@dataclass(frozen=True)
class Filters:
    start: float
    end: float
    queue: str | None = None
    agent: str | None = None


def bucket_number(moment: ColumnElement[float], parts: Sequence[Segment]
                  ) -> ColumnElement[int]:
    """The number of the bucket that holds `moment` (which the caller keeps within the
    range); past the range: the number of buckets."""
    whens = []
    for part in parts:
        value: ColumnElement[int] = literal(part.base, Integer)
        if part.size:
            value = value + floor_int((moment - part.origin) / part.size)
        whens.append((moment < part.until, value))
    beyond = parts[-1].base + (int((parts[-1].until - parts[-1].origin) // parts[-1].size)
                               if parts[-1].size else 1)
    return case(*whens, else_=literal(beyond, Integer))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def queue_sums(parts: Sequence[Segment], where: Filters, limits: Thresholds) -> Select[Any]:
    """Per bucket and queue: calls that reached a queue, bucketed by arrival."""
    inner = select(
        bucket_number(calls.c.arrived_at, parts).label("bucket"), calls.c.queue,
        calls.c.answered_at, calls.c.outcome, calls.c.wait_seconds, calls.c.talk_seconds,
        calls.c.hold_seconds, calls.c.wrap_up_seconds, calls.c.callback, calls.c.transfer,
    ).where(calls.c.arrived_at >= where.start, calls.c.arrived_at < where.end,
            calls.c.queue != "", calls.c.direction != OUTBOUND)
    if where.queue is not None:
        inner = inner.where(calls.c.queue == where.queue)
    if where.agent is not None:
        inner = inner.where(calls.c.agent == where.agent)
    c = inner.subquery("c")
    return _aggregate(c, [
        func.count().label("offered"),
        _count(c.c.answered_at.is_not(None)).label("answered"),
        _count(and_(c.c.answered_at.is_(None), c.c.outcome == "abandoned",
                    func.coalesce(c.c.wait_seconds, 0.0) >= limits.short_abandon_seconds)
               ).label("abandoned"),
        _count(and_(c.c.answered_at.is_(None), c.c.outcome == "abandoned",
                    func.coalesce(c.c.wait_seconds, 0.0) < limits.short_abandon_seconds)
               ).label("short_abandoned"),
        _count(and_(c.c.answered_at.is_(None), c.c.outcome.startswith("exited:"))
               ).label("exited"),
        _count(and_(c.c.answered_at.is_not(None),
                    func.coalesce(c.c.wait_seconds, 0.0) <= _sl_of(c.c.queue, limits))
               ).label("answered_in_service_level"),
        func.sum(case((c.c.answered_at.is_not(None), func.coalesce(c.c.wait_seconds, 0.0)),
                      else_=0.0)).label("answered_wait_seconds"),
        func.max(func.coalesce(c.c.wait_seconds, 0.0)).label("longest_wait"),
        func.sum(c.c.talk_seconds).label("talk_seconds"),
        func.sum(c.c.hold_seconds).label("hold_seconds"),
        func.sum(c.c.wrap_up_seconds).label("wrap_up_seconds"),
        _count(c.c.callback != "").label("callbacks_requested"),
        _count(c.c.callback == "completed").label("callbacks_completed"),
        _count(c.c.transfer != "").label("transfers"),
    ], c.c.queue)


def departure_sums(parts: Sequence[Segment], where: Filters) -> Select[Any]:
    """Per bucket and queue: the calls that left the queue for another (overflowed out),
    bucketed by the call's arrival."""
    d = queue_departures
    inner = select(bucket_number(calls.c.arrived_at, parts).label("bucket"), d.c.queue
                   ).join_from(d, calls, calls.c.call_id == d.c.call_id).where(
        calls.c.arrived_at >= where.start, calls.c.arrived_at < where.end,
        calls.c.direction != OUTBOUND)
    if where.queue is not None:
        inner = inner.where(d.c.queue == where.queue)
    if where.agent is not None:
        inner = inner.where(calls.c.agent == where.agent)
    c = inner.subquery("c")
    return _aggregate(c, [func.count().label("overflowed_out")], c.c.queue)


def _sl_of(queue: ColumnElement[str], limits: Thresholds) -> ColumnElement[float]:
    if not limits.service_levels:
        return literal(limits.default_service_level, Float)
    return case(dict(limits.service_levels), value=queue,
                else_=limits.default_service_level)


def _aggregate(c: Any, sums: list[ColumnElement[Any]], *keys: ColumnElement[Any]
               ) -> Select[Any]:
    return select(c.c.bucket, *keys, *sums).group_by(c.c.bucket, *keys)


def agent_call_sums(parts: Sequence[Segment], where: Filters) -> Select[Any]:
    """Per bucket and agent: the calls each agent answered, bucketed by arrival."""
    inner = select(
        bucket_number(calls.c.arrived_at, parts).label("bucket"), calls.c.agent,
        calls.c.talk_seconds, calls.c.hold_seconds, calls.c.wrap_up_seconds, calls.c.transfer,
    ).where(calls.c.arrived_at >= where.start, calls.c.arrived_at < where.end,
            calls.c.agent != "", calls.c.answered_at.is_not(None),
            calls.c.direction != OUTBOUND)
    if where.agent is not None:
        inner = inner.where(calls.c.agent == where.agent)
    if where.queue is not None:
        inner = inner.where(calls.c.queue == where.queue)
    c = inner.subquery("c")
    return _aggregate(c, [
        func.count().label("answered"),
        func.sum(c.c.talk_seconds).label("talk_seconds"),
        func.sum(c.c.hold_seconds).label("hold_seconds"),
        func.sum(c.c.wrap_up_seconds).label("wrap_up_seconds"),
        _count(c.c.transfer != "").label("transfers"),
    ], c.c.agent)




def agent_ring_sums(parts: Sequence[Segment], where: Filters, limits: Thresholds
                    ) -> Select[Any]:
    """Per bucket and agent: the rings, bucketed by when the ring started."""
    r = ring_attempts
    inner = select(bucket_number(r.c.started_at, parts).label("bucket"), r.c.agent,
                   r.c.result, (func.coalesce(r.c.ended_at, r.c.started_at) - r.c.started_at
                                ).label("ringing")
                   ).where(r.c.started_at >= where.start, r.c.started_at < where.end)
    if where.agent is not None:
        inner = inner.where(r.c.agent == where.agent)
    if where.queue is not None:
        inner = inner.where(r.c.queue == where.queue)
    c = inner.subquery("c")
    took = c.c.result == "answered"
    return _aggregate(c, [
        func.count().label("rings"),
        _count(took).label("rings_answered"),
        _count(c.c.result.not_in(NOT_MISSED)).label("missed_rings"),
        func.sum(case((took, c.c.ringing), else_=0.0)).label("ring_answer_seconds"),
        _count(and_(took, c.c.ringing <= limits.answer_within_seconds)
               ).label("answered_within_rings"),
    ], c.c.agent)


def survey_sums(parts: Sequence[Segment], where: Filters) -> Select[Any]:
    """Per bucket, queue and question: the answers, bucketed by when they were given."""
    s = survey_answers
    inner = select(bucket_number(s.c.answered_at, parts).label("bucket"), s.c.queue,
                   s.c.question, s.c.answer
                   ).where(s.c.answered_at >= where.start, s.c.answered_at < where.end)
    if where.queue is not None:
        inner = inner.where(s.c.queue == where.queue)
    if where.agent is not None:
        inner = inner.where(s.c.agent == where.agent)
    c = inner.subquery("c")
    return _aggregate(c, [
        func.count().label("answers"),
        *(_count(c.c.answer == n).label(f"answer_{n}") for n in ("1", "2", "3")),
        _count(c.c.answer.not_in(("1", "2", "3"))).label("answer_other"),
    ], c.c.queue, c.c.question)


#: the bucket table a statement joins state intervals to (a temporary table per report)
bucket_metadata = MetaData()
report_buckets = Table(
    "report_buckets", bucket_metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("start_at", Float, nullable=False),
    Column("end_at", Float, nullable=False),
    prefixes=["TEMPORARY"],
)


def _least(a: ColumnElement[float], b: ColumnElement[float]) -> ColumnElement[float]:
    return case((a < b, a), else_=b)


def _greatest(a: ColumnElement[float], b: ColumnElement[float]) -> ColumnElement[float]:
    return case((a > b, a), else_=b)


def state_sums(parts: Sequence[Segment], where: Filters, limits: Thresholds,
               now: float) -> Select[Any]:
    """Per bucket, agent, state and pause reason: seconds spent, from agent_events.

    A state lasts from its row until the agent's next row (LEAD), or until now or
    the range's end; the state an agent was in when the range began comes from the
    agent's last row before it. Each interval is cut at the buckets it spans
    (joined to `report_buckets`, which the caller fills).
    """
    e = agent_events
    cap = min(where.end, now)
    in_range = select(e.c.id, e.c.agent, e.c.state, e.c.reason, e.c.at).where(
        e.c.at >= where.start, e.c.at < cap)
    last = select(e.c.agent, func.max(e.c.at).label("at")).where(
        e.c.at < where.start, e.c.at >= where.start - limits.state_lookback_seconds)
    if where.agent is not None:
        in_range = in_range.where(e.c.agent == where.agent)
        last = last.where(e.c.agent == where.agent)
    prior_at = last.group_by(e.c.agent).subquery("prior_at")
    before = select(e.c.id, e.c.agent, e.c.state, e.c.reason, e.c.at).join(
        prior_at, and_(e.c.agent == prior_at.c.agent, e.c.at == prior_at.c.at))
    events = union_all(in_range, before).subquery("events")
    following = func.lead(events.c.at).over(partition_by=events.c.agent,
                                            order_by=(events.c.at, events.c.id))
    spans = select(events.c.agent, events.c.state, events.c.reason,
                   _greatest(events.c.at, literal(where.start, Float)).label("s"),
                   _least(func.coalesce(following, cap), literal(cap, Float)).label("e"),
                   ).subquery("spans")
    cut = select(spans.c.agent, spans.c.state, spans.c.reason, spans.c.s, spans.c.e,
                 bucket_number(spans.c.s, parts).label("first"),
                 bucket_number(spans.c.e, parts).label("last"),
                 ).where(spans.c.e > spans.c.s, spans.c.state != "logged-out").subquery("cut")
    b = report_buckets
    overlap = _least(cut.c.e, b.c.end_at) - _greatest(cut.c.s, b.c.start_at)
    pieces = select(b.c.idx.label("bucket"), cut.c.agent, cut.c.state, cut.c.reason,
                    overlap.label("spent")).join(
        b, and_(b.c.idx >= cut.c.first, b.c.idx <= cut.c.last)).subquery("pieces")
    return select(pieces.c.bucket, pieces.c.agent, pieces.c.state, pieces.c.reason,
                  func.sum(pieces.c.spent).label("seconds")).where(
        pieces.c.spent > 0).group_by(pieces.c.bucket, pieces.c.agent, pieces.c.state,
                                     pieces.c.reason)
