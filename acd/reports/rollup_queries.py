"""The queue report read from the roll-up (`queue_slots`, acd.history.rollup) instead of
every call of the range: a month of a million calls is ~13,000 rows.

The roll-up's sums do not depend on the report's settings. What does, is completed
exactly, never estimated:
- answered within a queue's service level (wait <= T): the roll-up counts calls
  answered after less than each of a few waits (ANSWERED_WAIT_EDGES); below the edge
  under T it reads that count, and the calls that waited from that edge to T are
  counted from their rows (T on an edge: the calls that waited exactly T; an index on
  the wait finds them);
- short abandons (wait < S): the same with ABANDONED_WAIT_EDGES.
The longest wait is a maximum of maxima; everything else is a sum of sums.

A range whose buckets do not start on a 15-minute slot (a report from 09:07), or a
queue report of one agent's calls, is not made of whole slots: it is read from the
calls (acd.reports.queries.queue_sums), with the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal, or_, select

from acd.history.schema import (
    ABANDONED_WAIT_EDGES,
    ANSWERED_WAIT_EDGES,
    OUTBOUND,
    SLOT_SECONDS,
    abandoned_under,
    answered_under,
    calls,
    queue_slots,
)
from acd.reports.buckets import Bucket, Segment
from acd.reports.queries import Filters, Thresholds, bucket_number

#: the roll-up's sums the report shows as they are
_SUMMED = ("offered", "answered", "abandoned_all", "exited", "answered_wait_seconds",
           "talk_seconds", "hold_seconds", "wrap_up_seconds", "callbacks_requested",
           "callbacks_completed", "transfers", "overflowed_out")


def covers(buckets: Sequence[Bucket], where: Filters) -> bool:
    """Whether the report is made of whole slots of the roll-up."""
    return where.agent is None and where.end % SLOT_SECONDS == 0 and all(
        b.start % SLOT_SECONDS == 0 for b in buckets)


def edge_below(threshold: float, edges: Sequence[int]) -> int:
    """The largest edge at or under `threshold` (0: none)."""
    return max((e for e in edges if e <= threshold), default=0)


def _column_or_zero(name: str | None) -> ColumnElement[Any]:
    return queue_slots.c[name] if name else literal(0, Integer)


def _service_level_under(limits: Thresholds) -> ColumnElement[Any]:
    """Per row: the roll-up's count of calls answered under the edge below the queue's
    service level."""
    def column(threshold: float) -> ColumnElement[Any]:
        edge = edge_below(threshold, ANSWERED_WAIT_EDGES)
        return _column_or_zero(answered_under(edge) if edge else None)

    default = column(limits.default_service_level)
    if not limits.service_levels:
        return default
    return case({q: column(t) for q, t in limits.service_levels.items()},
                value=queue_slots.c.queue, else_=default)


def slot_sums(parts: Sequence[Segment], where: Filters, limits: Thresholds) -> Select[Any]:
    """Per bucket and queue: the roll-up's sums."""
    s = queue_slots
    short_edge = edge_below(limits.short_abandon_seconds, ABANDONED_WAIT_EDGES)
    inner = select(bucket_number(s.c.slot_start, parts).label("bucket"), s.c.queue,
                   *(s.c[name] for name in _SUMMED), s.c.longest_wait,
                   _service_level_under(limits).label("in_level_under_edge"),
                   _column_or_zero(abandoned_under(short_edge) if short_edge else None
                                   ).label("short_under_edge"),
                   ).where(s.c.slot_start >= where.start, s.c.slot_start < where.end)
    if where.queue is not None:
        inner = inner.where(s.c.queue == where.queue)
    c = inner.subquery("c")
    return select(c.c.bucket, c.c.queue, *(func.sum(c.c[name]).label(name) for name in _SUMMED),
                  func.max(c.c.longest_wait).label("longest_wait"),
                  func.sum(c.c.in_level_under_edge).label("in_level_under_edge"),
                  func.sum(c.c.short_under_edge).label("short_under_edge"),
                  ).group_by(c.c.bucket, c.c.queue)


def _waited(low: int, high: float, *, inclusive: bool) -> ColumnElement[bool]:
    """Calls that waited from `low` (an edge, or 0) to `high`, as the roll-up's counts
    miss them (a missing wait counts as 0, as in the rest of the report)."""
    wait = calls.c.wait_seconds
    upper = wait <= high if inclusive else wait < high
    if low == 0:
        return or_(wait.is_(None), upper)
    if inclusive and low == high:
        return wait == high
    return and_(wait >= low, upper)


def _levels(limits: Thresholds, queue: str | None) -> dict[float, ColumnElement[bool]]:
    """Each service level in use, and which queues have it."""
    named = dict(limits.service_levels)
    groups: dict[float, list[ColumnElement[bool]]] = {}
    for name, threshold in named.items():
        if queue is None or queue == name:
            groups.setdefault(threshold, []).append(calls.c.queue == name)
    if queue is None or queue not in named:
        others = calls.c.queue.not_in(list(named)) if named else calls.c.queue != ""
        groups.setdefault(limits.default_service_level, []).append(others)
    return {threshold: or_(*which) for threshold, which in groups.items()}


def corrections(parts: Sequence[Segment], where: Filters, limits: Thresholds
                ) -> list[Select[Any]]:
    """Per bucket and queue, the calls the roll-up's edges do not settle: one statement
    per distinct threshold, each giving (bucket, queue, figure, calls)."""
    wanted: list[tuple[str, ColumnElement[bool]]] = []
    for threshold, queues in _levels(limits, where.queue).items():
        low = edge_below(threshold, ANSWERED_WAIT_EDGES)
        wanted.append(("in_level", and_(queues, calls.c.answered_at.is_not(None),
                                        _waited(low, threshold, inclusive=True))))
    short = limits.short_abandon_seconds
    low = edge_below(short, ABANDONED_WAIT_EDGES)
    if low != short:
        wanted.append(("short", and_(calls.c.answered_at.is_(None),
                                     calls.c.outcome == "abandoned",
                                     _waited(low, short, inclusive=False))))
    statements = []
    for figure, condition in wanted:
        inner = select(bucket_number(calls.c.arrived_at, parts).label("bucket"), calls.c.queue
                       ).where(condition, calls.c.arrived_at >= where.start,
                               calls.c.arrived_at < where.end, calls.c.queue != "",
                               calls.c.direction != OUTBOUND)
        if where.queue is not None:
            inner = inner.where(calls.c.queue == where.queue)
        c = inner.subquery("c")
        statements.append(select(c.c.bucket, c.c.queue, literal(figure).label("figure"),
                                 func.count().label("calls")).group_by(c.c.bucket, c.c.queue))
    return statements


def combine(sums: Iterable[Mapping[str, Any]], extra: Iterable[Mapping[str, Any]]
            ) -> list[dict[str, Any]]:
    """The roll-up's rows with their corrections, named as acd.reports.queries.queue_sums
    names its sums."""
    added: dict[tuple[int, str, str], int] = {}
    for row in extra:
        key = (int(row["bucket"]), str(row["queue"]), str(row["figure"]))
        added[key] = added.get(key, 0) + int(row["calls"])
    out = []
    for row in sums:
        bucket, queue = int(row["bucket"]), str(row["queue"])
        short = int(row["short_under_edge"] or 0) + added.get((bucket, queue, "short"), 0)
        in_level = int(row["in_level_under_edge"] or 0) + added.get((bucket, queue,
                                                                     "in_level"), 0)
        figures = {name: row[name] for name in _SUMMED if name != "abandoned_all"}
        out.append({**figures, "bucket": bucket, "queue": queue,
                    "longest_wait": float(row["longest_wait"] or 0.0),
                    "abandoned": int(row["abandoned_all"] or 0) - short,
                    "short_abandoned": short, "answered_in_service_level": in_level})
    return out


