"""The daily purge: history older than each kind's retention (history.retention, days)
is deleted in bounded batches, and Redis's recent-calls index is trimmed to
history.redis_records_days (the closed records' hashes expire by themselves)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from acd.config.history import HistoryConfig

log = logging.getLogger(__name__)

DAY = 86400.0


class Purgeable(Protocol):
    """The history database (acd.history.store.HistoryDatabase)."""

    async def purge(self, older_than: Mapping[str, float]) -> dict[str, int]: ...


class RecentCalls(Protocol):
    """Redis's call store (acd.adapters.redis.store.CallStore)."""

    async def forget_before(self, arrived_before: float) -> int: ...


def limits(config: HistoryConfig, now: float) -> dict[str, float]:
    """Each kind's oldest time kept; kinds kept for ever are left out."""
    return {kind: now - days * DAY for kind, days in config.retention.days().items()
            if days > 0}


async def purge_once(config: HistoryConfig, database: Purgeable, recent: RecentCalls,
                     now: float) -> dict[str, int]:
    removed = await database.purge(limits(config, now))
    removed["redis_index"] = await recent.forget_before(now - config.redis_records_days * DAY)
    log.info("history retention: removed %s", ", ".join(
        f"{count} {kind}" for kind, count in removed.items()) or "nothing")
    return removed


async def purge_daily(config: HistoryConfig, database: Purgeable, recent: RecentCalls,
                      now: Callable[[], float], *, first_after: float = 120.0) -> None:
    """Run for ever: a purge shortly after start, then one a day."""
    await asyncio.sleep(first_after)  # not in the middle of start-up
    while True:
        try:
            await purge_once(config, database, recent, now())
        except Exception as exc:  # the database away: the next day's purge catches up
            log.warning("history retention purge failed (%s); it runs again tomorrow", exc)
        await asyncio.sleep(DAY)
