"""The agent's call controls on the sandbox, asked the way the desk asks them (the API):
hold and resume (the caller hears music), consulting a colleague then transferring or
taking the call back, a three-way call that the agent leaves to the other two, and
picking up a colleague's ringing call (抢接) from the desk or with *8.
Asterisk does the work on the agent's leg (asterisk/features.conf); the record follows
the caller."""

from __future__ import annotations

import asyncio
import time
import wave

import pytest
from sipp import Dtmf, PhoneBehaviour, SippAgentDialer, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: queue support
AGENT = ("agent1001", "test-agent")


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")


@pytest.fixture
def agent_1001(acd):
    status, body = acd.agent_do("1001", "login")
    assert status == 200, body
    yield
    acd.agent_do("1001", "logout")


class AmiLog:
    """What Asterisk said about the calls, with the time it arrived."""

    def __init__(self, ami) -> None:
        self.events: list[tuple[float, dict[str, str]]] = []
        for name in ("MusicOnHoldStart", "MusicOnHoldStop", "BridgeEnter", "BridgeLeave",
                     "AttendedTransfer"):
            ami.register_event(name, lambda _m, e: self.events.append((time.time(), dict(e))))

    def of(self, name: str, since: float = 0.0) -> list[dict[str, str]]:
        return [e for at, e in self.events if e.get("Event") == name and at >= since]

    def bridge_members(self, bridge: str) -> set[str]:
        members: set[str] = set()
        for _at, e in self.events:
            if e.get("BridgeUniqueid") != bridge:
                continue
            if e.get("Event") == "BridgeEnter":
                members.add(e["Channel"])
            elif e.get("Event") == "BridgeLeave":
                members.discard(e["Channel"])
        return members


async def connected_call(acd, call_records, number: str) -> str:
    record = await call_records.wait_call_of(number)
    await call_records.wait_answered(record.call_id)
    return record.call_id


def control(acd, call_id: str, path: str, body=None) -> dict:
    status, reply = acd.api("POST", f"/api/calls/{call_id}/{path}", body or {}, user=AGENT)
    assert status == 202, reply
    return reply


async def until(check, timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.1)


async def test_the_desk_puts_the_caller_on_hold_with_music_and_hold_is_not_talk(
        acd, agent_1001, call_records, ami, asterisk, tmp_path):
    log = AmiLog(ami)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812345101", did=DIRECT, hangup_after=16.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, caller:
        call_id = await connected_call(acd, call_records, "13812345101")
        await asyncio.sleep(1.0)
        held_at = time.time()
        assert control(acd, call_id, "hold")["control"] == "hold"
        await until(lambda: any(e["Channel"].startswith("PJSIP/anonymous-")
                                for e in log.of("MusicOnHoldStart", held_at)),
                    what="music on hold for the caller")
        status, body = acd.api("POST", f"/api/calls/{call_id}/hold", {}, user=AGENT)
        assert status == 409 and "already on hold" in body["message"]
        await asyncio.sleep(4.0)
        control(acd, call_id, "unhold")
        resumed_at = time.time()
        await until(lambda: log.of("MusicOnHoldStop", resumed_at - 0.2),
                    what="the music stops")
        await asyncio.to_thread(caller.wait, 40)
        record = await call_records.wait_closed_call(call_id)
    assert abs(record.hold_seconds - (resumed_at - held_at)) < 1.0, record.hold_seconds
    assert record.outcome == "answered" and record.agent == "1001"
    with wave.open(record.recording) as w:  # the caller's side, music included
        assert w.getnframes() / w.getframerate() >= record.talk_seconds + record.hold_seconds - 1


async def test_a_consultation_completed_hands_the_caller_to_the_colleague(
        acd, agent_1001, call_records, ami, asterisk, tmp_path):
    log = AmiLog(ami)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812345102", did=DIRECT, hangup_after=22.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, caller:
        call_id = await connected_call(acd, call_records, "13812345102")
        await asyncio.sleep(2.0)
        consulted_at = time.time()
        assert control(acd, call_id, "consult", {"to": "1003"})["to"] == "1003"
        calls = await phones.wait_for_calls(2, timeout=10)
        assert calls[1].agent == "agent1003"
        await asyncio.sleep(3.0)  # the agents talk; the caller hears music
        assert log.of("MusicOnHoldStart", consulted_at)
        control(acd, call_id, "consult/complete")
        completed_at = time.time()
        await until(lambda: log.of("AttendedTransfer", consulted_at), what="the transfer")
        # the agent's part is over at once (no wrap-up in the tests' queues): free for the
        # next caller, though this one talks on
        await until(lambda: acd.agent("1001")["state"] == "available", what="1001 is free")
        await asyncio.to_thread(caller.wait, 40)
        first, colleague = phones.calls()[:2]
        record = await call_records.wait_closed_call(call_id)
    assert first.ended_by == "them" and first.ended_at < completed_at + 2
    assert colleague.ended_by == "them"  # the caller hung up on the colleague
    assert record.transfer == "consult:1003" and record.outcome == "transferred"
    assert record.agent == "1001" and record.hung_up_by == "caller"
    assert abs(record.hold_seconds - (completed_at - consulted_at)) < 1.5, record.hold_seconds
    with wave.open(record.recording) as w:  # the recording follows the caller to the end
        assert w.getnframes() / w.getframerate() > record.ended_at - completed_at


async def test_a_consultation_cancelled_returns_to_the_caller(
        acd, agent_1001, call_records, ami, asterisk, tmp_path):
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5),
                             {"agent1001": PhoneBehaviour(answer_after=0.5, talk_time=16.0)},
                             workdir=tmp_path / "phones")
    # the caller stays until acd hangs up, after the survey (answered with 1)
    caller = SippCaller("13812345103", did=DIRECT, hangup_after=None, timeout=45,
                        dtmf=[Dtmf(at, "1") for at in (21.0, 23.0, 25.0)],
                        workdir=tmp_path / "caller")
    with phones, caller:
        call_id = await connected_call(acd, call_records, "13812345103")
        await asyncio.sleep(1.0)
        control(acd, call_id, "consult", {"to": "1003"})
        await phones.wait_for_calls(2, timeout=10)
        await asyncio.sleep(2.0)
        cancelled_at = time.time()
        control(acd, call_id, "consult/cancel")
        status, body = acd.api("POST", f"/api/calls/{call_id}/consult/complete", {},
                               user=AGENT)
        assert status == 409 and "no consultation" in body["message"]
        await asyncio.to_thread(caller.wait, 45)
        first, colleague = phones.calls()[:2]
        record = await call_records.wait_closed_call(call_id)
    assert colleague.ended_by == "them" and colleague.ended_at < cancelled_at + 2
    assert first.ended_by == "us"  # the agent talked on with the caller, then hung up
    assert record.transfer == "" and record.outcome == "answered"
    assert record.hung_up_by == "agent" and 2.0 < record.hold_seconds < 5.0
    assert record.survey == "1"


async def test_a_three_way_call_puts_all_three_in_one_bridge_and_the_agent_may_leave(
        acd, agent_1001, call_records, ami, asterisk, tmp_path):
    log = AmiLog(ami)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5),
                             {"agent1001": PhoneBehaviour(answer_after=0.5, talk_time=16.0)},
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812345104", did=DIRECT, hangup_after=28.0, timeout=45,
                        workdir=tmp_path / "caller")
    with phones, caller:
        call_id = await connected_call(acd, call_records, "13812345104")
        await asyncio.sleep(1.0)
        control(acd, call_id, "consult", {"to": "1003"})
        await phones.wait_for_calls(2, timeout=10)
        await asyncio.sleep(2.0)
        control(acd, call_id, "conference")
        await until(lambda: any(e.get("DestType") == "Threeway"
                                for e in log.of("AttendedTransfer")), what="three-way call")
        bridge = log.of("AttendedTransfer")[-1]["DestBridgeUniqueid"]
        # the colleague's leg joins once its Local channel has optimised itself away
        three = ["PJSIP/agent1001", "PJSIP/agent1003", "PJSIP/anonymous"]
        await until(lambda: sorted(m.split("-")[0] for m in log.bridge_members(bridge))
                    == three, what=f"three in the bridge: {log.bridge_members(bridge)}")
        # the agent hangs up (16 s after answering): the other two talk on
        await until(lambda: acd.agent("1001")["state"] == "available", timeout=20,
                    what="1001 leaves the three-way call")
        left_at = time.time()
        await asyncio.sleep(1.0)
        assert sorted(m.split("-")[0] for m in log.bridge_members(bridge)) == \
            ["PJSIP/agent1003", "PJSIP/anonymous"]
        await asyncio.to_thread(caller.wait, 45)
        first, colleague = phones.calls()[:2]
        record = await call_records.wait_closed_call(call_id)
    assert first.ended_by == "us" and colleague.ended_by == "them"
    assert record.transfer == "conference:1003" and record.outcome == "transferred"
    assert "conference:1003" in record.ivr_path
    assert record.ended_at - left_at > 5  # the caller and the colleague went on


async def picked_up_call(acd, call_records, tmp_path, number: str, ringing: str, taker: str,
                         take) -> tuple:
    """`ringing`'s phone rings without answering (the queue rings 4 s); `taker` logs in
    and takes the call with `take(call_id)`; the caller talks 5 s with them."""
    assert acd.agent_do(ringing, "login")[0] == 200
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5),
                             {f"agent{ringing}": PhoneBehaviour("ignore"),
                              f"agent{taker}": PhoneBehaviour(answer_after=0.5,
                                                              talk_time=5.0)},
                             workdir=tmp_path / "phones")
    caller = SippCaller(number, did=DIRECT, hangup_after=None, timeout=40,
                        dtmf=[Dtmf(at, "1") for at in (14.0, 16.0, 18.0)],
                        workdir=tmp_path / "caller")
    try:
        with phones, caller:
            [rung] = await phones.wait_for_calls(1, timeout=10)
            assert rung.agent == f"agent{ringing}"
            record = await call_records.wait_call_of(number)
            assert acd.agent_do(taker, "login")[0] == 200
            taken_at = time.time()
            await take(record.call_id)
            await phones.wait_for_calls(2, timeout=10)
            await asyncio.to_thread(caller.wait, 40)
            calls = phones.calls()
        record = await call_records.wait_closed_call(record.call_id)
        missed = acd.agent(ringing)["missed_in_row"]
    finally:
        acd.agent_do(taker, "logout")
        acd.agent_do(ringing, "logout")
    return record, calls, taken_at, missed


async def test_an_agent_picks_up_a_colleagues_ringing_call_from_the_desk(
        acd, call_records, asterisk, tmp_path):
    async def take(call_id: str) -> None:
        status, body = acd.api("POST", f"/api/calls/{call_id}/pickup", {}, user=AGENT)
        assert status == 202 and body["call_id"] == call_id, body

    record, calls, taken_at, missed = await picked_up_call(
        acd, call_records, tmp_path, "13812345105", "1002", "1001", take)
    first, picked = calls[:2]
    assert picked.agent == "agent1001" and picked.answered_at - taken_at < 3.0
    assert first.outcome == "cancelled"  # the colleague's phone stopped ringing
    assert record.agent == "1001" and record.outcome == "answered"
    assert [(r["agent"], r["result"]) for r in record.rings] == \
        [("1002", "stopped"), ("1001", "answered")]
    assert missed == 0  # not a missed call of the colleague's


async def test_an_agent_picks_up_with_star_8_on_the_softphone(
        acd, call_records, asterisk, tmp_path):
    async def take(_call_id: str) -> None:
        dialer = SippAgentDialer("agent1002", "*8", hangup_after=None, timeout=15,
                                 workdir=tmp_path / "dial")
        with dialer:
            await asyncio.to_thread(dialer.wait, 15)
        [star8] = dialer.calls()
        assert star8.ended_by == "them"  # acd hangs up: the call rings the phone next

    record, calls, taken_at, missed = await picked_up_call(
        acd, call_records, tmp_path, "13812345106", "1001", "1002", take)
    assert calls[1].agent == "agent1002"
    assert record.agent == "1002" and record.outcome == "answered"
    assert [r["result"] for r in record.rings] == ["stopped", "answered"]
    assert missed == 0


async def test_consulting_a_queue_rings_a_free_colleague_of_it_who_keeps_the_caller(
        acd, agent_1001, call_records, ami, asterisk, tmp_path):
    log = AmiLog(ami)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812345107", did=DIRECT, hangup_after=24.0, timeout=40,
                        workdir=tmp_path / "caller")
    try:
        with phones, caller:
            call_id = await connected_call(acd, call_records, "13812345107")
            # nobody free in complaints (602): the consultation fails, back to the caller
            tried_at = time.time()
            control(acd, call_id, "consult", {"to": "602"})
            await until(lambda: log.of("MusicOnHoldStop", tried_at), what="back with the caller")
            assert len(phones.calls()) == 1
            assert acd.agent_do("1002", "login")[0] == 200
            await asyncio.sleep(1.0)
            consulted_at = time.time()
            control(acd, call_id, "consult", {"to": "602"})  # now 1002 is free
            calls = await phones.wait_for_calls(2, timeout=10)
            assert calls[1].agent == "agent1002"
            await until(lambda: acd.agent("1002")["state"] == "on-call", what="1002 taken")
            assert acd.agent("1002")["reason"] == "consult"
            await asyncio.sleep(2.0)
            control(acd, call_id, "consult/complete")
            await until(lambda: log.of("AttendedTransfer", consulted_at), what="the transfer")
            await until(lambda: acd.agent("1001")["state"] == "available", what="1001 is free")
            assert acd.agent("1002")["state"] == "on-call"  # talking with the caller
            await asyncio.to_thread(caller.wait, 40)
        record = await call_records.wait_closed_call(call_id)
        await until(lambda: acd.agent("1002")["state"] == "available", what="1002 given back")
    finally:
        acd.agent_do("1002", "logout")
    assert record.transfer == "consult:602" and record.outcome == "transferred"
    assert "consult:complaints:1002" in record.ivr_path
