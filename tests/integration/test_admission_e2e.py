"""Shedding load on the real sandbox: past acd's admission caps a new caller hears "lines
busy" and is hung up, or goes to Asterisk's own queue, while the caller acd took on is
served. (acd here takes one call at a time: admission.max_sessions 1.)"""

from __future__ import annotations

import asyncio

import pytest
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # enters tests/integration/flows/direct.yaml: queue support
FIRST, SECOND = "13822220001", "13822220002"


async def run_caller(caller: SippCaller) -> None:
    with caller:
        await asyncio.to_thread(caller.wait, caller.timeout)


async def test_a_caller_past_the_session_cap_hears_lines_busy_and_is_hung_up(
        acd_factory, call_records, asterisk, tmp_path):
    acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="",
                ACD_TEST_MAX_SESSIONS="1", ACD_TEST_SHED_TO="busy")
    # nobody is logged in: the first caller waits in the queue, holding acd's one place;
    # the second arrives a second later, and both would hang up 10 s after the answer
    callers = SippCaller([FIRST, SECOND], did=DIRECT, calls=2, rate=1.0, hangup_after=10.0,
                         timeout=40, workdir=tmp_path / "callers")
    await run_caller(callers)
    first, second = sorted(callers.calls(), key=lambda c: c.number)
    assert first.party == FIRST and first.ended_by == "us"  # waited until it gave up
    assert second.party == SECOND and second.final_status == 200
    assert second.ended_by == "them"  # acd hung up after the prompt
    assert second.answered_at is not None and second.ended_at is not None
    assert second.ended_at - second.answered_at < 8  # a short prompt, not the queue

    record = await call_records.wait_call_of(SECOND)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "shed" and record.hung_up_by == "system"
    assert record.ivr_path == ["admission:sessions:busy"]
    assert not record.queues and not record.agent
    waited = await call_records.wait_call_of(FIRST)
    waited = await call_records.wait_closed_call(waited.call_id)
    assert waited.outcome == "abandoned" and waited.queues == ["support"]


async def test_a_caller_past_the_session_cap_is_answered_by_asterisks_own_queue(
        acd_factory, call_records, asterisk, tmp_path):
    acd = acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="",
                      ACD_TEST_MAX_SESSIONS="1", ACD_TEST_SHED_TO="fallback")
    for agent in ("1001", "1002"):
        status, body = acd.agent_do(agent, "login")
        assert status == 200, body
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=15.0),
                             workdir=tmp_path / "phones")
    # the first caller talks to an agent through acd; the second, 1 s later, is shed to
    # the dialplan's fallback, whose queue rings the other agent
    callers = SippCaller([FIRST, SECOND], did=DIRECT, calls=2, rate=1.0, hangup_after=8.0,
                         timeout=40, workdir=tmp_path / "callers")
    try:
        with phones:
            await run_caller(callers)
            agent_calls = phones.calls()
    finally:
        for agent in ("1001", "1002"):
            acd.agent_do(agent, "logout")
    assert [c.final_status for c in sorted(callers.calls(), key=lambda c: c.number)] == [
        200, 200]
    answered = [c for c in agent_calls if c.outcome == "answered"]
    assert len(answered) == 2 and answered[0].agent != answered[1].agent

    record = await call_records.wait_call_of(SECOND)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "shed" and record.ivr_path == ["admission:sessions:fallback"]
    served = await call_records.wait_call_of(FIRST)
    served = await call_records.wait_closed_call(served.call_id)
    assert served.outcome == "answered" and served.agent in ("1001", "1002")
