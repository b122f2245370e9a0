"""Which acd of an active cluster holds which call, in a real Redis: what one acd says
it holds, the others see; a call is held from its session's start; an acd that stops
saying it holds nothing after the TTL (its calls are then the leader's to close)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncio_redis

from acd.adapters.redis.held_calls import HeldCalls

DB = 13


async def test_each_acd_sees_what_the_others_hold_until_one_stops_saying_it(
        redis_server: Any) -> None:
    prefix = f"held-{uuid.uuid4().hex[:8]}:"
    redis = await asyncio_redis.Connection.create(redis_server.host, redis_server.port, db=DB)
    try:
        a = HeldCalls(redis, prefix, "acd-1", ttl_seconds=0.5)
        b = HeldCalls(redis, prefix, "acd-2", ttl_seconds=0.5)
        await a.beat(["c1", "c2"])
        await b.beat([])
        assert await b.held_elsewhere() == {"c1", "c2"}
        assert await a.held_elsewhere() == set()
        a.hold("c3")  # a session starts: held at once, before the next beat
        await asyncio.sleep(0.05)
        assert await b.held_elsewhere() == {"c1", "c2", "c3"}
        await a.beat(["c3"])  # c1 and c2 ended
        assert await b.held_elsewhere() == {"c3"}
        await asyncio.sleep(0.7)  # acd-1 killed: no beat
        assert await b.held_elsewhere() == set()
        await a.beat([f"x{i}" for i in range(12_000)])  # (more than one Lua unpack)
        assert len(await b.held_elsewhere()) == 12_000
    finally:
        cursor = await redis.scan(match=f"{prefix}*")
        keys = list(await cursor.fetchall())
        if keys:
            await redis.delete(keys)
        redis.close()
