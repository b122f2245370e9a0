"""What a call tells integrators (TellIntegrators orders), in memory with a hand-set
clock: one event per fact, in the call's order, each from the place the fact enters."""

from __future__ import annotations

from harness import AGENT, AGENT2, CALLER, Call, answered_dial, ring
from test_session_paths import connected, end_survey, queued

from acd.callflow import facts as f
from acd.callflow import orders as o


def told(call: Call) -> list[tuple[str, str]]:
    return [(n.kind, n.agent_id) for n in call.of_kind(o.TellIntegrators)]


def test_an_answered_held_and_rated_call_tells_each_fact_once_in_order():
    call = connected(queued())
    call.feed(f.HoldChanged(True, "agent"), after=10)
    call.feed(f.HoldChanged(True, "agent"), after=1)  # a repeated Hold changes nothing
    call.feed(f.HoldChanged(False, "agent"), after=9)
    call.feed(answered_dial(), after=30)
    call.settle()
    end_survey(call, "1")
    call.end()
    assert told(call) == [("call.offered", "1001"), ("call.answered", "1001"),
                          ("call.held", "1001"), ("call.resumed", "1001"),
                          ("survey.answered", "1001"), ("call.ended", "1001")]
    notices = {n.kind: n for n in call.of_kind(o.TellIntegrators)}
    assert notices["call.offered"].data["caller"] == CALLER  # masked later, per consumer
    assert notices["call.resumed"].data["hold_seconds"] == 10.0
    assert notices["call.ended"].data["outcome"] == "answered"
    assert notices["call.ended"].data["hold_seconds"] == 10.0


def test_a_ring_all_tells_one_offer_per_agent_rung():
    call = queued()
    call.feed(ring(AGENT, AGENT2))
    call.settle()
    assert told(call) == [("call.offered", "1001"), ("call.offered", "1002")]


def test_a_transfer_from_the_api_tells_the_transfer_with_its_target():
    call = connected(queued())
    call.feed(f.TransferAsked("queue", "complaints"), after=10)
    call.feed(answered_dial())
    call.settle()
    [transfer] = [n for n in call.of_kind(o.TellIntegrators) if n.kind == "call.transferred"]
    assert (transfer.agent_id, transfer.data) == ("1001", {"kind": "queue",
                                                           "target": "complaints"})


def test_a_caller_who_hangs_up_in_the_queue_tells_only_the_end():
    call = queued()
    call.feed(f.CallerHungUp(), after=30)
    call.end()
    assert told(call) == [("call.ended", "")]
