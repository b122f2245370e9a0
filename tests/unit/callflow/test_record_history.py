"""What the call record carries for the history (acd.history): each agent rung and how
it ended, each survey question's answer by name, when the caller left the queue, and
the callback's course; in memory with a hand-set clock."""

from __future__ import annotations

from harness import AGENT, AGENT2, CALLER, LEG, T0, Call, answered_dial, ring

from acd.callflow import facts as f
from acd.callflow.record import CallRecord
from acd.callflow.session import CallSession
from acd.callflow.survey import SurveyConfig, SurveyQuestion
from acd.core import commands as rc


def queued(**overrides: object) -> Call:
    call = Call.new(**overrides)
    call.settle()
    return call


def bridged(call: Call, target: rc.RingTarget = AGENT, *, after: float = 0) -> None:
    call.feed(ring(target), after=after)
    call.settle()
    leg = f"{target.device}-00000001"
    call.feed(f.LegRinging(leg, target.device), after=1)
    call.feed(f.AgentAnswered(leg, target.device), after=5)
    call.feed(f.CallerBridged(), after=2)


def hang_up(call: Call) -> None:
    call.feed(f.CallerHungUp())
    call.feed(f.ChannelGone("Normal Clearing"))
    call.end()


def test_each_agent_rung_is_kept_with_its_phone_its_times_and_how_it_ended():
    call = queued()
    call.feed(ring(AGENT), after=10)
    call.settle()
    call.feed(f.DialEnded(f.DialStatus.NO_ANSWER), after=15)
    call.settle()
    bridged(call, AGENT2, after=5)
    call.feed(answered_dial(AGENT2), after=40)
    call.feed(f.Collected("1"), after=3)
    call.settle()
    hang_up(call)
    rings = call.stored["rings"]
    assert [(r["agent"], r["device"], r["queue"], r["result"]) for r in rings] == [
        ("1001", "PJSIP/agent1001", "support", "no-answer"),
        ("1002", "PJSIP/agent1002", "support", "answered")]
    assert rings[0]["started_at"] == T0 + 10 and rings[0]["ended_at"] == T0 + 25
    assert rings[1]["started_at"] == T0 + 30 and rings[1]["ended_at"] == T0 + 38
    assert call.stored["ring_attempts"] == 2  # the record's count of Dials is unchanged


def test_when_two_agents_ring_together_the_one_who_answers_stops_the_other():
    call = queued()
    call.feed(ring(AGENT, AGENT2))
    call.settle()
    call.feed(f.AgentAnswered(LEG, AGENT.device), after=4)
    call.feed(f.CallerBridged(), after=2)
    results = {r["agent"]: r["result"] for r in call.record.rings}
    assert results == {"1001": "answered", "1002": "stopped"}


def test_a_ring_the_routing_core_stops_is_recorded_as_stopped():
    call = queued()
    call.feed(ring(AGENT, AGENT2))
    call.settle()
    call.feed(f.LegRinging("PJSIP/agent1002-00000002", AGENT2.device))
    call.feed(f.StopRingingOrdered(("1002",)), after=3)
    assert [(r["agent"], r["result"]) for r in call.record.rings] == [
        ("1001", ""), ("1002", "stopped")]


def test_a_caller_who_hangs_up_while_the_phone_rings_leaves_the_ring_and_the_queue_then():
    call = queued()
    call.feed(ring(), after=20)
    call.settle()
    call.feed(f.CallerHungUp(), after=6)
    call.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))
    call.end()
    assert call.stored["outcome"] == "abandoned"
    assert call.stored["rings"][0]["result"] == "caller-gone"
    assert call.stored["left_queue_at"] == T0 + 26
    assert call.stored["rings"][0]["ended_at"] == T0 + 26


def test_a_caller_who_hangs_up_while_waiting_left_the_queue_at_that_moment():
    call = queued()
    call.feed(f.CallerHungUp(), after=42)
    call.end()
    assert call.stored["left_queue_at"] == T0 + 42 and call.stored["rings"] == []


def test_a_caller_sent_to_the_exit_flow_left_the_queue_when_told_to():
    call = queued()
    call.feed(f.Routed(rc.ExitQueue("c1", "main", "max-wait")), after=300)
    assert call.record.left_queue_at == T0 + 300


def test_every_question_of_a_survey_is_kept_by_name_and_an_unanswered_one_is_left_out():
    questions = (SurveyQuestion("satisfaction"), SurveyQuestion("solved", digits="12"),
                 SurveyQuestion("recommend"))
    call = queued(surveys={"support": SurveyConfig(questions=questions, retries=0)})
    bridged(call)
    call.feed(answered_dial(), after=30)
    call.feed(f.Collected("2"), after=3)
    call.feed(f.Collected("2"), after=2)
    call.feed(f.Collected(""), after=5)  # no key for the last question
    call.settle()
    hang_up(call)
    assert call.stored["survey"] == "2,2,no-answer"  # as the record always said it
    assert call.stored["survey_answers"] == [
        {"question": "satisfaction", "answer": "2", "queue": "support", "agent": "1001",
         "answered_at": call.record.answered_at + 33},
        {"question": "solved", "answer": "2", "queue": "support", "agent": "1001",
         "answered_at": call.record.answered_at + 35}]


def test_a_callback_is_requested_then_completed_when_the_agent_talks_to_the_customer():
    call = queued()
    call.feed(f.KeyPressed("*"), after=30)
    call.settle()
    assert call.stored["callback"] == "requested"
    assert call.stored["left_queue_at"] == T0 + 30
    record = CallRecord(**call.record.fields())
    back = Call.of(CallSession.called_back(record, call.session.settings, call.now + 600,
                                           AGENT, 15))
    back.settle()
    back.feed(f.CallerBridged(), after=3)
    back.feed(answered_dial(), after=60)
    back.feed(f.Collected("1"), after=3)
    back.settle()
    hang_up(back)
    assert back.stored["callback"] == "completed" and back.closed == 1


def test_a_callback_customer_who_hangs_up_before_the_agent_answers_is_a_failed_callback():
    call = queued()
    call.feed(f.KeyPressed("*"), after=30)
    call.settle()
    record = CallRecord(**call.record.fields())
    back = Call.of(CallSession.called_back(record, call.session.settings, call.now + 600,
                                           AGENT, 15))
    back.settle()
    back.feed(f.CallerHungUp(), after=4)
    back.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))
    back.end()
    assert back.stored["callback"] == "failed" and back.stored["outcome"] == "abandoned"


def test_the_history_fields_survive_the_records_trip_through_redis():
    record = CallRecord("c9", CALLER, "4008001234", T0, left_queue_at=T0 + 5,
                        callback="requested",
                        rings=[{"queue": "support", "agent": "1001", "device": "PJSIP/a",
                                "started_at": T0 + 1, "ended_at": None, "result": ""}],
                        survey_answers=[{"question": "satisfaction", "answer": "1",
                                         "queue": "support", "agent": "1001",
                                         "answered_at": T0 + 9}])
    assert CallRecord.from_hash(record.to_hash()) == record
    old = {k: v for k, v in record.to_hash().items()
           if k not in ("rings", "survey_answers", "left_queue_at", "callback")}
    restored = CallRecord.from_hash(old)  # a record written before these fields existed
    assert restored.rings == [] and restored.left_queue_at is None and restored.callback == ""


def test_the_history_row_keeps_hold_time_direction_and_disposition():
    from acd.history.rows import call_row

    record = CallRecord("out-1", "13800138000", "4008001234", 1.0, agent="1001",
                        talk_seconds=30.0, hold_seconds=12.5, direction="outbound",
                        disposition="complaint", disposition_note="回电")
    row = call_row(record, revision=7)
    assert (row["hold_seconds"], row["direction"], row["disposition"],
            row["disposition_note"]) == (12.5, "outbound", "complaint", "回电")
