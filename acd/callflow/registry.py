"""The calls acd is handling now: one driver per call, found by call id.

Everything about a call reaches its session through here, once: the FastAGI routes
start sessions, the routing core's orders (a dispatcher sink) and Asterisk's facts
(the AMI translator) are delivered by call id, and the HTTP API asks for transfers
and listening in. After an AMI login, calls Redis still has open that no session
holds are adopted (closed when they hang up) or closed at once (already gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.admission import Admission, Course, Shed, shed_record
from acd.callflow.driver import CallDriver, CallPorts
from acd.callflow.ports import ChannelVanished, Telephony
from acd.callflow.record import CallRecord
from acd.callflow.session import CallSession
from acd.callflow.settings import CallSettings
from acd.callflow.state import NotConnected
from acd.core import commands as routing_orders
from acd.core import events as routing
from acd.media import phrases
from acd.metrics import count
from acd.rules.numbers import dialable

log = logging.getLogger(__name__)

#: orders of the routing core for a caller whose session has not (re)connected yet
MAX_PENDING_CALLS = 10_000
#: how long a phone-transferred call waits in memory for its next FastAGI session
HANDOVER_SECONDS = 60.0
#: while calls are shed, a warning says how many at most this often (each is logged too)
SHED_WARNING_SECONDS = 10.0


#: how long recording a call no acd saw may take (its record is one write)
UNSEEN_RUN_SECONDS = 5.0


class CallRegistry:
    def __init__(self, ports: CallPorts, settings: Callable[[], CallSettings],
                 admission: Admission | None = None) -> None:
        self.ports = ports
        #: the configuration a new call runs on (read at its start)
        self.settings = settings
        #: which new calls are taken on (none shed unless it has caps)
        self.admission = admission or Admission()
        self._shed_unreported = 0
        self._shed_reported_at = float("-inf")
        self.drivers: dict[str, CallDriver] = {}
        #: calls whose FastAGI session began but whose session is not started yet (their
        #: record is being read): never adopted as orphans meanwhile
        self._arriving: set[str] = set()
        self._pending: OrderedDict[str, list[f.Fact]] = OrderedDict()
        self._handed_over: dict[str, tuple[CallRecord, float]] = {}
        self._runs: set[asyncio.Task[None]] = set()
        self.stopping = False
        #: told of each call a session starts for here (cluster.mode active: the calls
        #: this acd holds, acd.adapters.redis.held_calls)
        self.on_hold: Callable[[str], None] | None = None
        #: cluster.mode active: the calls other acds hold, never adopted here
        self.held_elsewhere: Callable[[], Awaitable[set[str]]] | None = None
        #: cluster.mode active: why new calls go to the next acd now ('' : they do not)
        self.passing_on: Callable[[], str] = lambda: ""

    # -- FastAGI routes ------------------------------------------------------------------

    async def on_call(self, channel: Telephony, params: Mapping[str, str]) -> None:
        """`call`: a call to the 400 number arrives, or comes back after a restart (the
        dialplan says which: `tries` 0 is a first arrival, with no record to look up).
        A first arrival past the admission caps is shed here, before any Redis work; a
        call handed back was taken on before and is never shed."""
        now = self.ports.clock.now()
        first = params.get("tries") == "0"
        if first and (why := self.passing_on()):
            log.warning("call %s: offered to the next acd (%s)", channel.call_id, why)
            with contextlib.suppress(Exception):  # (hung up: nothing to pass on)
                await channel.pass_to_next_acd()
            return
        if first:
            shed = self.admission.admit(now)
            if shed is not None:
                await self._shed(channel, shed, now)
                return
        else:
            self.admission.hold()
        self._arriving.add(channel.call_id)
        try:
            await self._arrived(channel, first, now)
        finally:
            self._arriving.discard(channel.call_id)
            self.admission.release()

    async def _arrived(self, channel: Telephony, first: bool, now: float) -> None:
        try:
            record = None if first else await self.ports.store.get_call(channel.call_id)
        except ConnectionError:  # the store is away: served as a new call, not turned away
            log.warning("call %s: came back but its record cannot be read now; served as a "
                        "new call", channel.call_id)
            record = None
        if record is not None and not record.ended_at:
            still_queued = self.ports.routing.has_call(record.call_id)
            session = CallSession.resumed(record, self.settings(), now,
                                          still_queued=still_queued)
        else:
            session = CallSession.new(channel.call_id, channel.caller, channel.called,
                                      self.settings(), now)
            log.info("%s -> %s arrived", session.describe(), channel.called)
        await self._serve(session, channel)

    async def on_callback(self, channel: Telephony, params: dict[str, str]) -> None:
        """`callback`: the customer we called back answered (see acd.adapters.asterisk
        .callback_dialer); ring the agent the routing core reserved. Never shed."""
        self.admission.hold()
        try:
            await self._called_back(channel, params)
        finally:
            self.admission.release()

    async def _called_back(self, channel: Telephony, params: dict[str, str]) -> None:
        record = await self.ports.store.get_call(params.get("call_id", ""))
        if record is None:
            log.error("callback for an unknown call; hanging up")
            await channel.hangup()
            return
        try:
            ring_seconds = float(params.get("timeout", "15"))
        except ValueError:
            ring_seconds = 15.0
        target = routing_orders.RingTarget(params.get("agent", ""), params.get("device", ""))
        session = CallSession.called_back(record, self.settings(), self.ports.clock.now(),
                                          target, ring_seconds)
        await self._serve(session, channel)

    async def on_outbound(self, channel: Telephony, params: Mapping[str, str]) -> None:
        """`outbound`: the agent answered their phone for a call of their own (see
        acd.agents.outbound); dial the other party. Never shed."""
        self.admission.hold()
        try:
            record = await self.ports.store.get_call(params.get("call_id", ""))
            if record is None or record.ended_at or record.call_id != channel.call_id:
                log.error("own call %s unknown or already over; hanging up",
                          params.get("call_id", "?"))
                await channel.hangup()
                return
            await self._serve(CallSession.outbound(record, self.settings(),
                                                   self.ports.clock.now()), channel)
        finally:
            self.admission.release()

    async def on_phone_transfer(self, channel: Telephony) -> None:
        """`transfer`: an agent's phone blind-transferred the caller to `channel.called`
        (the transfer key, SIP REFER); the call goes on with its record. Never shed."""
        self.admission.hold()
        try:
            await self._transferred(channel)
        finally:
            self.admission.release()

    async def _transferred(self, channel: Telephony) -> None:
        kept = self._handed_over.pop(channel.call_id, None)
        record = kept[0] if kept else await self.ports.store.get_call(channel.call_id)
        if record is None or record.ended_at:  # not a call of ours: just put it through
            log.info("call %s: transfer to %s (not a call of acd's)", channel.call_id,
                     channel.called)
            try:
                number = dialable(channel.called, keys=True)
            except ValueError:
                await channel.hangup()
                return
            ended = await channel.dial_number(number, self.settings().put_through_seconds)
            if not ended.caller_gone:
                await channel.hangup()
            return
        session = CallSession.phone_transferred(record, self.settings(),
                                                self.ports.clock.now(), channel.called)
        await self._serve(session, channel)

    async def _serve(self, session: CallSession, channel: Telephony) -> None:
        count("calls")
        driver = self._start(session, channel)
        await driver.channel_released.wait()

    # -- shedding -------------------------------------------------------------------------

    async def _shed(self, channel: Telephony, shed: Shed, now: float) -> None:
        """A first arrival past the caps: counted, recorded (written behind, outcome
        `shed`), and given the busy prompt and a hang-up, the dialplan's fallback, or a
        hang-up unanswered. No session, no Redis read: this must cost next to nothing."""
        settings = self.settings()
        _, lang = settings.entry(channel.called)
        count("calls_shed")
        count(f"calls_shed_{shed.over}")
        self._report_shed(channel, shed, now)
        record = shed_record(channel.call_id, channel.caller, channel.called, lang, now, shed)
        self._spawn(self._write_shed(record.call_id, record.fields()), f"shed {record.call_id}")
        try:
            if shed.course is Course.FALLBACK:
                await channel.request_fallback()
                return
            if shed.course is Course.BUSY_PROMPT:
                await channel.answer()
                await channel.play(await self.ports.prompts.paths(
                    phrases.say("lines_busy", lang, settings.languages)))
            await channel.hangup()
        finally:
            self.admission.shed_over(shed)

    def _report_shed(self, channel: Telephony, shed: Shed, now: float) -> None:
        log.info("call %s: shed (over the %s cap): %s", channel.call_id, shed.over,
                 shed.course)
        self._shed_unreported += 1
        if now - self._shed_reported_at >= SHED_WARNING_SECONDS:
            config = self.admission.config
            log.warning("shedding calls: %d shed since the last warning; %d calls in acd "
                        "(admission.max_sessions %s, max_calls_per_second %s)",
                        self._shed_unreported, self.admission.sessions,
                        config.max_sessions or "none", config.max_calls_per_second or "none")
            self._shed_unreported, self._shed_reported_at = 0, now

    async def _write_shed(self, call_id: str, fields: Mapping[str, object]) -> None:
        try:
            await self.ports.store.record_call(call_id, fields)
        except Exception as exc:  # Redis away: the caller is not kept waiting for it
            log.error("call %s: the shed call's record could not be written: %s", call_id,
                      exc)
        self._tell_ended(call_id, fields)

    async def _close_unreached_callback(self, call_id: str) -> None:
        try:
            await self.ports.store.close_call(call_id, {
                "callback": "failed", "outcome": "callback-failed",
                "ended_at": self.ports.clock.now()})
            record = await self.ports.store.get_call(call_id)
        except Exception as exc:  # Redis away: the record stays open (restart recovery)
            log.error("call %s: the failed callback's record could not be closed: %s",
                      call_id, exc)
            return
        if record is not None:
            self._tell_ended(call_id, record.fields())

    def _tell_ended(self, call_id: str, fields: Mapping[str, object]) -> None:
        """call.ended for a call closed without a session (shed, a callback that never
        reached the customer): integrators hear of every call in the books."""
        if self.ports.events is not None:
            ended_at = fields.get("ended_at")
            at = float(ended_at) if isinstance(ended_at, (int, float, str)) and ended_at \
                else self.ports.clock.now()
            self.ports.events.call_event(o.TellIntegrators(
                "call.ended", call_id, str(fields.get("agent", "")), at, dict(fields)))

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)

    def _start(self, session: CallSession, channel: Telephony | None) -> CallDriver:
        call_id = session.record.call_id
        previous = self.drivers.get(call_id)
        if previous is not None and previous.telephony is None:
            previous.stop()  # an adopted orphan that came back: this session takes over
        driver = CallDriver(session, self.ports, channel)
        self.drivers[call_id] = driver
        if self.on_hold is not None:
            self.on_hold(call_id)
        for fact in self._pending.pop(call_id, []):
            driver.deliver(fact)
        self._spawn(self._run(driver), f"call {call_id}")
        return driver

    async def _run(self, driver: CallDriver) -> None:
        try:
            await driver.run()
        finally:
            for session in driver.take_handed_over():
                self._hand_over(session.record)
            if self.drivers.get(driver.call_id) is driver:
                del self.drivers[driver.call_id]

    def _hand_over(self, record: CallRecord) -> None:
        now = time.monotonic()
        self._handed_over = {k: v for k, v in self._handed_over.items()
                             if now - v[1] < HANDOVER_SECONDS}
        self._handed_over[record.call_id] = (record, now)

    # -- facts by call id ------------------------------------------------------------------

    def deliver(self, call_id: str, fact: f.Fact) -> None:
        """A fact about a call (Asterisk's events): to its session, if acd has one."""
        driver = self.drivers.get(call_id)
        if driver is None:
            return
        if isinstance(fact, f.ChannelGone) and driver.session.orphan and fact.account is None:
            self._spawn(self._orphan_gone(driver, fact), f"call {call_id} gone")
            return
        driver.deliver(fact)

    async def _orphan_gone(self, driver: CallDriver, gone: f.ChannelGone) -> None:
        """A call acd lost track of hung up: its end goes with what the dialplan recorded
        meanwhile (the h extension ran before the channel was destroyed)."""
        account = None
        if self.ports.lost_calls is not None:
            try:
                account = await self.ports.lost_calls.account(driver.call_id)
            except Exception:
                log.exception("call %s: what the dialplan recorded could not be read",
                              driver.call_id)
        driver.deliver(dataclasses.replace(gone, account=account))

    def on_routing(self, command: routing_orders.Command) -> None:
        """A dispatcher sink: the routing core's orders for callers, to their sessions
        (delivered at once: no work is returned)."""
        match command:
            case routing_orders.RingAgents() | routing_orders.AnnouncePosition() | \
                    routing_orders.ExitQueue():
                self._to_call(command.call_id, f.Routed(command), keep=True)
            case routing_orders.StopRinging():
                self._to_call(command.call_id, f.StopRingingOrdered(command.agent_ids))
            case routing_orders.CallOverflowed():
                self._to_call(command.call_id, f.QueueOverflowed(
                    command.from_queue, command.to_queue, command.mode), keep=True)
            case routing_orders.WrapUpDone():
                self._to_call(command.call_id, f.WrapUpFinished(command.agent_id,
                                                                command.seconds))
            case routing_orders.CallCompleted(outcome="callback-failed") \
                    if command.call_id not in self.drivers:
                # the customer was never reached: no session holds the record (it was
                # kept open for the callback); it closes here, and reaches the history
                self._spawn(self._close_unreached_callback(command.call_id),
                            f"callback {command.call_id} failed")

    def _to_call(self, call_id: str, fact: f.Fact, *, keep: bool = False) -> None:
        driver = self.drivers.get(call_id)
        if driver is not None:
            driver.deliver(fact)
        elif keep and len(self._pending) < MAX_PENDING_CALLS:
            # e.g. right after a restart, before the call comes back to this acd
            self._pending.setdefault(call_id, []).append(fact)

    # -- the HTTP API ----------------------------------------------------------------------

    async def ask(self, call_id: str,
                  request: f.TransferAsked | f.SpyAsked | f.CallControlAsked) -> str:
        """Transfer, listen in on or control a connected call; the agent on it.
        NotConnected when the call is not connected to an agent."""
        driver = self.drivers.get(call_id)
        if driver is None or driver.session.finished:
            raise NotConnected(f"call {call_id} is not connected to an agent")
        return await driver.ask(request)

    def connected_agent(self, call_id: str) -> str | None:
        driver = self.drivers.get(call_id)
        return driver.session.connected_agent or None if driver is not None else None

    # -- after an AMI login ----------------------------------------------------------------

    def held(self) -> set[str]:
        """The calls sessions here hold, or are about to."""
        return set(self.drivers) | self._arriving

    def orphans(self) -> set[str]:
        """Adopted calls: no channel of ours (closed when they hang up)."""
        return {call_id for call_id, d in self.drivers.items() if d.telephony is None}

    def let_go(self, call_ids: set[str]) -> None:
        """Adopted calls that another acd holds now (the dialplan brought them back to
        it): left to it, not closed here."""
        for call_id in call_ids & self.orphans():
            log.info("call %s: another acd holds it now; this one lets it go", call_id)
            self.drivers[call_id].stop()

    async def resync(self, live: Mapping[str, str], only: set[str] | None = None) -> None:
        """Calls still open in Redis that no session here holds: adopted while Asterisk
        has them (`live`: call id -> channel name), closed if they ended while acd was
        not watching. A live one that the dialplan sent to the fallback queue, or that
        said goodbye after its conversation, leaves the routing core now: no ghost
        waits in acd for an agent it already has. In an active cluster, calls another
        acd holds are left to it (and none is adopted when that cannot be known);
        `only`: these calls at most (acd.orphan_sweep)."""
        now = self.ports.clock.now()
        elsewhere: set[str] = set()
        if self.held_elsewhere is not None:
            try:
                elsewhere = await self.held_elsewhere()
            except Exception as exc:
                log.warning("calls open in Redis not looked at: which acd holds them is "
                            "unknown (%s); the leader looks again shortly", exc)
                return
        for call_id in await self.ports.store.active_call_ids():
            if self._ours(call_id) or call_id in elsewhere or (
                    only is not None and call_id not in only):
                continue
            record = await self.ports.store.get_call(call_id)
            if record is None or record.ended_at or self._ours(call_id):
                continue  # (the call may have come back while its record was read)
            if record.callback == "requested":
                continue  # a booked callback: open with no channel until the core calls back
            session = CallSession.adopted(record, self.settings(), now)
            self._start(session, None)
            if call_id not in live:
                self.deliver(call_id, f.ChannelGone("ended while acd was away",
                                                    while_away=True))
                continue
            path = ""
            if self.ports.lost_calls is not None:
                try:
                    path = await self.ports.lost_calls.path_of(live[call_id])
                except ChannelVanished:  # hung up since Asterisk listed it
                    self.deliver(call_id, f.ChannelGone("hung up during the resync"))
                    continue
                except Exception as exc:
                    log.warning("call %s: where it stands is unknown (%s)", call_id, exc)
            if path == "fallback":
                log.warning("call %s: in Asterisk's fallback queue (acd was away); its "
                            "record closes when it hangs up", call_id)
                self.ports.routing.post(routing.CallLeftForFallback(call_id))
            elif path == "talked" and record.agent:
                log.warning("call %s: the conversation with agent %s ended while acd was "
                            "away; the caller hears goodbye", call_id, record.agent)
                self.ports.routing.post(routing.CallEnded(call_id, record.agent))
            else:
                log.warning("call %s: still up in Asterisk but not ours (acd restarted "
                            "mid-call); its record closes when it hangs up", call_id)

    async def record_unseen(self) -> int:
        """Calls that came and went while no acd was there (the dialplan sent them to
        the fallback queue, and wrote an account in AstDB when they ended): each becomes
        a record from its account, so that it is in the books. An account is forgotten
        once its call's record is written (closed); one whose record is open is left to
        that record's session or the next resync. Returns the records written."""
        lost = self.ports.lost_calls
        if lost is None:
            return 0
        now, written = self.ports.clock.now(), 0
        for call_id, account in (await lost.accounts()).items():
            if self._ours(call_id):
                continue
            record = await self.ports.store.get_call(call_id)
            if record is not None:
                if record.ended_at:
                    await lost.forget(call_id)  # read already, or the call closed otherwise
                continue
            if account is None or not (account.caller or account.called):
                log.warning("call %s: AstDB %s has an account acd cannot record (no call "
                            "of that id, and the entry does not say whose call it was: a "
                            "dialplan older than acd?); forgotten", call_id, "acd-lost")
                await lost.forget(call_id)
                continue
            arrived = account.arrived_at or account.queued_at or account.ended_at or now
            record = CallRecord(call_id, account.caller, account.called, arrived,
                                enqueued_at=account.queued_at)
            log.warning("call %s: came and went while no acd was there (%s); recorded from "
                        "what the dialplan wrote", call_id, account.path)
            driver = CallDriver(CallSession.unseen(record, self.settings(), now), self.ports,
                                None)
            driver.deliver(f.ChannelGone("ended while no acd was there", account=account))
            # not registered: no late fact can reach it, so a session that would linger
            # for one (a wrap-up) is cut short once its record is written
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(driver.run(), UNSEEN_RUN_SECONDS)
            written_now = await self.ports.store.get_call(call_id)
            if written_now is not None and written_now.ended_at:
                await lost.forget(call_id)  # else written, and forgotten, at the next look
                written += 1
        return written

    def _ours(self, call_id: str) -> bool:
        """A session here holds the call, or is about to (its FastAGI session began)."""
        return call_id in self.drivers or call_id in self._arriving

    # -- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """acd stops: every call is left for the next acd (the dialplan brings them back)."""
        self.stopping = True
        for driver in list(self.drivers.values()):
            driver.stop()

    async def drain(self, timeout: float = 2.0) -> None:
        """Let record writes in flight finish (shutdown)."""
        if self._runs:
            await asyncio.wait(set(self._runs), timeout=timeout)
