"""What other processes changed in Redis, as it happens: the caller lists, the global
announcement. Each acd subscribes to the changes channel and drops what it cached;
whatever it missed while disconnected is dropped too when it subscribes again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from acd.adapters.redis.store import changes_channel, connect_redis
from acd.config.settings import RedisConfig

log = logging.getLogger(__name__)


async def follow_changes(config: RedisConfig, on_change: Mapping[str, Callable[[], None]],
                         ) -> None:
    """Run until cancelled: call on_change[what] for each change announced; after a
    (re)subscription, every one of them (changes may have been missed meanwhile)."""
    channel = changes_channel(config.prefix)
    delay = 1.0
    while True:
        try:
            connection = await connect_redis(config, poolsize=1, retry_forever=False)
            try:
                subscription = await connection.start_subscribe()
                await subscription.subscribe([channel])
                for callback in on_change.values():
                    callback()
                delay = 1.0
                while True:
                    message = await subscription.next_published()
                    changed = on_change.get(str(message.value))
                    if changed is not None:
                        changed()
            finally:
                connection.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis away: caches fall back to their own recheck
            log.warning("Redis change feed interrupted (%s); subscribing again in %.0f s",
                        exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
