"""Redis: which acd of an active cluster holds which call (cluster.mode: active).

Every acd serves calls; when one dies, the calls it held that do not come back to
another acd through the dialplan (their conversation ended meanwhile, the caller hung
up, Asterisk's fallback queue took them) would keep an open record for ever, and a
waiting one would stay a ghost in the routing core. The leader closes them
(acd.orphan_sweep); to tell them from the calls of acds that are alive, each acd
says here which calls it holds, and says it again every BEAT_SECONDS:

| key                  | type | content                                 | expiry      |
|----------------------|------|-----------------------------------------|-------------|
| held:<node>          | set  | the call ids that acd's sessions hold   | TTL_SECONDS |
| held:nodes           | set  | every node that ever said so            | none        |

A call is added the moment a session starts (so that a call that comes back to an acd
is never taken for an orphan in the second before the next beat); the whole set is
replaced at each beat (so that calls that ended leave it). An acd that stops beating
(killed, frozen, cut off from Redis) holds nothing after TTL_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from acd.adapters.redis.client import Redis
from acd.adapters.redis.store import Scripts

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0
#: a node silent this long holds nothing any more (a few missed beats, not one)
TTL_SECONDS = 4.0

# KEYS: held:<node>, held:nodes; ARGV: node, ttl ms, then the call ids (the whole set).
_BEAT = """
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 5000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 4999, #ARGV)))
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('SADD', KEYS[2], ARGV[1])
return #ARGV - 2
"""

# KEYS: held:<node>; ARGV: ttl ms, call id. One call more, the set's life renewed.
_ADD = """
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class HeldCalls:
    def __init__(self, redis: Redis, prefix: str, node: str,
                 ttl_seconds: float = TTL_SECONDS) -> None:
        self._redis = redis
        self._prefix = prefix
        self.node = node
        self._ttl_ms = str(int(ttl_seconds * 1000))
        self._scripts = Scripts(redis)
        self._adding: set[asyncio.Task[None]] = set()

    def _key(self, node: str) -> str:
        return f"{self._prefix}held:{node}"

    async def beat(self, call_ids: Iterable[str]) -> None:
        """This acd holds exactly these calls now."""
        await self._scripts.run("held_beat", _BEAT,
                                [self._key(self.node), f"{self._prefix}held:nodes"],
                                [self.node, self._ttl_ms, *call_ids])

    def hold(self, call_id: str) -> None:
        """A session started here (sent at once, not awaited: a call never waits for
        it; a failure is made good by the next beat)."""
        task = asyncio.get_running_loop().create_task(self._add(call_id))
        self._adding.add(task)
        task.add_done_callback(self._adding.discard)

    async def _add(self, call_id: str) -> None:
        with contextlib.suppress(Exception):
            await self._scripts.run("held_add", _ADD, [self._key(self.node)],
                                    [self._ttl_ms, call_id])

    async def held_elsewhere(self) -> set[str]:
        """The calls the other acds say they hold (an acd silent for TTL_SECONDS holds
        none). Raises when Redis cannot say: then nobody's call may be taken."""
        nodes = await self._redis.smembers_asset(f"{self._prefix}held:nodes")
        held: set[str] = set()
        for node in nodes - {self.node}:
            held |= await self._redis.smembers_asset(self._key(node))
        return held

    async def keep_beating(self, holding: Callable[[], Iterable[str]]) -> None:
        """Say what this acd holds every BEAT_SECONDS, until cancelled."""
        failing = False
        while True:
            try:
                await self.beat(holding())
                if failing:
                    log.info("held calls told to the cluster again")
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("held calls not told to the cluster (%s); after %.0f s "
                                "the leader may take this acd's ended calls for its own",
                                exc, int(self._ttl_ms) / 1000)
                failing = True
            await asyncio.sleep(BEAT_SECONDS)
