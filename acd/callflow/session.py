"""CallSession: the life of one call, as a pure state machine.

Inputs are facts (acd.callflow.facts) with `now`; outputs are orders in acd's own
words (acd.callflow.orders). No asyncio, Asterisk, Redis or HTTP here: a thin driver
(acd.callflow.driver) feeds the facts and executes the orders.

The call's course is written as a script (a generator, like the IVR interpreter):
it yields one channel order or question at a time and receives its reply, or yields
`Wait` while the caller waits in a queue and receives the routing core's next order
or a key the caller pressed. A hang-up is thrown into the script as `Gone` where it
stands. Facts that arrive beside the script's course (an agent's phone answering,
the routing core stopping a ring, an API transfer, a supervisor listening in) are
handled here and change the state the script reads.

The session owns the call record: it is opened once, changed only through
`change()`, saved at the points a restarted acd needs (in queue, answered, handed
over) and closed exactly once, whatever happens.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Literal

from acd.callflow import (
    callback,
    controls,
    ending,
    notices,
    outbound,
    overflow,
    resume,
    ringing,
    supervision,
    transfers,
)
from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.arrival import new_call
from acd.callflow.record import CallRecord
from acd.callflow.settings import CallSettings
from acd.callflow.state import (
    REPLIES,
    Gone,
    NotConnected,
    Phase,
    Reply,
    Request,
    Ring,
    Script,
    Wait,
)
from acd.core.commands import RingTarget
from acd.core.model import OverflowMode
from acd.privacy import logged

log = logging.getLogger(__name__)

#: a new call's record is written this long after arrival at the latest
OPEN_WITHIN = 2.0
#: how long a finished call waits for Asterisk's hang-up cause before its record closes
CLOSE_WITHIN = 1.0
#: how long a closed session waits for late facts (Asterisk's hang-up cause, the agent's
#: wrap-up time) before it is forgotten
LINGER_SECONDS = 15 * 60.0


class _Described:
    __slots__ = ("record",)

    def __init__(self, record: CallRecord) -> None:
        self.record = record

    def __str__(self) -> str:
        return f"call {self.record.call_id} ({logged(self.record.caller)})"


class CallSession:
    """One call: its script, its record, its Dial, its pending routing orders."""

    # -- the ways a call reaches a session --------------------------------------------

    @classmethod
    def new(cls, call_id: str, caller: str, called: str, settings: CallSettings,
            now: float) -> CallSession:
        """A call to the 400 number."""
        _, lang = settings.entry(called)
        record = CallRecord(call_id=call_id, caller=caller, called=called, arrived_at=now,
                            variables={"lang": lang})
        return cls(record, settings, now, new_call, is_new=True)

    @classmethod
    def resumed(cls, record: CallRecord, settings: CallSettings, now: float, *,
                still_queued: bool) -> CallSession:
        """A call back after an acd restart (its record was open)."""
        return cls(record, settings, now, lambda s: resume.resumed(s, still_queued))

    @classmethod
    def called_back(cls, record: CallRecord, settings: CallSettings, now: float,
                    target: RingTarget, ring_seconds: float) -> CallSession:
        """The customer we called back answered."""
        return cls(record, settings, now,
                   lambda s: callback.called_back(s, target, ring_seconds))

    @classmethod
    def outbound(cls, record: CallRecord, settings: CallSettings, now: float) -> CallSession:
        """The agent answered their phone for a call of their own (record.caller: whom
        to dial)."""
        return cls(record, settings, now, outbound.placed)

    @classmethod
    def phone_transferred(cls, record: CallRecord, settings: CallSettings, now: float,
                          number: str) -> CallSession:
        """The agent's phone transferred the caller to `number`."""
        return cls(record, settings, now, lambda s: transfers.phone_transferred(s, number))

    @classmethod
    def adopted(cls, record: CallRecord, settings: CallSettings, now: float) -> CallSession:
        """A call still up in Asterisk that no session of this acd holds (acd restarted
        mid-call and the call never came back): it is closed when it hangs up."""
        session = cls(record, settings, now, None)
        session.phase = Phase.LEFT
        return session

    @classmethod
    def unseen(cls, record: CallRecord, settings: CallSettings, now: float) -> CallSession:
        """A call that came and went while no acd was there (Asterisk's fallback queue
        took it): closed at once from what the dialplan recorded; its record, never
        opened, is written whole."""
        session = cls(record, settings, now, None, is_new=True)
        session.phase = Phase.LEFT
        return session

    def __init__(self, record: CallRecord, settings: CallSettings, now: float,
                 script: Callable[[CallSession], Script[None]] | None, *,
                 is_new: bool = False) -> None:
        self.record = record
        self.settings = settings
        self.now = now
        self.phase = Phase.ARRIVING
        self.ring: Ring | None = None
        self.caller_present = script is not None
        self.hangup_sent = False
        self.handed_over = False
        self.keep_open = False  # a callback was booked: the record stays open
        self.stopping = False  # acd stops: the next acd carries the call on
        self.music_on = False
        self.requeues = 0
        self.wrap_up_expected = False
        #: no channel of ours: an orphan found after a restart, closed when it hangs up
        #: (not named `adopted`: that is the class method that makes one)
        self.orphan = script is None
        self._script: Script[None] | None = ending.whole_call(self, script) if script else None
        self._awaiting: type[f.Fact] | Wait | None = None
        self._gone_pending = False
        self._routed: deque[f.RoutingOrder] = deque()
        self._out: list[o.Order] = []
        self._dirty: dict[str, object] = {}
        self._closed = False
        self._cause_known = False
        self._linger_until: float | None = None
        #: a new call's record is written with its first checkpoint (or when it closes,
        #: or OPEN_WITHIN seconds after arrival), one write less for most calls
        self._opened = not is_new
        self._open_by: float | None = now + OPEN_WITHIN if is_new else None
        #: after the call, when the record closes at the latest without Asterisk's cause
        self._close_by: float | None = None

    # -- the driver's side -------------------------------------------------------------

    def begin(self) -> list[o.Order]:
        """The first orders: the script's start."""
        if self._script is not None:
            self._advance(None)
        return self._take()

    def handle(self, fact: f.Fact, now: float) -> list[o.Order]:
        """Feed one fact; the orders that follow from it, in order. Raises NotConnected
        (or ValueError) for an API request the call cannot take."""
        self.now = now
        self._on(fact)
        return self._take()

    def stop(self, now: float) -> list[o.Order]:
        """acd is stopping: the call is left as it is, for the next acd to take up."""
        self.now = now
        self.stopping = True
        self._script = None
        self._awaiting = None
        self.phase = Phase.LEFT
        self._open_by = self._close_by = None
        self.checkpoint()
        return self._take()

    def abort(self, now: float) -> list[o.Order]:
        """acd failed inside this call (a bug): close the record with what is known."""
        self.now = now
        self._script = None
        self._awaiting = None
        if not self._closed and not self.handed_over and not self.keep_open:
            self.change(ended_at=now, outcome=self.record.outcome or "failed",
                        hung_up_by=self.record.hung_up_by or "system")
            self.close()
        return self._take()

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self._open_by, self._close_by, self._linger_until)
                     if d is not None]
        return min(deadlines) if deadlines else None

    @property
    def finished(self) -> bool:
        """Nothing more will come of this session: the driver may forget it."""
        if self._closed:
            return self._linger_until is None
        return self.phase is Phase.LEFT and (not self.orphan or self.stopping)

    @property
    def connected_agent(self) -> str:
        ring = self.ring
        return ring.answered_by if ring is not None and not ring.over else ""

    # -- for the scripts ---------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self.record.variables.get("lang") or self.settings.languages[0]

    @property
    def routed_pending(self) -> bool:
        """An order of the routing core waits to be taken (e.g. an agent is free)."""
        return bool(self._routed)

    def emit(self, order: o.Order) -> None:
        self._out.append(order)

    def change(self, **fields: object) -> None:
        """Change fields of the call record (written at the next checkpoint)."""
        for name, value in fields.items():
            setattr(self.record, name, value)
            self._dirty[name] = value

    def add_to(self, name: Literal["ivr_path", "queues"], item: str) -> None:
        """Append to a list field of the record (ivr_path, queues)."""
        current = self.record.ivr_path if name == "ivr_path" else self.record.queues
        self.change(**{name: [*current, item]})

    def checkpoint(self) -> None:
        """Save what changed: a restarted acd resumes the call from the record."""
        if self._closed:
            return
        if not self._opened:
            self._opened, self._open_by = True, None
            self._out.append(o.OpenRecord(self.record.call_id, self.record.fields()))
            self._dirty.clear()
        elif self._dirty:
            self._out.append(o.SaveRecord(self.record.call_id, dict(self._dirty)))
            self._dirty.clear()

    def hand_over(self) -> None:
        """The caller's channel goes on in another session (a phone transfer)."""
        self.handed_over = True
        self._out.append(o.HandOver(self.record.call_id))

    def describe(self) -> _Described:
        """The call for a log line, formatted only if the line is written."""
        return _Described(self.record)

    # -- facts ------------------------------------------------------------------------

    def _on(self, fact: f.Fact) -> None:
        match fact:
            case f.CallerHungUp():
                self._on_hangup()
            case f.Routed():
                self._routed.append(fact.order)
                if isinstance(self._awaiting, Wait):
                    self._advance(self._routed.popleft())
            case f.KeyPressed(digit=digit):
                if isinstance(self._awaiting, Wait) and digit and digit in self._awaiting.keys:
                    self._advance(fact)
            case f.LegRinging() | f.AgentAnswered() | f.CallerBridged() | \
                    f.StopRingingOrdered():
                if self.ring is not None and not self.ring.over:
                    ringing.on_ring_fact(self, self.ring, fact)
            case f.HoldChanged():
                if self.ring is not None and not self.ring.over and self.ring.answered_by:
                    ringing.on_hold(self, self.ring, fact)
            case f.CallControlAsked():
                controls.on_control(self, self._connected_ring(), fact)
            case f.ControlFailed():
                if self.ring is not None and not self.ring.over and self.ring.answered_by:
                    controls.on_control_failed(self, self.ring, fact)
            case f.ConsultEnded():
                if self.ring is not None and not self.ring.over and self.ring.answered_by:
                    controls.on_consult_ended(self, self.ring, fact)
            case f.ConsultReserved():
                if self.ring is not None and not self.ring.over and self.ring.answered_by:
                    controls.on_consult_reserved(self, self.ring, fact)
                else:  # the call moved on meanwhile: the colleague is not needed
                    controls.give_back(self, fact.agent_id)
            case f.AgentLegGone():
                if self.ring is not None and not self.ring.over and self.ring.answered_by:
                    controls.on_agent_leg_gone(self, self.ring, fact)
            case f.TransferAsked() | f.SpyAsked():
                supervision.on_request(self, self._connected_ring(), fact)
            case f.ChannelGone():
                self._on_channel_gone(fact)
            case f.QueueOverflowed():
                overflow.overflowed(self, fact)
                if fact.mode is OverflowMode.MOVE and isinstance(self._awaiting, Wait) \
                        and self.phase is Phase.QUEUED:
                    self._advance(fact)  # the waiting script re-marks the channel
            case f.WrapUpFinished(seconds=seconds):
                self.wrap_up_expected = False
                self.change(wrap_up_seconds=round(seconds, 3))
                self._amend()
            case f.RecordingFinished(path=path):
                if not self._closed and self.phase is Phase.ENDING:
                    self.change(recording=path)
                    self.close_soon()
            case f.TimerFired():
                self._on_timer()
            case _:
                self._on_reply(fact)

    def _connected_ring(self) -> Ring:
        """The Dial connected to an agent who is still on the call; NotConnected if none."""
        ring = self.ring
        if ring is None or ring.over or not ring.answered_by or not ring.agent_channel \
                or ring.handed_to:
            raise NotConnected(f"call {self.record.call_id} is not connected to an agent")
        return ring

    def _on_reply(self, fact: f.Fact) -> None:
        expected = self._awaiting
        if not isinstance(expected, type) or not isinstance(fact, expected):
            log.debug("%s: %s ignored (waiting for %s)", self.describe(),
                      type(fact).__name__, expected)
            return
        self._advance(fact)
        if self._gone_pending and self._script is not None:
            self._gone_pending = False
            self._throw_gone()

    def _on_hangup(self) -> None:
        if not self.caller_present:
            return
        self.caller_present = False
        if self._script is None:
            return
        if self._awaiting is f.DialEnded:
            # the Dial's outcome (who answered, for how long) comes first: the driver
            # always reports it; the hang-up is taken after it
            self._gone_pending = True
            return
        self._throw_gone()

    def _on_timer(self) -> None:
        if self._open_by is not None and self.now >= self._open_by:
            self.checkpoint()  # still in the IVR: a restarted acd must know of the call
        if self._close_by is not None and self.now >= self._close_by:
            self.close()  # Asterisk's cause did not come in time (AMI away): without it
        if self._linger_until is not None and self.now >= self._linger_until:
            self._linger_until = None

    def _on_channel_gone(self, gone: f.ChannelGone) -> None:
        self._cause_known = True
        if gone.cause and not self.record.hangup_cause:
            self.change(hangup_cause=gone.cause)
        if self.orphan and not self._closed and not self.stopping:
            ending.orphan_gone(self, gone)
            return
        if self._close_by is not None:  # the call's end waited for the cause
            self.close()
            return
        self._amend()

    def _amend(self) -> None:
        """A late fact about a closed call: write it, and forget the session when
        nothing more is to come."""
        if self._closed:
            if self._dirty:
                self._out.append(o.SaveRecord(self.record.call_id, dict(self._dirty)))
                self._dirty.clear()
            if self._cause_known and not self.wrap_up_expected:
                self._linger_until = None

    # -- the script --------------------------------------------------------------------

    def _advance(self, value: Reply | None) -> None:
        """Send `value` into the script (None: start it) and run it to its next wait."""
        script = self._script
        assert script is not None
        while True:
            try:
                step = next(script) if value is None else script.send(value)
            except StopIteration:
                self._script_over(gone=False)
                return
            except Gone:
                self._script_over(gone=True)
                return
            if isinstance(step, Wait):
                if self._routed:
                    value = self._routed.popleft()
                    continue
                self._awaiting = step
                return
            self._issue(step)
            return

    def _issue(self, step: Request) -> None:
        if isinstance(step, o.HangUp):
            self.hangup_sent = True
        self._out.append(step)
        self._awaiting = REPLIES[type(step)]

    def _throw_gone(self) -> None:
        script = self._script
        assert script is not None
        self._awaiting = None
        try:
            step = script.throw(Gone())
        except (StopIteration, Gone):
            self._script_over(gone=True)
            return
        if isinstance(step, Wait):
            self._awaiting = step
        else:
            self._issue(step)

    def _script_over(self, *, gone: bool) -> None:
        self._script = None
        self._awaiting = None
        if self.ring is not None:  # a Dial's late events no longer concern this call
            self.ring.over = True
        ending.script_over(self, gone=gone)

    # -- the end -----------------------------------------------------------------------

    def close_soon(self) -> None:
        """The call is over: close when Asterisk's hang-up cause is in (it follows the
        channel's end by milliseconds), at the latest CLOSE_WITHIN seconds from now."""
        if self._cause_known:
            self.close()
        else:
            self._close_by = self.now + CLOSE_WITHIN

    def close(self) -> None:
        """Close the record: once, whatever happened."""
        if self._closed:
            return
        self._closed = True
        self._close_by = self._open_by = None
        self.phase = Phase.CLOSED
        notices.ended(self)
        if self._opened:
            self._out.append(o.CloseRecord(self.record.call_id, dict(self._dirty)))
        else:  # never written: the whole record, opened and closed in one write
            self._out.append(o.CloseRecord(self.record.call_id, self.record.fields(),
                                           opened=False))
        self._opened = True
        self._dirty.clear()
        log.info("%s: ended %s (queue %s, agent %s, %.1f s)", self.describe(),
                 self.record.outcome or "-", ",".join(self.record.queues) or "-",
                 self.record.agent or "-",
                 (self.record.ended_at or self.now) - self.record.arrived_at)
        self._linger_until = self.now + LINGER_SECONDS
        self._amend()

    def _take(self) -> list[o.Order]:
        out, self._out = self._out, []
        return out
