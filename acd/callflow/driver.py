"""The thin async driver of one call: feeds its CallSession facts and executes its orders
through the ports.

One task per call reads the call's inbox (the routing core's orders, AMI facts, API
requests) and feeds the session. Most orders are awaited in that task and their
replies fed next, before the inbox: a prompt, an answer, a question. Two run beside
it, their replies coming back through the inbox: the Dial to agents (facts about a
Dial in progress, from Asterisk, the routing core and the API, are taken while it
lasts) and the routing core's answer to a caller joining a queue (its order for that
caller, delivered first, must be seen first). Record writes are awaited in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.errors import CallerHungUp
from acd.callflow.ports import (
    Announcement,
    CallActions,
    CallerLists,
    CallEvents,
    CallStore,
    Lookups,
    LostCalls,
    PromptFiles,
    RecordingFiles,
    RoutingPort,
    Schedules,
    Telephony,
)
from acd.callflow.session import CallSession
from acd.callflow.state import NotConnected, Phase
from acd.clock import Clock
from acd.ivr.lookup import LookupResult, LookupStatus
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable

log = logging.getLogger(__name__)


@dataclass
class CallPorts:
    """Everything a call's driver reaches, filled in by the composition root."""

    store: CallStore
    routing: RoutingPort
    actions: CallActions
    prompts: PromptFiles
    lookups: Lookups
    schedules: Schedules
    announcement: Announcement
    clock: Clock
    recordings: RecordingFiles | None = None
    caller_lists: CallerLists | None = None
    lost_calls: LostCalls | None = None
    #: the agent logged in on a device (PJSIP/agent1001), if any
    agent_on_device: Callable[[str], str | None] = lambda _device: None
    #: the event feed for integrators (None: no one listens)
    events: CallEvents | None = None


class _Failed:
    """A channel order failed for another reason than a hang-up (a bug, Asterisk stuck)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


Item = tuple["f.Fact | _Failed", "asyncio.Future[None] | None"]


class CallDriver:
    def __init__(self, session: CallSession, ports: CallPorts,
                 telephony: Telephony | None = None) -> None:
        self.session = session
        self.ports = ports
        self.telephony = telephony
        self.call_id = session.record.call_id
        self.inbox: asyncio.Queue[Item] = asyncio.Queue()
        #: set when acd is done with the caller's channel: the FastAGI session may end
        self.channel_released = asyncio.Event()
        self._channel_busy = False
        self._hangup_fed = False
        #: replies of orders run in this task, fed before anything in the inbox
        self._next: deque[f.Fact] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handed_over: list[CallSession] = []

    # -- input --------------------------------------------------------------------------

    def deliver(self, fact: f.Fact) -> None:
        """A fact from the routing core, Asterisk's events or the recordings adapter."""
        self.inbox.put_nowait((fact, None))

    async def ask(self, fact: f.TransferAsked | f.SpyAsked | f.CallControlAsked) -> str:
        """An API request: done (the agent on the call), or NotConnected/ValueError."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait((fact, done))
        await done
        return self.session.connected_agent

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Until nothing more can come of the call (the record closed, late facts in)."""
        session, clock = self.session, self.ports.clock
        if self.telephony is not None:
            self.telephony.on_gone(self._on_gone)
        else:
            self.channel_released.set()
        try:
            await self._execute(session.begin(), None)
            while not session.finished:
                item: f.Fact | _Failed
                if self._next:
                    item, done = self._next.popleft(), None
                else:
                    item, done = await self._inbox_item(session.next_deadline())
                if isinstance(item, _Failed):
                    await self._fail(item.error)
                    return
                try:
                    orders = session.handle(item, clock.now())
                except (NotConnected, ValueError) as exc:  # an API request refused
                    if done is not None and not done.done():
                        done.set_exception(exc)
                    continue
                await self._execute(orders, done)
                self._release_if_done()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._fail(exc)
        finally:
            self.channel_released.set()
            for task in self._tasks:
                task.cancel()

    async def _inbox_item(self, deadline: float | None) -> Item:
        if deadline is None:
            return await self.inbox.get()
        try:
            async with asyncio.timeout(max(0.0, deadline - self.ports.clock.now())):
                return await self.inbox.get()
        except TimeoutError:
            return f.TimerFired(), None

    def stop(self) -> None:
        """acd stops: the call is left for the next acd; its orders still run."""
        orders = self.session.stop(self.ports.clock.now())
        task = asyncio.get_running_loop().create_task(self._execute(orders, None))
        self._keep(task)

    async def _fail(self, error: BaseException) -> None:
        """A bug or a stuck Asterisk inside this call: logged with the call, the record
        closed with what is known, the dialplan asked to take the call over."""
        log.error("call %s: acd failed inside the call; the dialplan falls back",
                  self.call_id, exc_info=error)
        with contextlib.suppress(Exception):
            await self._execute(self.session.abort(self.ports.clock.now()), None)
        if self.telephony is not None and not self.telephony.gone:
            with contextlib.suppress(Exception):
                await self.telephony.request_fallback()
        self.channel_released.set()

    def _release_if_done(self) -> None:
        if not self._channel_busy and self.session.phase in (Phase.ENDING, Phase.CLOSED,
                                                              Phase.LEFT):
            self.channel_released.set()

    # -- orders -------------------------------------------------------------------------

    async def _execute(self, orders: list[o.Order], done: asyncio.Future[None] | None,
                       ) -> None:
        try:
            for order in orders:
                await self._one(order, inline=done is not None)
        except Exception as exc:
            if done is not None and not done.done():
                done.set_exception(exc)
                return
            raise
        if done is not None and not done.done():
            done.set_result(None)

    async def _one(self, order: o.Order, *, inline: bool) -> None:
        ports = self.ports
        match order:
            case o.OpenRecord():
                await self._write(ports.store.open_call(order.call_id, order.fields))
            case o.SaveRecord():
                await self._write(ports.store.save_call(order.call_id, order.changes))
            case o.CloseRecord(opened=True):
                await self._write(ports.store.close_call(order.call_id, order.changes))
            case o.CloseRecord():
                await self._write(ports.store.record_call(order.call_id, order.changes))
            case o.PostToRouting():
                ports.routing.post(order.event)
            case o.HangUpLeg():
                await self._action(ports.actions.hang_up_channel(order.channel), inline)
            case o.Spy():
                await self._action(ports.actions.spy(order.device, order.channel,
                                                     order.mode, self.call_id), inline)
            case o.ControlAgentLeg():
                try:
                    await self._action(ports.actions.control_agent_leg(
                        order.channel, order.control, order.target), inline)
                except Exception:  # refused: the session undoes what it expected of it
                    self._next.append(f.ControlFailed(f.CallControl(order.control),
                                                      order.target))
                    raise
            case o.HandOver():
                self._handed_over.append(self.session)
            case o.TellIntegrators():
                if ports.events is not None:
                    ports.events.call_event(order)
            case o.FinishRecording():
                self._spawn(self._finish_recording(order))
            case o.SubmitToRouting():
                self._spawn(self._answer(order))  # behind the core's orders for the caller
            case o.CheckRules() | o.FetchAnnouncement() | o.FetchLookup() | \
                    o.CheckSchedule():
                self._next.append(await self._reply_to(order))
            case o.DialAgents():
                self._channel_busy = True
                self._spawn(self._channel(order))
            case _:
                self._channel_busy = True
                await self._channel(order, here=True)

    async def _write(self, write: Coroutine[Any, Any, None]) -> None:
        try:
            await write
        except Exception:  # Redis away: the call goes on; the record is behind
            log.exception("call %s: the call record could not be written", self.call_id)

    async def _action(self, action: Coroutine[Any, Any, None], inline: bool) -> None:
        if inline:  # an API request: its caller hears of a failure
            await action
            return

        async def guarded() -> None:
            with contextlib.suppress(Exception):  # the leg is gone already: nothing to do
                await action

        self._spawn(guarded())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._keep(asyncio.get_running_loop().create_task(work))

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- questions ------------------------------------------------------------------------

    async def _answer(self, order: o.Question) -> None:
        self.deliver(await self._reply_to(order))

    async def _reply_to(self, order: o.Question) -> f.Fact:
        """The answer to one of the session's questions; a failing port is answered
        the way that keeps the call going."""
        ports = self.ports
        reply: f.Fact
        if isinstance(order, o.CheckRules):
            decision = None
            if ports.caller_lists is not None:
                try:
                    decision = await ports.caller_lists.decide(order.caller, ports.clock.now())
                except Exception:  # lists unreadable (Redis away): serve the call anyway
                    log.exception("call %s: caller lists unavailable; no rule applied",
                                  self.call_id)
            reply = f.RuleDecided(decision)
        elif isinstance(order, o.FetchAnnouncement):
            try:
                prompts = await ports.announcement()
            except Exception:  # Redis away: callers go on without the announcement
                log.exception("call %s: cannot read the announcement", self.call_id)
                prompts = ()
            reply = f.AnnouncementFetched(tuple(prompts))
        elif isinstance(order, o.FetchLookup):
            try:
                result = await ports.lookups.fetch(order.request)
            except Exception as exc:  # the client should not raise; the call must not die
                log.exception("call %s: lookup client raised", self.call_id)
                result = LookupResult(LookupStatus.ERROR, detail=str(exc))
            reply = f.LookupAnswered(result)
        elif isinstance(order, o.CheckSchedule):
            try:
                decision_ = ports.schedules.decide(order.schedule, ports.clock.now())
            except Exception:  # better an agent than a caller turned away on a bug
                log.exception("call %s: schedule %r failed; treating as open",
                              self.call_id, order.schedule)
                decision_ = ScheduleDecision("open")
            reply = f.ScheduleDecided(decision_)
        else:
            try:
                await ports.routing.submit(order.event)
                reply = f.RoutingAnswered()
            except Exception as exc:  # a domain error: the session decides what follows
                reply = f.RoutingAnswered(error=str(exc) or type(exc).__name__)
        return reply

    async def _finish_recording(self, order: o.FinishRecording) -> None:
        path = ""
        recordings = self.ports.recordings
        if recordings is not None:
            try:
                path = await recordings.finish(self.call_id, order.path, order.answered,
                                               order.index)
            except Exception:
                log.exception("call %s: recording post-processing failed", self.call_id)
                path = order.path
        self.deliver(f.RecordingFinished(path))

    # -- the caller's channel ------------------------------------------------------------

    def _on_gone(self) -> None:
        if not self._channel_busy:
            self._feed_hangup()

    def _feed_hangup(self) -> None:
        if not self._hangup_fed:
            self._hangup_fed = True
            self.deliver(f.CallerHungUp())
            self.channel_released.set()

    async def _channel(self, order: o.ChannelOrder, *, here: bool = False) -> None:
        """Run a channel order; its reply is fed next (`here`: run in the driver's task)
        or through the inbox, then the hang-up if the caller is gone."""
        telephony = self.telephony
        try:
            if telephony is None:
                raise CallerHungUp(self.call_id)
            reply = await self._perform(telephony, order)
        except CallerHungUp:
            self._channel_busy = False
            self._feed_hangup()
            return
        except Exception as exc:
            self._channel_busy = False
            if here:
                raise
            self.inbox.put_nowait((_Failed(exc), None))
            return
        self._channel_busy = False
        if here:
            self._next.append(reply)
        else:
            self.deliver(reply)
        if telephony.gone:
            self._feed_hangup()

    async def _perform(self, telephony: Telephony, order: o.ChannelOrder) -> f.Fact:
        prompts = self.ports.prompts
        match order:
            case o.Answer():
                await telephony.answer()
            case o.PlayPrompts():
                files = await prompts.paths(order.prompts)
                return f.Played(await telephony.play(files, order.escape_digits)
                                if files else "")
            case o.CollectDigits():
                files = await prompts.paths(order.prompts)
                return f.Collected(await telephony.get_digits(
                    files, order.timeout, order.max_digits, order.terminator))
            case o.StartMusic():
                await telephony.music_on_hold(True)
            case o.StopMusic():
                await telephony.music_on_hold(False)
            case o.StartRecording():
                await telephony.start_recording(order.path)
            case o.MarkQueued():
                await telephony.mark_queued(order.queue, order.priority)
            case o.DialAgents():
                whisper = await self._one_file(order.whisper)
                announce = await self._one_file(order.announce)
                return await telephony.dial_agents([t.device for t in order.targets],
                                                   order.ring_seconds, whisper, announce)
            case o.DialNumber():
                return await telephony.dial_number(order.number, order.ring_seconds,
                                                   order.context, private=order.private)
            case o.ReadLastDial():
                last = await telephony.last_dial()
                agent = self.ports.agent_on_device(last.peer_device) if last.peer_device \
                    else None
                return dataclasses.replace(last, peer_agent=agent or "")
            case o.RecordVoicemail():
                await telephony.voicemail(order.mailbox, order.options)
            case o.HangUp():
                await telephony.hangup()
            case _:
                raise TypeError(f"not a channel order: {order!r}")
        return f.ChannelDone()

    async def _one_file(self, prompt: Playable | None) -> str | None:
        if prompt is None:
            return None
        files = await self.ports.prompts.paths([prompt])
        return files[0] if files else None

    def take_handed_over(self) -> list[CallSession]:
        out, self._handed_over = self._handed_over, []
        return out
