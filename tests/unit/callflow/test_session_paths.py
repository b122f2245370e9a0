"""Every way a call can go, in memory with a hand-set clock: what the session orders,
what the routing core hears and what the call record says at the end."""

from __future__ import annotations

from typing import Any

import pytest
from harness import AGENT, AGENT2, CALLER, LEG, Call, answered_dial, ring, texts

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.record import CallRecord
from acd.callflow.session import CallSession
from acd.callflow.state import NotConnected
from acd.core import commands as rc
from acd.core import events as ev
from acd.rules.caller_entries import Action, CallerEntry, ListKind, MatchKind
from acd.rules.callers import RuleDecision


def queued() -> Call:
    """A caller on the direct line, waiting in support with music."""
    call = Call.new()
    call.settle()
    assert isinstance(call.orders[-1], o.StartMusic) or call.waiting_for is None
    return call


def connected(call: Call, target: rc.RingTarget = AGENT) -> Call:
    call.feed(ring(target))
    call.settle()  # the recording starts
    assert isinstance(call.waiting_for, o.DialAgents)
    leg = f"{target.device}-00000001"
    call.feed(f.LegRinging(leg, target.device), after=1)
    call.feed(f.AgentAnswered(leg, target.device), after=2)
    call.feed(f.CallerBridged(), after=4)  # after the 报工号
    return call


def end_survey(call: Call, digit: str = "1") -> None:
    call.feed(f.Collected(digit), after=3)
    call.settle()
    call.feed(f.CallerHungUp())
    call.feed(f.ChannelGone("Normal Clearing"))
    call.end()


# -- answered -----------------------------------------------------------------------------


def test_an_answered_call_is_announced_recorded_surveyed_and_closed_once():
    call = connected(queued())
    dial = call.of_kind(o.DialAgents)[0]
    assert dial.targets == (AGENT,) and texts([dial.announce]) == ["工号 1 0 0 1 为您服务。"]
    assert call.routing_kinds() == ["CallQueued", "RingAnswered"]
    call.feed(answered_dial(), after=30)  # the agent hangs up first
    assert isinstance(call.waiting_for, o.CollectDigits)  # the survey
    end_survey(call, "1")
    assert call.routing_kinds() == ["CallQueued", "RingAnswered", "CallEnded"]
    assert call.opened == 1 and call.closed == 1
    record = call.stored
    assert record["outcome"] == "answered" and record["agent"] == "1001"
    assert record["hung_up_by"] == "agent" and record["survey"] == "1"
    assert record["talk_seconds"] == 30.0  # from the bridge, not the 报工号
    assert record["recording"].startswith("/rec/") and record["hangup_cause"] == "Normal Clearing"
    assert call.after_hangup == []


def test_the_answer_reaches_the_routing_core_once_even_when_the_dial_tells_it_first():
    call = queued()
    call.feed(ring())
    call.settle()
    # Asterisk's events lag under load: the Dial returns before BridgeEnter arrives
    call.feed(answered_dial(), after=5)
    call.feed(f.CallerBridged())
    call.feed(f.AgentAnswered(LEG, AGENT.device))
    assert call.routing_kinds().count("RingAnswered") == 1
    assert call.routing_kinds()[-2:] == ["RingAnswered", "CallEnded"]


def test_a_caller_who_hangs_up_first_is_not_surveyed_and_the_agent_is_freed():
    call = connected(queued())
    call.feed(answered_dial(caller_gone=True), after=20)
    call.feed(f.CallerHungUp())
    call.end()
    assert call.routing_kinds()[-1] == "CallEnded"
    assert call.stored["hung_up_by"] == "caller" and call.stored["outcome"] == "answered"
    assert not call.of_kind(o.CollectDigits) and call.closed == 1 and call.after_hangup == []


# -- not answered -----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason"), [
    (f.DialStatus.NO_ANSWER, "no-answer"), (f.DialStatus.BUSY, "busy"),
    (f.DialStatus.UNAVAILABLE, "unavailable")])
def test_an_agent_who_does_not_answer_is_reported_and_the_caller_waits_for_the_next(
        status, reason):
    call = queued()
    call.feed(ring())
    call.settle()
    call.feed(f.DialEnded(status), after=15)
    assert call.routing()[-1] == ev.RingFailed("c1", "1001", reason)
    call.settle()  # music again
    assert isinstance(call.orders[-1], o.StartMusic) and call.waiting_for is None
    connected(call, AGENT2)
    assert call.routing()[-1] == ev.RingAnswered("c1", "1002")
    assert call.stored["ring_attempts"] == 2


def test_an_agent_who_hangs_up_during_the_announcement_never_talked_to_the_caller():
    call = queued()
    call.feed(ring())
    call.settle()
    call.feed(f.AgentAnswered(LEG, AGENT.device), after=2)  # ... and no bridge follows
    call.feed(answered_dial(left_early=True), after=2)
    assert call.routing()[-1] == ev.RingFailed("c1", "1001", "rejected")
    assert "RingAnswered" not in call.routing_kinds()
    call.settle()
    assert call.waiting_for is None and call.session.caller_present  # waits for the next


def test_the_routing_core_stops_a_ring_by_hanging_up_that_leg():
    call = queued()
    call.feed(ring(AGENT, AGENT2))
    call.settle()
    call.feed(f.LegRinging(LEG, AGENT.device))
    call.feed(f.LegRinging("PJSIP/agent1002-00000002", AGENT2.device))
    assert call.feed(f.StopRingingOrdered(("1002",))) == [
        o.HangUpLeg("PJSIP/agent1002-00000002")]


# -- abandoned ----------------------------------------------------------------------------


def test_a_caller_who_hangs_up_while_waiting_is_abandoned():
    call = queued()
    call.feed(f.CallerHungUp(), after=40)
    call.end()
    assert call.routing_kinds() == ["CallQueued", "CallAbandoned"]
    assert call.stored["outcome"] == "abandoned" and call.stored["hung_up_by"] == "caller"
    assert call.closed == 1 and call.after_hangup == []
    assert not call.of_kind(o.FinishRecording)  # nothing was recorded


def test_a_caller_who_hangs_up_while_the_agent_rings_is_abandoned_and_no_recording_kept():
    call = queued()
    call.feed(ring())
    call.settle()
    call.feed(f.CallerHungUp(), after=3)  # the driver reports the Dial's end first ...
    call.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))  # ... or after
    assert call.routing_kinds() == ["CallQueued", "CallAbandoned"]
    [finish] = call.of_kind(o.FinishRecording)
    assert finish.answered is False
    call.end()
    assert call.closed == 1 and call.stored["outcome"] == "abandoned"


def test_a_caller_who_hangs_up_in_the_ivr_left_the_ivr():
    call = Call.new(called="4008000001")  # the main flow: a menu
    call.settle()
    assert isinstance(call.waiting_for, o.CollectDigits)  # the menu
    call.feed(f.CallerHungUp())
    assert call.closed == 0  # Asterisk's hang-up cause comes next, with the record
    call.end()
    assert call.stored["outcome"] == "caller-left-ivr" and call.routing() == []
    assert call.closed == 1 and call.opened == 1  # written once: opened and closed


# -- survey -----------------------------------------------------------------------------


def test_a_survey_not_answered_is_asked_again_then_recorded_as_no_answer():
    call = connected(queued())
    call.feed(answered_dial(), after=10)
    call.feed(f.Collected(""), after=5)
    assert texts(call.waiting_for.prompts) == ["输入无效。"]
    call.settle()
    call.feed(f.Collected("7"), after=5)  # not a valid key
    call.settle()
    call.feed(f.CallerHungUp())
    call.end()
    assert call.stored["survey"] == "no-answer"
    assert len(call.of_kind(o.CollectDigits)) == 2


def test_a_caller_who_answers_the_survey_and_hangs_up_during_the_thanks_keeps_the_answer():
    call = connected(queued())
    call.feed(answered_dial(), after=10)
    call.feed(f.Collected("3"))
    call.feed(f.CallerHungUp())  # during "感谢您的评价"
    call.end()
    assert call.stored["survey"] == "3" and call.closed == 1


# -- transfers ----------------------------------------------------------------------------


def test_a_transfer_from_the_phone_hands_the_call_over_with_its_record_open():
    call = connected(queued())
    call.feed(answered_dial(transferred_to="602"), after=20)
    assert call.routing()[-1] == ev.CallTransferred("c1", "1001", "queue:complaints")
    assert call.of_kind(o.HandOver) and call.closed == 0 and call.session.finished
    assert call.stored["transfer"] == "queue:complaints" and call.stored["talk_seconds"] == 20
    # the next FastAGI session of the same channel carries the record on
    record = CallRecord(**call.record.fields())
    after = Call.of(CallSession.phone_transferred(record, call.session.settings, call.now,
                                                  "602"))
    after.settle()
    assert after.routing()[0] == ev.CallQueued("c1", "complaints", CALLER, 0, frozenset())
    assert after.stored["queues"] == ["support", "complaints"]


def test_a_transfer_from_the_api_hangs_up_the_agent_and_queues_the_caller_again():
    call = connected(queued())
    assert call.feed(f.TransferAsked("queue", "complaints"), after=10) == [o.HangUpLeg(LEG)]
    call.feed(answered_dial())  # the agent's leg is gone; the caller is still here
    call.settle()
    assert call.routing_kinds()[-2:] == ["CallTransferred", "CallQueued"]
    assert call.routing()[-1].queue == "complaints" and call.closed == 0
    assert "transfer:queue:complaints" in call.stored["ivr_path"]


def test_a_transfer_to_an_extension_puts_the_caller_through_and_ends_acds_part():
    call = connected(queued())
    call.feed(f.TransferAsked("extension", "8100"))
    call.feed(answered_dial())
    assert call.waiting_for == o.DialNumber("8100", 60)
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, "Local/8100@acd-transfer-1;1"), after=60)
    call.settle()
    call.feed(f.CallerHungUp())
    call.end()
    assert call.stored["outcome"] == "transferred" and call.closed == 1


def test_an_api_request_for_a_call_not_connected_is_refused():
    call = queued()
    with pytest.raises(NotConnected):
        call.feed(f.TransferAsked("queue", "complaints"))
    with pytest.raises(NotConnected):
        call.feed(f.SpyAsked("listen", "PJSIP/supervisor1"))


def test_a_supervisor_listens_whispers_or_barges_on_the_agents_channel():
    call = connected(queued())
    assert call.feed(f.SpyAsked("barge", "PJSIP/supervisor1")) == [
        o.Spy("PJSIP/supervisor1", LEG, "barge")]


# -- callbacks ----------------------------------------------------------------------------


def test_a_waiting_caller_who_presses_star_keeps_their_place_and_is_called_back():
    call = queued()
    call.feed(f.KeyPressed("*"), after=30)
    assert call.routing()[-1] == ev.CallbackRequested("c1", CALLER)
    call.settle()
    assert "13800138000" not in str(call.session.describe())
    assert call.stored["outcome"] == "callback-requested" and call.closed == 0
    assert call.session.finished  # the record stays open for the callback
    record = CallRecord(**call.record.fields())
    back = Call.of(CallSession.called_back(record, call.session.settings, call.now + 600,
                                           AGENT, 15))
    back.settle()
    assert isinstance(back.waiting_for, o.DialAgents)
    back.feed(f.CallerBridged(), after=3)
    back.feed(answered_dial(), after=60)
    end_survey(back)
    assert back.stored["outcome"] == "answered" and back.closed == 1
    assert back.routing_kinds() == ["RingAnswered", "CallEnded"]


def test_a_withheld_caller_cannot_ask_for_a_callback_and_keeps_waiting():
    call = Call.new(caller="")
    call.settle()
    call.feed(f.KeyPressed("*"))
    assert "CallbackRequested" not in call.routing_kinds()
    call.settle()
    assert call.waiting_for is None and call.session.caller_present


def test_keys_other_than_the_callback_key_are_ignored_while_waiting():
    call = queued()
    assert call.feed(f.KeyPressed("5")) == []


# -- restarts and shutdown ------------------------------------------------------------------


def test_a_call_that_comes_back_after_a_restart_mid_conversation_is_surveyed():
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, answered_at=1010.0, agent="1001",
                        variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=False))
    assert isinstance(call.waiting_for, o.ReadLastDial)
    # the session that ran the Dial ended at 1071.5, when the agent hung up (Asterisk's
    # clock); acd's clock says 1100 (acd was away, then the dialplan's music played), and
    # ANSWEREDTIME 100 s (Asterisk counts it from the caller's answer at 1000)
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, peer="PJSIP/agent1001-01",
                          answered_seconds=100.0, session_ended_at=1071.5))
    assert call.routing() == [ev.CallEnded("c1", "1001")]
    assert isinstance(call.waiting_for, o.CollectDigits)
    assert call.record.talk_seconds == 61.5 and call.record.hung_up_by == "agent"
    assert call.opened == 0


def test_a_call_whose_agent_answered_as_acd_died_is_not_offered_again_but_surveyed():
    # acd died during the 报工号: the record (saved when the caller queued) knows neither
    # the ring nor the answer
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=True))
    assert isinstance(call.waiting_for, o.ReadLastDial)
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, peer="PJSIP/agent1002-07",
                          peer_device="PJSIP/agent1002", answered_seconds=42.0,
                          peer_agent="1002", session_ended_at=1090.0))
    assert call.routing() == [ev.RingAnswered("c1", "1002"), ev.CallEnded("c1", "1002"),
                              ev.CallLeftForFallback("c1")]
    assert isinstance(call.waiting_for, o.CollectDigits)  # the survey, not the queue
    assert call.record.agent == "1002" and call.record.outcome == "answered"
    # when the conversation began is not known: no length is made up (ANSWEREDTIME
    # counts from the caller's answer, the IVR and the wait included)
    assert call.record.talk_seconds == 0.0 and call.record.answered_at is None
    assert "talk time is unknown" in call.record.outcome_reason


def test_a_conversation_the_dialplan_saw_bridged_as_acd_died_gets_asterisks_times():
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=True))
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, peer="PJSIP/agent1002-07",
                          peer_device="PJSIP/agent1002", peer_agent="1002",
                          session_ended_at=1090.0, bridged_at=1062.5))
    assert call.routing()[:2] == [ev.RingAnswered("c1", "1002"), ev.CallEnded("c1", "1002")]
    assert call.record.answered_at == 1062.5 and call.record.talk_seconds == 27.5
    assert not call.record.outcome_reason


def test_an_agent_who_hung_up_during_the_announcement_as_acd_died_served_nobody():
    # DIALSTATUS says ANSWER, but the dialplan noted no bridge: the agent hung up during
    # the 报工号, and the caller, who talked to nobody, keeps their place
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, ring_attempts=1, variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=True))
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, peer="PJSIP/agent1002-07",
                          peer_device="PJSIP/agent1002", peer_agent="1002",
                          session_ended_at=1090.0, unbridged=True))
    call.settle()
    assert call.routing() == [] and not call.record.agent  # no conversation, no survey
    assert not isinstance(call.waiting_for, o.CollectDigits)


def test_a_call_whose_last_ring_was_not_answered_takes_up_its_place_again():
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, ring_attempts=1, variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=True))
    call.feed(f.DialEnded(f.DialStatus.NO_ANSWER))
    call.settle()
    assert call.routing() == []  # the core kept its place; no conversation to close


def test_a_resumed_conversation_whose_length_asterisk_cannot_tell_says_so():
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, answered_at=1010.0, agent="1001",
                        variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=False))
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, answered_seconds=95.0))
    assert call.record.talk_seconds == 0.0
    assert "talk time is unknown" in call.record.outcome_reason


def orphan(**fields: Any) -> Call:
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, variables={"lang": "zh"}, **fields)
    return Call.of(CallSession.adopted(record, Call.new().session.settings, 1100.0))


def test_a_conversation_that_ended_while_acd_was_away_gets_asterisks_talk_time():
    call = orphan(answered_at=1010.0, agent="1001")
    # the Dial ended at 1037.25 (the agent hung up), the goodbye played until 1040
    call.feed(f.ChannelGone("Normal Clearing", f.LostCallAccount(
        "talked", hung_up_by="agent", ended_at=1040.0, answered_seconds=37.25,
        session_ended_at=1037.25)))
    call.end()
    assert call.stored["outcome"] == "answered" and call.stored["talk_seconds"] == 27.25
    assert call.stored["hung_up_by"] == "agent" and call.stored["survey"] == "not-surveyed"
    assert "goodbye-without-acd" in call.record.ivr_path
    assert call.routing() == [ev.CallEnded("c1", "1001")]


def test_a_caller_who_hung_up_mid_conversation_while_no_acd_was_alive_is_accounted_for():
    call = orphan(answered_at=1010.0, agent="1001")
    call.feed(f.ChannelGone("Normal Clearing", f.LostCallAccount(
        "talked", hung_up_by="caller", ended_at=1052.0, session_ended_at=1051.75)))
    call.end()
    assert call.stored["outcome"] == "answered" and call.stored["talk_seconds"] == 41.75
    assert call.stored["hung_up_by"] == "caller" and call.stored["survey"] == "not-surveyed"
    assert "goodbye-without-acd" not in call.record.ivr_path  # nobody said goodbye
    assert call.routing() == [ev.CallEnded("c1", "1001")]


def test_a_dialplan_that_does_not_say_when_the_conversation_ended_leaves_it_unknown():
    call = orphan(answered_at=1010.0, agent="1001")
    call.feed(f.ChannelGone("Normal Clearing", f.LostCallAccount(
        "talked", hung_up_by="agent", ended_at=1040.0, answered_seconds=37.25)))
    call.end()
    assert call.stored["outcome"] == "answered" and call.record.talk_seconds == 0.0
    assert "ACD_AGI_ENDED" in call.stored["outcome_reason"]


def test_a_conversation_the_caller_ended_while_acd_was_away_is_unknown_not_guessed():
    call = orphan(answered_at=1010.0, agent="1001")
    call.feed(f.ChannelGone("ended while acd was away", while_away=True))
    call.end()
    assert call.stored["outcome"] == "unknown-after-restart"
    assert "talk time is unknown" in call.stored["outcome_reason"]
    assert call.record.talk_seconds == 0.0  # not the 90 s acd's clock would suggest
    assert call.routing() == [ev.CallEnded("c1", "1001")]


def test_a_caller_the_fallback_queue_served_is_recorded_with_its_agent_and_times():
    call = orphan()
    call.feed(f.ChannelGone("Normal Clearing", f.LostCallAccount(
        "fallback", queued_at=1005.0, held_seconds=4.0, agent="1003", ended_at=1030.0,
        hung_up_by="caller")))
    call.end()
    assert call.stored["outcome"] == "answered-by-fallback"
    assert call.stored["agent"] == "1003" and call.stored["answered_at"] == 1009.0
    assert call.stored["talk_seconds"] == 21.0 and call.stored["hung_up_by"] == "caller"
    assert call.stored["survey"] == "not-surveyed"
    assert call.routing() == [ev.CallLeftForFallback("c1")]
    assert "fallback-queue" in call.record.ivr_path


def test_a_call_no_acd_saw_is_recorded_whole_from_the_dialplans_account():
    record = CallRecord("c9", CALLER, "4008001234", 1000.0, enqueued_at=1006.0)
    call = Call.of(CallSession.unseen(record, Call.new().session.settings, 1100.0))
    call.feed(f.ChannelGone("ended while no acd was there", f.LostCallAccount(
        "fallback", queued_at=1006.0, held_seconds=3.0, agent="1001", ended_at=1030.0,
        hung_up_by="agent")))
    call.end()
    assert call.opened == 1 and call.closed == 1  # one write: the whole record, closed
    assert call.stored["caller"] == CALLER and call.stored["called"] == "4008001234"
    assert call.stored["outcome"] == "answered-by-fallback" and call.stored["agent"] == "1001"
    assert call.stored["answered_at"] == 1009.0 and call.stored["talk_seconds"] == 21.0
    assert call.routing() == [ev.CallLeftForFallback("c9")]  # (unknown to the core: a no-op)


def test_a_caller_who_gave_up_in_the_fallback_queue_is_abandoned():
    call = orphan()
    call.feed(f.ChannelGone("Normal Clearing", f.LostCallAccount(
        "fallback", queued_at=1005.0, ended_at=1030.0, hung_up_by="caller")))
    call.end()
    assert call.stored["outcome"] == "abandoned" and not call.record.agent


def test_a_caller_who_comes_back_after_a_restart_takes_up_their_place_in_the_queue():
    record = CallRecord("c1", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, variables={"lang": "zh"})
    call = Call.of(CallSession.resumed(record, Call.new().session.settings, 1100.0,
                                       still_queued=True))
    call.feed(f.DialEnded(f.DialStatus.NO_ANSWER))  # not rung, or nobody answered
    call.settle()
    assert call.routing() == []  # no second CallQueued: the core kept the place
    connected(call)
    assert call.routing_kinds() == ["RingAnswered"]


def test_acd_stopping_mid_call_leaves_the_record_open_and_tells_the_core_nothing():
    call = connected(queued())
    call._take(call.session.stop(call.now))
    call.feed(f.CallerHungUp())  # the FastAGI connection closes as acd stops
    call.feed(answered_dial())
    assert call.closed == 0 and call.routing_kinds() == ["CallQueued", "RingAnswered"]
    assert call.session.finished


def test_an_orphan_found_after_a_restart_is_closed_when_it_hangs_up():
    record = CallRecord("c9", CALLER, "4008001234", 1000.0, queues=["support"],
                        enqueued_at=1001.0, answered_at=1010.0, agent="1001")
    call = Call.of(CallSession.adopted(record, Call.new().session.settings, 1050.0))
    assert call.orders == [] and not call.session.finished
    call.feed(f.ChannelGone("Normal Clearing"), after=10)
    assert call.routing() == [ev.CallEnded("c9", "1001")]
    assert call.stored["talk_seconds"] == 50.0 and call.closed == 1


def test_the_agents_wrap_up_time_reaches_the_record_after_it_closed():
    call = connected(queued())
    call.feed(answered_dial(), after=10)
    end_survey(call)
    assert call.closed == 1 and not call.session.finished
    assert call.feed(f.WrapUpFinished("1001", 4.5)) == [o.SaveRecord("c1", {
        "wrap_up_seconds": 4.5})]
    assert call.session.finished


# -- caller lists and queue exits ------------------------------------------------------------


def decision(kind: ListKind, action: Action, target: str | None = None,
             priority: int | None = None) -> RuleDecision:
    entry = CallerEntry(kind, MatchKind.EXACT, CALLER, action, target=target,
                        priority=priority)
    return RuleDecision.of(entry)


def test_a_blacklisted_caller_hears_the_announcement_and_is_hung_up():
    call = Call.new()
    call.feed(f.RuleDecided(decision(ListKind.BLACK, Action.ANNOUNCE)))
    call.settle()
    call.end()
    assert call.stored["outcome"] == "blocked" and call.routing() == []
    assert texts(call.of_kind(o.PlayPrompts)[0].prompts) == ["您的来电无法接通，再见。"]
    assert call.of_kind(o.HangUp) and call.closed == 1


def test_a_vip_caller_is_queued_with_priority_and_the_agent_hears_it():
    call = Call.new()
    call.feed(f.RuleDecided(decision(ListKind.WHITE, Action.VIP, priority=10)))
    call.settle()
    assert call.routing()[0].priority == 10
    # and so in Asterisk's own queue, should acd go away (QUEUE_PRIO: VIPs stay first)
    assert call.of_kind(o.MarkQueued) == [o.MarkQueued("support", 10)]
    call.feed(ring())
    call.settle()
    assert texts([call.waiting_for.whisper]) == ["贵宾客户。"]


def test_a_caller_who_reaches_the_queues_longest_wait_leaves_for_its_exit_flow():
    call = queued()
    call.feed(f.Routed(rc.ExitQueue("c1", "main", "max-wait")), after=300)
    call.settle()
    assert call.record.outcome == "exited:max-wait"
    assert isinstance(call.waiting_for, o.CollectDigits)  # the main flow's menu


def test_an_agent_free_at_once_is_dialled_without_music_first():
    call = Call.new()
    call.feed(f.RuleDecided(None))
    call.feed(f.ChannelDone())  # answered
    call.feed(f.AnnouncementFetched(()))
    assert isinstance(call.waiting_for, o.SubmitToRouting)
    call.feed(ring())  # the core's order arrives before its answer to CallQueued
    call.feed(f.RoutingAnswered())
    call.settle()
    assert isinstance(call.waiting_for, o.DialAgents) and not call.of_kind(o.StartMusic)
    assert not call.of_kind(o.MarkQueued)  # served at once: no AGI command for the fallback


def test_a_caller_who_waits_leaves_their_queue_on_the_channel_before_the_music():
    """Should acd die from then on, the fallback rings that queue's agents."""
    call = queued()
    kinds = [type(x) for x in call.orders]
    assert kinds.index(o.SubmitToRouting) < kinds.index(o.MarkQueued) < \
        kinds.index(o.StartMusic)
    assert call.of_kind(o.MarkQueued) == [o.MarkQueued("support", 0)]
    call.feed(f.Routed(rc.AnnouncePosition("c1", 2, 60)), after=30)
    call.settle()
    assert len(call.of_kind(o.MarkQueued)) == 1  # once per stay in the queue


def test_a_call_still_in_the_ivr_after_two_seconds_has_its_record_written():
    call = Call.new(called="4008000001")  # the menu waits for a key
    call.settle()
    assert call.opened == 0 and call.session.next_deadline() == call.now + 2.0
    call.feed(f.TimerFired(), after=2.0)  # a restarted acd must know of the call
    assert call.opened == 1 and call.stored["called"] == "4008000001"


def test_a_record_closes_without_asterisks_cause_when_it_does_not_come():
    call = queued()
    call.feed(f.CallerHungUp(), after=10)
    assert call.closed == 0
    call.feed(f.TimerFired(), after=1.0)  # AMI away: no Hangup event
    assert call.closed == 1 and call.stored["hangup_cause"] == ""


def test_a_supervisor_who_intercepts_replaces_the_agent_and_the_record_shows_it():
    call = connected(queued())
    assert call.feed(f.TransferAsked("intercept", "PJSIP/supervisor1"), after=30) == [
        o.HangUpLeg(LEG)]
    call.feed(answered_dial())  # the agent's leg is gone; the caller is still here
    assert call.routing()[-1] == ev.CallTransferred("c1", "1001", "intercept:PJSIP/supervisor1")
    assert isinstance(call.waiting_for, o.DialAgents)
    assert [t.device for t in call.waiting_for.targets] == ["PJSIP/supervisor1"]
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, "PJSIP/supervisor1-0001"), after=90)
    call.settle()
    call.feed(f.CallerHungUp())
    call.end()
    assert call.stored["transfer"] == "intercept:PJSIP/supervisor1"
    assert "transfer:intercept:PJSIP/supervisor1" in call.stored["ivr_path"]
    assert call.stored["outcome"] == "transferred" and call.stored["talk_seconds"] == 30
    assert call.closed == 1
