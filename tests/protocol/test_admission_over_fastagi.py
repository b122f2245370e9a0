"""Shedding load over FastAGI, with acd's real FastAGI server, call registry, driver and
routing core, and Asterisk played by a scripted peer on loopback: a caller past the
admission caps hears "lines busy" and is hung up (or is handed to the dialplan's
fallback), while the callers acd took on are served."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from polling import eventually
from test_call_over_fastagi import (
    CALLER,
    DID,
    KEY,
    T0,
    AlwaysOpen,
    Asterisk,
    NoLookups,
    NoOtherChannels,
    Prompts,
    Store,
    call_settings,
    no_announcement,
    words,
)

from acd import metrics
from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.routes import register_call_routes
from acd.callflow.admission import Admission, AdmissionConfig, ShedTo
from acd.callflow.driver import CallPorts
from acd.callflow.orders import TellIntegrators
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.routing_service import RoutingService


class Told:
    """What integrators are told of calls (the events port), in order."""

    def __init__(self) -> None:
        self.events: list[TellIntegrators] = []

    def call_event(self, notice: TellIntegrators) -> None:
        self.events.append(notice)


class Line:
    """acd with admission caps, on a loopback FastAGI port; one agent, 1001, logged in."""

    def __init__(self, port: int, store: Store, prompts: Prompts, clock: FixedClock,
                 routing: RoutingService, told: Told, registry: CallRegistry) -> None:
        self.port, self.store, self.prompts = port, store, prompts
        self.clock, self.routing, self.told = clock, routing, told
        self.registry = registry
        self._calls = 0

    async def call(self, *, tries: int = 0, caller: str = CALLER) -> Asterisk:
        """A caller's channel running AGI(agi://acd/call?tries=N&key=...)."""
        self._calls += 1
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        script = f"call?tries={tries}&key={KEY}"
        headers = {
            "agi_network": "yes", "agi_network_script": script,
            "agi_channel": f"PJSIP/trunk-{self._calls:08x}", "agi_language": "en",
            "agi_uniqueid": self.call_id(self._calls), "agi_callerid": caller,
            "agi_dnid": DID, "agi_context": "acd-inbound", "agi_extension": DID,
        }
        writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
        await writer.drain()
        return Asterisk(reader, writer)

    @staticmethod
    def call_id(n: int) -> str:
        return f"{T0:.0f}.{n}"


@asynccontextmanager
async def line(port: int, admission: AdmissionConfig) -> AsyncIterator[Line]:
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")])
    clock = FixedClock(T0)
    dispatcher = Dispatcher(engine, clock)
    routing = RoutingService(dispatcher, engine)
    store, prompts, told = Store(), Prompts(), Told()
    registry = CallRegistry(CallPorts(
        store=store, routing=routing, actions=NoOtherChannels(), prompts=prompts,
        lookups=NoLookups(), schedules=AlwaysOpen(), announcement=no_announcement,
        clock=clock, events=told), call_settings, Admission(admission))
    dispatcher.add_sink(registry.on_routing)
    agi = AgiServer(key=KEY)
    register_call_routes(agi, registry)
    dispatcher.start()
    await agi.start("127.0.0.1", port)
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    try:
        yield Line(port, store, prompts, clock, routing, told, registry)
    finally:
        registry.stop()
        await agi.close()
        await dispatcher.stop()
        await registry.drain()


@pytest.fixture
def shed_count() -> Callable[[], int]:
    before = metrics.snapshot().get("calls_shed", 0)
    return lambda: metrics.snapshot().get("calls_shed", 0) - before


async def test_a_caller_over_the_session_cap_hears_lines_busy_while_the_one_under_it_is_served(
        unused_tcp_port, shed_count):
    async with line(unused_tcp_port, AdmissionConfig(max_sessions=1)) as acd:
        served = await acd.call()
        assert await served.until("EXEC Dial") == (
            'EXEC Dial "PJSIP/agent1001,15,gmtA(:prompt1)b(acd-agent-leg^s^1)'
            'U(acd-agent-bridged^s^1)"')

        shed = await acd.call(caller="13900139000")
        assert await shed.command() == "ANSWER"
        await shed.reply()
        play = await shed.command()
        assert play.startswith("STREAM FILE") and "线路繁忙，请稍后再拨" in words(acd, play)
        await shed.reply("0", "endpos=16000")
        assert await shed.command() == "HANGUP"
        await shed.hangup_and_close()
        assert shed.commands == ["ANSWER", play, "HANGUP"]  # no queue, no agent, no music

        await eventually(lambda: Line.call_id(2) in acd.store.closed)
        record = acd.store.records[Line.call_id(2)]
        assert (record["outcome"], record["caller"]) == ("shed", "13900139000")
        assert record["ivr_path"] == ["admission:sessions:busy"]
        assert record["ended_at"] == T0 and not record["agent"]
        assert shed_count() == 1
        # integrators hear of the shed call too, though it never had a session
        ended = [e for e in acd.told.events if e.call_id == Line.call_id(2)]
        assert [(e.kind, e.data["outcome"]) for e in ended] == [("call.ended", "shed")]
        assert Line.call_id(1) not in acd.store.closed  # the served caller talks on
        served.writer.close()


async def test_the_next_caller_is_served_once_a_call_in_acd_has_ended(unused_tcp_port,
                                                                      shed_count):
    async with line(unused_tcp_port, AdmissionConfig(max_sessions=1)) as acd:
        await acd.routing.submit(ev.AgentPaused("1001", "lunch"))  # callers wait
        first = await acd.call()
        assert await first.until("SET MUSIC") == "SET MUSIC ON default"
        await first.reply()
        shed = await acd.call()
        assert await shed.command() == "ANSWER"
        shed.writer.close()  # the caller hangs up during the prompt
        await eventually(lambda: shed_count() == 1)

        first.writer.write(b"HANGUP\n")  # the waiting caller gives up
        await first.writer.drain()
        assert await first.command() == ""  # acd let go of the channel: its place is free

        third = await acd.call()
        assert await third.until("SET MUSIC") == "SET MUSIC ON default"  # in the queue
        assert third.commands == ["ANSWER", 'SET VARIABLE ACD_QUEUE "support"',
                                  "SET MUSIC ON default"]
        assert shed_count() == 1
        third.writer.close()


async def test_a_caller_over_the_rate_is_handed_to_the_dialplans_fallback(unused_tcp_port,
                                                                         shed_count):
    caps = AdmissionConfig(max_calls_per_second=1, burst=1, shed_to=ShedTo.FALLBACK)
    async with line(unused_tcp_port, caps) as acd:
        await acd.routing.submit(ev.AgentPaused("1001", "lunch"))
        first = await acd.call()
        assert await first.until("SET MUSIC") == "SET MUSIC ON default"
        await first.reply()

        shed = await acd.call()  # the same instant: the bucket is empty
        assert await shed.command() == 'SET VARIABLE ACD_FALLBACK "1"'
        await shed.reply("1")
        assert await shed.command() == ""  # acd lets go: the dialplan runs Queue()
        await eventually(lambda: Line.call_id(2) in acd.store.closed)
        record = acd.store.records[Line.call_id(2)]
        assert record["outcome"] == "shed"
        assert record["ivr_path"] == ["admission:rate:fallback"]

        acd.clock.advance(1.0)  # a token more
        third = await acd.call()
        assert await third.until("SET MUSIC") == "SET MUSIC ON default"
        assert shed_count() == 1
        first.writer.close()
        third.writer.close()


async def test_a_call_handed_back_after_a_restart_is_never_shed(unused_tcp_port, shed_count):
    caps = AdmissionConfig(max_sessions=1, max_calls_per_second=1, burst=1)
    async with line(unused_tcp_port, caps) as acd:
        await acd.routing.submit(ev.AgentPaused("1001", "lunch"))
        first = await acd.call()
        assert await first.until("SET MUSIC") == "SET MUSIC ON default"
        await first.reply()

        back = await acd.call(tries=1)  # over both caps, but acd took it on before
        assert await back.until("SET MUSIC") == "SET MUSIC ON default"
        assert shed_count() == 0
        first.writer.close()
        back.writer.close()


async def test_a_new_call_an_acd_cannot_route_now_is_offered_to_the_next_acd(unused_tcp_port):
    """cluster.mode active: a follower cut off from Redis passes new calls on (the
    dialplan tries ACD_AGI_2 at once); a call handed back keeps its session here."""
    async with line(unused_tcp_port, AdmissionConfig()) as acd:
        acd.registry.passing_on = lambda: "Redis is away and this acd does not lead"
        passed = await acd.call()
        assert await passed.command() == 'SET VARIABLE ACD_NEXT "1"'
        await passed.reply("1")
        assert await passed.command() == ""  # the session ends: the dialplan goes on
        assert not acd.store.records  # no record here: the next acd writes it
        back = await acd.call(tries=1, caller="13900139001")
        assert await back.until("ANSWER") == "ANSWER"
        back.writer.close()
