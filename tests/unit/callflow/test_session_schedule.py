"""The call record says which schedule decided the call's way and what it said (open,
closed or holiday), and says nothing of schedules when none was consulted."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import DID, Call

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.record import CallRecord
from acd.ivr.flowset import build_flowset
from acd.ivr.model import FlowSet
from acd.ivr.schedule import ScheduleDecision, ScheduleState
from acd.rules.caller_entries import make_entry
from acd.rules.callers import RuleDecision

HOURS = """
nodes:
  hours: {type: schedule, schedule: support, open: queue, closed: closed, holiday: holiday}
  queue: {type: queue, queue: support}
  closed: {type: hangup, prompt: {text: 下班了}}
  holiday: {type: hangup, prompt: {text: 放假了}}
"""


def flows() -> FlowSet:
    flowset, errors = build_flowset(
        {Path("hours.yaml"): HOURS, Path("direct.yaml"): "nodes:\n  q: {type: queue, queue: "
                                                         "support}\n"},
        known_queues=["support"], schedule_names=["support"], library=None,
        extra_variables=("lang",))
    assert flowset is not None, errors
    return flowset


def call_to(flow: str) -> Call:
    return Call.new(flows=flows(), numbers={DID: (flow, "zh")})


def decided(call: Call, state: ScheduleState) -> None:
    call.settle()
    assert call.waiting_for == o.CheckSchedule("support")
    call.feed(f.ScheduleDecided(ScheduleDecision(state)))
    call.settle()


@pytest.mark.parametrize("state", ["closed", "holiday"])
def test_a_call_the_schedule_turned_away_records_the_schedule_and_its_state(
        state: ScheduleState):
    call = call_to("hours")
    decided(call, state)
    call.end()
    assert call.closed == 1 and call.stored["outcome"] == "ivr-hangup"
    assert (call.stored["schedule"], call.stored["schedule_state"]) == ("support", state)


def test_a_caller_queued_in_open_hours_has_the_schedule_in_the_record_written_in_queue():
    call = call_to("hours")
    decided(call, "open")
    assert call.of_kind(o.OpenRecord), "the record is written as the caller is queued"
    assert (call.stored["schedule"], call.stored["schedule_state"]) == ("support", "open")
    assert call.routing_kinds() == ["CallQueued"]


def test_a_call_that_consulted_no_schedule_has_no_schedule_fields_at_all():
    call = call_to("direct")
    call.settle()
    call.feed(f.CallerHungUp())
    call.end()
    assert call.closed == 1
    assert "schedule" not in call.stored and "schedule_state" not in call.stored
    stored = call.record.to_hash()  # as the store writes a record
    assert "schedule" not in stored and "schedule_state" not in stored
    assert CallRecord.from_hash(stored).schedule_state == ""  # read back: not known


def test_a_blocked_caller_never_reaches_a_schedule_and_its_record_names_none():
    call = Call.new(flows=flows(), numbers={DID: ("hours", "zh")})
    entry = make_entry("black", "exact", "13800138000", "hangup")
    call.feed(f.RuleDecided(RuleDecision.of(entry)))
    call.settle()
    call.end()
    assert call.stored["outcome"] == "blocked"
    assert "schedule" not in call.stored and "schedule_state" not in call.stored
