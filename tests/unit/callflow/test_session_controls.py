"""The agent's call controls (hold, consult, transfer after consulting, three-way call):
what may be asked when, what Asterisk is told, and what the record and the routing core
keep."""

from __future__ import annotations

import pytest
from harness import AGENT, answered_dial
from test_session_paths import connected, end_survey, queued

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.state import ControlRefused, NotConnected

C = f.CallControl
LEG = f"{AGENT.device}-00000001"


def hang_up(call):
    call.settle()
    call.feed(f.CallerHungUp())
    call.feed(f.ChannelGone("Normal Clearing"))
    call.end()


def asked(call, control, target="", after=0.0):
    call.feed(f.CallControlAsked(control, target), after=after)
    return call.of_kind(o.ControlAgentLeg)[-1]


def test_hold_and_resume_from_the_desk_press_the_agents_keys_and_hold_is_not_talk():
    call = connected(queued())
    assert asked(call, C.HOLD, after=10) == o.ControlAgentLeg(LEG, "hold", "")
    call.feed(f.HoldChanged(True, "agent"))  # what Asterisk says back
    with pytest.raises(ControlRefused, match="already on hold"):
        asked(call, C.HOLD)
    assert asked(call, C.RESUME, after=20) == o.ControlAgentLeg(LEG, "resume", "")
    call.feed(f.HoldChanged(False, "agent"))
    with pytest.raises(ControlRefused, match="not on hold"):
        asked(call, C.RESUME)
    call.feed(answered_dial(), after=5)
    end_survey(call)
    assert call.stored["hold_seconds"] == 20.0 and call.stored["talk_seconds"] == 15.0


def test_a_consultation_needs_a_number_and_ends_only_what_was_started():
    call = connected(queued())
    with pytest.raises(ControlRefused, match="no consultation"):
        asked(call, C.CONSULT_COMPLETE)
    with pytest.raises(ControlRefused, match="number"):
        asked(call, C.CONSULT, "abc")
    assert asked(call, C.CONSULT, "1003") == o.ControlAgentLeg(LEG, "consult", "1003")
    with pytest.raises(ControlRefused, match="already consulting 1003"):
        asked(call, C.CONSULT, "1004")
    call.feed(f.HoldChanged(True, "agent"))  # the caller holds during the consultation
    with pytest.raises(ControlRefused, match="cancel it"):
        asked(call, C.RESUME)
    assert asked(call, C.CONSULT_CANCEL).control == "consult-cancel"
    call.feed(f.HoldChanged(False, "agent"))
    with pytest.raises(ControlRefused, match="no consultation"):
        asked(call, C.CONFERENCE)


def test_a_colleague_who_does_not_answer_ends_the_consultation():
    call = connected(queued())
    asked(call, C.CONSULT, "1003")
    call.feed(f.HoldChanged(True, "agent"))
    call.feed(f.HoldChanged(False, "agent"), after=30)  # back with the caller
    assert asked(call, C.CONSULT, "1004").target == "1004"


def test_a_completed_consultation_frees_the_agent_then_and_the_caller_talks_on():
    call = connected(queued())
    asked(call, C.CONSULT, "1003", after=10)
    call.feed(f.HoldChanged(True, "agent"))
    call.feed(f.ConsultEnded(False, "1003", LEG), after=6)
    # the agent's part is over: wrap-up starts, the core hears of a transfer
    assert call.routing_kinds()[-1] == "CallTransferred"
    assert call.stored["talk_seconds"] == 10.0 and call.stored["hold_seconds"] == 6.0
    assert call.stored["transfer"] == "consult:1003"
    with pytest.raises(NotConnected):
        asked(call, C.HOLD)
    # the caller and the colleague talk 60 s more, then the colleague hangs up
    call.feed(answered_dial(), after=60)
    hang_up(call)
    assert call.stored["outcome"] == "transferred" and call.stored["hung_up_by"] == "agent"
    assert call.stored["talk_seconds"] == 10.0  # the agent's talk only
    assert call.stored["survey"] == "not-surveyed"
    assert call.routing_kinds().count("CallTransferred") == 1
    assert "CallEnded" not in call.routing_kinds()


def test_a_three_way_call_keeps_the_agent_until_they_hang_up():
    call = connected(queued())
    asked(call, C.CONSULT, "1003", after=10)
    call.feed(f.HoldChanged(True, "agent"))
    call.feed(f.ConsultEnded(True, "1003", LEG), after=5)
    assert "conference:1003" in call.stored["ivr_path"]
    assert "CallTransferred" not in call.routing_kinds()
    call.feed(f.AgentLegGone(LEG), after=20)  # the agent leaves the other two
    assert call.routing_kinds()[-1] == "CallTransferred"
    assert call.stored["transfer"] == "conference:1003"
    assert call.stored["talk_seconds"] == 30.0 and call.stored["hold_seconds"] == 5.0
    call.feed(answered_dial(caller_gone=True), after=40)  # the caller hangs up at last
    hang_up(call)
    assert call.stored["outcome"] == "transferred" and call.stored["hung_up_by"] == "caller"


def test_another_legs_transfer_or_hang_up_changes_nothing():
    call = connected(queued())
    call.feed(f.ConsultEnded(False, "1009", "PJSIP/agent1009-0000000f"), after=5)
    call.feed(f.AgentLegGone("PJSIP/agent1009-0000000f"))
    assert "CallTransferred" not in call.routing_kinds()
    call.feed(answered_dial(), after=5)
    end_survey(call)
    assert call.stored["outcome"] == "answered"


def test_controls_before_the_agent_answered_are_refused():
    call = queued()
    with pytest.raises(NotConnected):
        asked(call, C.HOLD)


def test_a_colleague_taken_from_a_queue_is_given_back_when_the_consultation_ends():
    call = connected(queued())
    asked(call, C.CONSULT, "601")  # support's transfer code: acd takes a free colleague
    call.feed(f.HoldChanged(True, "agent"))
    call.feed(f.ConsultReserved("1002", "support"))
    assert "consult:support:1002" in call.record.ivr_path
    call.feed(f.HoldChanged(False, "agent"), after=5)  # cancelled: back with the caller
    given_back = [e for e in call.routing() if type(e).__name__ == "OutboundEnded"]
    assert [(e.agent_id, e.call_id) for e in given_back] == [("1002", "consult-c1")]


def test_a_colleague_taken_from_a_queue_stays_busy_while_they_talk_with_the_caller():
    call = connected(queued())
    asked(call, C.CONSULT, "601")
    call.feed(f.HoldChanged(True, "agent"))
    call.feed(f.ConsultReserved("1002", "support"))
    call.feed(f.ConsultEnded(False, "601", LEG), after=5)  # the agent leaves them
    assert "OutboundEnded" not in call.routing_kinds()
    call.feed(answered_dial(), after=60)  # the colleague hangs up at last
    assert call.routing_kinds().count("OutboundEnded") == 1
    hang_up(call)
    assert call.stored["transfer"] == "consult:601"


def test_a_control_asterisk_refused_leaves_the_consultation_where_it_stood():
    call = connected(queued())
    asked(call, C.CONSULT, "1003")
    call.feed(f.ControlFailed(C.CONSULT, "1003"))  # e.g. AMI Atxfer answered an error
    assert asked(call, C.CONSULT, "1004").target == "1004"  # none started: ask again
    call.feed(f.HoldChanged(True, "agent"))
    assert asked(call, C.CONSULT_CANCEL).target == "1004"
    call.feed(f.ControlFailed(C.CONSULT_CANCEL, "1004"))  # the colleague still rings
    with pytest.raises(ControlRefused, match="already consulting 1004"):
        asked(call, C.CONSULT, "1005")
    assert asked(call, C.CONSULT_COMPLETE).control == "consult-complete"
