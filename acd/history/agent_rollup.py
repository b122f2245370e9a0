"""The agent report's roll-up (`agent_slots`): per agent and 15-minute slot, the sums of
the calls the agent answered (by the call's arrival) and of the agent's rings (by the
ring's start), kept by the history writer.

Kept as the queue report's roll-up is (acd.history.rollup): a slot is never added to
but recomputed from the rows, in the transaction that wrote them, for every slot a
batch touched (where the rows are now and where they were before), taking turns with
any other recomputation. An entry applied twice, a record amended after it closed, or
two writers at once leave each call and ring counted once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
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
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.history.rollup import refresh_slots, slot_of, take_turn
from acd.history.schema import (
    NOT_MISSED,
    OUTBOUND,
    RING_ANSWER_EDGES,
    SLOT_SECONDS,
    agent_slots,
    calls,
    ring_attempts,
    rings_answered_within,
)
from acd.history.sql_math import floor_int

_CHUNK = 500
#: the agent columns' length: a longer name is cut to it in the rows (acd.history.store)
_AGENT_LENGTH = 64

AgentSlot = tuple[int, str]  # (slot start, agent)
#: picks the rows of some slots, given the time column and the agent column
Which = Callable[[ColumnElement[float], ColumnElement[str]], ColumnElement[bool]]


def slots_of(call_rows: Iterable[dict[str, Any]], ring_rows: Iterable[dict[str, Any]]
             ) -> set[AgentSlot]:
    """The slots of call rows (their agent, at their arrival; none without an agent) and
    of ring rows (their agent, at their start)."""
    found = {(slot_of(float(r["arrived_at"])), str(r["agent"])[:_AGENT_LENGTH])
             for r in call_rows if r.get("agent")}
    found |= {(slot_of(float(r["started_at"])), str(r["agent"])[:_AGENT_LENGTH])
              for r in ring_rows}
    return found


async def slots_stored(conn: AsyncConnection, call_ids: Iterable[str]) -> set[AgentSlot]:
    """The slots the rows of these calls (the call and its rings) are in now, before
    they are replaced."""
    ids = sorted(set(call_ids))
    found: set[AgentSlot] = set()
    for index in range(0, len(ids), _CHUNK):
        chunk = ids[index:index + _CHUNK]
        taken = await conn.execute(select(calls.c.arrived_at, calls.c.agent).where(
            calls.c.call_id.in_(chunk), calls.c.agent != ""))
        rung = await conn.execute(select(ring_attempts.c.started_at, ring_attempts.c.agent
                                         ).where(ring_attempts.c.call_id.in_(chunk)))
        found |= {(slot_of(float(at)), str(agent)) for at, agent in [*taken, *rung]}
    return found


async def refresh(conn: AsyncConnection, slots: set[AgentSlot]) -> None:
    """Recompute `slots` from the rows (inside the caller's transaction)."""
    await refresh_slots(conn, agent_slots.c.slot_start, agent_slots.c.agent, slots,
                        lambda chunk: _recomputed(_in_slots(chunk)))


def _in_slots(agents_by_start: dict[int, list[str]]) -> Which:
    def which(moment: ColumnElement[float], agent: ColumnElement[str]) -> ColumnElement[bool]:
        return or_(*(and_(moment >= start, moment < start + SLOT_SECONDS, agent.in_(agents))
                     for start, agents in agents_by_start.items()))
    return which


async def rebuild(conn: AsyncConnection, start: float | None = None,
                  end: float | None = None) -> None:
    """Recompute every slot from `start` to `end` (whole slots; None: unbounded): after
    the migration to version 4, a purge, or rows written by something else."""
    await take_turn(conn)
    low = None if start is None else slot_of(start)
    high = None if end is None else slot_of(end)

    def which(moment: ColumnElement[float], _agent: ColumnElement[str]
              ) -> ColumnElement[bool]:
        bounds = [*([moment >= low] if low is not None else []),
                  *([moment < high] if high is not None else [])]
        return and_(true(), *bounds)

    bounds = [*([agent_slots.c.slot_start >= low] if low is not None else []),
              *([agent_slots.c.slot_start < high] if high is not None else [])]
    await conn.execute(delete(agent_slots).where(and_(true(), *bounds)))
    await conn.execute(_recomputed(which))


async def forget_between(conn: AsyncConnection, oldest: float, before: float) -> None:
    """After a purge of the calls or rings dated from `oldest` to `before`: the roll-up of
    what is left there (the slot the limit cuts in two included). Only the purged span
    is recomputed: with calls kept longer than rings, what an earlier purge left before
    it is not read again every day."""
    await rebuild(conn, oldest, before + SLOT_SECONDS)


def _recomputed(which: Which) -> Any:
    """INSERT INTO agent_slots the sums of the answered calls and the rings `which` picks."""
    c, r = calls.c, ring_attempts.c
    # the size written out, not bound: PostgreSQL matches the GROUP BY expression to the
    # selected one only when they are the same text
    size: ColumnElement[int] = literal_column(str(SLOT_SECONDS), Integer)
    ringing = func.coalesce(r.ended_at, r.started_at) - r.started_at
    took = r.result == "answered"
    zero, none = literal(0, Integer), literal(0.0, Float)
    within = [rings_answered_within(e) for e in RING_ANSWER_EDGES]
    names = ["answered", "talk_seconds", "hold_seconds", "wrap_up_seconds", "transfers",
             "rings", "rings_answered", "missed_rings", "ring_answer_seconds", *within]
    answered: dict[str, ColumnElement[Any]] = {
        "answered": literal(1, Integer), "talk_seconds": c.talk_seconds,
        "hold_seconds": c.hold_seconds, "wrap_up_seconds": c.wrap_up_seconds,
        "transfers": _flag(c.transfer != ""), "rings": zero, "rings_answered": zero,
        "missed_rings": zero, "ring_answer_seconds": none, **{n: zero for n in within}}
    rung: dict[str, ColumnElement[Any]] = {
        "answered": zero, "talk_seconds": none, "hold_seconds": none,
        "wrap_up_seconds": none, "transfers": zero, "rings": literal(1, Integer),
        "rings_answered": _flag(took), "missed_rings": _flag(r.result.not_in(NOT_MISSED)),
        "ring_answer_seconds": case((took, ringing), else_=0.0),
        **{rings_answered_within(e): _flag(and_(took, ringing <= e))
           for e in RING_ANSWER_EDGES}}
    call_rows = select((floor_int(c.arrived_at / size) * size).label("slot_start"),
                       c.agent.label("agent"), *(answered[n].label(n) for n in names)
                       ).where(which(c.arrived_at, c.agent), c.agent != "",
                               c.answered_at.is_not(None), c.direction != OUTBOUND)
    ring_rows = select((floor_int(r.started_at / size) * size).label("slot_start"),
                       r.agent.label("agent"), *(rung[n].label(n) for n in names)
                       ).where(which(r.started_at, r.agent))
    each = union_all(call_rows, ring_rows).subquery("each")
    sums = select(each.c.slot_start, each.c.agent,
                  *(func.sum(each.c[n]).label(n) for n in names)
                  ).group_by(each.c.slot_start, each.c.agent)
    return insert(agent_slots).from_select(["slot_start", "agent", *names], sums)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)
