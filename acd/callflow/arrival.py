"""A call's first steps: the caller lists (blacklist, whitelist), then the IVR flow of
the dialled number, up to the queue the caller is handed to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.state import Gone, Script, reply_to
from acd.ivr import actions as ivr
from acd.ivr.interpreter import Interpreter
from acd.ivr.model import resolve_entry
from acd.media import phrases
from acd.media.playables import Recording
from acd.rules.caller_entries import Action, ListKind
from acd.rules.callers import RuleDecision

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handoff:
    """Where the caller is queued, and how urgently."""

    queue: str
    priority: int = 0
    skills: frozenset[str] = frozenset()


def new_call(s: CallSession) -> Script[None]:
    """A call to the 400 number: rules, IVR, queue, agent, survey."""
    from acd.callflow import queueing

    record = s.record
    entry, _ = s.settings.entry(record.called)
    decision: RuleDecision | None = None
    if s.settings.caller_lists:
        decision = (yield from reply_to(o.CheckRules(record.caller))).decision
    handoff: Handoff | None = None
    if decision is not None:
        s.change(rule=decision.reason)
        s.add_to("ivr_path", f"rule:{decision.list.value}:{decision.action.value}")
        if decision.list is ListKind.BLACK:
            routed_to = yield from blacklisted(s, decision)
            if routed_to is None:
                return
            entry = routed_to
        else:
            entry, handoff = whitelisted(decision, entry)
    yield o.Answer()
    if handoff is None:
        handoff = yield from run_ivr(s, entry)
        if handoff is None:
            return
        if decision is not None and decision.action is Action.VIP:
            handoff = Handoff(handoff.queue, max(handoff.priority, decision.priority or 0),
                              handoff.skills)
            s.change(variables={**record.variables, "vip": "1"})  # the agent hears it
    yield from queueing.serve(s, handoff)


def blacklisted(s: CallSession, decision: RuleDecision) -> Script[str | None]:
    """Block the caller; or, for `route` to a flow, return the flow to enter."""
    from acd.callflow import transfers

    log.info("%s: blocked by the %slist", s.describe(), decision.list.value)
    if decision.action is Action.ROUTE and decision.target_kind == "flow":
        return str(decision.target_name)
    s.change(outcome="blocked", hung_up_by="system")
    if decision.action is Action.ROUTE and decision.target_kind == "exten":
        s.change(outcome="transferred", transfer=str(decision.target_name))
        yield from transfers.put_through(s, str(decision.target_name), ring_seconds=30)
        return None
    if decision.action is Action.ANNOUNCE:
        yield o.Answer()
        text = phrases.speech("blocked", s.lang, s.settings.languages)
        name = decision.target_name or "blocked"
        yield o.PlayPrompts((Recording(name, text.lang, fallback=text),))
    yield o.HangUp()
    return None


def whitelisted(decision: RuleDecision, entry: str) -> tuple[str, Handoff | None]:
    """A whitelisted caller's flow (skip the menu) or queue (a dedicated group)."""
    if decision.action is Action.QUEUE or (decision.action is Action.SKIP_MENU
                                           and decision.target_kind == "queue"):
        return entry, Handoff(str(decision.target_name), decision.priority or 0)
    if decision.action is Action.SKIP_MENU and decision.target_kind in ("flow", "node"):
        name = str(decision.target_name)
        return (name if decision.target_kind == "flow" or ":" in name
                else f"{entry}:{name}"), None
    return entry, None


def run_ivr(s: CallSession, entry: str) -> Script[Handoff | None]:
    """Walk the caller through `entry` ('flow' or 'flow:node'); the Handoff to a queue,
    or None when the flow ended the call (voicemail, a transfer, a hang-up node)."""
    record = s.record
    flows = s.settings.flows
    start = resolve_entry(flows, entry)
    interpreter = Interpreter(flows, start, {
        "caller": record.caller, "called": record.called, "call_id": record.call_id,
        "lang": s.lang}, call_id=record.call_id)
    log.debug("%s: IVR %s (flows v%d)", s.describe(), start, flows.version)
    outcome: ivr.Outcome
    try:
        action = interpreter.start()
        while not isinstance(action, ivr.Finish):
            reply = yield from _perform(s, action)
            action = interpreter.send(reply)
        outcome = action.outcome
    except Gone:
        outcome = ivr.CallerHangup(interpreter.path[-1] if interpreter.path else str(start))
    sensitive = set(record.sensitive_variables) | set(interpreter.sensitive)
    s.change(ivr_path=[*record.ivr_path, *interpreter.path],
             variables={**record.variables, **interpreter.variables},
             sensitive_variables=sorted(sensitive))
    return (yield from _after_flow(s, outcome, interpreter.path))


def _after_flow(s: CallSession, outcome: ivr.Outcome, path: list[str]
                ) -> Script[Handoff | None]:
    if isinstance(outcome, ivr.QueueHandoff):
        log.debug("%s: IVR hands over to %s (priority %d) after %d nodes", s.describe(),
                 outcome.queue, outcome.priority, len(path))
        return Handoff(outcome.queue, outcome.priority, frozenset(outcome.skills))
    if isinstance(outcome, ivr.CallerHangup):
        raise Gone()
    s.change(hung_up_by="system")
    if isinstance(outcome, ivr.Voicemail):
        s.change(outcome="voicemail")
    elif isinstance(outcome, ivr.Transferred):
        s.change(outcome="transferred", transfer=outcome.target)
    else:
        s.change(outcome="ivr-hangup")
    if isinstance(outcome, ivr.Hangup) and outcome.reason != "flow":
        log.error("%s: IVR hung up (%s) after %s", s.describe(), outcome.reason,
                  " > ".join(path[-5:]))
    yield o.HangUp()
    return None


def _perform(s: CallSession, action: ivr.Action) -> Script[ivr.Reply]:
    """One IVR action as the session's order; its reply as the interpreter's."""
    if isinstance(action, ivr.Play):
        played = yield from reply_to(o.PlayPrompts(action.prompts, action.escape_digits))
        return ivr.Pressed(played.digit)
    if isinstance(action, ivr.ReadDigits):
        collected = yield from reply_to(o.CollectDigits(
            action.prompts, action.timeout, action.max_digits, action.terminator))
        return ivr.Pressed(collected.digits)
    if isinstance(action, ivr.FetchAnnouncement):
        return (yield from reply_to(o.FetchAnnouncement()))
    if isinstance(action, ivr.FetchLookup):
        return (yield from reply_to(o.FetchLookup(action.request)))
    if isinstance(action, ivr.CheckSchedule):
        decided = yield from reply_to(o.CheckSchedule(action.schedule))
        s.change(schedule=action.schedule, schedule_state=decided.decision.state)
        return decided
    if isinstance(action, ivr.PutThrough):
        log.info("%s: put through to %s", s.describe(), action.shown)  # sensitive hidden
        ended = yield from reply_to(o.DialNumber(action.number, action.ring_seconds,
                                                 action.context))
        answered = ended.status is f.DialStatus.ANSWERED
        if ended.caller_gone and not answered:
            raise Gone()  # the caller hung up while it rang: they left in the IVR
        return ivr.PutThroughEnded(answered)
    if isinstance(action, ivr.LeaveVoicemail):
        log.info("%s: voicemail %s", s.describe(), action.shown)
        yield o.RecordVoicemail(action.mailbox, action.options)
        return ivr.VoicemailLeft()
    raise TypeError(f"unknown IVR action {action!r}")
