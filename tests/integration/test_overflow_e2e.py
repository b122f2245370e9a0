"""A queue's overflow rule on the real sandbox: a caller nobody in `spill` serves is
moved to complaints after 3 s (tests/integration/config.yaml), complaints' agent
answers, and the call's record and history say where it went and who answered."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from acd_service import wait_for
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HISTORY_DB = REPO / "var" / "integration-history.db"
SPILL = "4008000001"  # enters tests/integration/flows/spill.yaml: queue spill


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="spill", ACD_TEST_START_AT="")


@pytest.fixture
def logged_in(acd):
    def login(*agents: str) -> None:
        for agent in agents:
            status, body = acd.agent_do(agent, "login")
            assert status == 200, body
    yield login
    for agent in ("1001", "1002", "1003"):
        acd.agent_do(agent, "logout")


def history_of(call_id: str) -> tuple[dict, list[str]] | None:
    """The call's row in the history and the queues it left (None until it is there)."""
    if not HISTORY_DB.exists():
        return None
    with sqlite3.connect(HISTORY_DB) as db:
        db.row_factory = sqlite3.Row
        try:
            call = db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            left = db.execute("SELECT queue FROM queue_departures WHERE call_id = ? "
                              "ORDER BY position", (call_id,)).fetchall()
        except sqlite3.OperationalError:  # not created yet
            return None
    return (dict(call), [row["queue"] for row in left]) if call else None


async def test_a_caller_moved_by_an_overflow_rule_is_answered_and_recorded_in_the_target_queue(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1002")  # complaints' agent; spill's member (1006) never logs in
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812346666", did=SPILL, hangup_after=15.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_queued_call_of("13812346666")
        assert record.queues[:1] == ["spill"]
        await phones.wait_for_calls(1, timeout=15)
        await asyncio.to_thread(caller.wait, 40)
        calls = [(c.agent, c.outcome) for c in phones.calls()]
    assert calls == [("agent1002", "answered")]
    record = await call_records.wait_closed_call(record.call_id)
    assert record.queues == ["spill", "complaints"] and record.agent == "1002"
    assert record.outcome == "answered" and record.hung_up_by == "caller"
    assert record.answered_at - record.enqueued_at >= 3.0  # after the rule, not before
    assert [ring["queue"] for ring in record.rings] == ["complaints"]
    # the history counts it in complaints, and as overflowed out of spill
    call, left = wait_for(lambda: history_of(record.call_id), 15,
                          "the call in the history database")
    assert (call["queue"], call["agent"], call["outcome"]) == ("complaints", "1002",
                                                               "answered")
    assert left == ["spill"]


async def channel_variable(ami, caller: str, name: str) -> str | None:
    """`name` on the caller's channel (None while it has none)."""
    listed = await asyncio.wait_for(ami.send_action({"Action": "CoreShowChannels"}), 10)
    channels = [m.Channel for m in listed if getattr(m, "CallerIDNum", None) == caller
                and str(m.Channel).startswith("PJSIP/anonymous-")]
    if not channels:
        return None
    reply = await asyncio.wait_for(ami.send_action(
        {"Action": "Getvar", "Channel": channels[0], "Variable": name}), 10)
    return getattr(reply, "Value", None)


async def test_a_moved_caller_is_in_its_new_queues_twin_should_acd_go_away(
        acd, ami, call_records, asterisk, tmp_path):
    """No agent in spill or complaints: after the move the channel names complaints for
    [acd-inbound]'s fallback (ACD_QUEUE), where it named spill before."""
    caller = SippCaller("13812347777", did=SPILL, hangup_after=9.0, timeout=30,
                        workdir=tmp_path / "caller")
    with caller:
        record = await call_records.wait_queued_call_of("13812347777")
        assert await call_records.wait_until(
            lambda: channel_variable(ami, "13812347777", "ACD_QUEUE"), "ACD_QUEUE set",
            timeout=3) == "spill"
        await call_records.wait_until(
            lambda: _moved(call_records, record.call_id), "the move to complaints",
            timeout=10)

        async def complaints() -> str | None:
            value = await channel_variable(ami, "13812347777", "ACD_QUEUE")
            return value if value == "complaints" else None

        await call_records.wait_until(complaints, "ACD_QUEUE naming complaints", timeout=3)
        await asyncio.to_thread(caller.wait, 30)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.queues == ["spill", "complaints"] and record.outcome == "abandoned"


async def _moved(call_records, call_id: str) -> bool | None:
    record = await call_records.call(call_id)
    return True if record is not None and record.queues == ["spill", "complaints"] else None
