"""An agent's own call (click-to-call, a 回访, an internal call).

The agent's phone rang first and answered: this session's channel is the agent's. acd
records the call, dials the customer (presenting the 400 number: the dialplan's
[acd-outbound]) or the colleague ([acd-transfer]), keeps the record (caller = the
customer's number, so that the number firewall masks it like an inbound caller's), and
tells the routing core when the agent is free again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.callflow.facts import DialEnded, DialStatus
from acd.callflow.state import Phase, Script, reply_to
from acd.core import events as routing

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

#: the dialplan context that places each kind of own call
CONTEXTS = {"customer": "acd-outbound", "internal": "acd-transfer"}
#: how an unanswered own call is recorded, by how the Dial ended
UNANSWERED = {DialStatus.NO_ANSWER: "no-answer", DialStatus.BUSY: "busy",
              DialStatus.REJECTED: "rejected", DialStatus.UNAVAILABLE: "failed",
              DialStatus.CANCELLED: "cancelled"}


def placed(s: CallSession) -> Script[None]:
    """The agent answered their phone: dial the other party, then record how it went."""
    record = s.record
    kind = record.variables.get("outbound", "customer")
    s.phase = Phase.CONNECTED
    try:
        plan = s.settings.recordings
        if plan is not None and not record.recording:
            s.change(recording=plan.path_for(record.call_id, record.arrived_at))
            yield o.StartRecording(record.recording)
        s.checkpoint()
        ended = yield from reply_to(o.DialNumber(record.caller, s.settings.put_through_seconds,
                                                 CONTEXTS.get(kind, CONTEXTS["customer"]),
                                                 private=True))
        _account(s, ended)
    finally:
        # however it ends (the agent hangs up first, acd stops): the agent is free
        s.emit(o.PostToRouting(routing.OutboundEnded(record.agent, record.call_id)))


def _account(s: CallSession, ended: DialEnded) -> None:
    if ended.status is DialStatus.ANSWERED:
        talk = ended.answered_seconds or 0.0
        s.change(answered_at=round(s.now - talk, 3), talk_seconds=talk, outcome="answered",
                 hung_up_by="agent" if ended.caller_gone else "caller")
    else:
        s.change(outcome=UNANSWERED.get(ended.status, "no-answer"),
                 hung_up_by="agent" if ended.caller_gone else "system")
    log.info("%s: own call of agent %s %s", s.describe(), s.record.agent, s.record.outcome)
