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
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

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
    """The slots of call rows (their arrival and queue)."""
    return {(slot_of(float(r["arrived_at"])), str(r["queue"])) for r in rows if r["queue"]}


async def take_turn(conn: AsyncConnection) -> None:
    """Wait for any other transaction recomputing the roll-up to end (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"))


async def slots_stored(conn: AsyncConnection, call_ids: list[str]) -> set[Slot]:
    """The slots the calls' rows are in now (before they are replaced)."""
    found: set[Slot] = set()
    for index in range(0, len(call_ids), 500):
        chunk = call_ids[index:index + 500]
        result = await conn.execute(select(calls.c.arrived_at, calls.c.queue).where(
            calls.c.call_id.in_(chunk), calls.c.queue != ""))
        found |= {(slot_of(float(at)), str(queue)) for at, queue in result}
    return found


async def refresh(conn: AsyncConnection, slots: set[Slot]) -> None:
    """Recompute `slots` from the calls' rows (inside the caller's transaction)."""
    if not slots:
        return
    await take_turn(conn)
    by_start: dict[int, set[str]] = defaultdict(set)
    for start, queue in slots:
        by_start[start].add(queue)
    starts = sorted(by_start)
    for index in range(0, len(starts), _SLOTS_PER_STATEMENT):
        chunk = starts[index:index + _SLOTS_PER_STATEMENT]
        await conn.execute(delete(queue_slots).where(or_(*(
            and_(queue_slots.c.slot_start == s, queue_slots.c.queue.in_(sorted(by_start[s])))
            for s in chunk))))
        await conn.execute(_recomputed(or_(*(
            and_(calls.c.arrived_at >= s, calls.c.arrived_at < s + SLOT_SECONDS,
                 calls.c.queue.in_(sorted(by_start[s]))) for s in chunk))))


async def rebuild(conn: AsyncConnection, start: float | None = None,
                  end: float | None = None) -> None:
    """Recompute every slot from `start` to `end` (whole slots; None: unbounded): after
    a migration, a purge, or rows written by something other than the writer."""
    await take_turn(conn)
    slot_bounds: list[ColumnElement[bool]] = []
    call_bounds: list[ColumnElement[bool]] = []
    if start is not None:
        slot_bounds.append(queue_slots.c.slot_start >= slot_of(start))
        call_bounds.append(calls.c.arrived_at >= slot_of(start))
    if end is not None:
        slot_bounds.append(queue_slots.c.slot_start < slot_of(end))
        call_bounds.append(calls.c.arrived_at < slot_of(end))
    await conn.execute(delete(queue_slots).where(and_(true(), *slot_bounds)))
    await conn.execute(_recomputed(and_(true(), *call_bounds)))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _recomputed(which: ColumnElement[bool]) -> Any:
    """INSERT INTO queue_slots the sums of the offered calls matching `which`."""
    c = calls.c
    wait = func.coalesce(c.wait_seconds, 0.0)
    answered = c.answered_at.is_not(None)
    abandoned = and_(c.answered_at.is_(None), c.outcome == "abandoned")
    # the size written out, not bound: PostgreSQL matches the GROUP BY expression to the
    # selected one only when they are the same text
    size: ColumnElement[int] = literal_column(str(SLOT_SECONDS), Integer)
    start = (floor_int(c.arrived_at / size) * size).label("slot_start")
    sums = select(
        start, c.queue,
        func.count().label("offered"),
        _count(answered).label("answered"),
        _count(abandoned).label("abandoned_all"),
        _count(and_(c.answered_at.is_(None), c.outcome.startswith("exited:"))).label("exited"),
        func.sum(case((answered, wait), else_=0.0)).label("answered_wait_seconds"),
        func.max(wait).label("longest_wait"),
        func.sum(c.talk_seconds).label("talk_seconds"),
        func.sum(c.hold_seconds).label("hold_seconds"),
        func.sum(c.wrap_up_seconds).label("wrap_up_seconds"),
        _count(c.callback != "").label("callbacks_requested"),
        _count(c.callback == "completed").label("callbacks_completed"),
        _count(c.transfer != "").label("transfers"),
        *(_count(and_(answered, wait < e)).label(answered_under(e))
          for e in ANSWERED_WAIT_EDGES),
        *(_count(and_(abandoned, wait < e)).label(abandoned_under(e))
          for e in ABANDONED_WAIT_EDGES),
    ).where(which, c.queue != "", c.direction != OUTBOUND).group_by(start, c.queue)
    return insert(queue_slots).from_select([col.name for col in queue_slots.columns], sums)
