"""Where an agent's ring is placed: recording, the Dial with the whisper and the 报工号,
and what each way a Dial can end means for the routing core and the call record.

The agent counts as answered when the conversation starts (the caller's channel
enters the bridge, after the 报工号), or, when Asterisk's event lags behind the Dial
itself, when the Dial ends after an answer. An agent who hangs up during the 报工号
never talked to the caller: that is a rejected ring, and the caller is offered to the
next agent at the same place in the queue.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import controls, notices, overflow, ring_log
from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.state import Gone, Phase, Ring, Script, reply_to
from acd.core import commands as routing_orders
from acd.core import events as routing
from acd.core.events import RingFailure
from acd.media import phrases

if TYPE_CHECKING:
    from acd.callflow.queueing import Outcome
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

FAILURES: dict[f.DialStatus, RingFailure] = {
    f.DialStatus.NO_ANSWER: "no-answer", f.DialStatus.BUSY: "busy",
    f.DialStatus.UNAVAILABLE: "unavailable", f.DialStatus.REJECTED: "rejected",
    f.DialStatus.CANCELLED: "no-answer",
}


def ring(s: CallSession, order: routing_orders.RingAgents, outcome: Outcome,
         ) -> Script[bool]:
    """Dial the agents the routing core chose; True when the call was answered (and the
    conversation has ended), False when the caller waits on."""
    record = s.record
    s.change(ring_attempts=record.ring_attempts + 1)
    current = s.ring = Ring(order.targets, order.queue)
    s.phase = Phase.RINGING
    plan = s.settings.recordings
    if plan is not None and not record.recording:
        s.change(recording=plan.path_for(record.call_id, record.arrived_at))
        yield o.StartRecording(record.recording)
    settings = s.settings.queue_telephony(order.queue)
    languages = s.settings.languages
    whisper = phrases.agent_whisper(settings.whisper, record.variables.get("vip") == "1",
                                    languages)
    announce = phrases.agent_number(order.targets[0].agent_id, s.lang, languages) \
        if len(order.targets) == 1 and settings.announce_agent else None
    s.music_on = False  # the Dial plays its own music while the phones ring
    ring_log.started(s, order.queue, order.targets)
    notices.offered(s, order.queue, order.targets)
    ended = yield from reply_to(o.DialAgents(order.targets, max(1, int(order.timeout)),
                                             whisper, announce))
    current.over = True
    return dial_ended(s, current, ended, outcome)


def dial_ended(s: CallSession, current: Ring, ended: f.DialEnded, outcome: Outcome) -> bool:
    """What the Dial's end means; True when the caller talked to the agent. Raises Gone
    when the caller hung up."""
    call_id = s.record.call_id
    controls.give_back_colleague(s, current)  # the conversation they joined is over
    if current.handed_to:  # the agent left after a consultation; the colleague is done
        outcome.answered, outcome.agent_id = True, current.answered_by
        s.change(outcome="transferred",
                 hung_up_by="caller" if ended.caller_gone else "agent")
        if ended.caller_gone:
            raise Gone()
        return True
    if ended.transferred_to:  # the agent's phone transferred the caller (SIP REFER)
        connect(s, current, ended.peer_device, ended.peer)
        current.transfer = s.settings.transfer_target(ended.transferred_to)
        outcome.handed_over = True
        log.info("%s: agent %s's phone transfers the caller to %s", s.describe(),
                 current.answered_by, ended.transferred_to)
        conversation_over(s, current, outcome, agent_hung_up=True)
        s.hand_over()
        return True
    if ended.caller_gone:
        # answered: bridged (Asterisk said so) or, if its event lags, the Dial's status
        if current.answered_by or ended.status is f.DialStatus.ANSWERED:
            connect(s, current, ended.peer_device, ended.peer)
            conversation_over(s, current, outcome, agent_hung_up=False)
        ring_log.ended(s, "caller-gone")
        raise Gone()
    if current.answered_by or (ended.status is f.DialStatus.ANSWERED and not ended.left_early):
        # bridged (Asterisk said so, and the routing core heard it): whatever the Dial
        # returned, the conversation took place and is over
        connect(s, current, ended.peer_device, ended.peer)
        conversation_over(s, current, outcome, agent_hung_up=True)
        return True
    status = ended.status
    if status is f.DialStatus.ANSWERED:  # hung up during the 报工号: never connected
        log.info("%s: the agent hung up before the bridge", s.describe())
        status = f.DialStatus.REJECTED
    log.info("%s: %s did not answer (%s)", s.describe(),
             ",".join(t.agent_id for t in current.targets), status)
    ring_log.ended(s, ring_log.DIAL_RESULTS.get(status, "no-answer"))
    for target in current.targets:
        s.emit(o.PostToRouting(routing.RingFailed(call_id, target.agent_id,
                                                  FAILURES.get(status, "no-answer"))))
    return False


def connect(s: CallSession, current: Ring, device: str, channel: str) -> None:
    """The agent answered: the routing core hears it once, the record keeps it."""
    if current.answered_by:
        return
    agent = next((t.agent_id for t in current.targets if t.device == device),
                 current.targets[0].agent_id)
    current.answered_by, current.answered_at = agent, s.now
    current.agent_channel = current.agent_channel or channel or current.legs.get(agent, "")
    s.phase = Phase.CONNECTED
    overflow.now_in(s, current.queue)  # answered by an agent of an `also` overflow's queue
    notices.answered(s, agent, current.queue)
    s.emit(o.PostToRouting(routing.RingAnswered(s.record.call_id, agent)))
    ring_log.answered(s, agent)
    s.change(agent=agent, answered_at=s.now)
    s.checkpoint()


def on_hold(s: CallSession, current: Ring, fact: f.HoldChanged) -> None:
    """Hold and resume during the conversation: the time on hold is kept apart from the
    talk time (a repeated Hold, or an Unhold without one, changes nothing)."""
    if fact.held and current.held_since is None:
        current.held_since = s.now
        log.info("%s: on hold (%s)", s.describe(), fact.by)
        notices.hold_changed(s, current.answered_by, True, fact.by)
    elif not fact.held and current.held_since is not None:
        end_hold(s, current)
        controls.on_hold_ended(s, current)
        log.info("%s: off hold (%s)", s.describe(), fact.by)
        notices.hold_changed(s, current.answered_by, False, fact.by)


def end_hold(s: CallSession, current: Ring) -> None:
    """Close a hold in progress, into the conversation's and the record's hold time."""
    if current.held_since is not None:
        seconds = s.now - current.held_since
        current.held_seconds += seconds
        current.held_since = None
        s.change(hold_seconds=round(s.record.hold_seconds + seconds, 3))


def conversation_over(s: CallSession, current: Ring, outcome: Outcome, *,
                      agent_hung_up: bool) -> None:
    """The agent's part ends: hung up (by either side) or transferred away."""
    record = s.record
    end_hold(s, current)
    conversation = s.now - (current.answered_at or s.now)
    talk = round(record.talk_seconds + max(0.0, conversation - current.held_seconds), 3)
    outcome.answered, outcome.agent_id = True, current.answered_by
    outcome.queue = current.queue or outcome.queue  # its survey: the answering queue's
    s.change(agent=current.answered_by, talk_seconds=talk)
    s.wrap_up_expected = True
    if current.transfer is not None and agent_hung_up:
        kind, target = current.transfer
        outcome.transfer = current.transfer
        s.change(transfer=f"{record.transfer},{kind}:{target}".lstrip(","))
        notices.transferred(s, current.answered_by, kind, target)
        s.emit(o.PostToRouting(routing.CallTransferred(record.call_id, current.answered_by,
                                                       f"{kind}:{target}")))
        return
    outcome.agent_hung_up = agent_hung_up
    s.change(hung_up_by="agent" if agent_hung_up else "caller", outcome="answered")
    s.emit(o.PostToRouting(routing.CallEnded(record.call_id, current.answered_by)))


def on_ring_fact(s: CallSession, current: Ring,
                 fact: f.LegRinging | f.AgentAnswered | f.CallerBridged | f.StopRingingOrdered,
                 ) -> None:
    """Asterisk's word on the Dial in progress, or the routing core's."""
    if isinstance(fact, f.LegRinging):
        for target in current.targets:
            if fact.device == target.device:
                current.legs[target.agent_id] = fact.channel
    elif isinstance(fact, f.AgentAnswered):
        current.agent_channel = current.agent_channel or fact.channel
        current.answering_device = fact.device
    elif isinstance(fact, f.CallerBridged):
        if current.answering_device or len(current.targets) == 1:
            connect(s, current, current.answering_device or current.targets[0].device,
                    current.agent_channel)
    elif not current.answered_by:  # StopRingingOrdered: only a ring still ringing
        legs = [current.legs[a] for a in fact.agent_ids if a in current.legs]
        if legs:
            log.info("%s: stop ringing %s", s.describe(), ", ".join(legs))
        for leg in legs:
            s.emit(o.HangUpLeg(leg))
        ring_log.ended(s, "stopped", [a for a in fact.agent_ids if a in current.legs])
