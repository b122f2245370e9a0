"""The queues a call left for another (`queue_departures`), derived from the call's row.

`calls.queues` lists every queue a call waited in, in order; the last is where it
ended (`calls.queue`). The others are departures: rows the reports can count without
reading JSON in SQL. They are derived from the call's row as it stands after an upsert
(whichever history entry won), so they always match it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, insert, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.history.schema import calls, queue_departures

_CHUNK = 500


def left(queues_json: str) -> list[str]:
    """The queues a call left, in order: every queue of `calls.queues` but the last."""
    try:
        queues = json.loads(queues_json or "[]")
    except ValueError:
        return []
    if not isinstance(queues, list):
        return []
    return [str(q) for q in queues[:-1] if q]


#: calls.queue's length: a longer name is cut to it in the row (acd.history.store)
_QUEUE_LENGTH = 64


def queues_of(queues_json: str, queue: str) -> set[str]:
    """Every queue a call was in, as its rows name them (for the roll-up's slots)."""
    return {q[:_QUEUE_LENGTH] for q in (*left(queues_json), *([queue] if queue else []))}


async def _write(conn: AsyncConnection, found: Iterable[tuple[str, str]]) -> None:
    rows = [{"call_id": call_id, "position": n, "queue": queue[:_QUEUE_LENGTH]}
            for call_id, queues in found for n, queue in enumerate(left(queues))]
    if rows:
        await conn.execute(insert(queue_departures), rows)


async def derive(conn: AsyncConnection, call_ids: list[str]) -> None:
    """The departures of these calls, from their rows as they are now."""
    for index in range(0, len(call_ids), _CHUNK):
        chunk = call_ids[index:index + _CHUNK]
        await conn.execute(delete(queue_departures).where(
            queue_departures.c.call_id.in_(chunk)))
        result = await conn.execute(select(calls.c.call_id, calls.c.queues).where(
            calls.c.call_id.in_(chunk), calls.c.queues.like("%,%")))
        await _write(conn, [(str(i), str(q)) for i, q in result])


async def derive_between(conn: AsyncConnection, start: float | None, end: float | None
                         ) -> None:
    """The departures of every call that arrived from `start` to `end` (None: unbounded)."""
    bounds: list[ColumnElement[bool]] = []
    if start is not None:
        bounds.append(calls.c.arrived_at >= start)
    if end is not None:
        bounds.append(calls.c.arrived_at < end)
    in_range = select(calls.c.call_id).where(and_(true(), *bounds))
    await conn.execute(delete(queue_departures).where(
        queue_departures.c.call_id.in_(in_range.scalar_subquery())))
    result = await conn.execute(select(calls.c.call_id, calls.c.queues).where(
        and_(true(), *bounds), calls.c.queues.like("%,%")))
    await _write(conn, [(str(i), str(q)) for i, q in result])
