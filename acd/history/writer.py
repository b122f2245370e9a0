"""The history writer: drains the Redis history stream into the SQL database.

Entries are read in batches through a consumer group (two acd processes never get
the same entry), written in one transaction, and only then acknowledged and deleted:
a crash or a stop between the two re-applies a batch, which the upserts make
harmless. While the database is away the entries wait in Redis; the writer tries
again after a growing delay (capped), says so once when it goes and once when it is
back, and then applies everything that waited. The call path never waits on any of
this: it only appended to the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from acd.history.rows import Batch, Entry, batch_of

log = logging.getLogger(__name__)


class HistoryFeed(Protocol):
    """The stream (acd.adapters.redis.history_stream.HistoryStream)."""

    async def read(self, consumer: str, count: int, claim_idle_ms: int) -> Sequence[Entry]:
        ...

    async def done(self, ids: list[str]) -> None: ...

    async def backlog(self) -> int: ...


class HistorySink(Protocol):
    """The database (acd.history.store.HistoryDatabase)."""

    where: str

    async def apply(self, batch: Batch) -> None: ...


class HistoryWriter:
    #: a failing database is tried again after this, doubled each time up to MAX_DELAY
    FIRST_DELAY = 0.5
    MAX_DELAY = 30.0
    #: with nothing to read, look again this often
    POLL_SECONDS = 0.2
    #: entries another writer read but left unacknowledged this long are taken over
    CLAIM_IDLE_MS = 60_000

    def __init__(self, feed: HistoryFeed, sink: HistorySink, consumer: str, *,
                 batch_size: int = 500,
                 on_applied: Callable[[Sequence[Entry]], None] | None = None) -> None:
        self._feed = feed
        self._sink = sink
        self.consumer = consumer
        self.batch_size = batch_size
        self._on_applied = on_applied
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: whether the last attempt reached the database (for /api/health)
        self.database_up = True
        self.redis_up = True
        self.backlog = 0
        self.applied = 0
        self._down_since = 0.0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="history-writer")
        return self._task

    async def stop(self, seconds: float = 1.5) -> None:
        """Let the batch in hand finish (commit and acknowledge), then stop; cancelled
        after `seconds` (a transaction cut short rolls back: nothing half-applied)."""
        self._stopping.set()
        task = self._task
        if task is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        done, _ = await asyncio.wait({task}, timeout=seconds)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return
        # what the last moments appended (agents logged out at the stop) goes in now
        # when the database lets it; otherwise it waits in Redis for the next start
        with contextlib.suppress(Exception):
            async with asyncio.timeout(max(0.0, deadline - loop.time())):
                while self.database_up and await self.drain_once():
                    pass

    @property
    def healthy(self) -> bool:
        return self.database_up and self.redis_up

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        delay = self.FIRST_DELAY
        while not self._stopping.is_set():
            try:
                applied = await self.drain_once()
            except _DatabaseDown:
                await self._pause(delay)
                delay = min(delay * 2, self.MAX_DELAY)
                continue
            except Exception as exc:  # Redis away (or a bug): the entries stay in Redis
                if self.redis_up:
                    log.error("history writer cannot read the history stream (%s); "
                              "retrying", exc)
                self.redis_up = False
                await self._pause(delay)
                delay = min(delay * 2, self.MAX_DELAY)
                continue
            if not self.redis_up:
                log.info("history writer reads the history stream again")
                self.redis_up = True
            delay = self.FIRST_DELAY
            if applied == 0:
                await self._pause(self.POLL_SECONDS)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def drain_once(self) -> int:
        """Read one batch, apply it, acknowledge it; entries applied (0: none waiting).
        Raises _DatabaseDown when the database refused the batch (it stays pending)."""
        entries = await self._feed.read(self.consumer, self.batch_size, self.CLAIM_IDLE_MS)
        if not entries:
            self.backlog = 0
            return 0
        try:
            await self._sink.apply(batch_of(entries))
        except BadRows as exc:  # one entry the database refuses: find it, set it aside
            log.error("history batch refused by the database (%s); applying its %d "
                      "entries one by one", exc, len(entries))
            await self._one_by_one(entries)
        except Exception as exc:
            self._database_failed(exc)
            raise _DatabaseDown() from exc
        self._database_back()
        await self._feed.done([e.id for e in entries])
        self.applied += len(entries)
        if self._on_applied is not None:
            self._on_applied(entries)
        return len(entries)

    async def _one_by_one(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            try:
                await self._sink.apply(batch_of([entry]))
            except BadRows as exc:
                # (its fields hold callers' numbers: the entry's id and kind only)
                log.error("history entry %s (%s) set aside: the database refuses it (%s)",
                          entry.id, entry.fields.get("kind", "?"), exc)
            except Exception as exc:
                self._database_failed(exc)
                raise _DatabaseDown() from exc

    def _database_failed(self, exc: Exception) -> None:
        if self.database_up:
            log.error("history database %s unreachable (%s): closed calls and agent "
                      "changes wait in Redis and are written when it is back",
                      self._sink.where, _short(exc))
            self._down_since = time.monotonic()
        self.database_up = False
        # how much waits, for /api/health (best effort: Redis may be away too)
        asyncio.get_running_loop().create_task(self._count_backlog())

    def _database_back(self) -> None:
        if not self.database_up:
            log.info("history database %s is back after %.0f s: writing the %d entries "
                     "that waited", self._sink.where, time.monotonic() - self._down_since,
                     self.backlog)
        self.database_up = True

    async def _count_backlog(self) -> None:
        with contextlib.suppress(Exception):  # only a figure for /api/health
            self.backlog = await self._feed.backlog()

    def status(self) -> dict[str, object]:
        """For /api/health: ok, or degraded with how much waits in Redis (counted at
        each failed attempt)."""
        return {"status": "ok" if self.healthy else "degraded", "backlog": self.backlog}


class BadRows(Exception):
    """The database refused a batch for what is in it (a value it cannot take), not
    because it is away: raised by the sink."""


class _DatabaseDown(Exception):
    """The database refused a batch (logged once per outage)."""


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
