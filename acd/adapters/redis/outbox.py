"""Writes owed to Redis: held in memory while it is away, written when it is back.

A call that arrives while Redis is away is served all the same (the routing state is in
memory); what it writes waits here, merged per key (one call's record, one recording's
index entry), and is written in the order it was first held, once, when Redis answers
again. While anything is held, new writes queue behind it, so a record's changes
reach Redis in the order the call made them.

A write that fails for another reason than Redis being away (a bug, a wrong type) is
logged and dropped: trying it again would fail again, and hold up everything behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from acd.adapters.redis.link import RedisLink, RedisUnavailable, bounded
from acd.adapters.redis.store import CallStore
from acd.callflow.record import CallRecord

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how many keys may be held before new ones are refused (memory: a call record is ~1 KB)
MAX_HELD = 200_000
#: after a held write failed although Redis looked up, before the next try
RETRY_SECONDS = 0.25


class Outbox(Generic[T]):
    """Writes by key, sent at once while Redis answers and held while it does not."""

    def __init__(self, link: RedisLink, send: Callable[[str, T], Awaitable[None]],
                 merge: Callable[[T, T], T], what: str) -> None:
        self._link = link
        self._send = send
        self._merge = merge
        self.what = what  # e.g. "call records", for the log
        self._held: OrderedDict[str, T] = OrderedDict()
        self._sending: str | None = None  # the held key being written now
        self._draining: asyncio.Task[None] | None = None
        self._full_logged = False

    def held(self, key: str) -> T | None:
        return self._held.get(key)

    @property
    def held_count(self) -> int:
        return len(self._held) + (self._sending is not None)

    async def write(self, key: str, item: T) -> None:
        """Now if Redis answers within a moment; otherwise held, to be written later."""
        if not self.held_count and self._link.up:
            try:
                await bounded(self._send(key, item))
                return
            except RedisUnavailable:
                pass
        self._hold(key, item)

    def _hold(self, key: str, item: T) -> None:
        older = self._held.get(key)
        if older is None and len(self._held) >= MAX_HELD:
            if not self._full_logged:
                self._full_logged = True
                log.error("%d %s held for Redis already: more are dropped until it is back",
                          len(self._held), self.what)
            return
        # a newer write joins the older one where that one waits in line
        self._held[key] = item if older is None else self._merge(older, item)
        if self._draining is None or self._draining.done():
            log.info("Redis away: %s held in memory, to be written when it is back", self.what)
            self._draining = asyncio.get_running_loop().create_task(
                self._drain(), name=f"held {self.what}")

    async def _drain(self) -> None:
        written = 0
        while self._held:
            await self._link.wait_up()
            key, item = self._held.popitem(last=False)
            self._sending = key
            try:
                await bounded(self._send(key, item))
                written += 1
            except RedisUnavailable:
                newer = self._held.pop(key, None)
                self._held[key] = item if newer is None else self._merge(item, newer)
                self._held.move_to_end(key, last=False)
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:
                log.exception("%s %s could not be written and is dropped", self.what, key)
            finally:
                self._sending = None
        self._full_logged = False
        log.info("Redis back: %d held %s written", written, self.what)

    async def flush(self, seconds: float) -> None:
        """Shutdown: what is held is written now, if Redis lets it within `seconds`."""
        if self._draining is not None and not self._draining.done():
            await asyncio.wait({self._draining}, timeout=seconds)
        if self.held_count:
            log.error("acd stops with %d %s not written (Redis away): %s", self.held_count,
                      self.what, ", ".join(list(self._held)[:20]))


# -- call records --------------------------------------------------------------------------


@dataclass
class OwedRecord:
    """What one call's record owes Redis: its changed fields, and how it was written."""

    fields: dict[str, object] = field(default_factory=dict)
    opened: bool = False  # open_call: indexed by arrival and listed as active
    closed: bool = False  # close_call: no longer active
    whole: bool = False  # record_call: never opened, written and closed at once

    @staticmethod
    def merged(older: OwedRecord, newer: OwedRecord) -> OwedRecord:
        return OwedRecord({**older.fields, **newer.fields}, older.opened or newer.opened,
                          older.closed or newer.closed, older.whole or newer.whole)


def _copy(fields: Mapping[str, object]) -> dict[str, object]:
    """A snapshot: the session may change its lists after handing them over."""
    return {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
            for k, v in fields.items()}


class HeldCallStore:
    """The call path's CallStore (acd.callflow.ports): records reach Redis at once while it
    answers, and are held and written when it is back while it does not."""

    def __init__(self, store: CallStore, link: RedisLink) -> None:
        self._store = store
        self.outbox: Outbox[OwedRecord] = Outbox(link, self._send, OwedRecord.merged,
                                                 "call records")

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self.outbox.write(call_id, OwedRecord(_copy(fields), opened=True))

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        if changes:
            await self.outbox.write(call_id, OwedRecord(_copy(changes)))

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        await self.outbox.write(call_id, OwedRecord(_copy(changes), closed=True))

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self.outbox.write(call_id, OwedRecord(_copy(fields), whole=True))

    async def _send(self, call_id: str, owed: OwedRecord) -> None:
        store = self._store
        if owed.whole:
            await store.record_call(call_id, owed.fields)
        elif owed.opened:
            await store.open_call(call_id, owed.fields)
            if owed.closed:
                await store.close_call(call_id, {})
        elif owed.closed:
            await store.close_call(call_id, owed.fields)
        else:
            await store.save_call(call_id, owed.fields)

    async def get_call(self, call_id: str) -> CallRecord | None:
        """As in Redis with what is held for it on top; from memory alone while Redis is
        away if the record is held whole (RedisUnavailable if not)."""
        owed = self.outbox.held(call_id)
        try:
            record = await bounded(self._store.get_call(call_id))
        except RedisUnavailable:
            if owed is None or not (owed.opened or owed.whole):
                raise
            record = None
        if owed is None or (record is None and not (owed.opened or owed.whole)):
            return record  # (changes alone, of a record Redis lost, are not a record)
        stored = record.to_hash() if record is not None else {}
        return CallRecord.from_hash({**stored, **CallRecord.encode(owed.fields)})

    async def active_call_ids(self) -> set[str]:
        return await bounded(self._store.active_call_ids())
