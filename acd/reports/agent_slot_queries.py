"""The agent report read from the agents' roll-up (`agent_slots`, acd.history.agent_rollup)
instead of every call and ring of the range.

The roll-up's sums do not depend on the report's settings but one: the rings answered
within `answer_within_seconds` (about three rings). The roll-up counts rings answered
after ringing at most each of a few times (RING_ANSWER_EDGES); a threshold on an edge
is read from it alone, another is completed exactly from the rings that rang from the
edge below it to it (`corrections`).

A range whose buckets do not start on a 15-minute slot, or an agent report of one
queue's calls (the roll-up is per agent, not per queue), is read from the calls and
rings (acd.reports.queries), with the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    func,
    literal,
    select,
)

from acd.history.schema import (
    RING_ANSWER_EDGES,
    SLOT_SECONDS,
    agent_slots,
    ring_attempts,
    rings_answered_within,
)
from acd.reports.buckets import Bucket, Segment
from acd.reports.figures import ALL
from acd.reports.queries import Filters, Thresholds, bucket_number
from acd.reports.rollup_queries import edge_below

#: the sums each row of `slot_sums` gives after (bucket, agent), in this order
COUNTS = ("answered", "transfers", "rings", "rings_answered", "missed_rings")
SECONDS = ("talk_seconds", "hold_seconds", "wrap_up_seconds", "ring_answer_seconds")
SUMS = ("answered", "talk_seconds", "hold_seconds", "wrap_up_seconds", "transfers",
        "rings", "rings_answered", "missed_rings", "ring_answer_seconds",
        "answered_within_rings")


def covers(buckets: Sequence[Bucket], where: Filters) -> bool:
    """Whether the report is made of whole slots of the roll-up, over all queues."""
    return where.queue is None and where.end % SLOT_SECONDS == 0 and all(
        b.start % SLOT_SECONDS == 0 for b in buckets)


def _within_under_edge(limits: Thresholds) -> ColumnElement[Any]:
    edge = edge_below(limits.answer_within_seconds, RING_ANSWER_EDGES)
    return agent_slots.c[rings_answered_within(edge)] if edge else literal(0, Integer)


def slot_sums(parts: Sequence[Segment], where: Filters, limits: Thresholds, *,
              per_slot: bool) -> list[Select[Any]]:
    """Per bucket and agent, and per bucket for all agents (as ALL, unless the report is
    of one agent): the roll-up's SUMS. With `per_slot` (each bucket is one slot: a
    15-minute report), an agent's row is its slot's row as it is, read in the order of
    the table's key, not added up and sorted again. Counts come as integers on both
    databases (PostgreSQL's SUM of integers is a numeric)."""
    s = agent_slots
    # whole slots: integers, as the key is (PostgreSQL compares a bigint to a float
    # bound by casting every row's key, and reads the table instead of the key's index)
    first, end = int(where.start), int(where.end)
    bucket = ((s.c.slot_start - literal(first, BigInteger)) // SLOT_SECONDS if per_slot
              else bucket_number(s.c.slot_start, parts))
    inner = select(bucket.label("bucket"), s.c.agent,
                   *(s.c[name] for name in SUMS[:-1]),
                   _within_under_edge(limits).label("answered_within_rings"),
                   ).where(s.c.slot_start >= first, s.c.slot_start < end)
    if where.agent is not None:
        inner = inner.where(s.c.agent == where.agent)
    if per_slot:
        statements = [inner.order_by(s.c.slot_start, s.c.agent)]
    else:
        c = inner.subquery("c")
        statements = [select(c.c.bucket, c.c.agent, *_added(c)).group_by(c.c.bucket,
                                                                        c.c.agent)]
    if where.agent is None:
        c = inner.subquery("c")
        statements.append(select(c.c.bucket, literal(ALL).label("agent"), *_added(c)
                                 ).group_by(c.c.bucket))
    return statements


def _added(c: Any) -> list[ColumnElement[Any]]:
    return [cast(func.sum(c.c[name]), BigInteger).label(name) if name in COUNTS
            or name == "answered_within_rings" else func.sum(c.c[name]).label(name)
            for name in SUMS]


def corrections(parts: Sequence[Segment], where: Filters, limits: Thresholds
                ) -> Select[Any] | None:
    """Per bucket and agent, the answered rings the roll-up's edges do not settle (those
    that rang longer than the edge below the threshold, up to it): (bucket, agent,
    rings). None when the threshold is on an edge."""
    threshold = limits.answer_within_seconds
    edge = edge_below(threshold, RING_ANSWER_EDGES)
    if edge == threshold:
        return None
    r = ring_attempts.c
    ringing = func.coalesce(r.ended_at, r.started_at) - r.started_at
    inner = select(bucket_number(r.started_at, parts).label("bucket"), r.agent).where(
        r.started_at >= where.start, r.started_at < where.end, r.result == "answered",
        and_(ringing > edge, ringing <= threshold) if edge else ringing <= threshold)
    if where.agent is not None:
        inner = inner.where(r.agent == where.agent)
    c = inner.subquery("c")
    return select(c.c.bucket, c.c.agent, func.count().label("rings")).group_by(
        c.c.bucket, c.c.agent)


def corrected(rows: list[Sequence[Any]], extra: Sequence[Sequence[Any]], *, totals: bool
              ) -> list[Sequence[Any]]:
    """`slot_sums`' rows with the rings of `corrections` added to their agent's row (and
    to their bucket's ALL row)."""
    if not extra:
        return rows
    added: dict[tuple[int, str], int] = {}
    for bucket, agent, rings in extra:
        for key in ((int(bucket), str(agent)), *([(int(bucket), ALL)] if totals else [])):
            added[key] = added.get(key, 0) + int(rings)
    within = 2 + SUMS.index("answered_within_rings")
    out: list[Sequence[Any]] = []
    for row in rows:
        more = added.get((int(row[0]), str(row[1])))
        if more:
            row = (*tuple(row)[:within], int(row[within] or 0) + more,
                   *tuple(row)[within + 1:])
        out.append(row)
    return out
