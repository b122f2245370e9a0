"""Callers: order, skills, overflow, max wait, empty queues, announcements, callbacks, stats."""

from __future__ import annotations

import pytest
from routing_harness import Harness, agent, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.errors import CallbackNotPossible, DuplicateCall, UnknownQueue
from acd.core.model import OverflowMode, OverflowRule


def test_a_caller_is_offered_at_once_when_an_agent_is_available():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    out = h.call("c1")
    assert out[-1] == cmd.RingAgents("c1", "sales", (cmd.RingTarget("1001", "PJSIP/1001"),), 15.0)


def test_a_waiting_caller_is_offered_the_moment_an_agent_becomes_available():
    h = Harness([queue(members=["1001"])])
    h.call("c1")
    assert h.rung() == []
    h.login("1001")
    assert h.rung("c1") == ["1001"]


def test_higher_priority_callers_are_served_first_then_by_arrival():
    h = Harness([queue(members=["1001"])])
    h.call("normal1")
    h.advance(1)
    h.call("vip", priority=5)
    h.advance(1)
    h.call("normal2")
    h.call("vip2", priority=5)
    h.login("1001")
    order = []
    for _ in range(4):
        call_id = h.of(cmd.RingAgents)[0].call_id
        order.append(call_id)
        h.answer(call_id, "1001")
        h.hang_up(call_id, "1001")
    assert order == ["vip", "vip2", "normal1", "normal2"]


def test_a_caller_needing_skills_is_offered_only_to_agents_who_have_them():
    h = Harness([queue(members=["1001", "1002"])],
                agents=[agent("1001", "mandarin"), agent("1002", "mandarin", "english")])
    h.login("1001", "1002")
    h.call("c1", skills=["english"])
    assert h.rung("c1") == ["1002"]
    h.call("c2", skills=["english"])
    assert h.rung() == []  # 1001 is free but cannot take it
    h.call("c3", skills=["mandarin"])
    assert h.rung("c3") == ["1001"]


def test_an_agent_skips_callers_it_cannot_serve_and_takes_the_next_it_can():
    h = Harness([queue(members=["1001"])], agents=[agent("1001", "mandarin")])
    h.call("c1", skills=["english"])
    h.call("c2")
    h.login("1001")
    assert h.of(cmd.RingAgents)[0].call_id == "c2"


def test_overflow_offers_the_caller_to_a_second_queue_after_some_time():
    rule = OverflowRule(after_seconds=30, target="backup")
    h = Harness([queue(members=["1001"], overflow=(rule,)), queue("backup", members=["2001"])])
    h.login("2001")
    h.call("c1")
    assert h.rung() == []
    h.advance(29)
    assert h.rung() == []
    h.advance(1)
    assert h.of(cmd.RingAgents) == [
        cmd.RingAgents("c1", "backup", (cmd.RingTarget("2001", "PJSIP/2001"),), 15.0)]


def test_with_overflow_also_the_first_queue_still_serves_the_caller():
    rule = OverflowRule(after_seconds=30, target="backup", mode=OverflowMode.ALSO)
    h = Harness([queue(members=["1001"], overflow=(rule,)), queue("backup", members=["2001"])])
    h.call("c1")
    h.advance(40)
    h.login("1001")
    assert h.rung("c1") == ["1001"]
    h.answer("c1", "1001")
    assert h.engine.queue_view("backup")["waiting"] == []


def test_overflow_move_takes_the_caller_out_of_the_first_queue():
    rule = OverflowRule(after_seconds=30, target="backup", mode=OverflowMode.MOVE)
    h = Harness([queue(members=["1001"], overflow=(rule,)), queue("backup", members=["2001"])])
    h.call("c1")
    h.advance(30)
    h.login("1001")
    assert h.rung() == []
    assert h.engine.queue_view("backup")["waiting"][0]["call_id"] == "c1"
    stats = h.engine.stats()["queues"]
    assert (stats["sales"]["overflowed"], stats["backup"]["offered"]) == (1, 1)


def test_an_overflowed_caller_keeps_its_arrival_order_in_the_target_queue():
    rule = OverflowRule(after_seconds=30, target="backup")
    h = Harness([queue(members=["1001"], overflow=(rule,)), queue("backup", members=["2001"])])
    h.call("old")
    h.advance(10)
    h.call("local", "backup")
    h.advance(20)
    h.login("2001")
    assert h.of(cmd.RingAgents)[0].call_id == "old"


def test_a_caller_leaves_for_the_configured_target_after_max_wait():
    h = Harness([queue(members=["1001"], max_wait_seconds=120, max_wait_target="voicemail")])
    h.call("c1")
    h.advance(120)
    assert h.of(cmd.ExitQueue) == [cmd.ExitQueue("c1", "voicemail", "max-wait")]
    assert h.of(cmd.CallCompleted)[0].outcome == "exited"
    assert h.engine.stats()["queues"]["sales"]["exited"] == 1


def test_max_wait_during_a_ring_lets_the_ring_finish_then_exits_if_unanswered():
    h = Harness([queue(members=["1001"], max_wait_seconds=60, ring_timeout_seconds=15)])
    h.advance(0)
    h.call("c1")
    h.advance(50)
    h.login("1001")
    h.advance(10)
    assert h.of(cmd.ExitQueue) == []
    h.send(ev.RingFailed("c1", "1001", "no-answer"))
    assert h.of(cmd.ExitQueue) == [cmd.ExitQueue("c1", "", "max-wait")]


def test_a_queue_that_refuses_empty_joins_sends_callers_elsewhere():
    h = Harness([queue(members=["1001"], join_empty=False, empty_target="closed-flow")])
    h.call("c1")
    assert h.of(cmd.ExitQueue) == [cmd.ExitQueue("c1", "closed-flow", "no-agents")]
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c2")  # a paused agent is still logged in: the caller may wait
    assert h.of(cmd.ExitQueue) == []


def test_callers_leave_when_the_last_agent_logs_out_if_configured():
    h = Harness([queue(members=["1001"], leave_when_empty=True, empty_target="sorry")])
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")
    h.call("c2")
    h.send(ev.AgentLoggedOut("1001"))
    assert sorted(c.call_id for c in h.of(cmd.ExitQueue)) == ["c1", "c2"]
    assert {c.reason for c in h.of(cmd.ExitQueue)} == {"leave-empty"}


def test_position_and_estimated_wait_are_announced_every_period():
    h = Harness([queue(members=["1001", "1002"], announce_period_seconds=30,
                       default_handle_seconds=120)])
    h.login("1001", "1002")
    h.call("c1")
    h.call("c2")
    h.call("c3")
    h.call("c4")
    h.advance(0)
    assert h.of(cmd.AnnouncePosition) == [cmd.AnnouncePosition("c3", 1, 60),
                                          cmd.AnnouncePosition("c4", 2, 120)]
    h.advance(29)
    assert h.of(cmd.AnnouncePosition) == []
    h.answer("c1")
    h.hang_up("c1", "1001")  # c3 is now ringing; c4 is first in line
    h.advance(1)
    # the 0-second call pulled the average handle time from 120 to 108 s
    assert h.of(cmd.AnnouncePosition) == [cmd.AnnouncePosition("c4", 1, 54)]


def test_announcements_can_omit_the_wait_estimate():
    h = Harness([queue(members=["1001"], announce_period_seconds=20,
                       announce_wait_time=False)])
    h.call("c1")
    h.advance(0)
    assert h.of(cmd.AnnouncePosition) == [cmd.AnnouncePosition("c1", 1, None)]


def test_the_wait_estimate_learns_from_recent_handle_times():
    h = Harness([queue(members=["1001"], default_handle_seconds=100)],
                handle_time_smoothing=0.5)
    h.login("1001")
    h.serve("c1", talk=300)
    assert h.engine.queue_view("sales")["average_handle_seconds"] == 200.0


def test_a_callback_keeps_the_caller_place_and_calls_back_with_a_reserved_agent():
    h = Harness([queue(members=["1001"], announce_period_seconds=30, max_wait_seconds=60)])
    h.call("c1")
    h.call("c2")
    h.send(ev.CallbackRequested("c1", "13800001111"))
    h.send(ev.CallAbandoned("c1"))  # the caller hangs up, as expected
    h.advance(300)  # no announcement, no max wait for a callback
    assert [c.call_id for c in h.of(cmd.AnnouncePosition)] == ["c2", "c2"]  # at 0 and 30 s
    assert [c.call_id for c in h.of(cmd.ExitQueue)] == ["c2"]  # at 60 s
    h.login("1001")
    assert h.of(cmd.PlaceCallback) == [
        cmd.PlaceCallback("c1", "13800001111", "1001", "PJSIP/1001", 75.0)]
    assert h.state("1001") == "ringing"
    h.answer("c1", "1001")
    assert h.of(cmd.CallRouted)[0].call_id == "c1"


def test_a_failed_callback_is_retried_then_given_up():
    h = Harness([queue(members=["1001"], callback_attempts=2, callback_retry_seconds=60)])
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")
    h.send(ev.CallbackRequested("c1", "13800001111"))
    h.send(ev.AgentResumed("1001"))
    h.send(ev.CallbackFailed("c1"))
    assert h.state("1001") == "available"
    h.advance(60)
    assert h.rung("c1") == ["1001"]
    h.send(ev.CallbackFailed("c1"))
    assert h.of(cmd.CallCompleted)[0].outcome == "callback-failed"


def test_an_agent_who_misses_a_reached_callback_customer_leaves_them_first_in_line():
    h = Harness([queue(members=["1001", "1002"])])
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")
    h.send(ev.CallbackRequested("c1", "13800001111"))
    h.send(ev.AgentResumed("1001"))
    h.send(ev.RingFailed("c1", "1001", "no-answer"))
    h.login("1002")
    assert h.of(cmd.RingAgents)[0].call_id == "c1"  # a live caller now, rung normally


def test_a_callback_needs_a_waiting_caller():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    h.call("c1")
    with pytest.raises(CallbackNotPossible, match="ringing, not waiting"):
        h.send(ev.CallbackRequested("c1", "13800001111"))


def test_abandoned_callers_are_counted_with_their_wait():
    h = Harness([queue(members=["1001"], service_level_seconds=15)])
    h.call("c1")
    h.advance(10)
    h.send(ev.CallAbandoned("c1"))
    h.call("c2")
    h.advance(40)
    h.send(ev.CallAbandoned("c2"))
    stats = h.engine.stats()["queues"]["sales"]
    assert (stats["abandoned"], stats["abandoned_within_sl"]) == (2, 1)
    assert stats["wait_abandoned_seconds"] == 50.0
    assert stats["longest_wait_seconds"] == 40.0


def test_a_caller_who_hangs_up_while_ringing_stops_the_ring():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    h.call("c1")
    h.send(ev.CallAbandoned("c1"))
    assert cmd.StopRinging("c1", ("1001",)) in h.out
    assert cmd.ReleaseAgent("1001", "c1") in h.out
    assert h.state("1001") == "available"
    assert h.engine.agent_view("1001")["stats"]["abandoned_while_ringing"] == 1


def test_service_level_counts_callers_answered_within_the_threshold():
    h = Harness([queue(members=["1001"], service_level_seconds=20)])
    h.call("c1")
    h.advance(20)
    h.login("1001")
    h.answer("c1")
    h.hang_up("c1", "1001")
    h.call("c2")
    h.advance(1)
    h.send(ev.AgentPaused("1001", "break"))
    h.advance(30)
    h.send(ev.AgentResumed("1001"))
    h.answer("c2")
    stats = h.engine.stats()["queues"]["sales"]
    assert (stats["answered"], stats["answered_within_sl"]) == (2, 1)
    assert stats["service_level"] == 0.5
    assert stats["average_speed_of_answer"] == 25.5


def test_unknown_queues_and_duplicate_calls_are_refused():
    h = Harness([queue(members=["1001"])])
    with pytest.raises(UnknownQueue, match="queue 'nope' is not configured"):
        h.call("c1", "nope")
    h.call("c1")
    with pytest.raises(DuplicateCall):
        h.call("c1")


def test_late_or_unknown_telephony_reports_are_ignored():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    for stray in (ev.RingFailed("x", "1001"), ev.CallEnded("x", "1001"),
                  ev.CallAbandoned("x"), ev.CallbackFailed("x"),
                  ev.AgentDeviceReachability("nobody", False)):
        assert h.send(stray) == []
    assert h.state("1001") == "available"


def test_every_queued_caller_completes_exactly_once():
    h = Harness([queue(members=["1001"], max_wait_seconds=100)])
    h.login("1001")
    h.serve("answered")
    h.call("abandoned")
    h.call("ringing")
    h.send(ev.CallAbandoned("abandoned"))
    h.call("exited")
    h.advance(100)  # nobody answers: both remaining callers reach max wait
    done = {c.call_id: c.outcome for c in h.of(cmd.CallCompleted, log=True)}
    assert len(h.of(cmd.CallCompleted, log=True)) == len(done) == 4
    assert done == {"answered": "answered", "abandoned": "abandoned", "ringing": "exited",
                    "exited": "exited"}
