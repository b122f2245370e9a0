"""A call that comes back to acd after a restart (the dialplan hands back every call acd
did not finish): it carries on where its record says it stood."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.callflow import survey
from acd.callflow.arrival import Handoff, new_call
from acd.callflow.queueing import serve
from acd.callflow.state import Script
from acd.core import events as routing

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)


def resumed(s: CallSession, still_queued: bool) -> Script[None]:
    """`still_queued`: the routing core (restored from Redis) still holds the caller."""
    record = s.record
    log.warning("%s: back after an acd restart; resuming", s.describe())
    s.add_to("ivr_path", "resumed")
    if record.answered_at and record.agent:
        # The conversation went on without us; the caller is still here, so the agent
        # hung up first.
        s.emit(o.PostToRouting(routing.CallEnded(record.call_id, record.agent)))
        s.change(talk_seconds=round(s.now - record.answered_at, 3), hung_up_by="agent",
                 outcome="answered")
        s.wrap_up_expected = True
        yield from survey.ask(s, record.queues[-1] if record.queues else "")
    elif record.enqueued_at and still_queued and record.queues:
        yield from serve(s, Handoff(record.queues[-1]), resume=True)
    else:
        yield from new_call(s)
