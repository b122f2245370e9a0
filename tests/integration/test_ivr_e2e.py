"""IVR flows, schedules and caller lists on the real sandbox, driven by sipp callers
pressing keys (SIP INFO); outcomes read from the call records in Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
from acd_service import wait_for
from sipp import Dtmf, PhoneBehaviour, SippAgentPhones, SippCaller

from acd.rules.caller_entries import make_entry

pytestmark = pytest.mark.integration

MAIN = "4008001234"  # ivr_flows/main.yaml, Mandarin
SECOND = "4008000001"


async def call(number: str, did: str, tmp_path, *, dtmf=(), hangup_after=None,
               timeout=40.0, port: int = 5061) -> SippCaller:
    caller = SippCaller(number, did=did, dtmf=list(dtmf), hangup_after=hangup_after,
                        timeout=timeout, workdir=tmp_path / f"caller-{number}", port=port)
    with caller:
        await asyncio.to_thread(caller.wait, timeout)
    return caller


@pytest.fixture(scope="module")
def acd_open(acd_factory):
    """Tuesday 2026-11-24 10:00 Beijing time: the support line is open."""
    return acd_factory(ACD_TEST_START_AT="2026-11-24T10:00:00", ACD_TEST_SECOND_FLOW="hot")


async def test_keys_pressed_by_the_caller_lead_to_the_intended_branch(
        acd_open, call_records, asterisk, tmp_path):
    # 1 (interrupts the welcome, kept for the main menu) -> product menu; 1 -> hardware.
    await call("13600000001", MAIN, tmp_path, dtmf=[Dtmf(2.0, "1"), Dtmf(5.0, "1")],
               hangup_after=14.0)
    record = await call_records.wait_call_of("13600000001")
    record = await call_records.wait_closed_call(record.call_id)
    assert "main:main_menu" in record.ivr_path
    assert record.ivr_path[-2:] == ["main:product_menu", "main:hardware_queue"]
    assert record.queues == ["support"] and record.outcome == "abandoned"


async def test_order_status_is_looked_up_over_http_with_the_collected_number(
        acd_open, call_records, asterisk, tmp_path):
    await call("13600000002", MAIN, tmp_path,
               dtmf=[Dtmf(2.0, "2"), *Dtmf.sequence("123456#", start=5.0)],
               hangup_after=14.0)
    record = await call_records.wait_call_of("13600000002")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.variables.get("order") == "123456"
    assert "main:order_lookup" in record.ivr_path
    assert record.variables.get("status") == "shipped"
    assert "main:status_shipped" in record.ivr_path


async def test_a_caller_who_presses_nothing_is_queued_for_an_operator_within_45_seconds(
        acd_open, call_records, asterisk, tmp_path):
    # the welcome, the menu, 4 s, the short retry, 3 s, the operator's prompt: ~40 s of
    # espeak-ng's Mandarin (acd check times it); it was ~100 s
    await call("13600000003", MAIN, tmp_path, hangup_after=50.0, timeout=65)
    record = await call_records.wait_call_of("13600000003")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path[-3:] == ["main:main_menu", "main:menu_again", "main:operator"]
    assert record.queues == ["support"]
    assert record.enqueued_at - record.arrived_at < 45


async def test_a_vip_customer_of_the_demo_crm_skips_the_menus_into_the_vip_queue(
        acd_open, call_records, asterisk, tmp_path):
    # acd's own /api/demo/customers/{caller} (acd/adapters/http/demo.py) says "vip"
    await call("13800000888", MAIN, tmp_path, hangup_after=25.0, timeout=40)
    record = await call_records.wait_call_of("13800000888")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path[-3:] == ["main:vip_check", "main:is_vip", "main:vip_queue"]
    assert record.variables.get("tier") == "vip" and record.queues == ["vip"]


async def test_a_blacklisted_caller_is_rejected_as_configured(
        acd_open, caller_lists, call_records, asterisk, tmp_path):
    await caller_lists.add(make_entry("black", "prefix", "170", "hangup", note="fraud range"))
    caller = await call("17012345678", MAIN, tmp_path, timeout=15)
    assert not caller.calls()[0].answered  # refused without being answered
    record = await call_records.wait_call_of("17012345678")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "blocked" and record.rule == "blacklist prefix 170"
    assert record.ivr_path == ["rule:black:hangup"]


async def test_an_announce_entry_plays_a_message_then_hangs_up(
        acd_open, caller_lists, call_records, asterisk, tmp_path):
    await caller_lists.add(make_entry("black", "exact", "13900001111", "announce",
                                      "blocked"))
    caller = await call("13900001111", MAIN, tmp_path, timeout=20)
    [sip] = caller.calls()
    assert sip.answered and sip.ended_by == "them"
    record = await call_records.wait_call_of("13900001111")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "blocked" and record.ivr_path == ["rule:black:announce"]


async def test_a_whitelisted_vip_skips_the_menu_into_the_dedicated_queue(
        acd_open, caller_lists, call_records, asterisk, tmp_path):
    await caller_lists.add(make_entry("white", "exact", "13988889999", "queue", "queue:vip",
                                      priority=10))
    await call("13988889999", MAIN, tmp_path, hangup_after=3.0, timeout=15)
    record = await call_records.wait_call_of("13988889999")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.queues == ["vip"] and record.ivr_path == ["rule:white:queue"]


async def test_a_saved_flow_edit_is_live_for_the_next_call_and_spares_the_current_one(
        acd_open, call_records, asterisk, tmp_path):
    flow = acd_open.flows_dir / "hot.yaml"
    original = flow.read_text()
    in_progress = SippCaller("13611110000", did=SECOND, hangup_after=None, timeout=30,
                             workdir=tmp_path / "first")
    with in_progress:
        # wait until the first call is in the flow (playing node a1 of version 1)
        await call_records.wait_call_of("13611110000", timeout=5)
        flow.write_text(
            "start: b1\nnodes:\n  b1:\n    type: play\n    prompt: {sound: beep}\n"
            "    next: b2\n  b2:\n    type: hangup\n")
        saved = time.monotonic()
        wait_for(lambda: "version 2 live" in acd_open.log_text(), 2.0, "the edit to go live")
        reload_seconds = time.monotonic() - saved
        try:
            await call("13611112222", SECOND, tmp_path, timeout=20, port=5063)
            await asyncio.to_thread(in_progress.wait, 30)
        finally:
            lives = acd_open.log_text().count(" live: ")
            flow.write_text(original)
            wait_for(lambda: acd_open.log_text().count(" live: ") > lives, 3.0,
                     "the original flow to be live again")
    first = await call_records.wait_call_of("13611110000")
    second = await call_records.wait_call_of("13611112222")
    first = await call_records.wait_closed_call(first.call_id)
    second = await call_records.wait_closed_call(second.call_id)
    assert first.ivr_path == ["hot:a1", "hot:a2", "hot:a3"]  # undisturbed, version 1
    assert second.ivr_path == ["hot:b1", "hot:b2"]
    assert reload_seconds < 2.0


async def test_a_broken_edit_is_rejected_and_the_running_version_keeps_serving(
        acd_open, call_records, asterisk, tmp_path):
    flow = acd_open.flows_dir / "hot.yaml"
    original = flow.read_text()
    assert "next: a2" in original
    flow.write_text(original.replace("next: a2", "next: nowhere"))
    try:
        wait_for(lambda: "nowhere" in acd_open.log_text(), 3.0, "the rejection to be logged")
        line = next(line for line in acd_open.log_text().splitlines() if "nowhere" in line)
        assert "hot.yaml:" in line  # file:line:column
        await call("13611113333", SECOND, tmp_path, timeout=20)
    finally:
        flow.write_text(original)
    record = await call_records.wait_call_of("13611113333")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path[0] == "hot:a1"


@pytest.mark.parametrize(
    ("start_at", "branch", "state"),
    [("2026-11-24T20:00:00", "main:after_hours", "closed"),   # Tuesday evening
     ("2026-10-01T10:00:00", "main:holiday", "holiday"),      # National Day (国庆节)
     ("2026-12-24T10:00:00", "main:after_hours", "closed")],  # a company date: closed
)
async def test_after_hours_and_holidays_take_their_branches(
        acd_factory, call_records, asterisk, tmp_path, start_at, branch, state):
    acd_factory(ACD_TEST_START_AT=start_at)
    number = "1350000" + start_at[5:7] + start_at[8:10]
    await call(number, MAIN, tmp_path, hangup_after=4.0, timeout=15)
    record = await call_records.wait_call_of(number)
    record = await call_records.wait_closed_call(record.call_id)
    assert branch in record.ivr_path
    assert (record.schedule, record.schedule_state) == ("support", state)


@pytest.fixture(scope="module")
def acd_closed(acd_factory):
    """Tuesday 2026-11-24 20:00 Beijing time: after hours, the closed menu (1: leave a
    message, 2: the engineer on duty, 8100 in [acd-transfer]: supervisor1's phone)."""
    return acd_factory(ACD_TEST_START_AT="2026-11-24T20:00:00")


async def test_an_urgent_caller_after_hours_is_put_through_to_the_engineer_on_duty(
        acd_closed, call_records, asterisk, tmp_path):
    engineer = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=3.0), port=5073,
                               workdir=tmp_path / "engineer")
    with engineer:
        await call("13500002001", MAIN, tmp_path, dtmf=[Dtmf(2.0, "2")], timeout=40)
        [rang] = engineer.calls()
    assert rang.agent == "supervisor1" and rang.outcome == "answered"
    record = await call_records.wait_call_of("13500002001")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path[-1] == "main:on_duty"
    assert record.outcome == "transferred" and record.transfer == "8100"


async def test_when_the_engineer_on_duty_does_not_answer_the_caller_leaves_a_message(
        acd_closed, call_records, asterisk, tmp_path):
    inbox = asterisk.repo / "var/sandbox/spool/voicemail/default/8000/INBOX"
    before = set(inbox.glob("msg*.wav")) if inbox.exists() else set()
    engineer = SippAgentPhones(PhoneBehaviour("reject", answer_after=0.5), port=5073,
                               workdir=tmp_path / "engineer")
    with engineer:
        # the on-duty prompt, the ring, the prompt to leave a message, the beep (~15 s),
        # then a few seconds of message, ended by hanging up
        caller = await call("13500002002", MAIN, tmp_path, dtmf=[Dtmf(2.0, "2")],
                            hangup_after=21.0, timeout=40)
        [rang] = engineer.calls()
    assert rang.outcome == "rejected"
    assert caller.calls()[0].ended_by == "us"
    messages = wait_for(lambda: set(inbox.glob("msg*.wav")) - before, 5.0,
                        "the message in mailbox 8000")
    assert len(messages) == 1
    record = await call_records.wait_call_of("13500002002")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path[-2:] == ["main:on_duty", "main:voicemail"]
    assert record.outcome == "voicemail"
