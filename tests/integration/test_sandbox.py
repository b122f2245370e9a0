"""The sandbox itself: Asterisk's config, identification, fallback and media.

These tests need no acd service: where the dialplan calls acd they point the
ACD_AGI global at a scripted FastAGI peer, or at a closed port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from panoramisk import Manager
from panoramisk.message import Message
from sandbox import Sandbox
from sipp import Dtmf, PhoneBehaviour, SippAgentDialer, SippAgentPhones, SippCaller

T = TypeVar("T")

pytestmark = pytest.mark.integration

CALLER = "13800138000"
DID = "4008001234"


@dataclass
class EventLog:
    """Every AMI event of one connection, to wait on with a deadline."""

    events: list[Message] = field(default_factory=list)

    def attach(self, manager: Manager) -> EventLog:
        manager.register_event("*", lambda _manager, event: self.events.append(event))
        return self

    async def wait_for(self, matches: Callable[[Message], bool], what: str,
                       timeout: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if matches(event):
                    return event
            if time.monotonic() > deadline:
                names = sorted({str(e.event) for e in self.events})
                raise AssertionError(f"no AMI event for {what} within {timeout}s; saw {names}")
            await asyncio.sleep(0.05)


async def eventually(probe: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Poll until ``probe`` returns something truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
    return result


@dataclass
class AgiSession:
    env: dict[str, str]  # agi_network_script, agi_channel, ...
    replies: list[str] = field(default_factory=list)  # "200 result=49", ...


@dataclass
class FakeAcd:
    """A FastAGI peer standing in for acd: records each session's agi_* lines,
    sends ``commands`` one by one (keeping each reply), then closes the socket."""

    commands: list[str] = field(default_factory=list)
    sessions: list[AgiSession] = field(default_factory=list)
    port: int = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AgiSession({})
        while line := (await reader.readline()).decode().strip():
            key, _, value = line.partition(": ")
            session.env[key] = value
        self.sessions.append(session)
        for command in self.commands:
            writer.write(f"{command}\n".encode())
            await writer.drain()
            session.replies.append((await reader.readline()).decode().strip())
        writer.close()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[FakeAcd]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


async def action(ami: Manager, **fields: str) -> Message:
    """Send one AMI action and return its response, which must be a success.

    panoramisk resolves an Async Originate only with the OriginateResponse
    event, as a list [response, OriginateResponse]: the response comes first.
    """
    response = await asyncio.wait_for(ami.send_action(fields), timeout=40)
    if isinstance(response, list):
        response = response[0]
    assert response.success, f"{fields['Action']} failed: {dict(response)}"
    return response


@contextlib.asynccontextmanager
async def acd_agi_at(ami: Manager, url: str) -> AsyncIterator[None]:
    """Point the dialplan's ACD_AGI global somewhere else for one test."""
    original = (await action(ami, Action="Getvar", Variable="ACD_AGI")).Value
    await action(ami, Action="Setvar", Variable="ACD_AGI", Value=url)
    try:
        yield
    finally:
        await action(ami, Action="Setvar", Variable="ACD_AGI", Value=original)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- AMI ---------------------------------------------------------------------

async def test_acd_user_logs_in_with_the_generated_secret_and_pings(ami: Manager) -> None:
    pong = await action(ami, Action="Ping")
    channels = await asyncio.wait_for(ami.send_action({"Action": "CoreShowChannels"}), 10)

    assert pong.Ping == "Pong"
    assert isinstance(channels, list)
    assert channels[-1].event == "CoreShowChannelsComplete"


async def test_ami_refuses_a_wrong_secret(asterisk: Sandbox) -> None:
    manager = asterisk.manager()
    manager.config["secret"] = "not-the-secret"
    await manager.connect()
    assert manager.authenticated_future is not None
    await asyncio.wait_for(manager.authenticated_future, timeout=5)
    manager.close()

    assert manager.authenticated is False


async def test_dialplan_sends_calls_to_acd_on_port_4573(ami: Manager) -> None:
    value = (await action(ami, Action="Getvar", Variable="ACD_AGI")).Value

    assert value == "agi://127.0.0.1:4573"


def asterisk_sockets(asterisk: Sandbox) -> list[list[str]]:
    """Asterisk's listening and unconnected sockets, as ``ss`` columns."""
    pid = (asterisk.repo / "var" / "sandbox" / "run" / "asterisk.pid").read_text().strip()
    sockets = subprocess.run(["ss", "-Hlntup"], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    return [line.split() for line in sockets if f"pid={pid}," in line]


async def test_asterisk_listens_on_loopback_only(
    ami: Manager, asterisk: Sandbox, tmp_path: Path
) -> None:
    # A call is under way while we look, so its RTP ports are open: in CI a
    # call's RTP once listened on every address (pjsip_media.conf now binds
    # it to loopback).
    async with FakeAcd(["ANSWER", "EXEC Wait 5", "SET VARIABLE ACD_DONE 1"]).serving() as acd, \
            acd_agi_at(ami, f"agi://127.0.0.1:{acd.port}"):
        caller = SippCaller(CALLER, did=DID, hangup_after=None, timeout=20,
                            workdir=tmp_path / "caller").start()
        def with_rtp() -> list[list[str]] | None:
            found = asterisk_sockets(asterisk)
            rtp = [local for proto, *_, local, _peer, _users in found
                   if proto == "udp" and 20000 <= int(local.rpartition(":")[2]) <= 20999]
            return found if rtp else None

        ours = await eventually(with_rtp, "the call's RTP port")
        await caller.finished()

    exposed = []
    for proto, *_, local, _peer, _users in ours:
        address, _, port = local.rpartition(":")
        # pjproject's DNS client keeps an unconnected UDP socket on an
        # ephemeral port; nothing else may listen beyond loopback.
        if address not in ("127.0.0.1", "[::1]") and not (proto == "udp" and int(port) >= 32768):
            exposed.append(local)

    assert {"127.0.0.1:5060", "127.0.0.1:5038"} <= {line[4] for line in ours}
    assert exposed == []


# --- who is calling ------------------------------------------------------------

async def test_caller_reaches_acd_inbound_as_the_trunk_with_the_did(
    ami: Manager, asterisk: Sandbox, tmp_path: Path
) -> None:
    # ACD_DONE: acd finished the call (without it the dialplan hands the call back, as
    # after an acd restart)
    async with FakeAcd(["ANSWER", "SET VARIABLE ACD_DONE 1"]).serving() as acd, \
            acd_agi_at(ami, f"agi://127.0.0.1:{acd.port}"):
        caller = SippCaller(CALLER, did=DID, hangup_after=None, timeout=20,
                            workdir=tmp_path / "caller").start()
        await caller.finished()

    [session] = acd.sessions
    [call] = caller.calls()
    # the dialplan sends the sandbox's shared key with every FastAGI request
    assert session.env["agi_network_script"] == f"call?tries=0&key={asterisk.agi_key}"
    assert session.env["agi_context"] == "acd-inbound"
    assert session.env["agi_extension"] == DID
    assert session.env["agi_callerid"] == CALLER
    assert session.env["agi_channel"].startswith("PJSIP/anonymous-")
    # acd closed the session after answering: SUCCESS, so the dialplan hangs up.
    assert call.final_status == 200 and call.ended_by == "them", caller.diagnostics()


@pytest.mark.parametrize(
    ("code", "script"),
    [("*71", "agent-login?"), ("*72", "agent-logout?"), ("*733", "agent-pause?reason=3&"),
     ("*74", "agent-resume?"), ("*75", "agent-wrapup-end?")],
)
async def test_agent_feature_code_is_identified_as_agent1001_in_acd_agents(
    ami: Manager, asterisk: Sandbox, tmp_path: Path, code: str, script: str
) -> None:
    async with FakeAcd(["ANSWER"]).serving() as acd, acd_agi_at(ami, f"agi://127.0.0.1:{acd.port}"):
        dialer = SippAgentDialer("agent1001", code, password=asterisk.sip_password,
                                 workdir=tmp_path / "dialer").start()
        await dialer.finished()

    [session] = acd.sessions
    assert session.env["agi_network_script"] == f"{script}key={asterisk.agi_key}"
    assert session.env["agi_context"] == "acd-agents"
    assert session.env["agi_extension"] == code
    assert session.env["agi_channel"].startswith("PJSIP/agent1001-")
    assert dialer.calls()[0].answered, dialer.diagnostics()


async def test_agent_with_a_wrong_password_is_not_let_in(
    asterisk: Sandbox, tmp_path: Path
) -> None:
    dialer = SippAgentDialer("agent1001", "*71", password="wrong",
                             workdir=tmp_path / "dialer").start()
    await dialer.finished()

    [call] = dialer.calls()
    assert not call.answered


async def test_agent_feature_code_plays_an_error_when_acd_is_unreachable(
    ami: Manager, asterisk: Sandbox, tmp_path: Path
) -> None:
    async with acd_agi_at(ami, f"agi://127.0.0.1:{closed_port()}"):
        dialer = SippAgentDialer("agent1002", "*71", password=asterisk.sip_password,
                                 workdir=tmp_path / "dialer").start()
        await dialer.finished()

    [call] = dialer.calls()
    assert call.answered and call.ended_by == "them", dialer.diagnostics()


# --- fallback and media -----------------------------------------------------------

@pytest.fixture
async def fallback_member(ami: Manager) -> AsyncIterator[str]:
    """agent1001 alone in acd-fallback, as acd puts its logged-in agents there (an acd
    stopped earlier leaves its own agents there: they are at work, as far as it knew)."""
    status = await ami.send_action({"Action": "QueueStatus", "Queue": "acd-fallback"},
                                   as_list=True)
    for member in status if isinstance(status, list) else [status]:
        if member.get("Event") == "QueueMember":
            await ami.send_action({"Action": "QueueRemove", "Queue": "acd-fallback",
                                   "Interface": member.get("Location")}, as_list=False)
    await ami.send_action({"Action": "QueueAdd", "Queue": "acd-fallback",
                           "Interface": "PJSIP/agent1001", "MemberName": "1001"},
                          as_list=False)
    yield "agent1001"
    await ami.send_action({"Action": "QueueRemove", "Queue": "acd-fallback",
                           "Interface": "PJSIP/agent1001"}, as_list=False)


async def test_caller_falls_back_to_the_native_queue_when_acd_is_unreachable(
    ami: Manager, agent_phones: SippAgentPhones, fallback_member: str, tmp_path: Path
) -> None:
    events = EventLog().attach(ami)
    # no acd answers: the caller hears music while one might take over (about 6 s),
    # then Asterisk's own queue rings the agent acd left there
    async with acd_agi_at(ami, f"agi://127.0.0.1:{closed_port()}"):
        caller = SippCaller(CALLER, hangup_after=14.0, timeout=30,
                            workdir=tmp_path / "caller").start()
        [ring] = await agent_phones.wait_for_calls(1, timeout=15)
        await events.wait_for(lambda e: e.event == "QueueCallerJoin"
                              and e.Queue == "acd-fallback", "the caller joining acd-fallback")
        await caller.finished()

    [call] = caller.calls()
    assert call.answered and call.answered_at is not None and call.invited_at is not None
    assert call.answered_at - call.invited_at < 1.0  # answered at once, never silence
    assert ring.agent == "agent1001"
    await eventually(lambda: agent_phones.calls()[0].ended_by, "the agent's BYE")
    assert agent_phones.calls()[0].outcome == "answered"


async def test_acd_can_ask_the_dialplan_to_fall_back(
    ami: Manager, agent_phones: SippAgentPhones, fallback_member: str, tmp_path: Path
) -> None:
    async with FakeAcd(["SET VARIABLE ACD_FALLBACK 1"]).serving() as acd, \
            acd_agi_at(ami, f"agi://127.0.0.1:{acd.port}"):
        caller = SippCaller(CALLER, hangup_after=4.0, workdir=tmp_path / "caller").start()
        [ring] = await agent_phones.wait_for_calls(1, timeout=10)
        await caller.finished()

    assert len(acd.sessions) == 1
    assert caller.calls()[0].answered


async def test_caller_dtmf_sent_as_sip_info_reaches_fastagi(
    ami: Manager, tmp_path: Path
) -> None:
    async with FakeAcd(["ANSWER", "WAIT FOR DIGIT 5000", "SET VARIABLE ACD_DONE 1"]).serving() \
            as acd, \
            acd_agi_at(ami, f"agi://127.0.0.1:{acd.port}"):
        caller = SippCaller(CALLER, hangup_after=None, dtmf=[Dtmf(1.0, "1")], timeout=20,
                            workdir=tmp_path / "caller").start()
        await caller.finished()

    [session] = acd.sessions
    assert session.replies[:2] == ["200 result=0", f"200 result={ord('1')}"]
    assert [digit for _at, digit in caller.calls()[0].dtmf_sent] == ["1"]


async def test_acd_dial_context_rings_agents_and_supervisor_by_name(
    ami: Manager, tmp_path: Path
) -> None:
    behaviours = {"agent1002": PhoneBehaviour("reject", answer_after=0.2),
                  "agent1003": PhoneBehaviour("ignore")}
    with SippAgentPhones(PhoneBehaviour(answer_after=0.3, talk_time=1.0), behaviours,
                         workdir=tmp_path / "phones") as phones, \
            SippAgentPhones(PhoneBehaviour(answer_after=0.3, talk_time=1.0),
                            port=5073, workdir=tmp_path / "supervisor") as supervisor:
        await asyncio.gather(*(
            action(ami, Action="Originate", Channel=f"Local/{target}@acd-dial/n",
                   Application="Wait", Data="5", Timeout="2000", Async="true")
            for target in ("agent1001", "agent1002", "agent1003", "supervisor1")))
        await eventually(lambda: len([c for c in phones.calls() if c.ended_at]) == 3,
                         "three agent calls to end")
        await eventually(lambda: supervisor.calls(), "the supervisor's call")

    outcomes = {call.agent: call.outcome for call in phones.calls()}
    assert outcomes == {"agent1001": "answered", "agent1002": "rejected",
                        "agent1003": "cancelled"}
    assert [call.agent for call in supervisor.calls()] == ["supervisor1"]


async def test_mixmonitor_file_written_in_the_chroot_appears_on_the_host(
    ami: Manager, asterisk: Sandbox, agent_phones: SippAgentPhones, tmp_path: Path
) -> None:
    events = EventLog().attach(ami)
    recording = asterisk.recordings / f"sandbox-test-{uuid.uuid4().hex}.wav"
    try:
        async with acd_agi_at(ami, f"agi://127.0.0.1:{closed_port()}"):
            caller = SippCaller(CALLER, hangup_after=14.0, timeout=30,
                                workdir=tmp_path / "caller").start()
            join = await events.wait_for(lambda e: e.event == "QueueCallerJoin",
                                         "the caller joining the queue", timeout=12)
            await action(ami, Action="MixMonitor", Channel=join.Channel, File=str(recording))
            await caller.finished()
        await eventually(lambda: recording.exists() and not asterisk.channels(),
                         "the recording to be closed")
        with wave.open(str(recording)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
    finally:
        recording.unlink(missing_ok=True)

    assert seconds > 2.0
