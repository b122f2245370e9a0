"""acd's own death, on the real sandbox: no conversation is repeated, Asterisk's fallback
queue rings only the agents acd had at work, and when acd is back every record says what
happened (read back from Asterisk), never a plausible wrong value."""

from __future__ import annotations

import asyncio
import signal

import pytest
from acd_service import wait_for
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: queue support


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")


@pytest.fixture
def at_work(acd):
    """Log agents in (and pause some) through the API; log everyone out afterwards."""
    def login(*agents: str, paused: tuple[str, ...] = ()) -> None:
        for agent in agents:
            status, body = acd.agent_do(agent, "login")
            assert status == 200, body
        for agent in paused:
            status, body = acd.agent_do(agent, "pause", reason="meeting")
            assert status == 200, body
    yield login
    if acd.proc is None:
        acd.start()
    for agent in ("1001", "1002", "1003"):
        acd.agent_do(agent, "logout")


def fallback_members(asterisk) -> dict[str, str]:
    """acd-fallback's members as Asterisk shows them: name -> 'paused' | 'member'."""
    members = {}
    for line in asterisk.cli("queue show acd-fallback").splitlines():
        line = line.strip()
        if line.startswith("100") or line.startswith("agent"):
            name = line.split()[0]
            members[name] = "paused" if "paused" in line.lower() else "member"
    return members


async def test_the_fallback_queue_follows_the_agents_at_work_in_acd(acd, at_work, asterisk):
    at_work("1001", "1002", paused=("1002",))
    wait_for(lambda: fallback_members(asterisk) == {"1001": "member", "1002": "paused"},
             5, f"acd-fallback to hold 1001 and paused 1002: {fallback_members(asterisk)}")
    acd.agent_do("1002", "resume")
    acd.agent_do("1001", "logout")
    wait_for(lambda: fallback_members(asterisk) == {"1002": "member"}, 5,
             f"acd-fallback to hold only 1002: {fallback_members(asterisk)}")
    # a member acd does not know (added by hand) is removed at acd's next AMI login
    asterisk.cli("queue add member PJSIP/agent1009 to acd-fallback")
    acd.restart()
    wait_for(lambda: fallback_members(asterisk) == {"1002": "member"}, 10,
             f"acd-fallback corrected after a restart: {fallback_members(asterisk)}")


async def test_a_conversation_that_ends_while_acd_is_dead_is_never_repeated(
        acd, at_work, call_records, asterisk, tmp_path):
    at_work("1001", "1002")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=10.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340001", did=DIRECT, hangup_after=None, timeout=60,
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_call_of("13812340001")
        await call_records.wait_answered(record.call_id)
        await asyncio.to_thread(acd.stop, signal.SIGKILL)
        await asyncio.to_thread(caller.wait, 40)  # the dialplan says goodbye, hangs up
        await asyncio.sleep(2)  # a second INVITE would come now, if one came
        agent_calls = phones.calls()
    [call] = caller.calls()
    assert call.ended_by == "them"
    assert [c.agent for c in agent_calls] == ["agent1001"], "the caller was queued again"
    acd.start()
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "answered" and record.agent == "1001"
    assert record.hung_up_by == "agent" and "goodbye-without-acd" in record.ivr_path
    # from the bridge acd saw to the agent's hang-up (Asterisk's clock): not acd's
    # downtime, nor the caller's time since its answer (ANSWEREDTIME_MS)
    [agent_call] = agent_calls
    assert agent_call.ended_at is not None and record.answered_at is not None
    assert abs(record.answered_at + record.talk_seconds - agent_call.ended_at) < 1.0, record
    wait_for(lambda: acd.agent("1001")["state"] in ("available", "wrap-up"), 10,
             "agent 1001 freed")


async def test_callers_waiting_when_acd_dies_are_served_by_the_fallback_and_recorded(
        acd, at_work, call_records, asterisk, tmp_path):
    # 1001 and 1002 at work, 1003 paused, the rest logged out: the fallback queue must
    # ring 1001 and 1002 only
    at_work("1001", "1002", "1003", paused=("1003",))
    # the two first callers are still talking to 1001 and 1002 when acd dies, so the six
    # others are all waiting in acd's queue then
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=8.0),
                             workdir=tmp_path / "phones")
    busy_numbers = [f"1381234100{i}" for i in range(2)]
    waiting_numbers = [f"1381234200{i}" for i in range(6)]
    busy = SippCaller(busy_numbers, did=DIRECT, calls=2, rate=5, hangup_after=None,
                      timeout=90, port=5061, workdir=tmp_path / "busy")
    waiting = SippCaller(waiting_numbers, did=DIRECT, calls=6, rate=10, hangup_after=None,
                         timeout=150, port=5062, workdir=tmp_path / "waiting")
    with phones, busy:
        for number in busy_numbers:
            record = await call_records.wait_call_of(number)
            await call_records.wait_answered(record.call_id)
        with waiting:
            for number in waiting_numbers:
                await call_records.wait_queued_call_of(number)
            await asyncio.to_thread(acd.stop, signal.SIGKILL)
            # acd comes back while the fallback queue is still serving callers
            await asyncio.to_thread(wait_for, lambda: len(phones.calls()) >= 4, 40,
                                    "the fallback queue ringing agents")
            await asyncio.to_thread(acd.start)
            await asyncio.to_thread(
                wait_for, lambda: acd.api("GET", "/api/health")[1]["waiting"] == 0, 5,
                "no ghost callers waiting in acd")
            await asyncio.to_thread(waiting.wait, 150)
        await asyncio.to_thread(busy.wait, 90)
        agent_calls = phones.calls()
    assert {c.agent for c in agent_calls} <= {"agent1001", "agent1002"}
    assert len(agent_calls) == 8  # each caller answered once, none twice
    for number in waiting_numbers:
        record = await call_records.wait_call_of(number)
        record = await call_records.wait_closed_call(record.call_id, timeout=30)
        assert record.outcome == "answered-by-fallback", record
        assert record.agent in ("1001", "1002") and 6.0 <= record.talk_seconds <= 10.0, record
    for number in busy_numbers:
        record = await call_records.wait_call_of(number)
        record = await call_records.wait_closed_call(record.call_id, timeout=30)
        assert record.outcome == "answered" and record.hung_up_by == "agent", record



async def test_a_caller_who_hangs_up_mid_conversation_while_acd_is_dead_is_accounted_for(
        acd, at_work, call_records, asterisk, tmp_path):
    at_work("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=60.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340002", did=DIRECT, hangup_after=14.0, timeout=60,
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_call_of("13812340002")
        record = await call_records.wait_answered(record.call_id)
        await asyncio.to_thread(acd.stop, signal.SIGKILL)
        await asyncio.to_thread(caller.wait, 40)  # the caller hangs up while acd is dead
        [caller_call] = caller.calls()
    assert caller_call.ended_by == "us"
    await asyncio.sleep(1)
    acd.start()
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "answered" and record.agent == "1001", record
    assert record.hung_up_by == "caller" and record.survey == "not-surveyed", record
    # from the bridge acd saw to the caller's hang-up, on Asterisk's clock
    assert caller_call.ended_at is not None and record.answered_at is not None
    assert abs(record.answered_at + record.talk_seconds - caller_call.ended_at) < 1.0, record
    wait_for(lambda: acd.agent("1001")["state"] in ("available", "wrap-up"), 10,
             "agent 1001 freed")


async def test_a_live_acd_costs_the_dialplan_no_account(acd, at_work, call_records,
                                                        asterisk, tmp_path):
    """The h extension writes into AstDB only when no acd is alive (ACD_ALIVE_AT)."""
    at_work("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=60.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340003", did=DIRECT, hangup_after=8.0, timeout=60,
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_call_of("13812340003")
        await asyncio.to_thread(caller.wait, 40)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "answered" and record.hung_up_by == "caller", record
    assert record.call_id not in asterisk.cli("database show acd-lost")


async def test_a_call_that_comes_and_goes_while_acd_is_down_is_in_the_books(
        acd, at_work, call_records, asterisk, tmp_path):
    at_work("1001")
    wait_for(lambda: fallback_members(asterisk) == {"1001": "member"}, 5,
             f"acd-fallback to hold 1001: {fallback_members(asterisk)}")
    await asyncio.to_thread(acd.stop, signal.SIGKILL)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=4.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340004", did=DIRECT, hangup_after=None, timeout=60,
                        workdir=tmp_path / "caller")
    with phones, caller:
        # music while no acd answers, then Asterisk's fallback queue rings 1001
        await asyncio.to_thread(caller.wait, 45)
        agent_calls = phones.calls()
    [agent_call] = agent_calls
    assert agent_call.agent == "agent1001" and agent_call.answered_at and agent_call.ended_at
    assert "13812340004" in asterisk.cli("database show acd-lost")  # the dialplan's account
    assert await call_records.calls_of("13812340004") == []  # no acd saw the call
    acd.start()
    [record] = await call_records.wait_until(
        lambda: call_records.calls_of("13812340004"), "the call's record", 20)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "answered-by-fallback" and record.agent == "1001", record
    assert record.called == DIRECT and record.hung_up_by == "agent", record
    assert "fallback-queue" in record.ivr_path
    assert abs(record.talk_seconds - (agent_call.ended_at - agent_call.answered_at)) < 1.5
    assert "13812340004" not in asterisk.cli("database show acd-lost")  # forgotten


async def test_an_agent_who_hangs_up_during_the_announcement_as_acd_dies_served_nobody(
        acd, at_work, call_records, asterisk, tmp_path):
    # 1001 answers and hangs up 1 s later, during the ~3 s 报工号: Dial says ANSWER, but
    # the caller talked to nobody, so the dialplan must not say goodbye: the fallback
    # queue serves them (where there is no 报工号, so the second call is a conversation)
    at_work("1001")
    wait_for(lambda: fallback_members(asterisk) == {"1001": "member"}, 5,
             f"acd-fallback to hold 1001: {fallback_members(asterisk)}")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=1.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340005", did=DIRECT, hangup_after=None, timeout=60,
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_call_of("13812340005")
        await phones.wait_for_calls(1, timeout=10)  # 1001 rings
        await asyncio.to_thread(acd.stop, signal.SIGKILL)
        await asyncio.to_thread(caller.wait, 45)
        agent_calls = phones.calls()
    assert [c.agent for c in agent_calls] == ["agent1001", "agent1001"], agent_calls
    acd.start()
    record = await call_records.wait_closed_call(record.call_id, timeout=20)
    assert record.outcome == "answered-by-fallback" and record.agent == "1001", record
