"""An agent's call controls during the conversation, from the desk or the phone's keys:
hold and resume, consulting a colleague (attended transfer), then completing it,
taking it back or making it a three-way call.

Asterisk does the work on the agent's channel (asterisk/features.conf: the keys the
agent may also press on the phone); the session decides what may be asked now and keeps
the record true. Hold time comes from Asterisk's Hold/Unhold (a consultation holds the
caller too). A completed consultation, or the agent leaving a three-way call, ends the
agent's part at that moment (talk time, wrap-up, the routing core told of a transfer);
the caller talks on with the colleague in the same Dial, record and recording.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import notices
from acd.callflow import orders as o
from acd.callflow.state import ControlRefused, Ring
from acd.core import events as routing
from acd.rules.numbers import dialable

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

C = f.CallControl


def on_control(s: CallSession, ring: Ring, fact: f.CallControlAsked) -> None:
    """Check the control against where the call stands, then ask Asterisk for it."""
    control, target = fact.control, ""
    held = ring.held_since is not None
    if control is C.HOLD and (held or ring.consulting):
        raise ControlRefused("the caller is already on hold")
    if control is C.RESUME:
        if ring.consulting:
            raise ControlRefused("a consultation is in progress: cancel it to return to "
                                 "the caller")
        if not held:
            raise ControlRefused("the caller is not on hold")
    if control is C.CONSULT:
        if ring.consulting:
            raise ControlRefused(f"already consulting {ring.consulting}")
        if held:
            raise ControlRefused("resume the caller first, then consult")
        try:
            target = dialable(fact.target)
        except ValueError:
            raise ControlRefused("give the number to consult: a colleague's, an extension "
                                 "or an outside number") from None
        if not target:
            raise ControlRefused("give the number to consult")
        ring.consulting = target  # a queue's code rings a free colleague of it
    if control in (C.CONSULT_COMPLETE, C.CONSULT_CANCEL, C.CONFERENCE) and \
            not ring.consulting:
        raise ControlRefused("no consultation in progress")
    if control is C.CONSULT_CANCEL:
        target, ring.consulting = ring.consulting, ""  # Asterisk's Unhold follows
    log.info("%s: agent %s asks %s %s", s.describe(), ring.answered_by, control, target)
    s.emit(o.ControlAgentLeg(ring.agent_channel, control.value, target))


def on_control_failed(s: CallSession, ring: Ring, fact: f.ControlFailed) -> None:
    """Asterisk did not do what was asked: the consultation stands where it stood (none
    started, or the one taken back goes on), so the desk may try again."""
    if fact.control is C.CONSULT and ring.consulting == fact.target:
        ring.consulting = ""
    elif fact.control is C.CONSULT_CANCEL and not ring.consulting:
        ring.consulting = fact.target
    log.warning("%s: Asterisk did not %s %s for agent %s", s.describe(), fact.control,
                fact.target, ring.answered_by)


def on_hold_ended(s: CallSession, ring: Ring) -> None:
    """Back with the caller: a consultation that was not completed is over (taken back,
    or the colleague did not answer or hung up)."""
    ring.consulting = ""
    if not ring.conference and not ring.handed_to:
        give_back_colleague(s, ring)


def on_consult_reserved(s: CallSession, ring: Ring, fact: f.ConsultReserved) -> None:
    """A colleague taken from a queue for this call's consultation."""
    give_back_colleague(s, ring)  # (a second consultation: the first one's is over)
    ring.consult_agent = fact.agent_id
    s.add_to("ivr_path", f"consult:{fact.queue}:{fact.agent_id}")


def consult_id(call_id: str) -> str:
    """The routing core's id of a colleague's consultation taken for the call `call_id`."""
    return f"consult-{call_id}"


def give_back(s: CallSession, agent_id: str) -> None:
    """A colleague taken for a consultation is free again (their part is over)."""
    s.emit(o.PostToRouting(routing.OutboundEnded(agent_id, consult_id(s.record.call_id))))


def give_back_colleague(s: CallSession, ring: Ring) -> None:
    if ring.consult_agent:
        give_back(s, ring.consult_agent)
        ring.consult_agent = ""


def on_consult_ended(s: CallSession, ring: Ring, fact: f.ConsultEnded) -> None:
    """The consultation became a transfer or a three-way call."""
    if fact.agent_channel and fact.agent_channel != ring.agent_channel:
        return  # another leg's transfer (e.g. the colleague's own)
    target = fact.target or ring.consulting or "?"
    ring.consulting = ""
    from acd.callflow.ringing import end_hold

    end_hold(s, ring)  # the caller is no longer held: no Unhold comes for them
    if fact.conference:
        ring.conference = target
        s.add_to("ivr_path", f"conference:{target}")
        log.info("%s: agent %s, the caller and %s talk together", s.describe(),
                 ring.answered_by, target)
        s.checkpoint()
        return
    agent_left(s, ring, "consult", target)


def on_agent_leg_gone(s: CallSession, ring: Ring, fact: f.AgentLegGone) -> None:
    """The agent hung up: in a three-way call, the caller and the colleague go on."""
    if ring.conference and not ring.handed_to and fact.channel == ring.agent_channel:
        agent_left(s, ring, "conference", ring.conference)


def agent_left(s: CallSession, ring: Ring, kind: str, target: str) -> None:
    """The agent's part of the call is over now, though the caller talks on."""
    record = s.record
    from acd.callflow.ringing import end_hold

    end_hold(s, ring)
    ring.handed_to = target
    conversation = s.now - (ring.answered_at or s.now)
    talk = round(record.talk_seconds + max(0.0, conversation - ring.held_seconds), 3)
    s.change(talk_seconds=talk, transfer=f"{record.transfer},{kind}:{target}".lstrip(","))
    s.add_to("ivr_path", f"transfer:{kind}:{target}")
    s.wrap_up_expected = True
    notices.transferred(s, ring.answered_by, kind, target)
    s.emit(o.PostToRouting(routing.CallTransferred(record.call_id, ring.answered_by,
                                                   f"{kind}:{target}")))
    log.info("%s: agent %s leaves the caller with %s (%s)", s.describe(), ring.answered_by,
             target, kind)
    s.checkpoint()
