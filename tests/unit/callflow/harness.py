"""Drive a CallSession in memory with a hand-set clock: feed facts, read orders.

`Call.settle()` answers the orders a test does not care about the way a working
channel would (answer, music, recording, hang-up done; no caller list applies; no
announcement; the routing core takes the caller) and stops at the first order the
test must answer itself (a Dial, digits to collect, prompts to hear) or at a wait.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.record import CallRecord
from acd.callflow.session import CallSession
from acd.callflow.settings import CallSettings, RecordingPlan
from acd.callflow.state import REPLIES
from acd.config.routing import QueueTelephony
from acd.core import commands as rc
from acd.core import events as ev
from acd.ivr.flowset import build_flowset

T0 = 1_795_000_000.0
CALLER = "13800138000"
DID = "4008001234"

FLOWS = {
    "main.yaml": """
start: menu
nodes:
  menu:
    type: menu
    prompt: {text: {zh: 技术支持请按1。, en: Press 1.}}
    choices: {1: support}
    timeout: 5
    retries: 1
    exhausted: support
  support: {type: queue, queue: support}
""",
    "direct.yaml": "start: q\nnodes:\n  q: {type: queue, queue: support}\n",
}


def flowset() -> Any:
    flows, errors = build_flowset({Path(n): t for n, t in FLOWS.items()},
                                  known_queues=["support", "complaints"], schedule_names=None,
                                  library=None, extra_variables=("lang",))
    assert not errors, errors
    return flows


def settings(**overrides: Any) -> CallSettings:
    values: dict[str, Any] = {
        "numbers": {DID: ("direct", "zh"), "4008000001": ("main", "zh")},
        "flows": flowset(),
        "telephony": {"support": QueueTelephony(transfer_code="601"),
                      "complaints": QueueTelephony(transfer_code="602", whisper="投诉")},
        "recordings": RecordingPlan("/rec"),
    }
    values.update(overrides)
    return CallSettings(**values)


AGENT = rc.RingTarget("1001", "PJSIP/agent1001")
AGENT2 = rc.RingTarget("1002", "PJSIP/agent1002")
LEG = "PJSIP/agent1001-00000001"


def ring(*targets: rc.RingTarget, call_id: str = "c1", queue: str = "support",
         timeout: float = 15) -> f.Routed:
    return f.Routed(rc.RingAgents(call_id, queue, targets or (AGENT,), timeout))


def answered_dial(target: rc.RingTarget = AGENT, **kw: Any) -> f.DialEnded:
    return f.DialEnded(f.DialStatus.ANSWERED, f"{target.device}-00000001", target.device, **kw)


class Call:
    """One session, the orders it gave, the record as the store would hold it."""

    def __init__(self, session: CallSession, now: float = T0) -> None:
        self.session = session
        self.now = now
        self.orders: list[o.Order] = []
        self.stored: dict[str, Any] = {}
        self.opened = 0
        self.closed = 0
        self.hangup_fed = False
        self.after_hangup: list[o.Order] = []
        self.fed: list[f.Fact] = []

    @classmethod
    def new(cls, caller: str = CALLER, called: str = DID, **overrides: Any) -> Call:
        call = cls(CallSession.new("c1", caller, called, settings(**overrides), T0))
        call._take(call.session.begin())
        return call

    @classmethod
    def of(cls, session: CallSession) -> Call:
        call = cls(session, session.now)
        call._take(session.begin())
        return call

    # -- feeding ---------------------------------------------------------------------

    def feed(self, fact: f.Fact, after: float = 0.0) -> list[o.Order]:
        self.now += after
        self.fed.append(fact)
        if isinstance(fact, f.CallerHungUp):
            self.hangup_fed = True
        return self._take(self.session.handle(fact, self.now))

    def _take(self, orders: list[o.Order]) -> list[o.Order]:
        for order in orders:
            if self.hangup_fed and isinstance(order, o.CHANNEL_ORDERS):
                self.after_hangup.append(order)
            if isinstance(order, o.OpenRecord):
                self.opened += 1
                self.stored.update(order.fields)
            elif isinstance(order, o.SaveRecord | o.CloseRecord):
                self.stored.update(order.changes)
                self.closed += isinstance(order, o.CloseRecord)
                self.opened += isinstance(order, o.CloseRecord) and not order.opened
        self.orders += orders
        return orders

    @property
    def waiting_for(self) -> Any:
        """The order the session waits a reply to (None at a Wait or when done)."""
        expected = self.session._awaiting  # noqa: SLF001 - the test's window on the wait
        if not isinstance(expected, type):
            return None
        return next((x for x in reversed(self.orders) if REPLIES.get(type(x)) is expected),
                    None)

    def settle(self, *, submit_error: str = "") -> None:
        """Answer what a working channel and routing core would answer at once."""
        while True:
            order = self.waiting_for
            match order:
                case o.Answer() | o.StartMusic() | o.StopMusic() | o.StartRecording() | \
                        o.HangUp() | o.MarkQueued():
                    self.feed(f.ChannelDone())
                case o.CheckRules():
                    self.feed(f.RuleDecided(None))
                case o.FetchAnnouncement():
                    self.feed(f.AnnouncementFetched(()))
                case o.SubmitToRouting():
                    self.feed(f.RoutingAnswered(submit_error))
                case o.PlayPrompts() if not order.escape_digits:
                    self.feed(f.Played(""))
                case _:
                    return

    # -- reading ---------------------------------------------------------------------

    def of_kind(self, kind: type | tuple[type, ...]) -> list[Any]:
        return [x for x in self.orders if isinstance(x, kind)]

    def routing(self) -> list[ev.Event]:
        return [x.event for x in self.of_kind((o.PostToRouting, o.SubmitToRouting))]

    def routing_kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.routing()]

    @property
    def record(self) -> CallRecord:
        return self.session.record

    def end(self) -> None:
        """The call's end as the adapters report it: Asterisk's Hangup (the cause), and
        the recordings adapter's answer to a FinishRecording."""
        if not self.closed and not any(isinstance(x, f.ChannelGone) for x in self.fed):
            self.feed(f.ChannelGone("Normal Clearing"))
        if self.of_kind(o.FinishRecording) and not self.closed:
            self.feed(f.RecordingFinished(self.of_kind(o.FinishRecording)[-1].path))


def texts(prompts: Iterable[Any]) -> list[str]:
    return [getattr(p, "text", "") or getattr(getattr(p, "fallback", None), "text", "")
            for p in prompts]
