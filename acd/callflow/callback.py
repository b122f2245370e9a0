"""The customer we call back (virtual hold) has answered: they hear who is calling and
are put through to the agent the routing core reserved; if that agent does not answer,
they wait at the front of the queue like a live caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.callflow.arrival import Handoff
from acd.callflow.queueing import Outcome, after_queue, wait_and_connect
from acd.callflow.ringing import ring
from acd.callflow.state import Gone, Script
from acd.core import commands as routing_orders
from acd.core import events as routing
from acd.media import phrases

if TYPE_CHECKING:
    from acd.callflow.session import CallSession


def called_back(s: CallSession, target: routing_orders.RingTarget,
                ring_seconds: float) -> Script[None]:
    record = s.record
    s.change(outcome="")
    s.add_to("ivr_path", "callback:answered")
    queue = record.queues[-1] if record.queues else ""
    outcome = Outcome(queue=queue)
    try:
        yield o.PlayPrompts(phrases.say("callback_hello", s.lang, s.settings.languages))
        order = routing_orders.RingAgents(record.call_id, queue, (target,), ring_seconds)
        answered = yield from ring(s, order, outcome)
    except Gone:
        if not outcome.answered:  # the customer hung up before the agent answered
            s.emit(o.PostToRouting(routing.CallAbandoned(record.call_id)))
            s.change(outcome="abandoned", callback="failed", left_queue_at=s.now)
        else:
            s.change(callback="completed")
        raise
    if not answered:  # now a live caller at the front of the queue
        try:
            outcome = yield from wait_and_connect(s, Handoff(queue), resume=True)
        except Gone:
            s.change(callback="failed")
            raise
    s.change(callback="completed" if outcome.answered else "failed")
    yield from after_queue(s, outcome)
