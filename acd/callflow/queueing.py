"""A caller in a queue: music while the routing core finds an agent, position
announcements, the callback key (virtual hold), leaving for the queue's exit target,
and what follows the conversation (survey, transfer)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow import ringing, survey, transfers
from acd.callflow.arrival import Handoff, run_ivr
from acd.callflow.state import Gone, Phase, Script, Wait, reply_to
from acd.core import commands as routing_orders
from acd.core import events as routing
from acd.media import phrases
from acd.privacy import logged
from acd.rules.numbers import dialable

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

#: how often a caller who left a queue for its exit target may be queued again by it
MAX_REQUEUES = 3


@dataclass
class Outcome:
    """How a caller's stay in a queue ended."""

    queue: str
    answered: bool = False
    agent_id: str = ""
    agent_hung_up: bool = False
    exit_target: str = ""
    exit_reason: str = ""
    #: ("queue" | "extension", target): the agent transferred the caller (API)
    transfer: tuple[str, str] | None = None
    #: the caller chose to be called back and may hang up: the record stays open
    callback: bool = False
    #: the agent's phone transferred the caller: the channel went on in Asterisk
    handed_over: bool = False


def serve(s: CallSession, handoff: Handoff, *, resume: bool = False) -> Script[None]:
    """Queue the caller until an agent has talked to them, then what follows."""
    outcome = yield from wait_and_connect(s, handoff, resume=resume)
    yield from after_queue(s, outcome)


def wait_and_connect(s: CallSession, handoff: Handoff, *, resume: bool = False,
                     ) -> Script[Outcome]:
    """Queue the caller (or, with resume, take up its place kept by the routing core)
    until an agent answered, the caller left the queue or asked to be called back."""
    record = s.record
    outcome = Outcome(queue=handoff.queue)
    s.phase = Phase.QUEUED
    if not resume:
        log.debug("%s: queued in %s (priority %d)", s.describe(), handoff.queue,
                 handoff.priority)
        s.add_to("queues", handoff.queue)
        if not record.enqueued_at:
            s.change(enqueued_at=s.now)
        answer = yield from reply_to(o.SubmitToRouting(routing.CallQueued(
            record.call_id, handoff.queue, record.caller, handoff.priority, handoff.skills)))
        if answer.error:  # a domain error: the caller waits for an exit
            log.error("%s: the routing core refused it in %s: %s", s.describe(),
                      handoff.queue, answer.error)
        s.checkpoint()
    marked = ""  # the queue the channel names for the fallback
    try:
        while True:
            s.phase = Phase.QUEUED
            if not s.routed_pending:  # an agent free at once: straight to Dial (its music)
                # a caller who waits: for the fallback, should acd go away, the queue it
                # waits in now (an overflow may have moved it, acd.callflow.overflow)
                now_in = record.queues[-1] if record.queues else handoff.queue
                if marked != now_in:
                    yield o.MarkQueued(now_in, handoff.priority)
                    marked = now_in
                yield from music(s, True)
            order = yield Wait(keys=s.settings.callback_key)
            if isinstance(order, f.QueueOverflowed):
                continue  # moved: the top of the loop names the new queue
            if isinstance(order, f.KeyPressed):
                if (yield from request_callback(s)):
                    outcome.callback = True
                    return outcome
            elif isinstance(order, routing_orders.RingAgents):
                if (yield from ringing.ring(s, order, outcome)):
                    return outcome
            elif isinstance(order, routing_orders.AnnouncePosition):
                prompts = phrases.position(order.position, order.estimated_wait_seconds,
                                           s.lang, s.settings.languages)
                if prompts:
                    yield from music(s, False)
                    yield o.PlayPrompts(prompts)
            elif isinstance(order, routing_orders.ExitQueue):
                outcome.exit_target, outcome.exit_reason = order.target, order.reason
                outcome.queue = record.queues[-1] if record.queues else outcome.queue
                s.change(left_queue_at=s.now)
                yield from music(s, False)
                return outcome
    except Gone:
        if not outcome.answered and not outcome.callback:
            s.emit(o.PostToRouting(routing.CallAbandoned(record.call_id)))
            s.change(outcome="abandoned", left_queue_at=s.now)
        raise


def request_callback(s: CallSession) -> Script[bool]:
    """Keep the caller's place and let them hang up; False when that is not possible."""
    record = s.record
    try:
        number = dialable(record.caller)
    except ValueError:
        number = ""
    if not number:
        yield from music(s, False)
        yield o.PlayPrompts(phrases.say("callback_no_number", s.lang, s.settings.languages))
        return False
    answer = yield from reply_to(o.SubmitToRouting(
        routing.CallbackRequested(record.call_id, number)))
    if answer.error:  # e.g. CallbackNotPossible: keep waiting
        log.info("%s: callback refused: %s", s.describe(), answer.error)
        return False
    s.change(outcome="callback-requested", callback="requested", left_queue_at=s.now)
    s.add_to("ivr_path", "callback:requested")
    s.checkpoint()
    log.info("%s: keeps its place; %s will be called back", s.describe(), logged(number))
    yield from music(s, False)
    yield o.PlayPrompts(phrases.say("callback_ok", s.lang, s.settings.languages,
                                    number=" ".join(number)))
    return True


def music(s: CallSession, on: bool) -> Script[None]:
    """Music on hold on or off, only when it is not already so (each is a round trip)."""
    if s.music_on != on:
        yield o.StartMusic() if on else o.StopMusic()
        s.music_on = on


def after_queue(s: CallSession, outcome: Outcome) -> Script[None]:
    """What follows the stay in the queue: a callback, a transfer, the exit target, the
    survey."""
    if outcome.callback:
        s.keep_open = True  # the call goes on when the routing core calls back
        yield o.HangUp()
        return
    if outcome.handed_over:
        return  # the session ends here; the next FastAGI session carries the call on
    s.phase = Phase.AFTER
    if outcome.transfer is not None:
        yield from transfers.follow(s, outcome.transfer)
        return
    if outcome.exit_target:
        s.change(outcome=f"exited:{outcome.exit_reason}")
        log.info("%s: leaves %s (%s) for %s", s.describe(), outcome.queue,
                 outcome.exit_reason, outcome.exit_target)
        handoff = yield from run_ivr(s, outcome.exit_target)
        if handoff is not None and s.requeues < MAX_REQUEUES:
            s.requeues += 1
            yield from serve(s, handoff)
        elif handoff is not None:
            yield o.HangUp()
        return
    if outcome.answered and outcome.agent_hung_up:
        yield from survey.ask(s, outcome.queue)
    elif outcome.answered:
        s.change(survey="not-surveyed")
