"""The leading acd of an active cluster routes its own callers from memory while Redis
is away, as a single acd does; before, its events went through Redis like everyone's and
its callers waited for Redis. Real redis-server of the test's own, stopped mid-test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncio_redis
import pytest_asyncio
from redis_process import RedisProcess

from acd.adapters.redis.link import RedisLink
from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_relay import FollowerRouting, LeaderRelay
from acd.adapters.redis.routing_store import RoutingStore
from acd.clock import SystemClock
from acd.cluster_node import ForwardedRouting
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

PREFIX = "direct:"


@pytest_asyncio.fixture
async def redis_process() -> AsyncIterator[RedisProcess]:
    redis = RedisProcess(persist=True)
    redis.start()
    yield redis
    redis.remove()


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


def rung(commands: list[cmd.Command]) -> list[str]:
    return [c.call_id for c in commands if isinstance(c, cmd.RingAgents)]


async def test_the_leaders_own_caller_is_rung_while_redis_is_away(
        redis_process: RedisProcess) -> None:
    async def connect() -> Any:
        return await asyncio_redis.Connection.create("127.0.0.1", redis_process.port)

    redis = await connect()
    link = RedisLink(f"127.0.0.1:{redis_process.port}")
    engine = RoutingEngine([QueueConfig("sales", members=(QueueMember("1001"),
                                                          QueueMember("1002")))],
                           [AgentConfig("1001"), AgentConfig("1002")])
    dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(engine, SystemClock())
    store = RoutingStore(redis, PREFIX, link=link)
    await store.save_snapshot(engine.snapshot())  # (as acd does at its first start)
    commit = RoutingCommit(store, engine.take_changes)
    dispatcher.set_gate(commit.gate)
    dispatcher.after_batch(commit.after_batch)
    got: list[cmd.Command] = []
    forward = FollowerRouting(redis, await connect(), PREFIX, "a", got.append)
    relay = LeaderRelay(redis, await connect(), PREFIX, "a", dispatcher.enqueue,
                        forward.deliver)
    dispatcher.add_sink(relay.on_routing)
    routing = ForwardedRouting(dispatcher, engine, forward, relay, lambda: True)
    await relay.load()
    dispatcher.start()
    tasks = [*await relay.start(), *forward.start()]
    try:
        # its first events go through Redis (what it sent as a follower comes first)...
        await routing.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))
        routing.post(ev.CallQueued("c1", "sales", "13800000021"))
        await until(lambda: rung(got) == ["c1"])
        # ...then straight to its core, once nothing of its own is left in the inbox
        await until(routing.leads_directly, 3.0)
        redis_process.stop()
        await routing.submit(ev.AgentLoggedIn("1002", "PJSIP/1002"))
        started = time.monotonic()
        routing.post(ev.CallQueued("c2", "sales", "13800000022"))
        await until(lambda: rung(got) == ["c1", "c2"], 3.0)
        assert time.monotonic() - started < 1.0
        assert engine.agent_view("1002")["call_id"] == "c2"
        # Redis back: the state owed meanwhile is saved (the next leader would have it)
        redis_process.start()
        await until(lambda: not store.owes(), 10.0)
        saved = await RoutingStore(await connect(), PREFIX).load()
        assert saved is not None and "c2" in saved["calls"]
    finally:
        for task in tasks:
            task.cancel()
        await dispatcher.stop()
