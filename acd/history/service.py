"""The history's parts put together for `acd serve`: the Redis stream, the agent-event
recorder (a routing sink), the writer that drains the stream into SQL, and the daily
retention purge."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from acd.adapters.redis.client import Redis
from acd.adapters.redis.history_stream import AgentEventRecorder, HistoryStream
from acd.config.history import HistoryConfig
from acd.history.retention import RecentCalls, purge_daily
from acd.history.store import HistoryDatabase
from acd.history.writer import HistoryWriter

log = logging.getLogger(__name__)


class HistoryService:
    def __init__(self, config: HistoryConfig, url: str, redis: Redis, prefix: str,
                 consumer: str) -> None:
        self.config = config
        self.stream = HistoryStream(redis, prefix)
        self.database = HistoryDatabase(url)
        self.agent_events = AgentEventRecorder(self.stream)
        self.writer = HistoryWriter(self.stream, self.database, consumer,
                                    batch_size=config.batch_size)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, recent: RecentCalls, now: Callable[[], float]) -> None:
        """Open the database (a failure is logged: the writer retries, calls go on)."""
        try:
            await self.database.open()
        except Exception as exc:
            log.error("history database %s not ready (%s): the history waits in Redis "
                      "until it is", self.database.where, exc)
        self._tasks = [self.agent_events.start(), self.writer.start(),
                       asyncio.get_running_loop().create_task(
                           purge_daily(self.config, self.database, recent, now),
                           name="history-retention")]

    def status(self) -> dict[str, object]:
        return self.writer.status()

    async def stop(self) -> None:
        """The agent changes held are written to the stream; the writer finishes the
        batch in hand (or rolls it back): nothing is half-applied."""
        await self.agent_events.close()
        await self.writer.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.database.close()
