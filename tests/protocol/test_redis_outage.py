"""Redis stopped for seven seconds while a call goes on, and started again: a redis-server
of the test's own (with a password and a database number, as deployed), acd's real
connection pool, stores, routing core with its claim gate and saver, FastAGI server and
HTTP health, and Asterisk played by the scripted peer of test_call_over_fastagi.

One outage is played once for the module (it takes seven seconds); each test checks
one thing a user would notice about it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from polling import eventually
from redis_process import RedisProcess
from test_call_over_fastagi import (
    AGENT_LEG,
    DID,
    KEY,
    T0,
    UNIQUEID,
    AlwaysOpen,
    Ami,
    Asterisk,
    NoLookups,
    NoOtherChannels,
    Prompts,
    call_settings,
    no_announcement,
)

from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.events import EventTranslator
from acd.adapters.asterisk.routes import register_call_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.redis.changes import follow_changes
from acd.adapters.redis.connection import connect_redis
from acd.adapters.redis.link import RedisLink
from acd.adapters.redis.list_store import CachedRules, ListStore
from acd.adapters.redis.outbox import HeldCallStore
from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_store import RoutingStore
from acd.adapters.redis.store import CallStore, changes_channel
from acd.callflow.driver import CallPorts
from acd.callflow.record import CallRecord
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.config.settings import RedisConfig
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.health import Dependencies
from acd.routing_service import RoutingService

PASSWORD = "outage-test-pw"
DB = 3
PREFIX = "outage:"
OUTAGE_SECONDS = 7.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_process() -> Iterator[RedisProcess]:
    """Comes back empty after a stop, like a Redis that lost its data: whatever acd wrote
    before the outage is gone, what it owed is written after."""
    redis = RedisProcess(password=PASSWORD)
    redis.start()
    yield redis
    redis.remove()


class Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def until_true(check: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.02)


@dataclass
class Health:
    status: int
    body: dict[str, Any]
    ready_status: int


@dataclass
class Story:
    """What was seen before, during and after the outage."""

    where: str = ""  # Redis's address as acd names it
    health: dict[str, Health] = field(default_factory=dict)
    reconnected_after: float = 0.0  # s from redis-server accepting again to acd using it
    answered_and_dialled_after: float = 0.0  # s from the call's arrival to its Dial
    record_writes: list[float] = field(default_factory=list)  # s each, while away
    wrong_db_keys: list[str] = field(default_factory=list)
    record: CallRecord | None = None
    by_start: list[str] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    routing_agents: set[str] = field(default_factory=set)
    changes_heard_after_return: int = 0  # changes announced by others, heard again
    logs: list[logging.LogRecord] = field(default_factory=list)


@pytest_asyncio.fixture(scope="module")
async def story(redis_process: RedisProcess) -> AsyncIterator[Story]:
    caught = Caught()
    logging.getLogger("acd").addHandler(caught)
    config = RedisConfig(host="127.0.0.1", port=redis_process.port, db=DB, prefix=PREFIX,
                         password=PASSWORD)
    link = RedisLink(f"127.0.0.1:{redis_process.port}")
    pool = await connect_redis(config, poolsize=4, link=link)
    heartbeat = asyncio.create_task(link.watch(lambda: pool.ping()))
    calls = CallStore(pool, PREFIX)
    held = HeldCallStore(calls, link)
    routing_store = RoutingStore(pool, PREFIX, link=link)
    heard: list[str] = []
    feed = asyncio.create_task(follow_changes(config, {"lists": lambda: heard.append("lists")}))

    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")])
    clock = FixedClock(T0)
    dispatcher = Dispatcher(engine, clock)
    saver = RoutingCommit(routing_store, engine.take_changes)
    dispatcher.set_gate(saver.gate)
    dispatcher.after_batch(saver.after_batch)
    link.on_return(lambda: asyncio.ensure_future(saver.after_batch([])))
    routing = RoutingService(dispatcher, engine)
    prompts, ami = Prompts(), Ami()
    registry = CallRegistry(CallPorts(
        store=held, routing=routing, actions=NoOtherChannels(), prompts=prompts,
        lookups=NoLookups(), schedules=AlwaysOpen(), announcement=no_announcement,
        clock=clock, caller_lists=CachedRules(ListStore(pool, PREFIX))),
        lambda: call_settings(caller_lists=True))
    dispatcher.add_sink(registry.on_routing)
    agi = AgiServer(key=KEY)
    register_call_routes(agi, registry)
    EventTranslator(registry, lambda device: "1001" if device == "PJSIP/agent1001" else None,
                    dispatcher.post).register(ami)
    dispatcher.start()
    agi_port = _free_port()
    await agi.start("127.0.0.1", agi_port)
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    dependencies = Dependencies({"redis": lambda: link.up, "ami": lambda: True,
                                 "fastagi": lambda: agi.listening,
                                 "routing": lambda: dispatcher.running})
    http = TestClient(TestServer(make_app(HttpServices(users={},
                                                       dependencies=dependencies))))
    await http.start_server()
    told = Story(where=link.where)

    async def look(when: str) -> None:
        resp = await http.get("/api/health")
        ready = await http.get("/api/ready")
        told.health[when] = Health(resp.status, await resp.json(), ready.status)

    try:
        await eventually(lambda: heard == ["lists"])  # the change feed subscribed
        await look("before")
        redis_process.stop()
        stopped = time.monotonic()
        await eventually(lambda: not link.up, within=2)
        await look("during")

        # a caller arrives: answered, queued, the agent rung, the conversation, the survey
        arrived = time.monotonic()
        ast = await Asterisk.call(agi_port)
        await ast.until("EXEC Dial")
        told.answered_and_dialled_after = time.monotonic() - arrived
        ami.fire("DialBegin", DestChannel=AGENT_LEG)
        ami.fire("DialEnd", DestChannel=AGENT_LEG, DialStatus="ANSWER")
        ami.fire("BridgeEnter")
        await eventually(lambda: held_fields(held).get("agent") == "1001")
        await ast.reply("0")  # the agent hung up
        assert (await ast.command()).startswith("GET FULL VARIABLE")
        await ast.reply("1", f"ANSWER|{AGENT_LEG}||{DID}")
        assert (await ast.command()).startswith("STREAM FILE")  # the survey's question
        await ast.reply(str(ord("1")), "endpos=8000")
        assert (await ast.command()).startswith("STREAM FILE")  # thanks
        await ast.reply("0", "endpos=16000")
        assert await ast.command() == "HANGUP"
        await ast.hangup_and_close()
        ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})
        await eventually(lambda: held_fields(held).get("ended_at") is not None)

        for n in range(3):  # the call path's writes return at once, Redis or not
            began = time.monotonic()
            await held.save_call("another-call", {"ring_attempts": n})
            told.record_writes.append(time.monotonic() - began)

        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        accepting = await asyncio.to_thread(redis_process.start)
        await eventually(lambda: link.up, within=5)
        await pool.set(f"{PREFIX}probe", "1")  # on the first connection the pool hands out
        told.reconnected_after = time.monotonic() - accepting

        async def record_closed() -> bool:
            record = await calls.get_call(UNIQUEID)
            return record is not None and record.ended_at is not None
        await until_true(record_closed, within=3)
        await eventually(lambda: held.outbox.held_count == 0, within=3)
        await until_true(lambda: _saved_agent(routing_store), within=3)
        await look("after")
        await eventually(lambda: len(heard) == 2, within=2)  # subscribed again...
        heard.clear()
        assert await _announce(pool, "lists")  # ... and hears what others announce
        await eventually(lambda: heard == ["lists"], within=2)
        told.changes_heard_after_return = len(heard)

        told.record = await calls.get_call(UNIQUEID)
        told.by_start = list(await pool.zrange_asdict(f"{PREFIX}calls:by_start"))
        told.active = set(await calls.active_call_ids())
        snapshot = await routing_store.load()
        told.routing_agents = set(snapshot["agents"]) if snapshot else set()
        told.wrong_db_keys = await _keys_in_db0(redis_process.port)
        told.logs = list(caught.records)
        yield told
    finally:
        logging.getLogger("acd").removeHandler(caught)
        await http.close()
        await agi.close()
        await dispatcher.stop()
        heartbeat.cancel()
        feed.cancel()
        pool.close()


async def _announce(pool: Any, what: str) -> bool:
    """Publish a change as another acd would; True if someone subscribes."""
    return bool(await pool.publish(changes_channel(PREFIX), what))


def held_fields(held: HeldCallStore) -> dict[str, object]:
    """The call's record as held in memory for Redis (nothing: {})."""
    owed = held.outbox.held(UNIQUEID)
    return owed.fields if owed is not None else {}


async def _saved_agent(store: RoutingStore) -> bool:
    snapshot = await store.load()
    return snapshot is not None and "1001" in snapshot["agents"]


async def _keys_in_db0(port: int) -> list[str]:
    config = RedisConfig(host="127.0.0.1", port=port, db=0, password=PASSWORD)
    pool = await connect_redis(config, poolsize=1, retry_forever=False)
    try:
        cursor = await pool.scan(match="*")
        return list(await cursor.fetchall())
    finally:
        pool.close()


# -- the outage, as a user sees it -----------------------------------------------------


def test_acd_uses_redis_again_within_a_second_of_its_return_from_a_seven_second_outage(
        story: Story):
    assert story.reconnected_after < 1.0


def test_a_caller_who_arrives_while_redis_is_away_is_answered_and_put_through_at_once(
        story: Story):
    assert story.answered_and_dialled_after < 1.0


def test_the_call_record_made_while_redis_was_away_is_in_redis_once_after_its_return(
        story: Story):
    record = story.record
    assert record is not None
    assert (record.outcome, record.agent, record.survey, record.caller) == (
        "answered", "1001", "1", "13800138000")
    assert story.by_start.count(UNIQUEID) == 1
    assert UNIQUEID not in story.active  # closed, not left for a restart to adopt


def test_what_the_routing_core_decided_while_redis_was_away_is_saved_after_its_return(
        story: Story):
    assert "1001" in story.routing_agents


def test_changes_other_processes_announce_are_heard_again_after_the_return(story: Story):
    assert story.changes_heard_after_return == 1


def test_record_writes_while_redis_is_away_do_not_hold_up_the_call(story: Story):
    assert max(story.record_writes) < 0.1


def test_nothing_is_written_to_the_wrong_database_after_the_reconnection(story: Story):
    assert story.wrong_db_keys == []


def test_health_says_redis_is_down_during_the_outage_and_up_after_it(story: Story):
    before, during, after = (story.health[k] for k in ("before", "during", "after"))
    assert before.body["status"] == "ok" and before.body["dependencies"]["redis"] == "up"
    assert during.status == 200
    assert during.body["status"] == "degraded"
    assert during.body["dependencies"] == {"redis": "down", "ami": "up", "fastagi": "up",
                                           "routing": "up"}
    assert after.body["status"] == "ok"
    assert set(after.body["dependencies"].values()) == {"up"}


def test_ready_answers_503_while_redis_is_away_and_200_once_it_is_back(story: Story):
    assert [story.health[k].ready_status for k in ("before", "during", "after")] == [
        200, 503, 200]


def test_the_outage_and_the_return_are_each_logged_once_and_nothing_else_complains(
        story: Story):
    loud = [(r.name, r.getMessage()) for r in story.logs if r.levelno >= logging.WARNING]
    assert [(name, message.split(" (")[0].split(" after")[0]) for name, message in loud] == [
        ("acd.adapters.redis.link", f"Redis at {story.where} is unreachable"),
        ("acd.adapters.redis.link", f"Redis at {story.where} is back"),
    ], loud


# -- a Redis that keeps its connections but stops answering ------------------------------


async def test_a_redis_that_stops_answering_is_down_within_two_seconds_and_writes_wait_a_moment(
        redis_process: RedisProcess):
    config = RedisConfig(host="127.0.0.1", port=redis_process.port, db=DB, prefix=PREFIX,
                         password=PASSWORD)
    link = RedisLink("paused")
    pool = await connect_redis(config, poolsize=2, link=link)
    heartbeat = asyncio.create_task(link.watch(lambda: pool.ping()))
    held = HeldCallStore(CallStore(pool, PREFIX), link)
    try:
        redis_process.pause()
        began = time.monotonic()
        await held.save_call("paused-call", {"ring_attempts": 1})
        assert time.monotonic() - began < 1.5  # one bounded try, then held
        await eventually(lambda: not link.up, within=2.5)
        began = time.monotonic()
        await held.save_call("paused-call", {"ring_attempts": 2})
        assert time.monotonic() - began < 0.1  # known down: held at once
        redis_process.resume()
        await eventually(lambda: link.up and held.outbox.held_count == 0, within=3)
        assert (await pool.hgetall_asdict(f"{PREFIX}call:paused-call")) == {
            "ring_attempts": "2"}
    finally:
        redis_process.resume()
        heartbeat.cancel()
        pool.close()


# -- claims decided while Redis is away ---------------------------------------------------


async def test_claims_decided_while_redis_is_away_reach_it_in_order_once_it_is_back(
        redis_process: RedisProcess):
    config = RedisConfig(host="127.0.0.1", port=redis_process.port, db=DB, prefix=PREFIX,
                         password=PASSWORD)
    link = RedisLink("claims")
    pool = await connect_redis(config, poolsize=2, link=link)
    store = RoutingStore(pool, "claims:", owner="here", link=link)
    ring = [cmd.RingAgents(call, "support", (cmd.RingTarget(agent, f"PJSIP/{agent}"),), 15)
            for call, agent in (("call-1", "1001"), ("call-2", "1002"))]
    try:
        redis_process.stop()
        await eventually(lambda: not link.up, within=2)
        began = time.monotonic()
        # 1001 takes call-1 and is done with it; 1002 takes call-2 and is still on it
        kept, lost = await store.gate([ring[0]])
        assert (kept, lost) == ([ring[0]], [])  # decided here, nobody refused
        await store.gate([cmd.ReleaseAgent("1001", "call-1"), ring[1]])
        assert time.monotonic() - began < 0.1
        await asyncio.to_thread(redis_process.start)
        await eventually(lambda: link.up, within=2)
        await store.flush()
        assert await store.holder("1001") is None
        assert await store.holder("1002") == "call-2"
        assert await store.bound_agent("call-2") == "1002"
    finally:
        if not redis_process.running:
            redis_process.start()
        pool.close()
