"""The routing state and agent claims in a real Redis: restart, atomicity across processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio

from acd.adapters.redis.routing_store import RoutingStore
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.errors import RoutingError
from acd.core.model import AgentConfig, QueueConfig, QueueMember, Strategy

DB = 12  # this module's own database; keys also carry a per-test prefix
T0 = 1_750_000_000.0
REPO = Path(__file__).resolve().parents[2]


async def _connect(redis_server: Any) -> asyncio_redis.Connection:
    return await asyncio_redis.Connection.create(host=redis_server.host,
                                                 port=redis_server.port, db=DB)


@pytest.fixture
def prefix() -> str:
    return f"test-routing-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def redis(redis_server: Any, prefix: str) -> AsyncIterator[asyncio_redis.Connection]:
    connection = await _connect(redis_server)
    yield connection
    keys = await _keys(connection, prefix)
    if keys:
        await connection.delete(keys)
    connection.close()


async def _keys(connection: Any, prefix: str) -> list[str]:
    cursor = await connection.scan(match=f"{prefix}*")
    return list(await cursor.fetchall())


@pytest.fixture
def store(redis: Any, prefix: str) -> RoutingStore:
    return RoutingStore(redis, prefix)


QUEUES = [
    QueueConfig("sales", Strategy.ROUND_ROBIN,
                tuple(QueueMember(a) for a in ("1001", "1002", "1003")), wrap_up_seconds=30,
                announce_period_seconds=20),
    QueueConfig("vip", Strategy.LEAST_CALLS, (QueueMember("1003"),)),
]
AGENTS = [AgentConfig(a, name=f"Agent {a}") for a in ("1001", "1002", "1003")]


def period(now: float) -> str:
    return "today"


async def _drive(engine: RoutingEngine, store: RoutingStore, event: Any, now: float) -> None:
    """What the dispatcher does: handle, fire due deadlines, persist the increment."""
    engine.handle(event, now)
    while (deadline := engine.next_deadline()) is not None and deadline <= now:
        engine.on_timer(now)
    await store.save(engine.take_changes())


async def test_a_restarted_engine_restores_agents_callers_callbacks_and_statistics(
        store: RoutingStore) -> None:
    engine = RoutingEngine(QUEUES, AGENTS, period_key=period)
    now = T0
    await store.save_snapshot(engine.snapshot())
    script = [
        ev.AgentLoggedIn("1001", "PJSIP/1001"), ev.AgentLoggedIn("1002", "PJSIP/1002"),
        ev.CallQueued("c1", "sales", "138"), ev.RingAnswered("c1", "1001"),
        ev.CallEnded("c1", "1001"), ev.CallQueued("c2", "sales", "139"),
        ev.RingAnswered("c2", "1002"), ev.CallQueued("c3", "sales", "137"),
        ev.CallQueued("c4", "sales", "136", priority=3), ev.CallbackRequested("c3", "13700"),
        ev.CallQueued("c5", "vip", "135"), ev.CallAbandoned("c5"),
        ev.AgentLoggedIn("1003", "PJSIP/1003"), ev.AgentPaused("1003", "meeting"),
    ]
    for event in script:
        now += 7
        await _drive(engine, store, event, now)

    data = await store.load()
    assert data is not None
    restored = RoutingEngine.restore(QUEUES, AGENTS, data, now, period_key=period)
    assert restored.snapshot() == engine.snapshot()
    assert restored.stats() == engine.stats()
    for name in ("sales", "vip"):
        assert restored.queue_view(name) == engine.queue_view(name)
    for agent in ("1001", "1002", "1003"):
        assert restored.agent_view(agent) == engine.agent_view(agent)
    waiting = restored.queue_view("sales")["waiting"]
    assert [(w["call_id"], w["callback"]) for w in waiting] == [("c3", True)]
    assert restored.agent_view("1001")["call_id"] == "c4"  # served after 1001's wrap-up
    # the restored engine goes on exactly where the old one stopped
    assert restored.on_timer(now) == []
    for later in (now + 10, now + 60, now + 600):
        assert restored.on_timer(later) == engine.on_timer(later)
        for event in (ev.CallQueued(f"n{later}", "sales", "1"), ev.AgentResumed("1003")):
            try:
                expected = engine.handle(event, later)
            except RoutingError as exc:  # refused by both alike; any other error is a bug
                with pytest.raises(type(exc)):
                    restored.handle(event, later)
            else:
                assert restored.handle(event, later) == expected
    assert restored.snapshot() == engine.snapshot()


async def test_a_full_snapshot_replaces_what_was_saved(store: RoutingStore) -> None:
    engine = RoutingEngine(QUEUES, AGENTS, period_key=period)
    engine.handle(ev.CallQueued("c1", "sales", "138"), T0)
    await store.save(engine.take_changes())
    fresh = RoutingEngine(QUEUES, AGENTS, period_key=period)
    fresh.on_timer(T0)
    await store.save_snapshot(fresh.snapshot())
    assert await store.load() == json.loads(json.dumps(fresh.snapshot()))


async def test_a_big_line_of_callers_loads_whole_when_read_in_slices(store: RoutingStore,
                                                                     ) -> None:
    engine = RoutingEngine(QUEUES, AGENTS, period_key=period)
    for n in range(2_600):  # (over the size read in one reply)
        engine.handle(ev.CallQueued(f"c{n}", "sales", "138"), T0 + n)
    await store.save_snapshot(engine.snapshot())
    assert await store.load() == json.loads(json.dumps(engine.snapshot()))


async def test_nothing_saved_loads_as_none(store: RoutingStore) -> None:
    assert await store.load() is None


async def test_every_key_lives_under_the_prefix(store: RoutingStore, redis: Any,
                                               prefix: str) -> None:
    engine = RoutingEngine(QUEUES, AGENTS, period_key=period)
    await _drive(engine, store, ev.AgentLoggedIn("1001", "PJSIP/1001"), T0)
    await store.claim("1001", "c1")
    keys = set(await _keys(redis, prefix))
    assert keys == {f"{prefix}routing:{s}" for s in ("meta", "agents", "queues")} | {
        f"{prefix}claim:agent:1001", f"{prefix}claim:call:c1"}
    assert 0 < await redis.pttl(f"{prefix}claim:agent:1001") <= 4 * 3600 * 1000


async def test_a_claim_binds_agent_and_call_to_each_other_only(store: RoutingStore) -> None:
    assert await store.claim("1001", "c1")
    assert await store.claim("1001", "c1")  # idempotent for the same pair
    assert not await store.claim("1001", "c2")  # the agent has a call
    assert not await store.claim("1002", "c1")  # the call has an agent
    assert (await store.holder("1001"), await store.bound_agent("c1")) == ("c1", "1001")
    assert not await store.release("1002", "c1")  # not that pair: nothing happens
    assert await store.holder("1001") == "c1"
    assert await store.release("1001", "c1")
    assert await store.claim("1002", "c1") and await store.claim("1001", "c2")


async def test_ring_all_reserves_free_agents_and_the_answer_binds_the_call(
        store: RoutingStore) -> None:
    assert await store.claim("1003", "other")
    assert sorted(await store.reserve("c1", ["1001", "1002", "1003"])) == ["1001", "1002"]
    assert await store.claim("1002", "c1")  # 1002 answered
    assert not await store.claim("1001", "c1")  # a late answer cannot take the call too
    assert await store.release("1001", "c1")
    assert await store.bound_agent("c1") == "1002"
    assert await store.reserve("c1", ["1001"]) == []  # the call is bound now


async def test_a_release_is_published_for_other_processes(
        store: RoutingStore, redis_server: Any) -> None:
    listener = await _connect(redis_server)
    subscriber = await listener.start_subscribe()
    await subscriber.subscribe([store.released_channel])
    await store.claim("1001", "c1")
    await store.release("1001", "c1")
    message = await asyncio.wait_for(subscriber.next_published(), 5)
    assert (message.channel, message.value) == (store.released_channel, "1001")
    listener.close()


async def test_another_process_can_neither_share_nor_release_a_claim(
        store: RoutingStore, redis: Any, prefix: str) -> None:
    other = RoutingStore(redis, prefix, owner="node-2")
    assert await store.claim("1001", "c1")
    assert not await other.claim("1001", "c1")
    assert not await other.release("1001", "c1")
    assert await other.reserve("c1", ["1001"]) == []
    assert await store.holder("1001") == "c1"
    assert await store.claim("1001", "c1")  # the owner may repeat itself (a lost reply)


async def test_claims_survive_a_script_cache_flush(store: RoutingStore, redis: Any) -> None:
    assert await store.claim("1001", "c1")
    await redis.script_flush()
    assert not await store.claim("1001", "c2")
    assert await store.release("1001", "c1")


async def test_the_gate_drops_targets_held_elsewhere_and_reports_them(
        store: RoutingStore) -> None:
    await store.claim("1002", "elsewhere")
    ring = cmd.RingAgents("c1", "sales", (cmd.RingTarget("1001", "PJSIP/1001"),
                                          cmd.RingTarget("1002", "PJSIP/1002")), 15)
    keep, lost = await store.gate([ring])
    assert keep == [cmd.RingAgents("c1", "sales", (cmd.RingTarget("1001", "PJSIP/1001"),), 15)]
    assert lost == [ev.AgentClaimLost("1002", "c1")]
    single = cmd.RingAgents("c2", "sales", (cmd.RingTarget("1002", "PJSIP/1002"),), 15)
    keep, lost = await store.gate([single, cmd.ReleaseAgent("1001", "c1")])
    assert keep == [cmd.ReleaseAgent("1001", "c1")]
    assert lost == [ev.AgentClaimLost("1002", "c2")]
    assert await store.holder("1001") is None


HAMMER = r"""
import asyncio, json, random, sys, time
import asyncio_redis
from acd.adapters.redis.routing_store import RoutingStore

async def main(port, db, prefix, start_at, seed, rounds, out):
    conn = await asyncio_redis.Connection.create("127.0.0.1", port, db=db)
    store = RoutingStore(conn, prefix, owner=f"process-{seed}")
    rng = random.Random(seed)
    agents = [f"a{i}" for i in range(8)]
    calls = [f"c{i}" for i in range(12)]
    held, log, refused = [], [], 0
    await asyncio.sleep(max(0.0, start_at - time.time()))
    for _ in range(rounds):
        if held and (rng.random() < 0.5 or len(held) > 3):
            agent, call, t0 = held.pop(rng.randrange(len(held)))
            log.append((agent, call, t0, time.monotonic_ns()))
            await store.release(agent, call)
            continue
        agent, call = rng.choice(agents), rng.choice(calls)
        if rng.random() < 0.3:  # a ring-all offer, never for a call this process holds
            ring_call = f"r{rng.randrange(4)}"
            for a in await store.reserve(ring_call, rng.sample(agents, 3)):
                await store.release(a, ring_call)
            continue
        if any(h[0] == agent or h[1] == call for h in held):
            continue  # a process never offers what it already holds
        if await store.claim(agent, call):
            held.append((agent, call, time.monotonic_ns()))
        else:
            refused += 1
    for agent, call, t0 in held:
        log.append((agent, call, t0, time.monotonic_ns()))
        await store.release(agent, call)
    json.dump({"log": log, "refused": refused}, open(out, "w"))
    conn.close()

port, db, prefix, start_at, seed, rounds, out = sys.argv[1:]
asyncio.run(main(int(port), int(db), prefix, float(start_at), int(seed), int(rounds), out))
"""


def test_two_processes_hammering_claims_never_double_assign(redis_server: Any, prefix: str,
                                                             tmp_path: Path) -> None:
    start_at = time.time() + 1.5
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs, outs = [], []
    for seed in (1, 2):
        out = tmp_path / f"claims-{seed}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(redis_server.port), str(DB), prefix,
             f"{start_at:.3f}", str(seed), "4000", str(out)], env=env))
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    results = [json.loads(o.read_text()) for o in outs]
    holds = [tuple(h) for r in results for h in r["log"]]
    assert len(holds) > 500 and sum(r["refused"] for r in results) > 100
    for side, other in ((0, 1), (1, 0)):  # by agent, then by call
        by_key: dict[str, list[tuple[int, int, str]]] = {}
        for h in holds:
            by_key.setdefault(h[side], []).append((h[2], h[3], h[other]))
        for key, spans in by_key.items():
            spans.sort()
            for (_, e1, o1), (s2, _, o2) in zip(spans, spans[1:], strict=False):
                assert s2 >= e1, f"{key} held for {o1} and {o2} at once"


async def test_after_a_restart_claims_of_finished_calls_are_released_and_no_others(
        redis: asyncio_redis.Connection, prefix: str) -> None:
    store = RoutingStore(redis, prefix, owner="acd")
    other = RoutingStore(redis, prefix, owner="acd-2")
    assert await store.batch([("c", "1001", "c1"), ("c", "1002", "c2")]) == [True, True]
    assert await other.batch([("c", "1003", "c3")]) == [True]
    # killed before releasing 1001's claim; the restored state still rings 1002 for c2
    freed = await store.release_stale(["1001", "1002", "1003", "1004"], {"1002": "c2"})
    assert freed == ["1001"]
    assert await store.holder("1001") is None and await store.bound_agent("c1") is None
    assert await store.holder("1002") == "c2"
    assert await store.holder("1003") == "c3"  # another process's claim is not ours to free
    assert await store.batch([("c", "1001", "c9")]) == [True]  # offered again
