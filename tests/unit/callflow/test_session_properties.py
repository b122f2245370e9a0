"""Invariants of a call's session under any order of facts (hypothesis).

A simulated channel and routing core answer the session the way the driver would,
with any answer they could give and any outside fact at any moment: the caller
hanging up, the routing core's orders, Asterisk's events, API requests.
Whatever happens: the record is closed at most once (exactly once unless the call
goes on elsewhere), the routing core hears each ring's outcome once, no channel
order follows the caller's hang-up, and an answered call ends in the queue whose agent
answered (overflow or not).
"""

from __future__ import annotations

import contextlib
from typing import Any

from harness import AGENT, AGENT2, Call, ring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.state import NotConnected, Phase
from acd.core import commands as rc
from acd.core import events as ev
from acd.core.model import OverflowMode

STATUSES = list(f.DialStatus)
#: mostly answers, some outside facts, now and then the caller hangs up
MOVES = ["reply"] * 6 + ["outside"] * 3 + ["hangup"]


def reply_to(order: Any, data: st.DataObject) -> f.Fact:
    """Any reply a working channel, caller list, core or lookup could give."""
    match order:
        case o.PlayPrompts():
            return f.Played(data.draw(st.sampled_from(["", "", "1", "*"])))
        case o.CollectDigits():
            return f.Collected(data.draw(st.sampled_from(["", "1", "2", "3", "9"])))
        case o.DialAgents():
            target = data.draw(st.sampled_from(order.targets))
            status = data.draw(st.sampled_from(STATUSES))
            return f.DialEnded(status, f"{target.device}-1", target.device,
                               transferred_to=data.draw(st.sampled_from(["", "", "", "602"])),
                               left_early=data.draw(st.booleans()))
        case o.DialNumber():
            return f.DialEnded(data.draw(st.sampled_from(STATUSES)))
        case o.CheckRules():
            return f.RuleDecided(None)
        case o.FetchAnnouncement():
            return f.AnnouncementFetched(())
        case o.SubmitToRouting():
            return f.RoutingAnswered(data.draw(st.sampled_from(["", "", "refused"])))
        case _:
            return f.ChannelDone()


def outside_fact(call: Call, data: st.DataObject) -> f.Fact:
    legs = ["PJSIP/agent1001-1", "PJSIP/agent1002-1"]
    if call.waiting_for is None and data.draw(st.booleans()):  # waiting: an agent is free
        return ring(AGENT)
    return data.draw(st.sampled_from([
        ring(AGENT), ring(AGENT, AGENT2), ring(AGENT2, queue="complaints"),
        f.QueueOverflowed("support", "complaints", OverflowMode.MOVE),
        f.QueueOverflowed("support", "complaints", OverflowMode.ALSO),
        f.Routed(rc.AnnouncePosition("c1", 2, 60)),
        f.Routed(rc.ExitQueue("c1", "direct", "max-wait")),
        f.KeyPressed("*"), f.KeyPressed("5"),
        f.LegRinging(legs[0], AGENT.device), f.LegRinging(legs[1], AGENT2.device),
        f.AgentAnswered(legs[0], AGENT.device), f.CallerBridged(),
        f.StopRingingOrdered(("1001",)), f.StopRingingOrdered(("1001", "1002")),
        f.TransferAsked("queue", "complaints"), f.TransferAsked("extension", "8100"),
        f.SpyAsked("listen", "PJSIP/supervisor1"),
        f.ChannelGone("Normal Clearing"), f.WrapUpFinished("1001", 3.0),
        f.RecordingFinished("/rec/x.wav"), f.TimerFired(),
    ]))


def run(data: st.DataObject, caller: str = "13800138000") -> Call:
    call = Call.new(caller=caller, called=data.draw(st.sampled_from(["4008001234",
                                                                      "4008000001"])))
    hung_up = False
    for _ in range(80):
        if call.session.finished:
            break
        order = call.waiting_for
        move = data.draw(st.sampled_from(MOVES))
        if move == "hangup" and not hung_up:
            if isinstance(order, o.DialAgents | o.DialNumber):  # the driver: Dial first
                call.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))
            call.feed(f.CallerHungUp(), after=1)
            hung_up = True
        elif move == "reply" and order is not None and not (
                hung_up and isinstance(order, o.CHANNEL_ORDERS)):
            call.feed(reply_to(order, data), after=data.draw(st.sampled_from([0, 1, 5])))
        else:
            with contextlib.suppress(NotConnected):
                call.feed(outside_fact(call, data), after=1)
    if not hung_up:  # every call ends: the caller hangs up at last
        order = call.waiting_for
        if isinstance(order, o.DialAgents | o.DialNumber):
            call.feed(f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True))
        call.feed(f.CallerHungUp(), after=1)
    call.end()
    return call


def ring_outcomes(call: Call) -> list[list[ev.Event]]:
    """The routing events that followed each Dial of agents, one list per ring."""
    rings: list[list[ev.Event]] = []
    for order in call.orders:
        if isinstance(order, o.DialAgents):
            rings.append([])
        elif isinstance(order, o.PostToRouting) and rings:
            rings[-1].append(order.event)
    return rings


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_record_is_closed_exactly_once_unless_the_call_goes_on_elsewhere(data):
    call = run(data)
    session = call.session
    assert call.closed <= 1 and call.opened == 1
    goes_on = session.handed_over or session.keep_open
    assert call.closed == (0 if goes_on else 1), (session.phase, call.orders[-5:])
    if call.closed:
        assert call.stored["ended_at"] and call.stored["outcome"]
        assert session.phase is Phase.CLOSED


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_routing_core_hears_each_rings_outcome_once(data):
    call = run(data)
    for events in ring_outcomes(call):
        answered = [e for e in events if isinstance(e, ev.RingAnswered)]
        failed = [e for e in events if isinstance(e, ev.RingFailed)]
        abandoned = [e for e in events if isinstance(e, ev.CallAbandoned)]
        assert len(answered) <= 1
        assert not (answered and failed), events
        assert len({e.agent_id for e in failed}) == len(failed), events
        if answered:  # the agent's part ends exactly once: hung up or transferred
            ends = [e for e in events if isinstance(e, ev.CallEnded | ev.CallTransferred)]
            assert len(ends) <= 1 and not abandoned, events
    all_events = call.routing()
    assert sum(isinstance(e, ev.CallAbandoned) for e in all_events) <= 1


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_channel_order_follows_the_callers_hang_up(data):
    call = run(data)
    assert call.after_hangup == []


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_answered_call_ends_in_the_queue_whose_agent_answered(data):
    call = run(data)
    answered = [r for r in call.record.rings if r["result"] == "answered"]
    if call.closed and call.stored["outcome"] == "answered" and answered:
        assert call.stored["queues"][-1] == answered[-1]["queue"], call.stored
