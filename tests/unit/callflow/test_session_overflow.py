"""The routing core's overflow reaches the call's record: the queue a call ends in is the
last of its `queues`, so the history counts it there (and as overflowed out of the
queues before it); in memory with a hand-set clock."""

from __future__ import annotations

from harness import AGENT, AGENT2, Call, answered_dial, ring
from test_session_paths import connected, end_survey, queued

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.survey import SurveyConfig, SurveyQuestion
from acd.core import commands as rc
from acd.core.model import OverflowMode
from acd.history.departures import left
from acd.history.rows import call_row

MOVED = f.QueueOverflowed("support", "complaints", OverflowMode.MOVE)
ALSO = f.QueueOverflowed("support", "complaints", OverflowMode.ALSO)


def in_history(call: Call) -> tuple[str, list[str]]:
    """The queue the history counts the closed call in, and the queues it left."""
    row = call_row(call.record, 1)
    return str(row["queue"]), left(str(row["queues"]))


def talk_and_hang_up(call: Call) -> None:
    call.feed(answered_dial(AGENT2), after=60)
    call.settle()
    end_survey(call)


def test_a_moved_caller_answered_in_the_target_queue_counts_there_and_left_the_first():
    call = queued()
    call.feed(MOVED, after=30)
    assert call.record.queues == ["support", "complaints"]
    assert call.stored["queues"] == ["support", "complaints"]  # saved for a restarted acd
    call.feed(ring(AGENT2, queue="complaints"), after=2)
    call.settle()
    leg = f"{AGENT2.device}-00000001"
    call.feed(f.LegRinging(leg, AGENT2.device))
    call.feed(f.CallerBridged(), after=3)
    talk_and_hang_up(call)
    assert call.closed == 1
    assert (call.stored["queues"], call.stored["agent"]) == (["support", "complaints"], "1002")
    assert in_history(call) == ("complaints", ["support"])


def test_a_moved_caller_who_hangs_up_is_abandoned_in_the_queue_it_was_moved_to():
    call = queued()
    call.feed(MOVED, after=30)
    call.feed(f.CallerHungUp(), after=10)
    call.end()
    assert call.stored["outcome"] == "abandoned"
    assert in_history(call) == ("complaints", ["support"])


def test_an_also_caller_answered_by_the_added_queues_agent_ends_in_that_queue():
    call = queued()
    call.feed(ALSO, after=30)
    assert call.record.queues == ["support"]  # still support's call while it waits
    call.feed(ring(AGENT2, queue="complaints"), after=2)
    call.settle()
    call.feed(f.CallerBridged(), after=3)
    assert call.stored["queues"] == ["support", "complaints"]  # at the answer
    talk_and_hang_up(call)
    assert in_history(call) == ("complaints", ["support"])


def test_an_also_caller_answered_in_its_own_queue_or_abandoned_stays_that_queues_call():
    answered = connected(queued(), AGENT)
    answered.feed(ALSO, after=5)  # (a rule due as the agent answered)
    answered.feed(answered_dial(AGENT), after=60)
    answered.settle()
    end_survey(answered)
    abandoned = queued()
    abandoned.feed(ALSO, after=30)
    abandoned.feed(f.CallerHungUp(), after=10)
    abandoned.end()
    for call in (answered, abandoned):
        assert in_history(call) == ("support", [])


def test_the_survey_after_a_move_is_the_queue_that_answered():
    surveys = {"complaints": SurveyConfig(questions=(SurveyQuestion("resolved"),),
                                          retries=0)}
    call = Call.new(surveys=surveys)
    call.settle()
    call.feed(MOVED, after=30)
    call.feed(ring(AGENT2, queue="complaints"))
    call.settle()
    call.feed(f.CallerBridged(), after=3)
    talk_and_hang_up(call)
    [answer] = call.stored["survey_answers"]
    assert (answer["question"], answer["queue"]) == ("resolved", "complaints")


def test_integrators_hear_the_overflow_with_both_queues_and_the_wait_so_far():
    call = queued()
    call.feed(MOVED, after=30)
    [told] = [n for n in call.of_kind(o.TellIntegrators) if n.kind == "call.overflowed"]
    assert (told.agent_id, told.data) == ("", {
        "from_queue": "support", "to_queue": "complaints", "mode": "move",
        "waited_seconds": 30.0})


def test_an_overflow_told_after_the_record_closed_leaves_the_record_as_it_closed():
    call = queued()
    call.feed(f.CallerHungUp(), after=10)
    call.end()
    assert call.closed == 1
    before = len(call.orders)
    call.feed(MOVED)
    assert call.orders[before:] == [] and call.record.queues == ["support"]


def test_a_ring_of_a_queue_the_record_does_not_name_is_where_the_call_ends():
    """A resumed call the routing core moved while acd was away: the answer says where."""
    call = queued()
    call.feed(f.Routed(rc.RingAgents("c1", "complaints", (AGENT,), 15)), after=5)
    call.settle()
    call.feed(f.CallerBridged(), after=3)
    assert call.record.queues == ["support", "complaints"]


def test_a_caller_moved_while_the_first_queues_agent_rang_ends_where_that_agent_answered():
    for told_after_the_answer in (False, True):
        call = queued()
        call.feed(ring(AGENT), after=25)
        call.settle()
        if not told_after_the_answer:
            call.feed(MOVED, after=5)
        call.feed(f.CallerBridged(), after=3)
        if told_after_the_answer:  # the core moved it just before it heard the answer
            call.feed(MOVED)
        assert call.record.queues == ["support", "complaints", "support"]
        assert in_history(call) == ("support", ["support", "complaints"])


def test_a_moved_caller_names_the_new_queue_on_its_channel_for_the_fallback():
    """Should acd go away after the move, Asterisk's twin of the queue the caller is in
    now takes it (not the first queue's)."""
    call = queued()
    assert call.of_kind(o.MarkQueued) == [o.MarkQueued("support", 0)]
    call.feed(MOVED, after=30)
    call.settle()
    assert call.of_kind(o.MarkQueued) == [o.MarkQueued("support", 0),
                                          o.MarkQueued("complaints", 0)]
    assert len(call.of_kind(o.StartMusic)) == 1  # the music plays on, not restarted
    call.feed(ring(AGENT2, queue="complaints"), after=2)  # and it is still served
    call.settle()
    assert isinstance(call.waiting_for, o.DialAgents)


def test_an_also_overflow_leaves_the_channel_naming_the_first_queue():
    call = queued()
    call.feed(ALSO, after=30)
    call.settle()
    assert call.of_kind(o.MarkQueued) == [o.MarkQueued("support", 0)]
