"""How a call's session ends: the channel is hung up once, the record is finished
(recording final, outcome, who hung up) and closed once, or kept open when the call
goes on elsewhere (a callback booked, a phone transfer, acd stopping)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.callflow.state import Gone, Phase, Script
from acd.core import events as routing

if TYPE_CHECKING:
    from acd.callflow.session import CallSession


def whole_call(s: CallSession, body: Callable[[CallSession], Script[None]]) -> Script[None]:
    """Run a script, then hang the caller up if nothing did (acd is done with the call:
    the dialplan must not take it back)."""
    yield from body(s)
    if s.caller_present and not s.hangup_sent and not s.handed_over:
        with contextlib.suppress(Gone):
            yield o.HangUp()


def script_over(s: CallSession, *, gone: bool) -> None:
    record = s.record
    if s.handed_over or s.keep_open or s.stopping:
        s.phase = Phase.LEFT
        s.checkpoint()  # the next session (or the next acd) takes the record from here
        return
    if gone:
        s.change(hung_up_by=record.hung_up_by or "caller")
        if not record.outcome:
            s.change(outcome="abandoned" if record.enqueued_at else "caller-left-ivr")
    finish(s)


def finish(s: CallSession) -> None:
    """The call is over: the record gets its end, then closes (after the recording)."""
    record = s.record
    s.change(ended_at=s.now)
    s.phase = Phase.ENDING
    if record.recording:
        # final only once the channel is gone: the driver waits for the file
        s.emit(o.FinishRecording(record.recording, bool(record.answered_at), {
            "agent": record.agent, "queue": record.queues[-1] if record.queues else "",
            "caller": record.caller, "called": record.called,
            "start": record.answered_at or record.arrived_at}))
        return
    s.close_soon()


def orphan_gone(s: CallSession) -> None:
    """A call acd lost track of (restarted mid-call) hung up: close its record and tell
    the routing core, from what the record says."""
    record = s.record
    if record.answered_at and record.agent:
        s.change(talk_seconds=round(s.now - record.answered_at, 3),
                 outcome=record.outcome or "answered")
        s.wrap_up_expected = True
        s.emit(o.PostToRouting(routing.CallEnded(record.call_id, record.agent)))
    elif record.enqueued_at:
        s.change(outcome=record.outcome or "abandoned")
        s.emit(o.PostToRouting(routing.CallAbandoned(record.call_id)))
    if not record.outcome:
        s.change(outcome="lost")
    finish(s)
