"""An agent's own call, in memory: recorded, the customer dialled through [acd-outbound],
the record kept like an inbound call's (caller = the customer), the agent freed once."""

from __future__ import annotations

from harness import T0, Call, settings

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.record import CallRecord
from acd.callflow.session import CallSession
from acd.core import events as ev

CUSTOMER = "13800138000"


def placed(kind: str = "customer", number: str = CUSTOMER) -> Call:
    record = CallRecord(call_id="out-1", caller=number, called="4008001234", arrived_at=T0,
                        agent="1001", direction="outbound", variables={"outbound": kind})
    call = Call.of(CallSession.outbound(record, settings(), T0 + 3))
    call.settle()  # the recording starts
    return call


def test_an_answered_own_call_is_recorded_with_the_customers_talk_time_and_frees_the_agent():
    call = placed()
    [dial] = call.of_kind(o.DialNumber)
    assert (dial.number, dial.context) == (CUSTOMER, "acd-outbound")
    assert call.of_kind(o.StartRecording)  # from before the customer answers
    call.feed(f.DialEnded(f.DialStatus.ANSWERED, "PJSIP/trunk-1", answered_seconds=42.5),
              after=50)
    call.settle()  # the agent is hung up: the customer ended the call
    call.feed(f.CallerHungUp())
    call.end()
    assert call.closed == 1
    stored = call.stored
    assert stored["outcome"] == "answered" and stored["talk_seconds"] == 42.5
    assert stored["hung_up_by"] == "caller" and call.record.direction == "outbound"
    assert stored["answered_at"] == T0 + 3 + 50 - 42.5
    assert stored["recording"].startswith("/rec/")
    assert call.routing() == [ev.OutboundEnded("1001", "out-1")]
    assert not call.of_kind(o.CollectDigits)  # no survey on an agent's own call


def test_a_customer_who_does_not_answer_is_recorded_as_no_answer():
    call = placed()
    call.feed(f.DialEnded(f.DialStatus.NO_ANSWER), after=60)
    call.settle()
    call.feed(f.CallerHungUp())
    call.end()
    assert call.stored["outcome"] == "no-answer" and call.record.talk_seconds == 0.0
    assert call.routing() == [ev.OutboundEnded("1001", "out-1")]


def test_an_agent_who_hangs_up_while_it_rings_cancels_the_call():
    call = placed()
    call.feed(f.CallerHungUp(), after=5)
    call.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))
    call.end()
    assert call.stored["outcome"] == "cancelled" and call.stored["hung_up_by"] == "agent"
    assert call.routing() == [ev.OutboundEnded("1001", "out-1")] and call.closed == 1


def test_an_internal_call_goes_through_the_transfer_context():
    call = placed("internal", "1002")
    [dial] = call.of_kind(o.DialNumber)
    assert (dial.number, dial.context) == ("1002", "acd-transfer")
