"""A whole call through acd's real FastAGI server, registry, driver, AMI translator and
routing core, its record in a real Redis and its history in a real SQLite file: what
a supervisor's report will read once the caller has rated the call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
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
from acd.adapters.redis.history_stream import AgentEventRecorder, HistoryStream
from acd.adapters.redis.store import CallStore
from acd.callflow.driver import CallPorts
from acd.callflow.orders import TellIntegrators
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.history import schema
from acd.history.store import HistoryDatabase
from acd.history.writer import HistoryWriter
from acd.routing_service import RoutingService

DB = 14


@dataclass
class Acd:
    port: int
    ami: Ami
    clock: FixedClock
    database: HistoryDatabase
    writer: HistoryWriter
    routing: RoutingService
    store: CallStore
    registry: CallRegistry
    told: list[TellIntegrators]


@dataclass
class Told:
    """The events port: what integrators are told of calls."""

    events: list[TellIntegrators]

    def call_event(self, notice: TellIntegrators) -> None:
        self.events.append(notice)


@pytest.fixture
async def acd(unused_tcp_port: int, redis_server: Any, tmp_path: Path) -> AsyncIterator[Acd]:
    told: list[TellIntegrators] = []
    prefix = f"test-history-agi-{uuid.uuid4().hex[:8]}:"
    redis = await asyncio_redis.Pool.create(host=redis_server.host, port=redis_server.port,
                                            db=DB, poolsize=4)
    stream = HistoryStream(redis, prefix)
    store = CallStore(redis, prefix, history_stream=stream.key, keep_closed_seconds=86400)
    database = HistoryDatabase(f"sqlite+aiosqlite:///{tmp_path}/var/history.db")
    await database.open()
    writer = HistoryWriter(stream, database, "acd-test")
    writer.POLL_SECONDS = 0.02
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")])
    clock = FixedClock(T0)
    dispatcher = Dispatcher(engine, clock)
    routing = RoutingService(dispatcher, engine)
    ami = Ami()
    registry = CallRegistry(CallPorts(
        store=store, routing=routing, actions=NoOtherChannels(), prompts=Prompts(),
        lookups=NoLookups(), schedules=AlwaysOpen(), announcement=no_announcement,
        clock=clock, events=Told(told)), call_settings)
    agents = AgentEventRecorder(stream)
    dispatcher.add_sink(registry.on_routing)
    dispatcher.add_sink(agents.on_routing)  # as acd.app wires it
    agi = AgiServer(key=KEY)
    register_call_routes(agi, registry)
    EventTranslator(registry, lambda device: "1001" if device == "PJSIP/agent1001" else None,
                    dispatcher.post).register(ami)
    dispatcher.start()
    tasks = [agents.start(), writer.start()]
    await agi.start("127.0.0.1", unused_tcp_port)
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    try:
        yield Acd(unused_tcp_port, ami, clock, database, writer, routing, store, registry, told)
    finally:
        await agi.close()
        await dispatcher.stop()
        await writer.stop()
        for task in tasks:
            task.cancel()
        await database.close()
        cursor = await redis.scan(match=f"{prefix}*")
        keys = list(await cursor.fetchall())
        if keys:
            await redis.delete(keys)
        redis.close()


async def rows(acd: Acd, table: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    async with acd.database.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table))]


async def until_answered(acd: Acd) -> None:
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        record = await acd.store.get_call(UNIQUEID)
        if record is not None and record.agent == "1001":
            return
        assert asyncio.get_running_loop().time() < deadline, "never answered"
        await asyncio.sleep(0.01)


async def test_an_answered_and_rated_call_reaches_the_history_with_its_ring_and_answer(
        acd: Acd) -> None:
    ast = await Asterisk.call(acd.port)
    await ast.until("EXEC Dial")
    acd.clock.advance(4)
    acd.ami.fire("DialBegin", DestChannel=AGENT_LEG)
    acd.ami.fire("DialEnd", DestChannel=AGENT_LEG, DialStatus="ANSWER")
    acd.ami.fire("BridgeEnter")
    await until_answered(acd)  # (the answer is checkpointed in Redis)
    acd.clock.advance(60)
    await ast.reply("0")  # the agent hung up
    await ast.command()  # how the Dial ended
    await ast.reply("1", f"ANSWER|{AGENT_LEG}||{DID}")
    await ast.command()  # the survey's question
    await ast.reply(str(ord("3")), "endpos=8000")  # unsatisfied
    await ast.command()  # thanks
    await ast.reply("0", "endpos=16000")
    assert await ast.command() == "HANGUP"
    await ast.hangup_and_close()
    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})

    deadline = asyncio.get_running_loop().time() + 10
    while not await rows(acd, schema.survey_answers):  # the writer polls the stream
        assert asyncio.get_running_loop().time() < deadline, "not in the history in time"
        await asyncio.sleep(0.02)
    [call] = await rows(acd, schema.calls)
    assert (call["call_id"], call["outcome"], call["agent"], call["survey"]) == (
        UNIQUEID, "answered", "1001", "3")
    [ring] = await rows(acd, schema.ring_attempts)
    assert (ring["agent"], ring["device"], ring["result"]) == ("1001", "PJSIP/agent1001",
                                                               "answered")
    assert ring["ended_at"] - ring["started_at"] == 4.0
    [answer] = await rows(acd, schema.survey_answers)
    assert (answer["question"], answer["answer"], answer["queue"]) == ("satisfaction", "3",
                                                                       "support")
    states = [r["state"] for r in sorted(await rows(acd, schema.agent_events),
                                         key=lambda r: r["id"])]
    assert states[0] == "available" and "on-call" in states


async def test_a_callback_the_customer_never_answered_closes_as_failed_in_the_history(
        acd: Acd) -> None:
    await acd.store.open_call("cb1", {
        "call_id": "cb1", "caller": "13800138000", "called": DID, "arrived_at": T0,
        "queues": ["support"], "enqueued_at": T0 + 3, "left_queue_at": T0 + 40,
        "outcome": "callback-requested", "callback": "requested"})
    acd.clock.advance(900)  # the routing core's last attempt to call back failed
    acd.registry.on_routing(cmd.CallCompleted("cb1", "support", "callback-failed", "", 0, 0))
    deadline = asyncio.get_running_loop().time() + 10
    while not await rows(acd, schema.calls):
        assert asyncio.get_running_loop().time() < deadline, "not in the history in time"
        await asyncio.sleep(0.02)
    [call] = await rows(acd, schema.calls)
    assert (call["callback"], call["outcome"], call["ended_at"]) == (
        "failed", "callback-failed", T0 + 900)
    assert call["wait_seconds"] == 37.0  # until the caller chose to be called back
    # integrators hear of it too, though no session closed it
    assert [(e.kind, e.call_id, e.data["outcome"]) for e in acd.told] == [
        ("call.ended", "cb1", "callback-failed")]
