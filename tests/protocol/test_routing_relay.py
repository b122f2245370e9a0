"""Two acd processes on one real Redis (cluster.mode: active), wired as in a process:
the follower's callers are routed by the leader's engine, its agents are the leader's
agents, and when the leader dies another takes over with every caller's place."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio

from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_relay import FollowerRouting, LeaderRelay, LeaderUnreachable
from acd.adapters.redis.routing_store import RoutingStore
from acd.clock import SystemClock
from acd.core import commands as cmd
from acd.core import errors as core_errors
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings
from acd.dispatcher import Dispatcher

DB = 12  # this module's own database; keys also carry a per-test prefix
AGENTS = ("1001", "1002")
QUEUES = [QueueConfig("sales", members=tuple(QueueMember(a) for a in AGENTS))]
#: an agent who missed a ring is offered the next caller after 0.2 s (not 5 s)
SETTINGS = RoutingSettings(ring_failure_delay_seconds=0.2)


def today(now: float) -> str:
    return "today"


@pytest.fixture
def prefix() -> str:
    return f"test-relay-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def connect(redis_server: Any, prefix: str
                  ) -> AsyncIterator[Callable[[], Any]]:
    opened: list[Any] = []

    async def open_one() -> Any:
        connection = await asyncio_redis.Connection.create(redis_server.host,
                                                           redis_server.port, db=DB)
        opened.append(connection)
        return connection

    yield open_one
    cleaner = await open_one()
    cursor = await cleaner.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await cleaner.delete(keys)
    for connection in opened:
        connection.close()


@dataclass
class Leader:
    """The leading acd's routing side: engine, dispatcher, routing commit, relay."""

    engine: RoutingEngine
    dispatcher: Dispatcher[ev.Event, cmd.Command]
    relay: LeaderRelay
    tasks: list[asyncio.Task[None]]
    connections: list[Any]
    local: list[cmd.Command] = field(default_factory=list)

    def die(self) -> None:
        """kill -9 as far as Redis can tell: no clean stop, no flush, connections cut
        (a blocking read pending on the server ends with its connection)."""
        for task in self.tasks:
            task.cancel()
        for connection in self.connections:
            connection.close()
        assert self.dispatcher._task is not None
        self.dispatcher._task.cancel()


async def start_leader(connect: Callable[[], Any], prefix: str, node: str) -> Leader:
    redis = await connect()
    store = RoutingStore(redis, prefix)
    saved = await store.load()
    engine = (RoutingEngine.restore(QUEUES, [AgentConfig(a) for a in AGENTS], saved,
                                    time.time(), period_key=today, settings=SETTINGS)
              if saved else RoutingEngine(QUEUES, [AgentConfig(a) for a in AGENTS],
                                          period_key=today, settings=SETTINGS))
    dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(engine, SystemClock())
    commit = RoutingCommit(store, engine.take_changes)
    dispatcher.set_gate(commit.gate)
    dispatcher.after_batch(commit.after_batch)
    local: list[cmd.Command] = []
    blocking = await connect()
    relay = LeaderRelay(redis, blocking, prefix, node, dispatcher.enqueue, local.append)
    dispatcher.add_sink(relay.on_routing)
    # as acd.cluster_node does: who holds which call and the rings under way, before the
    # core decides anything
    await relay.load()
    relay.resend(engine.rings_under_way(time.time()))
    dispatcher.start()
    return Leader(engine, dispatcher, relay, await relay.start(), [redis, blocking], local)


async def start_follower(connect: Callable[[], Any], prefix: str, node: str,
                         submit_seconds: float = 8.0
                         ) -> tuple[FollowerRouting, list[cmd.Command]]:
    got: list[cmd.Command] = []
    follower = FollowerRouting(await connect(), await connect(), prefix, node, got.append,
                               submit_seconds=submit_seconds)
    for task in follower.start():
        FOLLOWING.append(task)
    return follower, got


FOLLOWING: list[asyncio.Task[None]] = []


@pytest.fixture(autouse=True)
def stop_followers() -> Any:
    yield
    for task in FOLLOWING:
        task.cancel()
    FOLLOWING.clear()


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


def rung(commands: list[cmd.Command]) -> list[tuple[str, str]]:
    return [(c.call_id, c.targets[0].agent_id) for c in commands
            if isinstance(c, cmd.RingAgents)]


async def test_the_followers_caller_is_rung_by_the_leaders_engine_for_an_agent_logged_in_there(
        connect: Any, prefix: str) -> None:
    leader = await start_leader(connect, prefix, "a")
    follower, got = await start_follower(connect, prefix, "b")
    await follower.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    assert leader.engine.agent_view("1001")["state"] == "available"
    follower.post(ev.CallQueued("c1", "sales", "13800000001"))
    await until(lambda: rung(got) == [("c1", "1001")])
    assert follower.has_call("c1")
    assert rung(leader.local) == []  # the leader's own registry is not bothered
    follower.post(ev.RingAnswered("c1", "1001"))
    await until(lambda: leader.engine.agent_view("1001")["state"] == "on-call")
    follower.post(ev.CallEnded("c1", "1001"))
    await until(lambda: any(isinstance(c, cmd.CallCompleted) for c in got))
    assert not follower.has_call("c1")
    leader.die()


async def test_a_refusal_on_the_leader_reaches_the_follower_as_the_same_error(
        connect: Any, prefix: str) -> None:
    leader = await start_leader(connect, prefix, "a")
    follower, _ = await start_follower(connect, prefix, "b")
    with pytest.raises(core_errors.UnknownAgent, match="agent 9999 is not configured"):
        await follower.submit(ev.AgentLoggedIn("9999", "PJSIP/9999"))
    with pytest.raises(core_errors.IllegalTransition):
        await follower.submit(ev.AgentResumed("1001"))
    leader.die()


async def test_without_a_leader_a_submit_gives_up_with_what_to_do(connect: Any,
                                                                  prefix: str) -> None:
    follower, _ = await start_follower(connect, prefix, "b", submit_seconds=0.3)
    with pytest.raises(LeaderUnreachable, match="check that one acd holds the lease"):
        await follower.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))


async def test_the_next_leader_keeps_every_waiting_callers_place_and_the_events_sent_meanwhile(
        connect: Any, prefix: str) -> None:
    old = await start_leader(connect, prefix, "a")
    follower, got = await start_follower(connect, prefix, "b")
    await follower.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    for n in (1, 2):
        follower.post(ev.CallQueued(f"c{n}", "sales", f"1380000000{n}"))
    await until(lambda: rung(got) == [("c1", "1001")])
    await until(lambda: old.engine.waiting_count() == 1)
    old.die()
    # while no acd leads: a caller queues, and the ringing agent does not answer; the
    # caller's event was taken by the dead leader and never finished (in `taken`)
    follower.post(ev.CallQueued("c3", "sales", "13800000003"))
    redis = await connect()
    await until_list(redis, f"{prefix}routing:inbox", 1)
    await redis.rpoplpush(f"{prefix}routing:inbox", f"{prefix}routing:inbox:taken")
    follower.post(ev.RingFailed("c1", "1001", "no-answer"))
    new = await start_leader(connect, prefix, "c")
    await until(lambda: new.engine.waiting_count() >= 2)
    assert new.relay.owners == {"c1": "b", "c2": "b", "c3": "b"}
    with pytest.raises(core_errors.DuplicateCall):  # a caller handled twice is refused
        await follower.submit(ev.CallQueued("c3", "sales", "13800000003"))
    # every caller is served in the order they came: c1 (rung again after it was not
    # answered: it kept its place), then c2, then c3; the one agent never holds two
    served: list[str] = []
    for _ in range(3):
        await until(lambda: len(rung(got)) > len(served) + 1)
        call, agent = rung(got)[-1]
        served.append(call)
        follower.post(ev.RingAnswered(call, agent))
        await until(lambda c=call: new.engine.agent_view("1001")["call_id"] == c)
        follower.post(ev.CallEnded(call, agent))
        await until(lambda: new.engine.agent_view("1001")["state"] != "on-call")
        with contextlib.suppress(core_errors.RoutingError):
            await follower.submit(ev.WrapUpEnded(agent))
    assert served == ["c1", "c2", "c3"]
    new.die()


async def until_list(redis: Any, key: str, length: int) -> None:
    deadline = time.monotonic() + 5
    while await redis.llen(key) < length:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def test_a_callback_is_the_leaders_call_once_its_dialer_places_it(
        connect: Any, prefix: str) -> None:
    leader = await start_leader(connect, prefix, "a")
    follower, got = await start_follower(connect, prefix, "b")
    await follower.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    await follower.submit(ev.AgentPaused("1001", "busy"))
    await follower.submit(ev.CallQueued("c1", "sales", "13800000001"))
    await follower.submit(ev.CallbackRequested("c1", "13800000001"))
    assert leader.relay.owners["c1"] == "b"
    await follower.submit(ev.AgentResumed("1001"))  # the callback is placed: by the leader
    await until(lambda: any(isinstance(c, cmd.PlaceCallback) for c in leader.local))
    assert leader.relay.owners["c1"] == "a"
    redis = await connect()  # (a next leader knows it too)
    deadline = time.monotonic() + 5
    while await redis.hget(f"{prefix}routing:owners", "c1") != "a":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    leader.die()


async def test_a_call_taken_up_by_another_acd_gets_its_orders_there(connect: Any,
                                                                     prefix: str) -> None:
    leader = await start_leader(connect, prefix, "a")
    dead, _ = await start_follower(connect, prefix, "b")
    await dead.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    await dead.submit(ev.AgentPaused("1001", "busy"))
    await dead.submit(ev.CallQueued("c1", "sales", "13800000001"))
    survivor, got = await start_follower(connect, prefix, "c")
    survivor.take_over("c1")  # the dialplan brought c1 back to acd c
    await survivor.submit(ev.AgentResumed("1001"))
    await until(lambda: rung(got) == [("c1", "1001")])
    assert survivor.has_call("c1") and leader.relay.owners["c1"] == "c"
    leader.die()


async def test_a_ring_the_dead_leader_saved_but_never_sent_is_rung_once_by_the_next(
        connect: Any, prefix: str) -> None:
    old = await start_leader(connect, prefix, "a")
    follower, got = await start_follower(connect, prefix, "b")
    for agent in AGENTS:
        await follower.submit(ev.AgentLoggedIn(agent, f"PJSIP/{agent}"))
    follower.post(ev.CallQueued("c1", "sales", "13800000011"))
    await until(lambda: len(rung(got)) == 1)  # sent and rung: it must not ring again
    # the leader saves its next decision, then dies before sending it (its writes stop)
    old.tasks[0].cancel()  # (routing-relay-out)
    follower.post(ev.CallQueued("c2", "sales", "13800000012"))
    await until(lambda: old.engine.waiting_count() == 0 and old.engine.has_call("c2"))
    await asyncio.sleep(0.2)  # (the saved state has it: the gate runs before any order)
    assert len(rung(got)) == 1
    old.die()
    new = await start_leader(connect, prefix, "c")
    await until(lambda: len(rung(got)) == 2)
    await asyncio.sleep(0.5)  # nothing more comes: the first ring is not rung again
    first, second = [c for c in got if isinstance(c, cmd.RingAgents)]
    assert rung(got) == [("c1", first.targets[0].agent_id), ("c2", second.targets[0].agent_id)]
    assert {first.targets[0].agent_id, second.targets[0].agent_id} == set(AGENTS)
    # it rings for what was left of its time, and it is the same ring to the core: the
    # agent answers and the call is theirs
    assert second.timeout < QUEUES[0].ring_timeout_seconds
    follower.post(ev.RingAnswered("c2", second.targets[0].agent_id))
    await until(lambda: new.engine.agent_view(second.targets[0].agent_id)["call_id"] == "c2"
                and new.engine.agent_view(second.targets[0].agent_id)["state"] == "on-call")
    new.die()
