"""A queue's overflow rule moves a waiting caller, through acd's real FastAGI server,
call registry, driver, AMI translator, dispatcher and routing core (Asterisk a scripted
peer on loopback): the routing core's CallOverflowed reaches the call's session, whose
record ends in the queue whose agent answered."""

from __future__ import annotations

from typing import Any

from polling import eventually
from test_call_over_fastagi import (
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
    Store,
    call_settings,
    no_announcement,
)

from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.events import EventTranslator
from acd.adapters.asterisk.routes import register_call_routes
from acd.callflow.driver import CallPorts
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.config.routing import QueueTelephony
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, OverflowMode, OverflowRule, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.routing_service import RoutingService

LEG_1002 = "PJSIP/agent1002-0000002b"
AGENTS = {"PJSIP/agent1001": "1001", "PJSIP/agent1002": "1002"}


def settings() -> Any:
    return call_settings(telephony={"support": QueueTelephony(),
                                    "complaints": QueueTelephony(announce_agent=False)})


async def test_a_caller_moved_by_an_overflow_rule_is_answered_and_recorded_in_the_target(
        unused_tcp_port: int) -> None:
    engine = RoutingEngine(
        [QueueConfig("support", members=(QueueMember("1001"),),
                     overflow=(OverflowRule(3, "complaints", OverflowMode.MOVE),)),
         QueueConfig("complaints", members=(QueueMember("1002"),))],
        [AgentConfig("1001"), AgentConfig("1002")])
    clock = FixedClock(T0)
    dispatcher = Dispatcher(engine, clock)
    routing = RoutingService(dispatcher, engine)
    store, ami = Store(), Ami()
    registry = CallRegistry(CallPorts(
        store=store, routing=routing, actions=NoOtherChannels(), prompts=Prompts(),
        lookups=NoLookups(), schedules=AlwaysOpen(), announcement=no_announcement,
        clock=clock), settings)
    dispatcher.add_sink(registry.on_routing)
    agi = AgiServer(key=KEY)
    register_call_routes(agi, registry)
    EventTranslator(registry, AGENTS.get, dispatcher.post).register(ami)
    dispatcher.start()
    await agi.start("127.0.0.1", unused_tcp_port)
    try:
        for agent in ("1001", "1002"):
            await dispatcher.submit(ev.AgentLoggedIn(agent, f"PJSIP/agent{agent}"))
        await dispatcher.submit(ev.AgentPaused("1001", "lunch"))  # support: nobody free
        ast = await Asterisk.call(unused_tcp_port)
        assert await ast.until("SET MUSIC") == "SET MUSIC ON default"
        await ast.reply()
        await eventually(lambda: bool(engine.queue_view("support")["waiting"]))
        clock.advance(3)
        await dispatcher.apply(lambda now: [])  # the loop wakes: the rule is due
        dial = await ast.until("EXEC Dial")
        assert dial.startswith('EXEC Dial "PJSIP/agent1002,15,')
        assert store.records[UNIQUEID]["queues"] == ["support", "complaints"]  # saved
        ami.fire("DialBegin", DestChannel=LEG_1002)
        ami.fire("DialEnd", DestChannel=LEG_1002, DialStatus="ANSWER")
        ami.fire("BridgeEnter")
        await eventually(lambda: store.records[UNIQUEID].get("agent") == "1002")
        clock.advance(40)
        await ast.reply("0")  # the agent hung up
        await ast.command()  # how the Dial ended
        await ast.reply("1", f"ANSWER|{LEG_1002}||{DID}")
        await ast.command()  # the survey's question
        await ast.reply(str(ord("1")), "endpos=8000")
        await ast.command()  # thanks
        await ast.reply("0", "endpos=16000")
        assert await ast.command() == "HANGUP"
        await ast.hangup_and_close()
        ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})
        await eventually(lambda: UNIQUEID in store.closed)
    finally:
        await agi.close()
        await dispatcher.stop()
    record = store.records[UNIQUEID]
    assert (record["queues"], record["agent"], record["outcome"]) == (
        ["support", "complaints"], "1002", "answered")
    stats = engine.stats()["queues"]
    assert (stats["support"]["overflowed"], stats["complaints"]["answered"]) == (1, 1)
