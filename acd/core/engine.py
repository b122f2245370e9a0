"""The routing engine: a pure state machine driven by events, timers and `now`.

Inputs: `handle(event, now)` for facts and requests, `on_timer(now)` when
`next_deadline()` has passed. Output: the commands each call returns. The
engine never reads the clock and never does I/O (the aioquic model): an
asyncio adapter feeds it, executes the commands, persists `take_changes()`
and re-arms one timer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from acd.core import agent_flow, call_flow, snapshot, views
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.calls import CallState
from acd.core.census import Census, count_heads
from acd.core.model import AgentConfig, QueueConfig, RoutingSettings
from acd.core.periods import PeriodKey, daily
from acd.core.routing import dispatch
from acd.core.snapshot import Changes, Snapshot
from acd.core.state import RoutingState
from acd.core.stats import PeriodStats
from acd.core.timers import TimerKind
from acd.core.views import AgentView, QueueView


def _apply(st: RoutingState, event: ev.Event, now: float) -> None:
    """Hand the event to its handler; mypy checks that every kind of event has one."""
    match event:
        case ev.AgentLoggedIn():
            agent_flow.logged_in(st, event, now)
        case ev.AgentLoggedOut():
            agent_flow.logged_out(st, event, now)
        case ev.AgentPaused():
            agent_flow.paused(st, event, now)
        case ev.AgentResumed():
            agent_flow.resumed(st, event, now)
        case ev.AgentDeviceReachability():
            agent_flow.reachability(st, event, now)
        case ev.WrapUpEnded():
            agent_flow.wrap_up_ended(st, event, now)
        case ev.AgentClaimLost():
            agent_flow.claim_lost(st, event, now)
        case ev.AgentClaimReleased():
            agent_flow.claim_released(st, event, now)
        case ev.CallQueued():
            call_flow.queued(st, event, now)
        case ev.CallAbandoned():
            call_flow.abandoned(st, event, now)
        case ev.CallLeftForFallback():
            call_flow.left_for_fallback(st, event, now)
        case ev.RingAnswered():
            call_flow.ring_answered(st, event, now)
        case ev.RingFailed():
            call_flow.ring_failed_event(st, event, now)
        case ev.CallEnded():
            call_flow.call_ended(st, event, now)
        case ev.CallTransferred():
            call_flow.transferred(st, event, now)
        case ev.CallbackRequested():
            call_flow.callback_requested(st, event, now)
        case ev.CallbackFailed():
            call_flow.callback_failed(st, event, now)
        case ev.CallbackCancelled():
            call_flow.callback_cancelled(st, event, now)
        case ev.AgentQueueLogin() | ev.AgentQueueLogout():
            agent_flow.queue_served(st, event, now)
        case ev.OutboundStarted():
            agent_flow.outbound_started(st, event, now)
        case ev.CallPickedUp():
            call_flow.picked_up(st, event, now)
        case ev.OutboundEnded():
            agent_flow.outbound_ended(st, event, now)
        case _:
            assert_never(event)


_AGENT_TIMERS = {TimerKind.WRAP_UP: agent_flow.on_wrap_timer,
                 TimerKind.HOLD: agent_flow.on_hold_timer}


class RoutingEngine:
    def __init__(self, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig], *,
                 period_key: PeriodKey | None = None,
                 settings: RoutingSettings | None = None) -> None:
        self._st = RoutingState(queues, agents, settings or RoutingSettings(),
                                period_key or daily())
        #: set by restore/reconfigure: a full matching pass is due at this time
        self._wake_at: float | None = None

    # -- inputs ------------------------------------------------------------------

    def handle(self, event: ev.Event, now: float) -> list[cmd.Command]:
        """Apply one event; domain errors (acd.core.errors) leave the state unchanged."""
        # checked before anything changes: a caller outside the type checker may pass anything
        if not isinstance(event, ev.Event):
            raise TypeError(f"not a routing event: {event!r}")
        self._roll_period(now)
        _apply(self._st, event, now)
        dispatch(self._st, now)
        return self._drain()

    def on_timer(self, now: float) -> list[cmd.Command]:
        """Fire every deadline up to `now`."""
        st = self._st
        self._roll_period(now)
        if self._wake_at is not None:
            self._wake_at = None
            snapshot.queue_everything(st)
            dispatch(st, now)
        while (timer := st.deadlines.pop_due(now)) is not None:
            owner, ident = timer.key.split(":", 1)
            key = (owner, ident, timer.kind)
            if st.timers.get(key) is timer:
                del st.timers[key]
            if owner == "agent":
                _AGENT_TIMERS[timer.kind](st, ident, now)
            elif (call := st.calls.get(ident)) is not None:
                call_flow.CALL_TIMERS[timer.kind](st, call, now)
            dispatch(st, now)
        return self._drain()

    def next_deadline(self) -> float | None:
        deadline = self._st.deadlines.next_deadline()
        if self._wake_at is not None:
            deadline = self._wake_at if deadline is None else min(deadline, self._wake_at)
        return deadline

    # -- persistence and reload ------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The whole live state as JSON-able data (see acd/core/snapshot.py)."""
        return snapshot.dump(self._st)

    def take_changes(self) -> Changes:
        """What changed since the last call, in the snapshot's shape (None: deleted)."""
        return snapshot.changes(self._st)

    @classmethod
    def restore(cls, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig],
                data: Snapshot, now: float, *, period_key: PeriodKey | None = None,
                settings: RoutingSettings | None = None) -> RoutingEngine:
        """An engine continuing from a snapshot; commands it owes come from `on_timer(now)`."""
        engine = cls(queues, agents, period_key=period_key, settings=settings)
        snapshot.load(engine._st, data, now, restart=True)
        engine._st.dirty_agents.clear()
        engine._st.dirty_calls.clear()
        engine._st.dirty_queues.clear()
        engine._wake_at = now
        return engine

    def reconfigure(self, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig],
                    now: float) -> list[cmd.Command]:
        """Apply a reloaded configuration, keeping agents' states, callers and statistics."""
        old = self._st
        data = snapshot.dump(old)
        self._st = RoutingState(queues, agents, old.settings, old.period_key)
        self._st.out = old.out
        snapshot.load(self._st, data, now)
        snapshot.mark_all_dirty(self._st, removed_agents=(set(old.agents) - set(self._st.agents))
                                | old.removed_agents)
        self._st.dirty_calls |= old.dirty_calls  # deletions not yet taken
        snapshot.queue_everything(self._st)
        dispatch(self._st, now)
        return self._drain()

    # -- read-only views ------------------------------------------------------------

    def agent_view(self, agent_id: str) -> AgentView:
        return views.agent_view(self._st, agent_id)

    def queue_view(self, queue: str) -> QueueView:
        return views.queue_view(self._st, queue)

    def stats(self) -> PeriodStats:
        return views.stats(self._st)

    def census(self) -> Census:
        """Head counts for the metrics: cheaper than every view (acd.core.census)."""
        return count_heads(self._st)

    def agent_ids(self) -> list[str]:
        return list(self._st.agents)

    def queue_names(self) -> list[str]:
        return list(self._st.queues)

    def has_call(self, call_id: str) -> bool:
        """Whether the engine still holds this caller (waiting, ringing or connected)."""
        return call_id in self._st.calls

    def rings_under_way(self, now: float) -> list[cmd.RingAgents]:
        """The ring of every caller the core holds as ringing, as its order again with
        the time it has left: what a new leader re-sends, in case the order died with
        the last one (the acd holding the call ignores a ring it already has: the
        deadline says which ring it is). A ring with under a second left is not: its
        deadline fires first and the caller is offered again."""
        st, orders = self._st, []
        for call in st.calls.values():
            if call.state is not CallState.RINGING or not call.ringing:
                continue
            left = call.ring_deadline - st.settings.ring_grace_seconds - now
            if left < 1.0:
                continue
            targets = tuple(cmd.RingTarget(a, st.agents[a].device) for a in call.ringing
                            if a in st.agents)
            orders.append(cmd.RingAgents(call.call_id, call.offer_queue, targets,
                                         round(left, 3), call.ring_deadline))
        return orders

    def waiting_count(self) -> int:
        return sum(1 for c in self._st.calls.values() if c.state is CallState.WAITING)

    # -- internals --------------------------------------------------------------------

    def _roll_period(self, now: float) -> None:
        st = self._st
        key = st.period_key(now)
        if key == st.period:
            return
        if st.period:
            st.emit(cmd.PeriodClosed(st.period, views.stats(st)))
        st.period = key
        snapshot.new_period(st)

    def _drain(self) -> list[cmd.Command]:
        out, self._st.out = self._st.out, []
        return out
