"""The queue report's roll-up (`queue_slots`): per queue and 15-minute slot, the sums of
the calls that arrived in it, kept by the history writer.

A slot is never added to: it is recomputed from the calls' rows, in the transaction
that wrote them, for every slot a batch touched (the slot a call is in now and the
one it was in before). So the roll-up is whatever the rows say: an entry re-applied
after a crash, a record amended after it closed or two writers applying entries in
either order count each call once. Recomputing is cheap: a slot of one queue holds
tens of calls, found through `calls_queue_arrived`.

Recomputations take turns (PostgreSQL: an advisory lock held to the transaction's
end; SQLite's writers take turns already): a writer that waited then reads the other's
committed calls, so two writers never leave a slot without the other's calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.history import departures
from acd.history.schema import (
    ABANDONED_WAIT_EDGES,
    ANSWERED_WAIT_EDGES,
    OUTBOUND,
    SLOT_SECONDS,
    abandoned_under,
    answered_under,
    calls,
    queue_departures,
    queue_slots,
)
from acd.history.sql_math import floor_int

#: the advisory lock the roll-up's recomputations take turns on (PostgreSQL)
_LOCK_KEY = 0x616364_0003
#: slots recomputed per statement (a batch drained after an outage touches many)
_SLOTS_PER_STATEMENT = 200

Slot = tuple[int, str]  # (slot start, queue)


def slot_of(moment: float) -> int:
    """The start of the 15-minute slot (UTC) that holds `moment`."""
    return int(moment // SLOT_SECONDS) * SLOT_SECONDS


def slots_of(rows: Iterable[dict[str, Any]]) -> set[Slot]:
    """The slots of call rows: their arrival, in each queue they were in."""
    return {(slot_of(float(r["arrived_at"])), queue) for r in rows
            for queue in departures.queues_of(str(r.get("queues") or "[]"), str(r["queue"]))}


async def take_turn(conn: AsyncConnection) -> None:
    """Wait for any other transaction recomputing the roll-up to end (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"))


async def slots_stored(conn: AsyncConnection, call_ids: list[str]) -> set[Slot]:
    """The slots the calls' rows are in now (before they are replaced)."""
    found: set[Slot] = set()
    for index in range(0, len(call_ids), 500):
        chunk = call_ids[index:index + 500]
        result = await conn.execute(select(calls.c.arrived_at, calls.c.queue,
                                           calls.c.queues).where(calls.c.call_id.in_(chunk)))
        found |= slots_of({"arrived_at": at, "queue": queue, "queues": queues}
                          for at, queue, queues in result)
    return found


async def refresh(conn: AsyncConnection, slots: set[Slot]) -> None:
    """Recompute `slots` from the calls' rows (inside the caller's transaction)."""
    await refresh_slots(conn, queue_slots.c.slot_start, queue_slots.c.queue, slots,
                        lambda chunk: _recomputed(_in_slots(chunk)))


async def refresh_slots(conn: AsyncConnection, start_column: ColumnElement[int],
                        key_column: ColumnElement[str], slots: set[tuple[int, str]],
                        recomputed: Callable[[dict[int, list[str]]], Any]) -> None:
    """Recompute a roll-up's `slots` (slot start, key: a queue, an agent): delete their
    rows (the table's `start_column`, `key_column`), then insert what `recomputed` gives
    for a chunk of them (keys by slot start), a bounded number of slots per statement."""
    if not slots:
        return
    await take_turn(conn)
    by_start: dict[int, set[str]] = defaultdict(set)
    for start, key in slots:
        by_start[start].add(key)
    starts = sorted(by_start)
    for index in range(0, len(starts), _SLOTS_PER_STATEMENT):
        chunk = {s: sorted(by_start[s]) for s in starts[index:index + _SLOTS_PER_STATEMENT]}
        await conn.execute(delete(start_column.table).where(or_(*(
            and_(start_column == s, key_column.in_(keys)) for s, keys in chunk.items()))))
        await conn.execute(recomputed(chunk))


def _in_slots(queues_by_start: dict[int, list[str]]
              ) -> Callable[[ColumnElement[str]], ColumnElement[bool]]:
    def which(queue: ColumnElement[str]) -> ColumnElement[bool]:
        return or_(*(and_(calls.c.arrived_at >= start,
                          calls.c.arrived_at < start + SLOT_SECONDS, queue.in_(queues))
                     for start, queues in queues_by_start.items()))
    return which


async def rebuild(conn: AsyncConnection, start: float | None = None,
                  end: float | None = None) -> None:
    """Recompute every slot from `start` to `end` (whole slots; None: unbounded): after
    a migration, a purge, or rows written by something other than the writer. The
    departures of those calls are derived again first."""
    await take_turn(conn)
    await departures.derive_between(conn, None if start is None else slot_of(start),
                                    None if end is None else slot_of(end))
    slot_bounds: list[ColumnElement[bool]] = []
    call_bounds: list[ColumnElement[bool]] = []
    if start is not None:
        slot_bounds.append(queue_slots.c.slot_start >= slot_of(start))
        call_bounds.append(calls.c.arrived_at >= slot_of(start))
    if end is not None:
        slot_bounds.append(queue_slots.c.slot_start < slot_of(end))
        call_bounds.append(calls.c.arrived_at < slot_of(end))
    await conn.execute(delete(queue_slots).where(and_(true(), *slot_bounds)))
    await conn.execute(_recomputed(lambda _queue: and_(true(), *call_bounds)))


async def forget_before(conn: AsyncConnection, before: float) -> None:
    """After the purge of the calls that arrived before `before`: their departures gone,
    the roll-up of what is left (the slot the limit cuts in two)."""
    await take_turn(conn)
    d = queue_departures
    await conn.execute(delete(d).where(~select(calls.c.call_id).where(
        calls.c.call_id == d.c.call_id).exists()))
    await rebuild(conn, end=before + SLOT_SECONDS)


def _recomputed(which: Callable[[ColumnElement[str]], ColumnElement[bool]]) -> Any:
    """INSERT INTO queue_slots the sums of the offered calls that `which` picks (given the
    queue column to pick by): the calls that ended in a queue, and the departures."""
    c, d = calls.c, queue_departures.c
    wait = func.coalesce(c.wait_seconds, 0.0)
    answered = c.answered_at.is_not(None)
    abandoned = and_(c.answered_at.is_(None), c.outcome == "abandoned")
    # the size written out, not bound: PostgreSQL matches the GROUP BY expression to the
    # selected one only when they are the same text
    size: ColumnElement[int] = literal_column(str(SLOT_SECONDS), Integer)
    start = (floor_int(c.arrived_at / size) * size).label("slot_start")
    ended = {
        "answered": _flag(answered), "abandoned_all": _flag(abandoned),
        "exited": _flag(and_(c.answered_at.is_(None), c.outcome.startswith("exited:"))),
        "answered_wait_seconds": case((answered, wait), else_=0.0),
        "longest_wait": wait, "talk_seconds": c.talk_seconds,
        "hold_seconds": c.hold_seconds, "wrap_up_seconds": c.wrap_up_seconds,
        "callbacks_requested": _flag(c.callback != ""),
        "callbacks_completed": _flag(c.callback == "completed"),
        "transfers": _flag(c.transfer != ""), "overflowed_out": literal(0, Integer),
        **{answered_under(e): _flag(and_(answered, wait < e)) for e in ANSWERED_WAIT_EDGES},
        **{abandoned_under(e): _flag(and_(abandoned, wait < e))
           for e in ABANDONED_WAIT_EDGES},
    }
    names = list(ended)
    zero: dict[str, ColumnElement[Any]] = {n: literal(0, Integer) for n in names}
    left = {**zero, "overflowed_out": literal(1, Integer)}
    ended_rows = select(start, c.queue, *(ended[n].label(n) for n in names)).where(
        which(c.queue), c.queue != "", c.direction != OUTBOUND)
    left_rows = select(start, d.queue, *(left[n].label(n) for n in names)).join_from(
        queue_departures, calls, c.call_id == d.call_id).where(
        which(d.queue), c.direction != OUTBOUND)
    each = union_all(ended_rows, left_rows).subquery("each")
    sums = select(each.c.slot_start, each.c.queue, func.count().label("offered"),
                  *((func.max if n == "longest_wait" else func.sum)(each.c[n]).label(n)
                    for n in names)).group_by(each.c.slot_start, each.c.queue)
    columns = ["slot_start", "queue", "offered", *names]
    return insert(queue_slots).from_select(columns, sums)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)
