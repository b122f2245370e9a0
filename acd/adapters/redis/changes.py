"""What other processes changed in Redis, as it happens: the caller lists, the global
announcement. Each acd subscribes to the changes channel and drops what it cached;
whatever it missed while disconnected is dropped too when it subscribes again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from acd.adapters.redis.connection import open_subscriber
from acd.adapters.redis.link import unreachable
from acd.adapters.redis.store import changes_channel
from acd.config.settings import RedisConfig

log = logging.getLogger(__name__)

#: between two tries to subscribe again (Redis away is logged by the pool's link)
RETRY_SECONDS = 0.5


async def follow_changes(config: RedisConfig, on_change: Mapping[str, Callable[[], None]],
                         ) -> None:
    """Run until cancelled: call on_change[what] for each change announced; after a
    (re)subscription, every one of them (changes may have been missed meanwhile)."""
    channel = changes_channel(config.prefix)
    warned = ""  # the last failure logged: the next one is logged only if it differs
    while True:
        try:
            connection = await open_subscriber(config)
            try:
                subscription = await connection.start_subscribe()
                await subscription.subscribe([channel])
                for callback in on_change.values():
                    callback()
                warned = ""
                while True:
                    message = await connection.until_lost(subscription.next_published())
                    changed = on_change.get(str(message.value))
                    if changed is not None:
                        changed()
            finally:
                connection.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # caches fall back to their own recheck meanwhile
            if not unreachable(exc) and str(exc) != warned:
                warned = str(exc)
                log.warning("Redis change feed interrupted (%s); subscribing again", exc)
            await asyncio.sleep(RETRY_SECONDS)
