"""A batch of routing decisions claimed and saved in one round trip, in a real Redis:
what is decided is in Redis before a ring goes out, whatever happens next."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio

from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_store import RoutingStore
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember

DB = 13  # this module's own database; keys also carry a per-test prefix
T0 = 1_750_000_000.0
REPO = Path(__file__).resolve().parents[2]
AGENTS = ("1001", "1002", "1003")


def engine_of(agents: tuple[str, ...] = AGENTS) -> RoutingEngine:
    return RoutingEngine([QueueConfig("sales", members=tuple(QueueMember(a) for a in agents))],
                         [AgentConfig(a) for a in agents], period_key=lambda now: "today")


@pytest.fixture
def prefix() -> str:
    return f"test-commit-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def redis(redis_server: Any, prefix: str) -> AsyncIterator[asyncio_redis.Connection]:
    connection = await asyncio_redis.Connection.create(redis_server.host, redis_server.port,
                                                       db=DB)
    yield connection
    cursor = await connection.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await connection.delete(keys)
    connection.close()


async def scripts_run(redis: Any) -> int:
    """EVALSHA calls the server has answered so far (each one round trip)."""
    info = (await redis.info("commandstats"))._data
    text = info.decode() if isinstance(info, bytes) else str(info)
    line = next((x for x in text.splitlines() if x.startswith("cmdstat_evalsha:")), "")
    return int(line.split("calls=", 1)[1].split(",", 1)[0]) if line else 0


def saved(engine: RoutingEngine) -> dict[str, Any]:
    """The engine's state as load() returns it (JSON and back)."""
    return json.loads(json.dumps(engine.snapshot()))  # type: ignore[no-any-return]


async def test_a_batch_is_claimed_and_saved_in_one_round_trip_before_its_rings_go_out(
        redis: Any, prefix: str) -> None:
    store, engine = RoutingStore(redis, prefix), engine_of()
    commands: list[cmd.Command] = []
    for event in (ev.AgentLoggedIn("1001", "PJSIP/1001"), ev.AgentLoggedIn("1002", "PJSIP/1002"),
                  ev.CallQueued("c1", "sales", "138"), ev.CallQueued("c2", "sales", "139")):
        commands += engine.handle(event, T0)
    before = await scripts_run(redis)
    kept, lost = await store.gate(commands, engine.take_changes())
    assert await scripts_run(redis) - before == 1
    assert (kept, lost) == (commands, [])
    assert await store.load() == saved(engine)
    rings = {c.call_id: c.targets[0].agent_id for c in kept if isinstance(c, cmd.RingAgents)}
    assert {call: await store.holder(agent) for call, agent in rings.items()} == \
        {call: call for call in rings}


async def test_a_refused_claim_holds_the_state_back_until_the_engine_has_answered_it(
        redis: Any, prefix: str) -> None:
    store, engine = RoutingStore(redis, prefix), engine_of()
    await store.gate(engine.handle(ev.AgentLoggedIn("1001", "PJSIP/1001"), T0),
                     engine.take_changes())
    before = await store.load()
    assert await RoutingStore(redis, prefix, owner="node-2").claim("1001", "elsewhere")
    kept, lost = await store.gate(engine.handle(ev.CallQueued("c1", "sales", "138"), T0),
                                  engine.take_changes())
    assert lost == [ev.AgentClaimLost("1001", "c1")]
    assert not any(isinstance(c, cmd.RingAgents) for c in kept)
    assert await store.load() == before  # never a ring that was not claimed
    answer: list[cmd.Command] = []
    for event in lost:
        answer += engine.handle(event, T0)
    await store.gate(answer, engine.take_changes())
    assert await store.load() == saved(engine)  # c1 waits, 1001 is left alone a while
    assert saved(engine)["calls"]["c1"]["state"] == "waiting"


async def bytes_received(redis: Any) -> int:
    """What the server has read from its clients so far (every command's arguments)."""
    info = (await redis.info("stats"))._data
    text = info.decode() if isinstance(info, bytes) else str(info)
    line = next(x for x in text.splitlines() if x.startswith("total_net_input_bytes:"))
    return int(line.split(":", 1)[1])


def one_seat_engine(others: int) -> RoutingEngine:
    """Agent 1001 serves the queue; `others` more agents in no queue (changes to carry)."""
    agents = ["1001", *(f"20{n:02d}" for n in range(others))]
    return RoutingEngine([QueueConfig("sales", members=(QueueMember("1001"),))],
                         [AgentConfig(a) for a in agents], period_key=lambda now: "today")


async def test_the_answer_to_a_refused_claim_sends_only_its_own_changes_not_the_batch_again(
        redis: Any, prefix: str) -> None:
    store, engine = RoutingStore(redis, prefix), one_seat_engine(others=40)
    before = await store.load()
    assert await RoutingStore(redis, prefix, owner="node-2").claim("1001", "elsewhere")
    batch: list[cmd.Command] = []
    for agent in engine.agent_ids():  # a large batch: 41 agents log in, then a caller
        batch += engine.handle(ev.AgentLoggedIn(agent, f"PJSIP/{agent}"), T0)
    batch += engine.handle(ev.CallQueued("c1", "sales", "138"), T0)
    start = await bytes_received(redis)
    kept, lost = await store.gate(batch, engine.take_changes())
    batch_bytes = await bytes_received(redis) - start
    assert lost == [ev.AgentClaimLost("1001", "c1")]
    assert await store.load() == before and store.owes()  # held back: no unclaimed ring
    answer: list[cmd.Command] = []
    for event in lost:
        answer += engine.handle(event, T0)
    start = await bytes_received(redis)
    await store.gate(answer, engine.take_changes())
    answer_bytes = await bytes_received(redis) - start
    assert await store.load() == saved(engine)  # the batch and its answer, both saved
    assert not store.owes()
    assert answer_bytes * 5 < batch_bytes, (answer_bytes, batch_bytes)


async def test_a_batch_held_back_by_a_process_that_died_is_never_applied(
        redis: Any, prefix: str) -> None:
    died, engine = RoutingStore(redis, prefix), one_seat_engine(others=3)
    assert await RoutingStore(redis, prefix, owner="node-2").claim("1001", "elsewhere")
    batch: list[cmd.Command] = []
    for agent in engine.agent_ids():
        batch += engine.handle(ev.AgentLoggedIn(agent, f"PJSIP/{agent}"), T0)
    batch += engine.handle(ev.CallQueued("c1", "sales", "138"), T0)
    _, lost = await died.gate(batch, engine.take_changes())
    assert lost  # held back in Redis; then the process dies before its answer
    restarted, fresh = RoutingStore(redis, prefix), one_seat_engine(others=3)
    await restarted.gate(fresh.handle(ev.AgentLoggedIn("2000", "PJSIP/2000"), T0 + 5),
                         fresh.take_changes())
    assert await restarted.load() == saved(fresh)  # nothing of the dead one's batch
    await restarted.clear()
    assert await redis.keys_aslist(f"{prefix}routing:*") == []


async def test_an_agent_released_and_claimed_again_in_one_batch_holds_the_new_call(
        redis: Any, prefix: str) -> None:
    store = RoutingStore(redis, prefix)

    def ring(call: str) -> cmd.RingAgents:
        return cmd.RingAgents(call, "sales", (cmd.RingTarget("1001", "PJSIP/1001"),), 15)

    kept, lost = await store.gate([ring("c1"), cmd.ReleaseAgent("1001", "c1"), ring("c2")])
    assert lost == [] and [c.call_id for c in kept if isinstance(c, cmd.RingAgents)] == \
        ["c1", "c2"]
    assert (await store.holder("1001"), await store.bound_agent("c1")) == ("c2", None)
    await store.gate([cmd.ReleaseAgent("1001", "c2"), ring("c3")])
    assert await store.holder("1001") == "c3"


async def test_a_name_the_script_cannot_carry_is_refused_and_later_batches_still_save(
        redis: Any, prefix: str) -> None:
    store, engine = RoutingStore(redis, prefix), engine_of()
    bad = cmd.RingAgents("c\0x", "sales", (cmd.RingTarget("1001", "PJSIP/1001"),), 15)
    with pytest.raises(ValueError):
        await store.gate([bad], engine.take_changes())
    assert not store.owes()  # refused whole: nothing of it waits to poison the next
    await store.gate(engine.handle(ev.AgentLoggedIn("1001", "PJSIP/1001"), T0),
                     engine.take_changes())
    assert await store.load() == saved(engine)


# -- Redis away, and a process killed -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own that keeps its data across a restart (AOF)."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = _free_port(), folder
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run scripts/setup.sh")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_what_redis_could_not_take_is_written_once_it_is_back(
        own_redis: OwnRedis) -> None:
    connection = await asyncio_redis.Connection.create("127.0.0.1", own_redis.port)
    store, engine = RoutingStore(connection), engine_of()
    commit = RoutingCommit(store, engine.take_changes, retry_seconds=0.1)
    await commit.gate(engine.handle(ev.AgentLoggedIn("1001", "PJSIP/1001"), T0))
    own_redis.stop()
    ring = engine.handle(ev.CallQueued("c1", "sales", "138"), T0 + 1)
    kept, lost = await commit.gate(ring)  # Redis away: decided here, owed in order
    assert (kept, lost) == (ring, []) and store.owes()
    await commit.after_batch(ring)  # no further event comes: the retry must do it
    own_redis.start()
    deadline = time.monotonic() + 20
    while (await _load_or_none(store)) != saved(engine):
        assert time.monotonic() < deadline, "the owed state was never written"
        await asyncio.sleep(0.1)
    assert not store.owes()
    await commit.close()
    connection.close()


async def _load_or_none(store: RoutingStore) -> Any:
    try:
        return await store.load()
    except Exception:  # still reconnecting
        return None


LEADER = r"""
import asyncio, sys
import asyncio_redis
from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_store import RoutingStore
from acd.clock import FixedClock
from acd.core import commands as cmd, events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

async def main(port, db, prefix, agents):
    ids = [str(2000 + i) for i in range(agents)]
    engine = RoutingEngine([QueueConfig("sales", members=tuple(QueueMember(a) for a in ids))],
                           [AgentConfig(a) for a in ids], period_key=lambda now: "today")
    redis = await asyncio_redis.Connection.create("127.0.0.1", port, db=db)
    commit = RoutingCommit(RoutingStore(redis, prefix), engine.take_changes)
    dispatcher = Dispatcher(engine, FixedClock(1_750_000_000.0))
    dispatcher.set_gate(commit.gate)
    dispatcher.after_batch(commit.after_batch)

    def rung(command):  # a ring going out: what the parent checks after the kill
        if isinstance(command, cmd.RingAgents):
            print("RING", command.call_id, command.targets[0].agent_id, flush=True)

    dispatcher.add_sink(rung)
    dispatcher.start()
    for a in ids:
        dispatcher.post(ev.AgentLoggedIn(a, "PJSIP/" + a))
    for n in range(agents):  # callers in bursts, so that batches form; never enough
        dispatcher.post(ev.CallQueued(f"c{n}", "sales", "138"))
        if n % 7 == 0:
            await asyncio.sleep(0.0005)
    await asyncio.sleep(60)  # the parent kills us long before

port, db, prefix, agents = sys.argv[1:]
asyncio.run(main(int(port), int(db), prefix, int(agents)))
"""


async def test_a_killed_leader_left_every_ring_it_placed_in_redis_whole(
        redis_server: Any, redis: Any, prefix: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    leader = subprocess.Popen([sys.executable, "-c", LEADER, str(redis_server.port), str(DB),
                               prefix, "2000"], env=env, stdout=subprocess.PIPE, text=True)
    assert leader.stdout is not None
    rings: dict[str, str] = {}
    while len(rings) < 300:
        line = await asyncio.to_thread(leader.stdout.readline)
        assert line, "the leader stopped before placing 300 rings"
        _, call, agent = line.split()
        rings[call] = agent
    os.kill(leader.pid, signal.SIGKILL)  # mid-stream: batches were still coming
    leader.wait(timeout=10)
    # the kill may cut the last line short: only whole lines name a call and its agent
    rings.update(line.split()[1:] for line in leader.stdout
                 if line.startswith("RING") and line.endswith("\n") and len(line.split()) == 3)
    state = await RoutingStore(redis, prefix).load()
    assert state is not None
    for call, agent in rings.items():  # every ring placed was decided and saved
        assert state["calls"][call]["ringing"] == [agent]
        assert state["agents"][agent]["call_id"] == call
        assert await RoutingStore(redis, prefix).holder(agent) == call
    for call_id, call in state["calls"].items():  # whole batches: both sides agree
        for agent in call["ringing"]:
            assert (state["agents"][agent]["state"], state["agents"][agent]["call_id"]) == \
                ("ringing", call_id)
    assert sum(a["state"] == "ringing" for a in state["agents"].values()) == \
        sum(len(c["ringing"]) for c in state["calls"].values())
    restored = RoutingEngine.restore(
        [QueueConfig("sales", members=tuple(QueueMember(a) for a in state["agents"]))],
        [AgentConfig(a) for a in state["agents"]], state, T0, period_key=lambda now: "today")
    assert all(restored.agent_view(agent)["call_id"] == call for call, agent in rings.items())
