"""A call that comes back to acd after a restart (the dialplan hands back every call acd
did not finish): it carries on where its record says it stood."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import ending, survey
from acd.callflow import orders as o
from acd.callflow.arrival import Handoff, new_call
from acd.callflow.queueing import serve
from acd.callflow.state import Script, reply_to
from acd.core import events as routing

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)


def resumed(s: CallSession, still_queued: bool) -> Script[None]:
    """`still_queued`: the routing core (restored from Redis) still holds the caller."""
    record = s.record
    log.warning("%s: back after an acd restart; resuming", s.describe())
    s.add_to("ivr_path", "resumed")
    if record.enqueued_at and not record.answered_at:
        # acd may have died after an agent answered and before it recorded the answer
        # (during the 报工号; even the ring may not have been saved yet): if the last Dial
        # bridged them, that conversation took place (an agent who hung up during the
        # 报工号 talked to nobody: the caller is served still)
        last = yield from reply_to(o.ReadLastDial())
        if last.conversed and last.peer_agent:
            ending.talked_while_away(s, last.peer_agent, last.bridged_at,
                                     last.session_ended_at)
            s.change(hung_up_by="agent")
            yield from survey.ask(s, record.queues[-1] if record.queues else "")
            return
    if record.answered_at and record.agent:
        # The conversation went on without us; the caller is still here, so the agent
        # hung up first. It ended with the session that ran its Dial (Asterisk's clock):
        # acd's clock would add the time acd was away and the dialplan's music since.
        last = yield from reply_to(o.ReadLastDial())
        s.emit(o.PostToRouting(routing.CallEnded(record.call_id, record.agent)))
        talk = ending.talk_until(record, last.session_ended_at)
        s.change(hung_up_by="agent", outcome="answered")
        if talk is not None:
            s.change(talk_seconds=talk)
        else:
            s.change(outcome_reason=ending.END_UNSAID)
        s.wrap_up_expected = True
        yield from survey.ask(s, record.queues[-1] if record.queues else "")
    elif record.enqueued_at and still_queued and record.queues:
        yield from serve(s, Handoff(record.queues[-1]), resume=True)
    else:
        yield from new_call(s)
