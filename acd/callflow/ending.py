"""How a call's session ends: the channel is hung up once, the record is finished
(recording final, outcome, who hung up) and closed once, or kept open when the call
goes on elsewhere (a callback booked, a phone transfer, acd stopping)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow import ring_log
from acd.callflow.state import Gone, Phase, Script
from acd.core import events as routing

if TYPE_CHECKING:
    from acd.callflow.record import CallRecord
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
    # a ring still open (a call acd lost track of mid-Dial) ends with the call
    ring_log.ended(s, "caller-gone" if record.hung_up_by == "caller" else "failed")
    s.phase = Phase.ENDING
    if record.recording:
        # final only once the channel is gone: the driver waits for the file
        s.emit(o.FinishRecording(record.recording, bool(record.answered_at), {
            "agent": record.agent, "queue": record.queues[-1] if record.queues else "",
            "caller": record.caller, "called": record.called,
            "start": record.answered_at or record.arrived_at}))
        return
    s.close_soon()


#: why a record cannot be completed (outcome unknown-after-restart)
TALK_UNKNOWN = ("the caller hung up during the conversation while acd was away; "
                "Asterisk kept no account of when, so the talk time is unknown")
#: why an answered call's talk time is not given
ANSWER_UNSEEN = ("the agent answered as acd went away, before acd saw the conversation "
                 "begin, and the dialplan did not note the bridge: the talk time is unknown")
END_UNSAID = ("the conversation ended while acd was away and the dialplan did not say when "
              "(ACD_AGI_ENDED: asterisk/extensions.conf is older than acd): the talk time "
              "is unknown")


def talk_until(record: CallRecord, ended_at: float | None) -> float | None:
    """The call's talk time once the conversation that began at the bridge acd recorded
    (`answered_at`) ended at `ended_at`, on top of the call's earlier conversations;
    None when either end is unknown. For a conversation that ended while acd was away,
    `ended_at` is Asterisk's (the dialplan's ACD_AGI_ENDED): never acd's clock, which
    would add the time it was away, nor ANSWEREDTIME_MS, which Asterisk counts from the
    caller's own answer (the IVR, the wait and the ring included)."""
    if ended_at is None or not record.answered_at:
        return None
    return round(record.talk_seconds + max(0.0, ended_at - record.answered_at), 3)


def orphan_gone(s: CallSession, gone: f.ChannelGone) -> None:
    """A call acd lost track of (it was away) hung up: close its record from what the
    dialplan recorded meanwhile (`gone.account`), from the record itself, and from the
    hang-up when acd saw it; what none of them tells is said to be unknown, never
    guessed."""
    record, account = s.record, gone.account
    talked = account is not None and account.path == "talked"
    if account is not None and account.path == "fallback":
        _served_by_fallback(s, account)
    elif account is not None and talked and not record.answered_at and account.agent:
        _answered_while_away(s, account)
    elif record.answered_at and record.agent:
        s.emit(o.PostToRouting(routing.CallEnded(record.call_id, record.agent)))
        s.wrap_up_expected = True
        if account is not None and talked:  # the dialplan saw the conversation end
            _talked_while_away(s, account)
        elif not gone.while_away:  # still bridged when acd came back; acd saw it end
            s.change(talk_seconds=talk_until(record, s.now), hung_up_by="caller",
                     outcome=record.outcome or "answered")
        else:
            s.change(hung_up_by="caller", outcome="unknown-after-restart",
                     outcome_reason=TALK_UNKNOWN)
    elif record.enqueued_at:
        # no account: the caller hung up before the dialplan gave up on acd
        s.change(outcome=record.outcome or "abandoned", hung_up_by="caller")
        s.emit(o.PostToRouting(routing.CallAbandoned(record.call_id)))
    if not record.outcome:
        s.change(outcome="unknown-after-restart",
                 outcome_reason="the call ended while acd was away, before it was queued")
    finish(s)


def _talked_while_away(s: CallSession, account: f.LostCallAccount) -> None:
    """The conversation acd saw begin ended while no acd was there: the agent hung up
    (the caller heard goodbye) or the caller did. No survey was asked."""
    record = s.record
    talk = talk_until(record, account.session_ended_at)
    s.change(outcome=record.outcome or "answered")
    if talk is not None:
        s.change(talk_seconds=talk)
    else:
        s.change(outcome_reason=END_UNSAID)
    _ended_without_acd(s, account)


def _answered_while_away(s: CallSession, account: f.LostCallAccount) -> None:
    """acd died as the agent answered (before it knew): the conversation took place, and
    ended while no acd was there."""
    talked_while_away(s, account.agent, account.bridged_at, account.session_ended_at)
    _ended_without_acd(s, account)


def _ended_without_acd(s: CallSession, account: f.LostCallAccount) -> None:
    """Who ended a conversation no acd saw end, as the dialplan says; no survey was asked,
    and the caller heard goodbye if the agent hung up first."""
    by = account.hung_up_by or "agent"
    s.change(hung_up_by=by, survey="not-surveyed")
    if by == "agent":
        s.add_to("ivr_path", "goodbye-without-acd")


def talked_while_away(s: CallSession, agent: str, bridged_at: float | None,
                      ended_at: float | None) -> None:
    """The agent answered while no acd was watching (it died between the answer and the
    bridge it would have recorded), and the conversation is over: the record and the
    routing core learn it now. Whatever the restored core holds for the caller (ringing,
    or waiting again after its ring timed out), the caller is no longer its to serve.
    Its length is Asterisk's, from the bridge the dialplan noted to the end of the Dial;
    without both, it is unknown (ANSWER_UNSEEN)."""
    call_id = s.record.call_id
    s.emit(o.PostToRouting(routing.RingAnswered(call_id, agent)))
    s.emit(o.PostToRouting(routing.CallEnded(call_id, agent)))
    s.emit(o.PostToRouting(routing.CallLeftForFallback(call_id)))
    s.wrap_up_expected = True
    s.change(agent=agent, outcome="answered")
    if bridged_at is not None and ended_at is not None:
        s.change(answered_at=bridged_at)
        s.change(talk_seconds=talk_until(s.record, ended_at))
    else:
        s.change(outcome_reason=ANSWER_UNSEEN)


def _served_by_fallback(s: CallSession, account: f.LostCallAccount) -> None:
    """Asterisk's own queue had the caller: who answered, after how long, for how long."""
    record = s.record
    s.emit(o.PostToRouting(routing.CallLeftForFallback(record.call_id)))
    s.add_to("ivr_path", "fallback-queue")
    s.change(hung_up_by=account.hung_up_by or "caller")
    if account.agent:
        connected = (account.queued_at or 0.0) + (account.held_seconds or 0.0)
        s.change(outcome="answered-by-fallback", agent=account.agent,
                 answered_at=connected if account.queued_at else record.answered_at,
                 talk_seconds=round(account.talk_seconds or 0.0, 3),
                 survey="not-surveyed")  # Asterisk's queue has no survey
    else:
        s.change(outcome="abandoned" if account.hung_up_by == "caller" else "fallback-unserved",
                 outcome_reason=f"Asterisk's fallback queue: {account.queue_status or 'hung up'}")
