"""An agent's own calls on the sandbox: a 回访 of an earlier caller from the call history
rings the agent's phone, then the customer's, who sees the 400 number; the agent never
gets the customer's number (API, phone display); the call is recorded with a record of
its own; the agent is offered no caller meanwhile."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

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


async def test_a_callback_from_the_history_reaches_the_customer_behind_the_number_firewall(
        acd, agent_1001, call_records, asterisk, tmp_path):
    # an earlier call of the customer's, answered by 1001
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812349999", did=DIRECT, hangup_after=6.0, timeout=30,
                        workdir=tmp_path / "caller")
    with phones, caller:
        await asyncio.to_thread(caller.wait, 30)
    earlier = await call_records.wait_call_of("13812349999")
    earlier = await call_records.wait_closed_call(earlier.call_id)
    assert earlier.outcome == "answered"
    await asyncio.sleep(6)  # the queue's wrap-up (5 s) is over

    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones2")
    customers = SippAgentPhones(PhoneBehaviour(answer_after=1.0, talk_time=6.0), port=5074,
                                workdir=tmp_path / "customers")
    with phones, customers:
        status, placed = acd.api("POST", "/api/outbound", {"call_id": earlier.call_id},
                                 user=AGENT)
        assert status == 202, placed
        # the agent's screen gets a masked number only
        assert "13812349999" not in str(placed) and placed["to"] == "13******999"
        [agent_leg] = await phones.wait_for_calls(1, timeout=10)
        assert agent_leg.agent == "agent1001"
        assert "13812349999" not in agent_leg.from_user  # the phone shows it masked
        assert acd.agent("1001")["state"] == "on-call"
        # a caller who calls meanwhile is not offered to the agent on their own call
        waiting = SippCaller("13812340001", did=DIRECT, hangup_after=4.0, timeout=20,
                             workdir=tmp_path / "waiting")
        with waiting:
            [customer_leg] = await customers.wait_for_calls(1, timeout=10)
            await asyncio.to_thread(waiting.wait, 20)
        assert customer_leg.agent == "13812349999"  # the number dialled
        assert customer_leg.from_user == "4008001234"  # the customer sees the 400 number
        record = await call_records.wait_closed_call(placed["call_id"], timeout=30)
    assert len(phones.calls()) == 1  # the waiting caller never rang the agent
    assert record.direction == "outbound" and record.caller == "13812349999"
    assert record.agent == "1001" and record.outcome == "answered"
    assert record.hung_up_by == "caller"  # the customer hung up
    assert 4.0 < record.talk_seconds < 8.0, record.talk_seconds
    assert record.variables["outbound_for"] == earlier.call_id
    assert Path(record.recording).is_file()
    with wave.open(record.recording) as w:
        assert w.getnframes() / w.getframerate() >= 4.0
    # free again for callers: no wrap-up after an own call
    assert acd.agent("1001")["state"] == "available"


async def test_own_calls_that_cannot_be_placed_are_refused_with_the_reason(
        acd, agent_1001, asterisk):
    status, body = acd.api("POST", "/api/outbound", {"number": "13800138000"}, user=AGENT)
    assert status == 403, body  # an agent may not dial numbers they typed
    status, body = acd.api("POST", "/api/outbound", {"call_id": "nope"}, user=AGENT)
    assert status == 404, body
    status, body = acd.api("POST", "/api/outbound", {"call_id": "a", "number": "1"},
                           user=AGENT)
    assert status == 400, body
    status, body = acd.api("POST", "/api/outbound", {"extension": "1002"})
    assert status == 403, body  # admin is no agent
    acd.agent_do("1001", "logout")
    status, body = acd.api("POST", "/api/outbound", {"extension": "1002"}, user=AGENT)
    assert status == 409, body  # not logged in
