"""acd's death with a caller waiting in one queue, on the real sandbox: Asterisk's twin of
that queue (acd-fallback-<queue>, written by `acd asterisk-queues` at the sandbox's start)
rings that queue's agents only, never an agent at work in another queue."""

from __future__ import annotations

import asyncio
import signal

import pytest
from acd_service import wait_for
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

COMPLAIN = "4008000001"  # tests/integration/flows/complain.yaml: queue complaints


def members_of(asterisk, queue: str) -> dict[str, str]:
    """A native queue's members as Asterisk shows them: name -> 'paused' | 'member'."""
    members = {}
    for line in asterisk.cli(f"queue show {queue}").splitlines():
        line = line.strip()
        if line.startswith("100"):
            name = line.split()[0]
            members[name] = "paused" if "paused" in line.lower() else "member"
    return members


async def test_a_caller_waiting_in_one_queue_when_acd_dies_rings_only_that_queues_agents(
        acd_factory, call_records, asterisk, tmp_path):
    acd = acd_factory(ACD_TEST_SECOND_FLOW="complain", ACD_TEST_START_AT="")
    # 1003 serves complaints (and support); 1004 serves support only
    for agent in ("1003", "1004"):
        status, body = acd.agent_do(agent, "login")
        assert status == 200, body
    try:
        await asyncio.to_thread(
            wait_for, lambda: members_of(asterisk, "acd-fallback-complaints") == {
                "1003": "member"} and set(members_of(asterisk, "acd-fallback-support")) == {
                "1003", "1004"}, 5,
            "the twins to hold the queues' agents: "
            f"{members_of(asterisk, 'acd-fallback-complaints')}, "
            f"{members_of(asterisk, 'acd-fallback-support')}")
        phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=8.0),
                                 workdir=tmp_path / "phones")
        talking = SippCaller("13812343001", did=COMPLAIN, hangup_after=None, timeout=60,
                             port=5061, workdir=tmp_path / "talking")
        waiting = SippCaller("13812343002", did=COMPLAIN, hangup_after=None, timeout=90,
                             port=5062, workdir=tmp_path / "waiting")
        with phones, talking:
            record = await call_records.wait_call_of("13812343001")
            await call_records.wait_answered(record.call_id)  # 1003 talks to the first
            with waiting:
                # the second waits in complaints: 1004 is free but not of that queue
                queued = await call_records.wait_queued_call_of("13812343002")
                await asyncio.to_thread(acd.stop, signal.SIGKILL)
                # the fallback holds the caller for 1003 (in acd-fallback-complaints),
                # who is rung once the first conversation ends
                await asyncio.to_thread(waiting.wait, 90)
            await asyncio.to_thread(talking.wait, 60)
            agent_calls = phones.calls()
        assert [c.agent for c in agent_calls] == ["agent1003", "agent1003"], \
            "an agent of another queue was rung by the fallback"
        await asyncio.to_thread(acd.start)
        record = await call_records.wait_closed_call(queued.call_id, timeout=30)
        assert record.outcome == "answered-by-fallback" and record.agent == "1003", record
    finally:
        if acd.proc is None:
            acd.start()
        for agent in ("1003", "1004"):
            acd.agent_do(agent, "logout")
