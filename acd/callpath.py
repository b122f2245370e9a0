"""The life of one call to the 400 number, from the FastAGI `call` route to its record.

1. caller rules (blacklist / whitelist), 2. the IVR flow for the dialled number
(which checks business hours itself), 3. the routing core's queue, 4. the
agent (报工号, recording), 5. the survey when the agent hangs up first.
A CallRecord is opened at once and closed whatever happens; a failure in one
call is logged with its id and never reaches another call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from acd.callflow.record import CallRecord
from acd.channel import CallerHungUp
from acd.config import Config, NumberConfig
from acd.core import events as ev
from acd.ivr import actions as ivr
from acd.ivr.runner import run_flow
from acd.privacy import logged, logged_text
from acd.prompts import Recording, Speech
from acd.rules.caller_entries import Action, ListKind
from acd.rules.numbers import dialable
from acd.survey import SurveyConfig, run_survey

log = logging.getLogger(__name__)


#: how long a phone-transferred call waits for its next FastAGI session in memory
#: (after that the session still finds the open record in Redis)
HANDOVER_SECONDS = 60.0


class HandedOver(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The agent's phone transferred the caller: the channel has left this session."""


@dataclass
class Handoff:
    queue: str
    priority: int = 0
    skills: frozenset[str] = frozenset()


class CallService:
    def __init__(self, config: Config, clock: Any, store: Any, *, flows: Any, schedules: Any,
                 lookup_client: Any, announcement: Any, prompt_library: Any, phrases: Any,
                 connector: Any, rules: Any = None, recordings: Any = None,
                 surveys: dict[str, SurveyConfig] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.flows = flows
        self.schedules = schedules
        self.lookup_client = lookup_client
        self.announcement = announcement
        self.prompt_library = prompt_library
        self.phrases = phrases
        self.connector = connector
        self.rules = rules
        self.recordings = recordings
        self.surveys = surveys or {}
        self._closing: set[asyncio.Task[None]] = set()
        #: set when acd stops: sessions closing then are not hang-ups; records stay open
        self.shutting_down = False
        #: Asterisk's hang-up causes by channel (filled from AMI by TelephonyEvents)
        self.hangup_causes: dict[str, str] | None = None
        #: calls an agent's phone transferred, by the caller's channel, until the
        #: channel's next FastAGI session (`transfer`) takes them on
        self._handed_over: dict[str, CallRecord] = {}

    def register(self, agi: Any) -> None:
        agi.route("call", self.handle_call)
        agi.route("callback", self.handle_callback)
        agi.route("transfer", self.handle_phone_transfer)

    async def handle_call(self, channel: Any) -> None:
        number = self.config.numbers.get(channel.called, NumberConfig())
        record = await self.store.get_call(channel.call_id)
        resumed = record is not None and not record.ended_at
        if record is None or not resumed:
            record = CallRecord(call_id=channel.call_id, caller=channel.caller,
                                called=channel.called, arrived_at=self.clock.now())
            record.variables["lang"] = number.language
            log.info("call %s: %s -> %s arrived", record.call_id, logged(record.caller),
                     record.called)
            await self.store.open_call(record)
        if resumed:
            await self._session(channel, record, self._resume(channel, record, number))
        else:
            await self._session(channel, record, self._run(channel, record, number))

    async def handle_callback(self, channel: Any) -> None:
        """FastAGI `callback`: the customer we called back has answered."""
        call_id = channel.params.get("call_id", "")
        record = await self.store.get_call(call_id)
        if record is None:
            log.error("callback for unknown call %r; hanging up", call_id)
            await channel.hangup()
            return
        record.outcome = ""
        record.ivr_path.append("callback:answered")
        await self._session(channel, record, self._callback(channel, record))

    async def handle_phone_transfer(self, channel: Any) -> None:
        """FastAGI `transfer`: an agent's phone blind-transferred the caller (the
        transfer key, SIP REFER); EXTEN is the number the agent transferred to. The call
        goes on with its record: into the queue of that transfer code, or to the extension."""
        exten = channel.called
        record = self._handed_over.pop(channel.call_id, None) or \
            await self.store.get_call(channel.call_id)
        if record is None or record.ended_at:  # not a call of ours: just put it through
            log.info("transfer of %s to %s (no acd call)", channel.channel_name, exten)
            await self._put_through(channel, exten, 60)
            return
        number = self.config.numbers.get(record.called, NumberConfig())
        target = self.connector.phone_transfer_target(exten)
        await self._session(channel, record,
                            self._follow_transfer(channel, record, target, number))

    async def _session(self, channel: Any, record: CallRecord,
                       body: Coroutine[Any, Any, None]) -> None:
        """Run one FastAGI session's part of a call; the record is closed whatever
        happens, unless the call goes on elsewhere (callback, phone transfer, restart)."""
        handed_over = False
        try:
            await body
            with contextlib.suppress(CallerHungUp):
                await channel.set_variable("ACD_DONE", "1")
        except HandedOver:
            handed_over = True
            self._handed_over[channel.call_id] = record
            # the next session comes within milliseconds; a caller who hangs up in
            # between never brings one, so the entry does not stay forever
            asyncio.get_running_loop().call_later(HANDOVER_SECONDS, self._handed_over.pop,
                                                  channel.call_id, None)
            await self.store.update_call(record)  # before the session ends: see above
        except CallerHungUp:
            if self.shutting_down:
                log.info("call %s: left to the next acd (shutting down)", record.call_id)
                return
            record.hung_up_by = record.hung_up_by or "caller"
            if not record.outcome:
                record.outcome = "abandoned" if record.enqueued_at else "caller-left-ivr"
        finally:
            if record.outcome == "callback-requested" or handed_over:
                pass  # the record stays open: the call goes on in another session
            elif not self.shutting_down:
                self._finish(record)

    async def _callback(self, channel: Any, record: CallRecord) -> None:
        lang = record.variables.get("lang")
        await channel.play(await self.phrases.say("callback_hello", lang))
        result = await self.connector.connect_callback(
            channel, record, channel.params.get("agent", ""),
            channel.params.get("device", ""), float(channel.params.get("timeout", "15")))
        await self._after_queue(channel, record, result, result.queue,
                                NumberConfig(language=lang or "zh"))

    def _finish(self, record: CallRecord) -> None:
        record.ended_at = self.clock.now()
        log.info("call %s: ended %s (agent %s, %.1f s)", record.call_id,
                 record.outcome or "-", record.agent or "-",
                 record.ended_at - record.arrived_at)
        # The record is closed once the recording is final, which is only after the
        # channel is gone; that happens after this FastAGI session ends.
        task = asyncio.get_running_loop().create_task(self._close(record))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, record: CallRecord) -> None:
        try:
            if self.recordings is not None and record.recording:
                await self.recordings.finish(record, record.queues[-1] if record.queues
                                             else "")
        except Exception:
            log.exception("call %s: recording post-processing failed", record.call_id)
        finally:
            if self.hangup_causes is not None:
                record.hangup_cause = record.hangup_cause or \
                    self.hangup_causes.pop(record.call_id, "")
            await self.store.close_call(record)

    async def drain(self) -> None:
        """Wait for records still being closed (shutdown)."""
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _resume(self, channel: Any, record: CallRecord, number: NumberConfig) -> None:
        """The call came back after an acd restart: carry on where it was."""
        log.warning("call %s: back after an acd restart; resuming", record.call_id)
        record.ivr_path.append("resumed")
        if record.answered_at and record.agent:
            # The conversation went on without us; the caller is still here, so the
            # agent hung up first.
            self.connector.dispatcher.post(ev.CallEnded(record.call_id, record.agent))
            record.talk_seconds = round(self.clock.now() - record.answered_at, 3)
            record.hung_up_by, record.outcome = "agent", "answered"
            await self._survey(channel, record, record.queues[-1] if record.queues else "")
        elif record.enqueued_at and self.connector.dispatcher.engine.has_call(record.call_id):
            queue = record.queues[-1]
            result = await self.connector.queue_and_connect(channel, record, queue,
                                                            resume=True)
            await self._after_queue(channel, record, result, queue, number)
        else:
            await self._run(channel, record, number)

    async def _run(self, channel: Any, record: CallRecord, number: NumberConfig) -> None:
        entry, handoff = number.flow, None
        decision = await self._caller_rule(record)
        if decision is not None:
            record.rule = decision.reason
            record.ivr_path.append(f"rule:{decision.list.value}:{decision.action.value}")
            if decision.list is ListKind.BLACK:
                entry = await self._blacklisted(channel, record, decision)
                if entry is None:
                    return
            else:
                entry, handoff = self._whitelisted(decision, entry)
        await channel.answer()
        if handoff is None:
            vip = decision is not None and decision.action is Action.VIP
            handoff = await self._ivr(channel, record, entry, number)
            if handoff is None:
                return
            if vip:
                handoff.priority = max(handoff.priority, decision.priority or 0)
                record.variables["vip"] = "1"  # the agent hears it (whisper)
        await self._connect(channel, record, handoff, number)

    async def _caller_rule(self, record: CallRecord) -> Any:
        if self.rules is None:
            return None
        try:
            rules = await self.rules.rules()
        except Exception:  # lists unreadable (Redis away): serve the call anyway
            log.exception("call %s: caller lists unavailable; no rule applied", record.call_id)
            return None
        return rules.evaluate(record.caller, self.clock.now())

    async def _blacklisted(self, channel: Any, record: CallRecord, decision: Any) -> str | None:
        """Block the caller; or, for `route` to a flow, return the flow to enter."""
        log.info("call %s: %s", record.call_id, logged_text(decision.reason))
        if decision.action is Action.ROUTE and decision.target_kind == "flow":
            return str(decision.target_name)
        record.outcome, record.hung_up_by = "blocked", "system"
        if decision.action is Action.ANNOUNCE:
            await channel.answer()
            lang = record.variables["lang"]
            name = decision.target_name or "blocked"
            await channel.play(await self.prompt_library.paths([Recording(
                name, lang, fallback=Speech(self._blocked_text(lang), lang))]))
        elif decision.action is Action.ROUTE and decision.target_kind == "exten":
            record.outcome, record.transfer = "transferred", str(decision.target_name)
            await self._put_through(channel, str(decision.target_name), 30)
            return None
        await channel.hangup()
        return None

    @staticmethod
    def _blocked_text(lang: str) -> str:
        return "您的来电无法接通，再见。" if lang == "zh" else \
            "We cannot take your call. Goodbye."

    @staticmethod
    def _whitelisted(decision: Any, entry: str) -> tuple[str, Handoff | None]:
        if decision.action is Action.QUEUE or (decision.action is Action.SKIP_MENU
                                               and decision.target_kind == "queue"):
            return entry, Handoff(str(decision.target_name), decision.priority or 0)
        if decision.action is Action.SKIP_MENU and decision.target_kind in ("flow", "node"):
            name = str(decision.target_name)
            return (name if decision.target_kind == "flow" or ":" in name
                    else f"{entry}:{name}"), None
        return entry, None

    async def _ivr(self, channel: Any, record: CallRecord, entry: str,
                   number: NumberConfig) -> Handoff | None:
        result = await run_flow(
            channel, self.flows.current(), entry, now=self.clock.now,
            schedules=self.schedules, lookup_client=self.lookup_client,
            announcement=self.announcement, prompt_library=self.prompt_library,
            variables={"lang": record.variables["lang"]})
        record.ivr_path.extend(result.path)
        record.variables.update(result.variables)
        record.sensitive_variables = sorted(set(record.sensitive_variables)
                                            | set(result.sensitive))
        outcome = result.outcome
        if isinstance(outcome, ivr.QueueHandoff):
            return Handoff(outcome.queue, outcome.priority, frozenset(outcome.skills))
        if isinstance(outcome, ivr.CallerHangup):
            raise CallerHungUp(record.call_id)
        record.hung_up_by = "system"
        if isinstance(outcome, ivr.Voicemail):
            record.outcome = "voicemail"
        elif isinstance(outcome, ivr.Transferred):
            record.outcome, record.transfer = "transferred", outcome.target
        else:
            record.outcome = "ivr-hangup"
        return None

    async def _connect(self, channel: Any, record: CallRecord, handoff: Handoff,
                       number: NumberConfig) -> None:
        log.info("call %s: queued in %s (priority %d)", record.call_id, handoff.queue,
                 handoff.priority)
        result = await self.connector.queue_and_connect(
            channel, record, handoff.queue, handoff.priority, handoff.skills)
        await self._after_queue(channel, record, result, handoff.queue, number)

    async def _after_queue(self, channel: Any, record: CallRecord, result: Any, queue: str,
                           number: NumberConfig) -> None:
        if result.callback:
            await channel.hangup()
            return
        if result.handed_over:
            raise HandedOver(record.call_id)
        if result.transfer is not None:
            await self._follow_transfer(channel, record, result.transfer, number)
            return
        if result.exit_target:
            record.outcome = f"exited:{result.exit_reason}"
            log.info("call %s: leaves %s (%s) for %s", record.call_id, queue,
                     result.exit_reason, result.exit_target)
            await self._ivr(channel, record, result.exit_target, number)
            return
        if result.answered and result.agent_hung_up:
            await self._survey(channel, record, queue)
        elif result.answered:
            record.survey = "not-surveyed"

    async def _follow_transfer(self, channel: Any, record: CallRecord,
                               transfer: tuple[str, str], number: NumberConfig) -> None:
        """The caller, transferred by the agent, goes on in the same session and record."""
        kind, target = transfer
        record.ivr_path.append(f"transfer:{kind}:{target}")
        if kind == "queue":
            await self._connect(channel, record, Handoff(target), number)
            return
        record.outcome, record.hung_up_by = "transferred", "system"
        await self._put_through(channel, target, 60)

    @staticmethod
    async def _put_through(channel: Any, target: str, timeout: int) -> None:
        """Connect the caller to an extension or outside number ([acd-transfer]); acd is
        done with the call when that call ends. Dial returns -1 to AGI after an answered
        call, which is not the caller hanging up: the dialplan must not take it back."""
        try:
            number = dialable(target, keys=True)
        except ValueError as exc:
            log.error("call %s: transfer target refused: %s", channel.call_id, exc)
            number = ""
        with contextlib.suppress(CallerHungUp):
            if number:
                await channel.dial([f"Local/{number}@acd-transfer"], timeout)
        with contextlib.suppress(CallerHungUp):
            await channel.set_variable("ACD_DONE", "1")
        await channel.hangup()

    async def _survey(self, channel: Any, record: CallRecord, queue: str) -> None:
        survey = self.surveys.get(queue, SurveyConfig())
        if not survey.enabled:
            record.survey = "not-surveyed"
            return
        lang = record.variables["lang"]

        async def resolve(spec: Any) -> list[str]:
            return list(await self.phrases.resolve(spec, lang))

        record.survey = "not-surveyed"  # until the caller answers (they may hang up)
        answers = await run_survey(channel, survey, resolve)
        record.survey = ",".join(answers.values()) if len(answers) > 1 else \
            next(iter(answers.values()))
        log.info("call %s: survey %s", record.call_id, answers)
        await channel.hangup()
