"""Waiting in queue and connecting the caller to an agent, on the caller's AGI session.

The caller's FastAGI session stays open for the whole call: while the routing
core has no agent it hears music on hold; a RingAgents command from the core
arrives in the call's mailbox and becomes a `Dial` of the agents' devices with
the caller announcement (报工号), recording (MixMonitor, bridged audio only) and
`g` so that the session continues after the agent hangs up (for the survey).
Answer and hang-up facts go back to the core as events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from acd.adapters.asterisk.syntax import hangup_action, spy_action
from acd.callflow.record import CallRecord
from acd.channel import CallerHungUp
from acd.core import commands as cmd
from acd.core import events as ev
from acd.privacy import logged
from acd.routing_config import QueueTelephony, transfer_codes

log = logging.getLogger(__name__)

DIAL_FAILURES = {"NOANSWER": "no-answer", "BUSY": "busy", "CHANUNAVAIL": "unavailable",
                 "CONGESTION": "unavailable", "INVALIDARGS": "unavailable",
                 "REJECTED": "rejected"}


@dataclass(frozen=True)
class CallbackKey:
    """The waiting caller pressed the callback key (seen on AMI while MOH plays)."""


@dataclass
class ConnectResult:
    answered: bool = False
    agent_id: str = ""
    agent_hung_up: bool = False
    exit_target: str = ""
    exit_reason: str = ""
    queue: str = ""
    #: ("queue" | "extension", target) when the agent's side transferred the caller
    transfer: tuple[str, str] | None = None
    #: the caller chose to be called back and may hang up: the record stays open
    callback: bool = False
    #: the agent's phone transferred the caller: Asterisk took the channel on to
    #: [acd-phone-transfer], where a new FastAGI session carries the call on
    handed_over: bool = False


@dataclass
class Ringing:
    """What a call is ringing right now (for the AMI DialEnd handler)."""

    targets: tuple[Any, ...]
    record: CallRecord | None = None
    answered_by: str = ""
    agent_channel: str = ""
    transfer: tuple[str, str] | None = None
    answered_at: float | None = None
    #: agent -> the channel ringing them (AMI DialBegin), to stop it on the core's word
    legs: dict[str, str] = field(default_factory=dict)
    #: the Dial has returned: the session itself handles how the ring ended
    dial_over: bool = False


class QueueConnector:
    def __init__(self, dispatcher: Any, clock: Any, *, recordings: Any = None,
                 prompts: Any = None, store: Any = None, ami: Any = None) -> None:
        self.dispatcher = dispatcher
        self.ami = ami
        self.clock = clock
        self.store = store  # the call records: kept current so a restarted acd can resume
        self.callback_digit = "*"
        self._waiting: set[str] = set()  # callers hearing music, for the callback key
        self._saving: set[asyncio.Task[None]] = set()
        self.recordings = recordings
        self.prompts = prompts
        self.ringing: dict[str, Ringing] = {}
        #: agent -> the call they had last (its record gets their wrap-up time)
        self.last_call_of_agent: dict[str, str] = {}
        #: each queue's call-path settings (transfer code, whisper, 报工号)
        self.telephony: dict[str, QueueTelephony] = {}

    # -- AMI facts -------------------------------------------------------------

    def on_dial_begin(self, call_id: str, dest_channel: str) -> None:
        """AMI DialBegin on the caller's channel: which channel rings which agent."""
        ringing = self.ringing.get(call_id)
        if ringing is None:
            return
        for target in ringing.targets:
            if dest_channel.startswith(target.device + "-"):
                ringing.legs[target.agent_id] = dest_channel

    def on_command(self, command: Any) -> Coroutine[Any, Any, None] | None:
        """The core's StopRinging (the agent paused or logged out while ringing, a ring
        past its deadline, a late answer): hang up that agent's leg if it still rings.
        The caller's Dial then returns and the session takes the core's next command.
        Decided at once (a dispatcher sink); only the AMI hang-up is left to run."""
        if type(command) is not cmd.StopRinging or self.ami is None or not self.ami.connected:
            return None
        ringing = next((r for r in self.ringing.values()
                        if r.record is not None and r.record.call_id == command.call_id), None)
        if ringing is None or ringing.dial_over:
            return None  # the session already knows how the ring ended
        legs = [ringing.legs[a] for a in command.agent_ids if a in ringing.legs]
        if not legs:
            return None
        log.info("call %s: stop ringing %s", command.call_id, ", ".join(legs))
        return self._hang_up(legs)

    async def _hang_up(self, legs: list[str]) -> None:
        for leg in legs:
            with contextlib.suppress(Exception):  # already gone: nothing to stop
                await self.ami.send(hangup_action(leg))

    def on_dial_end(self, call_id: str, dest_channel: str, status: str) -> None:
        """AMI DialEnd on the caller's channel: the agent answered (or not)."""
        ringing = self.ringing.get(call_id)
        if ringing is None or status != "ANSWER" or ringing.answered_by or ringing.dial_over:
            return  # dial_over: late (AMI lags under load); the session has seen it itself
        for target in ringing.targets:
            if dest_channel.startswith(target.device + "-"):
                ringing.answered_by = target.agent_id
                ringing.agent_channel = dest_channel
                ringing.answered_at = self.clock.now()
                routed_id = ringing.record.call_id if ringing.record else call_id
                self.dispatcher.post(ev.RingAnswered(routed_id, target.agent_id))
                if ringing.record is not None:
                    ringing.record.agent = target.agent_id
                    ringing.record.answered_at = ringing.answered_at
                    self._save(ringing.record)
                return

    async def transfer(self, call_id: str, kind: str, target: str) -> str:
        """Blind transfer of a connected caller to a queue or an extension (API).

        The agent's leg is hung up; the caller's session, back from Dial, takes the
        caller on to the target, so the call record follows the caller.
        """
        ringing = self.ringing.get(call_id)
        if ringing is None or not ringing.answered_by or not ringing.agent_channel:
            raise LookupError(f"call {call_id} is not connected to an agent")
        if self.ami is None:
            raise RuntimeError("transfers need the AMI connection")
        ringing.transfer = (kind, target)
        await self.ami.send(hangup_action(ringing.agent_channel))
        log.info("call %s: agent %s transfers the caller to %s %s", call_id,
                 ringing.answered_by, kind, target)
        return ringing.answered_by

    def phone_transfer_target(self, exten: str) -> tuple[str, str]:
        """What a number an agent transferred to means: a queue's code or an extension."""
        queue = transfer_codes(self.telephony).get(exten)
        return ("queue", queue) if queue else ("extension", exten)

    async def spy(self, call_id: str, mode: str, device: str) -> str:
        """A supervisor listens to, whispers to (agent only) or barges into a live call.

        acd originates the supervisor's phone into ChanSpy on the agent's channel; the
        caller stays bridged to the agent, and MixMonitor on the caller's channel records
        what the caller hears (a whisper is not heard, so it is not recorded).
        """
        ringing = self.ringing.get(call_id)
        if ringing is None or not ringing.agent_channel:
            raise LookupError(f"call {call_id} is not connected to an agent")
        if self.ami is None:
            raise RuntimeError("listening in needs the AMI connection")
        await self.ami.send(spy_action(device, ringing.agent_channel, mode, call_id))
        log.info("call %s: %s %s on agent %s", call_id, device, mode, ringing.answered_by)
        return ringing.answered_by

    def on_caller_digit(self, call_id: str, digit: str) -> None:
        if digit == self.callback_digit and call_id in self._waiting:
            self.dispatcher.notify(call_id, CallbackKey())

    def _save(self, record: CallRecord) -> None:
        if self.store is None:
            return
        task = asyncio.get_running_loop().create_task(self.store.update_call(record))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    # -- the caller's side ---------------------------------------------------------

    async def queue_and_connect(self, channel: Any, record: CallRecord, queue: str,
                                priority: int = 0, skills: frozenset[str] = frozenset(),
                                *, resume: bool = False) -> ConnectResult:
        """Queue the caller (or, with resume, take up its restored place) until connected."""
        result = ConnectResult(queue=queue)
        box = self.dispatcher.open_mailbox(record.call_id)
        if not resume:
            record.queues.append(queue)
            record.enqueued_at = record.enqueued_at or self.clock.now()
            try:  # handled (and any RingAgents in the mailbox) when this returns
                await self.dispatcher.submit(ev.CallQueued(record.call_id, queue, record.caller,
                                                           priority, skills))
            except Exception as exc:  # a domain error: the caller waits for an exit
                log.error("call %s: routing core refused it in %s: %s", record.call_id, queue,
                          exc)
            self._save(record)
        try:
            if box.empty():  # an agent free at once goes straight to Dial (its own music)
                await channel.music_on_hold(True)
            while True:
                self._waiting.add(record.call_id)
                command = await self._next(box, channel)
                self._waiting.discard(record.call_id)
                if command is None:
                    raise CallerHungUp(record.call_id)
                if isinstance(command, CallbackKey):
                    if await self._request_callback(channel, record):
                        result.callback = True
                        return result
                    await channel.music_on_hold(True)
                elif isinstance(command, cmd.RingAgents):
                    if await self._ring(channel, record, command, result):
                        return result
                    await channel.music_on_hold(True)
                elif isinstance(command, cmd.AnnouncePosition):
                    await self._announce(channel, command)
                    await channel.music_on_hold(True)
                elif isinstance(command, cmd.ExitQueue):
                    result.exit_target, result.exit_reason = command.target, command.reason
                    return result
        except CallerHungUp:
            if not result.answered and not result.callback:
                self.dispatcher.post(ev.CallAbandoned(record.call_id))
                record.outcome = "abandoned"
            raise
        finally:
            self._waiting.discard(record.call_id)
            if not result.callback:
                self.dispatcher.close_mailbox(record.call_id)
            self.ringing.pop(channel.call_id, None)

    async def _request_callback(self, channel: Any, record: CallRecord) -> bool:
        """Keep the caller's place and let them hang up; False if that is not possible."""
        lang = record.variables.get("lang")
        if not record.caller:
            await channel.music_on_hold(False)
            await channel.play(await self.prompts.say("callback_no_number", lang))
            return False
        try:
            await self.dispatcher.submit(ev.CallbackRequested(record.call_id, record.caller))
        except Exception as exc:  # e.g. CallbackNotPossible: keep waiting
            log.info("call %s: callback refused: %s", record.call_id, exc)
            return False
        self.dispatcher.close_mailbox(record.call_id)
        record.outcome = "callback-requested"
        record.ivr_path.append("callback:requested")
        self._save(record)
        log.info("call %s: keeps its place; %s will be called back", record.call_id,
                 logged(record.caller))
        await channel.music_on_hold(False)
        await channel.play(await self.prompts.say("callback_ok", lang,
                                                  number=" ".join(record.caller)))
        return True

    async def connect_callback(self, channel: Any, record: CallRecord, agent_id: str,
                               device: str, timeout: float) -> ConnectResult:
        """The customer answered our callback: ring the agent the core reserved."""
        queue = record.queues[-1] if record.queues else ""
        result = ConnectResult(queue=queue)
        command = cmd.RingAgents(record.call_id, queue, (cmd.RingTarget(agent_id, device),),
                                 timeout)
        if await self._ring(channel, record, command, result):
            return result
        # the agent did not answer: the customer is now a live caller at the front
        return await self.queue_and_connect(channel, record, queue, resume=True)

    async def _next(self, box: asyncio.Queue[Any], channel: Any) -> Any:
        """The next command for this call, or None when the caller hangs up first."""
        get = asyncio.ensure_future(box.get())
        hangup = asyncio.ensure_future(channel.wait_hangup())
        done, _ = await asyncio.wait({get, hangup}, return_when=asyncio.FIRST_COMPLETED)
        for task in (get, hangup):
            if task not in done:
                task.cancel()
        if get in done:
            return get.result()
        return None

    async def _ring(self, channel: Any, record: CallRecord, command: Any,
                    result: ConnectResult) -> bool:
        """Dial the agents; True when the call was answered (and has now ended)."""
        record.ring_attempts += 1
        ringing = Ringing(command.targets, record)
        self.ringing[channel.call_id] = ringing  # DialEnd names the channel, not the call
        if self.recordings is not None and not record.recording:
            record.recording = self.recordings.path_for(record.call_id, record.arrived_at)
            await channel.start_recording(record.recording)
        devices = [t.device for t in command.targets]
        # g: carry on after the agent hangs up (survey); m: music, not ringback, while
        # the agent's phone rings. No t (## transfers): DTMF feature hooks keep Asterisk
        # from bridging the media natively, which costs CPU on every call; agents
        # transfer with the phone's transfer key (SIP REFER) instead.
        announce = await self._announce_files(command, record)
        dial_hung_up = False
        try:
            await channel.dial(devices, max(1, int(command.timeout)), "gm", announce)
        except CallerHungUp:
            # the caller hung up, or left the Dial without hanging up: a blind transfer
            # by the agent's phone, or the agent hanging up during the 报工号 (-1 too)
            dial_hung_up = True
        ringing.dial_over = True
        try:
            status, peer, moved_to = await self._dial_result(channel)
        except CallerHungUp:
            if ringing.answered_by:
                self._ended(record, ringing, result, agent_hung_up=False)
            raise
        # Asterisk reports a hang-up before answering the next command, so this is
        # known now: the caller is gone (not just out of the Dial).
        caller_gone = channel.hung_up.is_set()
        if moved_to:
            self._learn_answer(ringing, command, peer)
            ringing.transfer = self.phone_transfer_target(moved_to)
            result.handed_over = True
            log.info("call %s: agent %s's phone transfers the caller to %s", record.call_id,
                     ringing.answered_by, moved_to)
            self._ended(record, ringing, result, agent_hung_up=True)
            return True
        if dial_hung_up and caller_gone:
            if ringing.answered_by:
                self._ended(record, ringing, result, agent_hung_up=False)
            raise CallerHungUp(record.call_id)
        if status == "ANSWER" and dial_hung_up and not ringing.answered_by:
            # Dial gave up with the caller still here: the agent answered but hung up
            # before the bridge (during the 报工号). The caller never talked to them, so
            # they go on to the next agent. (Not read from AMI's DialEnd, which comes
            # after the announcement and, under load, after this point.)
            log.info("call %s: agent hung up before the bridge", record.call_id)
            status = "REJECTED"
        if status == "ANSWER":
            self._learn_answer(ringing, command, peer)
            self._ended(record, ringing, result, agent_hung_up=True)
            return True
        reason = DIAL_FAILURES.get(status, "no-answer")
        log.info("call %s: %s did not answer (%s)", record.call_id,
                 ",".join(t.agent_id for t in command.targets), status or "?")
        for target in command.targets:
            self.dispatcher.post(ev.RingFailed(record.call_id, target.agent_id, reason))
        return False

    def _learn_answer(self, ringing: Ringing, command: Any, peer: str) -> None:
        """The answer, from the Dial itself when AMI's DialEnd has not told us (yet)."""
        if ringing.answered_by or ringing.record is None:
            return
        agent = next((t.agent_id for t in command.targets
                      if peer.startswith(t.device + "-")), command.targets[0].agent_id)
        ringing.answered_by, ringing.answered_at = agent, self.clock.now()
        ringing.agent_channel = ringing.agent_channel or peer
        self.dispatcher.post(ev.RingAnswered(ringing.record.call_id, agent))

    @staticmethod
    async def _dial_result(channel: Any) -> tuple[str, str, str]:
        """(DIALSTATUS, the answering channel, the number the agent's phone blind-
        transferred the caller to or ""), in one AGI round trip.

        A blind transfer (the phone's transfer key, SIP REFER) moves the caller's channel to
        [acd-phone-transfer], which ends Dial and our session much as a hangup would;
        Asterisk sets BLINDTRANSFER on the caller's channel to the transferring channel,
        and AGI still answers on a channel in that state. BLINDTRANSFER naming this
        Dial's peer tells a transfer from a hang-up (a caller transferred before keeps
        the old name).
        """
        value = await channel.get_full_variable(
            "${DIALSTATUS}|${DIALEDPEERNAME}|${BLINDTRANSFER}|${EXTEN}")
        status, peer, transferrer, exten = (value.split("|") + ["", "", "", ""])[:4]
        moved = bool(peer) and transferrer == peer
        return status, peer, exten if moved else ""

    def _ended(self, record: CallRecord, ringing: Ringing, result: ConnectResult, *,
               agent_hung_up: bool) -> None:
        if ringing.transfer is not None and agent_hung_up:
            self._transferred(record, ringing, result)
        else:
            self._conversation_ended(record, ringing, result, agent_hung_up=agent_hung_up)

    def _transferred(self, record: CallRecord, ringing: Ringing,
                     result: ConnectResult) -> None:
        assert ringing.transfer is not None
        now = self.clock.now()
        kind, target = ringing.transfer
        result.answered, result.agent_id, result.transfer = True, ringing.answered_by, \
            ringing.transfer
        record.agent = ringing.answered_by
        record.answered_at = record.answered_at or ringing.answered_at
        record.talk_seconds += round(now - (ringing.answered_at or now), 3)
        record.transfer = f"{record.transfer},{kind}:{target}".lstrip(",")
        self.dispatcher.post(ev.CallTransferred(record.call_id, ringing.answered_by,
                                                f"{kind}:{target}"))

    def _conversation_ended(self, record: CallRecord, ringing: Ringing, result: ConnectResult,
                            *, agent_hung_up: bool) -> None:
        now = self.clock.now()
        result.answered, result.agent_id = True, ringing.answered_by
        result.agent_hung_up = agent_hung_up
        record.agent = ringing.answered_by
        record.answered_at = ringing.answered_at
        record.talk_seconds = round(record.talk_seconds + now - (ringing.answered_at or now), 3)
        record.hung_up_by = "agent" if agent_hung_up else "caller"
        record.outcome = "answered"
        self.last_call_of_agent[ringing.answered_by] = record.call_id
        self.dispatcher.post(ev.CallEnded(record.call_id, ringing.answered_by))

    async def _announce_files(self, command: Any, record: CallRecord,
                              ) -> tuple[str | None, str | None] | None:
        """Dial's A(x:y): x is whispered to the agent (VIP, the queue's whisper), y is
        played to the caller (报工号), both when the agent answers, before the bridge."""
        if self.prompts is None:
            return None
        settings = self.telephony.get(command.queue, QueueTelephony())
        whisper = await self.prompts.agent_whisper(settings.whisper,
                                                   record.variables.get("vip") == "1")
        caller_file = None
        if len(command.targets) == 1 and settings.announce_agent:
            caller_file = await self.prompts.agent_number(command.targets[0].agent_id,
                                                          record.variables.get("lang"))
        if not whisper and not caller_file:
            return None
        return whisper, caller_file

    async def _announce(self, channel: Any, command: Any) -> None:
        if self.prompts is None:
            return
        files = await self.prompts.position(command.position, command.estimated_wait_seconds,
                                            None)
        with contextlib.suppress(Exception):
            await channel.music_on_hold(False)
        await channel.play(files)
