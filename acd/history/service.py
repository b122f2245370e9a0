"""The history's parts put together for `acd serve`: the Redis stream, the agent-event
recorder (a routing sink), the writer that drains the stream into SQL, and the daily
retention purge.

The writer and the purge run on an event loop of their own, in a thread, with their
own Redis connections: turning a batch into rows and SQLAlchemy's statements are
milliseconds of Python each, which on the calls' loop would be milliseconds every
FastAGI session waits (docs/benchmarks.md, the history writer). The calls' loop only
appends to the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence

from acd.adapters.redis.client import Redis
from acd.adapters.redis.history_stream import AgentEventRecorder, HistoryStream, stream_key
from acd.adapters.redis.store import CallStore
from acd.config.history import HistoryConfig
from acd.history.retention import purge_daily
from acd.history.rows import Entry
from acd.history.store import HistoryDatabase, describe
from acd.history.writer import HistoryWriter

log = logging.getLogger(__name__)

#: makes a Redis pool on the running loop (the writer's thread has its own)
ConnectRedis = Callable[[], Awaitable[Redis]]


class HistoryService:
    def __init__(self, config: HistoryConfig, url: str, redis: Redis, prefix: str,
                 consumer: str, connect: ConnectRedis, *,
                 on_applied: Callable[[Sequence[Entry]], None] | None = None) -> None:
        self.config = config
        self.url = url
        self.prefix = prefix
        self.consumer = consumer
        self._connect = connect
        self._on_applied = on_applied
        #: the calls' side: where records and agent changes are appended
        self.stream_key = stream_key(prefix)
        self.agent_events = AgentEventRecorder(HistoryStream(redis, prefix))
        self.writer: HistoryWriter | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._recorder_task: asyncio.Task[None] | None = None

    def start(self, now: Callable[[], float]) -> None:
        self._recorder_task = self.agent_events.start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main(now)),
                                        name="history-writer", daemon=True)
        self._thread.start()

    def status(self) -> dict[str, object]:
        writer = self.writer
        return writer.status() if writer is not None else {"status": "starting",
                                                           "backlog": 0}

    async def stop(self, seconds: float = 2.0) -> None:
        """The agent changes held are written to the stream; the writer finishes the
        batch in hand (or rolls it back): nothing is half-applied."""
        await self.agent_events.close()
        if self._recorder_task is not None:
            self._recorder_task.cancel()
        loop, writer, thread = self._loop, self.writer, self._thread
        if loop is not None and writer is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(
                    asyncio.run_coroutine_threadsafe(self._stop_here(writer, seconds * 0.75),
                                                     loop))
        if thread is not None:
            await asyncio.to_thread(thread.join, seconds * 0.25)

    # -- the writer's thread -----------------------------------------------------------

    async def _stop_here(self, writer: HistoryWriter, seconds: float) -> None:
        await writer.stop(seconds)
        self._done.set()

    async def _main(self, now: Callable[[], float]) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        database = HistoryDatabase(self.url)
        try:
            redis = await self._connect()
        except Exception as exc:
            log.error("history writer: no Redis (%s); the history waits in Redis", exc)
            return
        writer = self.writer = HistoryWriter(HistoryStream(redis, self.prefix), database,
                                             self.consumer,
                                             batch_size=self.config.batch_size,
                                             on_applied=self._on_applied)
        try:
            await database.open()
        except Exception as exc:
            log.error("history database %s not ready (%s): the history waits in Redis "
                      "until it is", describe(self.url), exc)
        purge = asyncio.create_task(purge_daily(
            self.config, database, CallStore(redis, self.prefix), now), name="history-purge")
        writer.start()
        try:
            await self._done.wait()
        finally:
            purge.cancel()
            await asyncio.gather(purge, return_exceptions=True)
            with contextlib.suppress(Exception):
                await database.close()
            with contextlib.suppress(Exception):
                redis.close()  # type: ignore[attr-defined]
