"""Redis: the leadership lease that lets one acd of several serve while the others wait.

Several acd processes may share one Redis and one Asterisk (docs/operations.md). One
of them holds the lease and serves: FastAGI, AMI, the routing core, HTTP. The others
wait, polling, and the first to find the lease lapsed takes it, restores the routing
state from Redis and serves; the dialplan tries the next acd address when one does
not answer (ACD_AGI, ACD_AGI_2 in asterisk/extensions.conf).

| key          | type   | content                        | expiry              |
|--------------|--------|--------------------------------|---------------------|
| leader       | string | the node name of the holder    | the lease (seconds) |

A node name is stable across restarts (cluster.node), so an acd that restarts takes
its own lease back at once instead of waiting for it to lapse. All nodes share the
routing store's claim owner: only the lease holder ever claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from acd.adapters.redis.client import LuaScript, Redis

log = logging.getLogger(__name__)

# KEYS: the lease; ARGV: node, lease in ms. 1 when the node holds it afterwards.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    def __init__(self, redis: Redis, prefix: str, node: str, seconds: float) -> None:
        self.redis = redis
        self.key = f"{prefix}leader"
        self.node = node
        self.seconds = seconds
        self._acquire: LuaScript | None = None
        self._release: LuaScript | None = None

    async def take(self) -> bool:
        """Take the lease if it is free or ours (also renews it); True when it is ours."""
        if self._acquire is None:
            self._acquire = await self.redis.register_script(_ACQUIRE)
        reply = await self._acquire.run(keys=[self.key],
                                        args=[self.node, str(int(self.seconds * 1000))])
        return bool(await reply.return_value())

    async def holder(self) -> str | None:
        return await self.redis.get(self.key)

    async def give_up(self) -> None:
        """A clean stop: the next acd need not wait for the lease to lapse."""
        if self._release is None:
            self._release = await self.redis.register_script(_RELEASE)
        await self._release.run(keys=[self.key], args=[self.node])


class Leadership:
    """Wait for the lease, then keep it: the serving acd renews it every quarter of its
    length; a standby polls for it. Losing it (another acd holds it: this one was cut
    off from Redis longer than the lease) calls `on_lost` with the new holder, so that
    two never serve at once. A Redis outage alone is no loss: nobody else can take the
    lease meanwhile, and the calls in hand go on."""

    def __init__(self, lease: Lease, on_lost: Callable[[str], None]) -> None:
        self.lease = lease
        self.on_lost = on_lost
        self.leading = False

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait until this node holds the lease (True), or `stopping` is set (False)."""
        said_standby = said_unreachable = False
        poll = max(0.05, min(0.25, self.lease.seconds / 8))
        while not stopping.is_set():
            try:
                if await self.lease.take():
                    if said_standby:
                        log.warning("taking over: acd %s now serves (the lease lapsed)",
                                    self.lease.node)
                    self.leading = True
                    return True
                if not said_standby:
                    log.warning("standing by: acd %s serves; this acd (%s) takes over "
                                "within %.1f s of its end", await self.lease.holder(),
                                self.lease.node, self.lease.seconds)
                    said_standby = True
            except Exception as exc:
                if not said_unreachable:
                    log.error("leadership lease not readable (%s); retrying", exc)
                    said_unreachable = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), poll)
        return False

    async def keep(self) -> None:
        """Renew the lease until it is lost (then on_lost) or the task is cancelled."""
        failing = False
        while True:
            await asyncio.sleep(self.lease.seconds / 4)
            try:
                held = await self.lease.take()
            except Exception as exc:
                if not failing:
                    log.error("leadership lease not renewed (%s): serving on; no other "
                              "acd can take it while Redis is away", exc)
                    failing = True
                continue
            if failing:
                log.warning("leadership lease renewed again")
                failing = False
            if not held:
                self.leading = False
                holder = ""
                with contextlib.suppress(Exception):
                    holder = await self.lease.holder() or ""
                self.on_lost(holder)
                return
