"""A whole call through acd's real FastAGI server, registry, driver, AMI translator and
routing core, its record and events in a real Redis: a CRM's webhook (a real aiohttp
server here) gets every event of the call, signed and in order, also when it was down
and when acd restarted meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest
from test_call_over_fastagi import (
    AGENT_LEG,
    CALLER,
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
from webhook_peers import EventSide, Receiver, hook

from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.events import EventTranslator
from acd.adapters.asterisk.routes import register_call_routes
from acd.adapters.redis.store import CallStore
from acd.callflow.driver import CallPorts
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.config.webhooks import WebhookConfig
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.routing_service import RoutingService

DB = 10
CALL_EVENTS = ["call.offered", "call.answered", "call.held", "call.resumed",
               "survey.answered", "call.ended"]


class Acd:
    """acd's call path and event side, wired as acd.app wires them; stop() and a new
    Acd on the same Redis prefix is a restart."""

    def __init__(self, redis: Any, prefix: str, hooks: tuple[WebhookConfig, ...]) -> None:
        self.clock = FixedClock(T0)
        engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                               [AgentConfig("1001")])
        self.dispatcher = Dispatcher(engine, self.clock)
        self.routing = RoutingService(self.dispatcher, engine)
        self.store = CallStore(redis, prefix, keep_closed_seconds=86400)
        self.events = EventSide(redis, prefix, hooks)
        self.registry = CallRegistry(CallPorts(
            store=self.store, routing=self.routing, actions=NoOtherChannels(),
            prompts=Prompts(), lookups=NoLookups(), schedules=AlwaysOpen(),
            announcement=no_announcement, clock=self.clock, events=self.events.feed),
            call_settings)
        self.dispatcher.add_sink(self.registry.on_routing)
        self.dispatcher.add_sink(self.events.feed.on_routing)  # as acd.app wires it
        self.ami = Ami()
        self.agi = AgiServer(key=KEY)
        register_call_routes(self.agi, self.registry)
        EventTranslator(self.registry,
                        lambda device: "1001" if device == "PJSIP/agent1001" else None,
                        self.dispatcher.post).register(self.ami)

    async def start(self, port: int) -> None:
        self.dispatcher.start()
        self.events.start()
        await self.agi.start("127.0.0.1", port)

    async def stop(self) -> None:
        self.registry.stop()
        await self.dispatcher.stop()
        await self.agi.close()
        await self.registry.drain()
        await self.events.stop()


@pytest.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    pool = await asyncio_redis.Pool.create(host=redis_server.host, port=redis_server.port,
                                           db=DB, poolsize=4)
    prefix = f"test-webhooks-agi-{uuid.uuid4().hex[:8]}:"
    pool.prefix = prefix
    yield pool
    cursor = await pool.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await pool.delete(keys)
    pool.close()


@pytest.fixture
async def receiver(unused_tcp_port_factory: Any) -> AsyncIterator[Receiver]:
    peer = Receiver(unused_tcp_port_factory())
    await peer.start()
    yield peer
    await peer.stop()


async def until(condition: Any, what: str, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def answered_held_rated_call(acd: Acd, port: int) -> None:
    """The caller reaches agent 1001, who puts them on hold and back; the caller rates
    the call 3 after the agent hung up."""
    ast = await Asterisk.call(port)
    await ast.until("EXEC Dial")
    acd.clock.advance(4)
    acd.ami.fire("DialBegin", DestChannel=AGENT_LEG)
    acd.ami.fire("DialEnd", DestChannel=AGENT_LEG, DialStatus="ANSWER")
    acd.ami.fire("BridgeEnter")
    deadline = asyncio.get_running_loop().time() + 5
    while (record := await acd.store.get_call(UNIQUEID)) is None or record.agent != "1001":
        assert asyncio.get_running_loop().time() < deadline, "never answered"
        await asyncio.sleep(0.01)
    acd.clock.advance(20)
    acd.ami.fire("Hold", Uniqueid=AGENT_LEG, Linkedid=UNIQUEID, Context="acd-agents")
    await asyncio.sleep(0.05)  # (the session takes it at the clock's time)
    acd.clock.advance(15)
    acd.ami.fire("Unhold", Uniqueid=AGENT_LEG, Linkedid=UNIQUEID, Context="acd-agents")
    await asyncio.sleep(0.05)
    acd.clock.advance(25)
    await ast.reply("0")  # the agent hung up
    await ast.command()  # how the Dial ended
    await ast.reply("1", f"ANSWER|{AGENT_LEG}||{DID}")
    await ast.command()  # the survey's question
    await ast.reply(str(ord("3")), "endpos=8000")
    await ast.command()  # thanks
    await ast.reply("0", "endpos=16000")
    assert await ast.command() == "HANGUP"
    await ast.hangup_and_close()
    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})


def of_the_call(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events if e["call_id"] == UNIQUEID]


async def test_a_crm_webhook_gets_every_event_of_a_call_signed_in_order_numbers_masked(
        redis: Any, receiver: Receiver, unused_tcp_port: int) -> None:
    acd = Acd(redis, redis.prefix, (hook(receiver, "crm"),
                                    hook(receiver, "records", events=("call.ended",),
                                         full_numbers=True)))
    await acd.start(unused_tcp_port)
    try:
        await acd.dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
        await answered_held_rated_call(acd, unused_tcp_port)
        await until(lambda: "call.ended" in of_the_call(receiver.events("crm")),
                    "the call's end never reached the webhook")
    finally:
        await acd.stop()
    events = receiver.events("crm")
    assert of_the_call(events) == CALL_EVENTS
    assert all(d.signed for d in receiver.got["crm"])
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids) and ids == sorted(ids, key=lambda i: tuple(
        int(p) for p in i.split("-")))
    by_type = {e["type"]: e for e in events if e["call_id"] == UNIQUEID}
    assert by_type["call.offered"]["agent_id"] == "1001"
    assert by_type["call.offered"]["data"]["caller"] == "13******000"
    assert by_type["call.held"]["data"]["by"] == "agent"
    assert by_type["call.resumed"]["data"]["hold_seconds"] == 15.0
    assert by_type["survey.answered"]["data"]["answers"][0]["answer"] == "3"
    ended = by_type["call.ended"]["data"]
    assert (ended["outcome"], ended["agent"], ended["caller"], ended["hold_seconds"]) == (
        "answered", "1001", "13******000", 15.0)
    assert "agent.state" in [e["type"] for e in events]
    # the records webhook asked for the calls' ends only, with full numbers
    [record] = receiver.events("records")
    assert (record["type"], record["data"]["caller"]) == ("call.ended", CALLER)
    assert record["id"] == by_type["call.ended"]["id"]  # one event, one id everywhere


async def test_events_of_a_call_while_the_receiver_is_down_arrive_after_an_acd_restart(
        redis: Any, receiver: Receiver, unused_tcp_port_factory: Any) -> None:
    receiver.failures = 10_000  # down for the whole call
    hooks = (hook(receiver, "crm", retry_base_seconds=0.05, retry_max_seconds=0.1),)
    first = Acd(redis, redis.prefix, hooks)
    await first.start(port := unused_tcp_port_factory())
    await first.dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    await answered_held_rated_call(first, port)
    await until(lambda: len(receiver.attempts.get("crm", [])) >= 3, "never tried")
    await first.stop()  # acd stops with the events undelivered
    assert receiver.events("crm") == []

    receiver.failures = 0  # the receiver is back, and so is acd
    second = Acd(redis, redis.prefix, hooks)
    await second.start(unused_tcp_port_factory())
    try:
        await until(lambda: "call.ended" in of_the_call(receiver.events("crm")),
                    "the held events never went out after the restart")
        await asyncio.sleep(0.3)  # (a duplicate would come now)
    finally:
        await second.stop()
    events = receiver.events("crm")
    assert of_the_call(events) == CALL_EVENTS
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
