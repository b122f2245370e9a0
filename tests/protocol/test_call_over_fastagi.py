"""Whole calls through acd's real FastAGI server, call registry, driver, AMI event
translator and routing core, with Asterisk played by a scripted peer on loopback: the
AGI commands Asterisk receives, in order, and what acd makes of the AMI events that
come with them. The transcripts are the wire contract the dialplan and the sandbox rely
on, and their length is the AGI cost of a call (the benchmark's 'AGI per call')."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from polling import eventually

from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.ami import AmiActionFailed
from acd.adapters.asterisk.events import EventTranslator
from acd.adapters.asterisk.routes import register_call_routes
from acd.callflow.driver import CallPorts
from acd.callflow.facts import CallControl, CallControlAsked
from acd.callflow.registry import CallRegistry
from acd.callflow.settings import CallSettings
from acd.callflow.survey import SurveyConfig
from acd.clock import FixedClock
from acd.config.routing import QueueTelephony
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.ivr.flowset import build_flowset
from acd.ivr.lookup import LookupRequest, LookupResult
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable, Speech
from acd.routing_service import RoutingService

T0 = 1_795_000_000.0
KEY = "s3cret-key"
CALLER = "13800138000"
DID = "4008001234"
UNIQUEID = "1795000000.17"
AGENT_LEG = "PJSIP/agent1001-0000002a"

FLOWS = {
    "direct.yaml": "start: q\nnodes:\n  q: {type: queue, queue: support}\n",
    "menu.yaml": """
start: menu
nodes:
  menu:
    type: menu
    prompt: {text: 请按1}
    choices: {1: duty, 2: box}
    timeout: 3
    retries: 0
    exhausted: box
  duty: {type: transfer, to: "8100", timeout: 20, failed: box}
  box: {type: voicemail, mailbox: 8000@default}
""",
}


# -- acd's side: everything real but Redis, the prompts' files and the clock ------------


class Store:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.closed: set[str] = set()

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self.records.setdefault(call_id, {}).update(fields)

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self.records.setdefault(call_id, {}).update(changes)

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        await self.save_call(call_id, changes)
        self.closed.add(call_id)

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self.close_call(call_id, fields)

    async def get_call(self, call_id: str) -> None:
        return None

    async def active_call_ids(self) -> set[str]:
        return set()


class Prompts:
    """Each prompt a short file name; `said` maps it back to the words."""

    def __init__(self) -> None:
        self.said: dict[str, str] = {}

    async def paths(self, prompts: Iterable[Playable]) -> list[str]:
        files = []
        for prompt in prompts:
            text = prompt.text if isinstance(prompt, Speech) else str(prompt)
            name = next((k for k, v in self.said.items() if v == text), "")
            if not name:
                name = f"prompt{len(self.said) + 1}"
                self.said[name] = text
            files.append(name)
        return files


class NoOtherChannels:
    async def hang_up_channel(self, channel: str) -> None:
        raise AssertionError("acd hangs up no other channel in these calls")

    async def spy(self, device: str, channel: str, mode: str, call_id: str) -> None:
        raise AssertionError("no spy in these calls")


class AgentLeg(NoOtherChannels):
    """AMI actions on the call's other channels: only the agent's call controls happen
    in these calls; while `refusal` is set, Asterisk answers them with that error."""

    def __init__(self) -> None:
        self.controls: list[tuple[str, str, str]] = []
        self.refusal = ""

    async def control_agent_leg(self, channel: str, control: str, target: str) -> None:
        if self.refusal:
            raise AmiActionFailed("Atxfer", self.refusal)
        self.controls.append((channel, control, target))


class NoLookups:
    async def fetch(self, request: LookupRequest) -> LookupResult:
        raise AssertionError("no lookup in these flows")


class AlwaysOpen:
    def decide(self, schedule_name: str, now: float) -> ScheduleDecision:
        return ScheduleDecision("open")


async def no_announcement() -> tuple[Playable, ...]:
    return ()


class Ami:
    """The AMI client's event side: acd's translator subscribes, the test fires."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[dict[str, str]], object]] = {}

    def on_event(self, pattern: str, handler: Callable[[dict[str, str]], object], *,
                 only: object = None, exclude: object = None) -> None:
        self.handlers[pattern] = handler

    def on_resync(self, handler: object) -> None:
        pass

    def fire(self, name: str, **headers: str) -> None:
        self.handlers[name]({"Event": name, "Uniqueid": UNIQUEID, **headers})


@dataclass
class Acd:
    agi: AgiServer
    port: int
    store: Store
    prompts: Prompts
    ami: Ami
    routing: RoutingService
    registry: CallRegistry
    agent_leg: AgentLeg


def call_settings(**overrides: Any) -> CallSettings:
    flows, errors = build_flowset({Path("/flows", n): t for n, t in FLOWS.items()},
                                  known_queues=["support"], schedule_names=None,
                                  library=None, extra_variables=("lang",))
    assert flows is not None, errors
    values: dict[str, Any] = {
        "numbers": {DID: ("direct", "zh"), "4008000002": ("menu", "zh")},
        "flows": flows,
        "telephony": {"support": QueueTelephony()},
        "surveys": {"support": SurveyConfig(timeout=3, retries=0)},
        "recordings": None,
        "caller_lists": False,
    }
    values.update(overrides)
    return CallSettings(**values)


@pytest.fixture
async def acd(unused_tcp_port: int) -> AsyncIterator[Acd]:
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")])
    clock = FixedClock(T0)
    dispatcher = Dispatcher(engine, clock)
    routing = RoutingService(dispatcher, engine)
    store, prompts, ami, agent_leg = Store(), Prompts(), Ami(), AgentLeg()
    registry = CallRegistry(CallPorts(
        store=store, routing=routing, actions=agent_leg, prompts=prompts,
        lookups=NoLookups(), schedules=AlwaysOpen(), announcement=no_announcement,
        clock=clock), call_settings)
    dispatcher.add_sink(registry.on_routing)
    agi = AgiServer(key=KEY)
    register_call_routes(agi, registry)
    EventTranslator(registry, lambda device: "1001" if device == "PJSIP/agent1001" else None,
                    dispatcher.post).register(ami)
    dispatcher.start()
    await agi.start("127.0.0.1", unused_tcp_port)
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    try:
        yield Acd(agi, unused_tcp_port, store, prompts, ami, routing, registry, agent_leg)
    finally:
        await agi.close()
        await dispatcher.stop()


# -- Asterisk's side -------------------------------------------------------------------


class Asterisk:
    """One caller's channel running AGI(agi://acd/call?tries=0&key=...), as Asterisk 22
    speaks FastAGI: the agi_* headers, then one reply line per command."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.commands: list[str] = []

    @classmethod
    async def call(cls, port: int, called: str = DID) -> Asterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        script = f"call?tries=0&key={KEY}"
        headers = {
            "agi_network": "yes", "agi_network_script": script,
            "agi_request": f"agi://127.0.0.1/{script}", "agi_channel": "PJSIP/trunk-00000011",
            "agi_language": "en", "agi_type": "PJSIP", "agi_uniqueid": UNIQUEID,
            "agi_version": "22.0.0", "agi_callerid": CALLER, "agi_calleridname": "unknown",
            "agi_dnid": called, "agi_context": "acd-inbound", "agi_extension": called,
            "agi_priority": "2", "agi_enhanced": "0.0", "agi_threadid": "140000000000",
        }
        writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
        await writer.drain()
        return cls(reader, writer)

    async def command(self) -> str:
        """The next AGI command acd sends ('' once acd closed the session)."""
        line = await asyncio.wait_for(self.reader.readline(), 5)
        text = line.decode().rstrip("\n")
        if text:
            self.commands.append(text)
        return text

    async def reply(self, result: str = "0", data: str = "") -> None:
        self.writer.write(f"200 result={result}{f' ({data})' if data else ''}\n".encode())
        await self.writer.drain()

    async def until(self, prefix: str, **replies: str) -> str:
        """Answer each command the way a quiet channel would ('200 result=0') until the
        one starting with `prefix`, which is returned unanswered."""
        while True:
            command = await self.command()
            assert command, f"acd closed the session before {prefix!r}"
            if command.startswith(prefix):
                return command
            await self.reply(replies.get(command.split(" ")[0], "0"))

    async def hangup_and_close(self) -> None:
        """HANGUP answered as Asterisk does; then acd closes the session."""
        await self.reply("1")
        assert await self.command() == ""
        self.writer.close()


def words(acd: Acd, command: str) -> str:
    """What a STREAM FILE command plays, as the prompt's words."""
    match = re.match(r'STREAM FILE "([^"]+)"', command)
    assert match, command
    return acd.prompts.said.get(match.group(1), match.group(1))


# -- the calls -------------------------------------------------------------------------


async def test_an_answered_call_with_its_survey_is_six_agi_commands(acd: Acd):
    ast = await Asterisk.call(acd.port)
    await ast.until("EXEC Dial")
    # the agent was free: no music first; g: the caller stays for the survey; m: music
    # while it rings; A(:file): the agent's number said to the caller on answer (报工号);
    # t and b(acd-agent-leg...): the agent's hold and consultation keys; U(...): the
    # bridge's time noted on the caller's channel (for a restart's records)
    assert ast.commands == ["ANSWER", 'EXEC Dial "PJSIP/agent1001,15,gmtA(:prompt1)'
                            'b(acd-agent-leg^s^1)U(acd-agent-bridged^s^1)"']
    assert acd.prompts.said["prompt1"].startswith("工号 1 0 0 1")

    # Asterisk's events while the agent's phone rings, answers and joins the bridge
    acd.ami.fire("DialBegin", DestChannel=AGENT_LEG)
    acd.ami.fire("DialEnd", DestChannel=AGENT_LEG, DialStatus="ANSWER")
    acd.ami.fire("BridgeEnter")
    await eventually(lambda: acd.store.records.get(UNIQUEID, {}).get("agent") == "1001")

    await ast.reply("0")  # the agent hung up: Dial returns, the caller is still there
    status = await ast.command()
    assert status == ('GET FULL VARIABLE "${DIALSTATUS}|${DIALEDPEERNAME}|${BLINDTRANSFER}|'
                      '${EXTEN}|${ANSWEREDTIME_MS}|${ACD_AGI_ENDED}|${ACD_BRIDGED_AT}"')
    await ast.reply("1", f"ANSWER|{AGENT_LEG}||{DID}")

    question = await ast.command()  # the survey's question, any key interrupts it
    assert question.startswith("STREAM FILE") and question.endswith('"0123456789*#"')
    assert "满意" in words(acd, question)
    await ast.reply(str(ord("1")), "endpos=8000")
    thanks = await ast.command()
    assert words(acd, thanks).startswith("感谢")
    await ast.reply("0", "endpos=16000")
    assert await ast.command() == "HANGUP"
    await ast.hangup_and_close()

    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})
    await eventually(lambda: UNIQUEID in acd.store.closed)
    record = acd.store.records[UNIQUEID]
    assert (record["outcome"], record["agent"], record["survey"]) == (
        "answered", "1001", "1")  # 1: satisfied
    # the whole call cost Asterisk these commands, and nothing else
    assert [c.split(" ")[0] for c in ast.commands] == [
        "ANSWER", "EXEC", "GET", "STREAM", "STREAM", "HANGUP"]


async def test_a_consultation_asterisk_refuses_can_be_asked_for_again(acd: Acd):
    ast = await Asterisk.call(acd.port)
    await ast.until("EXEC Dial")
    acd.ami.fire("DialBegin", DestChannel=AGENT_LEG)
    acd.ami.fire("DialEnd", DestChannel=AGENT_LEG, DialStatus="ANSWER")
    acd.ami.fire("BridgeEnter")
    await eventually(lambda: acd.store.records.get(UNIQUEID, {}).get("agent") == "1001")
    consult = CallControlAsked(CallControl.CONSULT, "1003")

    acd.agent_leg.refusal = "Channel specified does not exist"
    with pytest.raises(AmiActionFailed, match="does not exist"):  # the desk hears why
        await acd.registry.ask(UNIQUEID, consult)
    acd.agent_leg.refusal = ""
    # nothing was started, so the desk may ask again (it was refused as "already
    # consulting 1003" until the call ended)
    assert await acd.registry.ask(UNIQUEID, consult) == "1001"
    assert acd.agent_leg.controls == [(AGENT_LEG, "consult", "1003")]

    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})  # the caller hangs up
    await ast.reply("-1")  # and the Dial with them
    while await ast.command():  # what acd still asks a dead channel
        await ast.reply("-1")
    await eventually(lambda: UNIQUEID in acd.store.closed)
    assert acd.store.records[UNIQUEID]["agent"] == "1001"


async def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue_and_acd_lets_go(acd: Acd):
    await acd.routing.submit(ev.AgentPaused("1001", "lunch"))  # nobody to take the call
    ast = await Asterisk.call(acd.port)
    assert await ast.until("SET MUSIC") == "SET MUSIC ON default"
    await ast.reply()
    await eventually(lambda: bool(acd.routing.engine.queue_view("support")["waiting"]))
    ast.writer.write(b"HANGUP\n")  # Asterisk tells the AGI session the caller hung up
    await ast.writer.drain()
    assert await ast.command() == ""  # acd sends nothing more and closes the session
    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})
    await eventually(lambda: UNIQUEID in acd.store.closed)
    assert acd.store.records[UNIQUEID]["outcome"] == "abandoned"
    assert not acd.routing.engine.queue_view("support")["waiting"]
    # the caller's queue left for the dialplan's fallback, then the music
    assert ast.commands == ["ANSWER", 'SET VARIABLE ACD_QUEUE "support"',
                            "SET MUSIC ON default"]


async def test_an_ivr_transfer_nobody_answers_falls_back_to_voicemail(acd: Acd):
    ast = await Asterisk.call(acd.port, called="4008000002")
    question = await ast.until("STREAM FILE")
    assert words(acd, question) == "请按1"
    await ast.reply(str(ord("1")))
    dial = await ast.until("EXEC Dial")
    assert dial == 'EXEC Dial "Local/8100@acd-transfer,20"'
    await ast.reply("0")  # nobody answered, the caller is still there
    assert (await ast.command()).startswith("GET FULL VARIABLE")
    await ast.reply("1", f"NOANSWER|||{DID}")
    assert await ast.command() == 'EXEC VoiceMail "8000@default,u"'
    await ast.reply("0")
    assert await ast.command() == "HANGUP"
    await ast.hangup_and_close()
    acd.ami.fire("Hangup", **{"Cause-txt": "Normal Clearing"})
    await eventually(lambda: UNIQUEID in acd.store.closed)
    assert acd.store.records[UNIQUEID]["outcome"] == "voicemail"
