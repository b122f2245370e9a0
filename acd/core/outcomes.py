"""How a caller's stay ends (exactly one CallCompleted each), and their waiting deadlines."""

from __future__ import annotations

from acd.core import commands as cmd
from acd.core.calls import CallRuntime
from acd.core.state import RoutingState
from acd.core.timers import TimerKind


def complete(st: RoutingState, call: CallRuntime, outcome: cmd.Outcome, now: float,
             agent_id: str = "", talk: float = 0.0) -> None:
    waited = call.answered_at - call.arrived_at if call.answered_at else call.waited(now)
    st.emit(cmd.CallCompleted(call.call_id, call.home, outcome, agent_id, max(0.0, waited),
                              talk))
    st.drop_call(call)


def exit_queue(st: RoutingState, call: CallRuntime, reason: cmd.ExitReason,
               now: float) -> None:
    """The caller leaves for the queue's configured target (the flow decides what it is)."""
    home = st.queues.get(call.home)
    target = ""
    if home is not None:
        target = home.config.max_wait_target if reason == "max-wait" else home.config.empty_target
    st.remove_waiting(call)
    st.emit(cmd.ExitQueue(call.call_id, target, reason))
    stats = st.queue_stats(call.home)
    stats.exited += 1
    stats.waited(call.waited(now))
    complete(st, call, "exited", now)


def arm_live_timers(st: RoutingState, call: CallRuntime, now: float, *,
                    max_wait: bool = True) -> None:
    """Max wait and announcements: only for a caller on the line (not a callback)."""
    home = st.queues.get(call.home)
    if home is None or call.is_callback:
        return
    config = home.config
    if max_wait and config.max_wait_seconds is not None:
        call.max_wait_at = call.arrived_at + config.max_wait_seconds
        st.call_timer(call, TimerKind.MAX_WAIT, call.max_wait_at)
    if config.announce_period_seconds > 0:
        # the first announcement as soon as the caller is known to wait
        call.next_announce_at = now
        st.call_timer(call, TimerKind.ANNOUNCE, now)
    st.touch_call(call)


def arm_overflow(st: RoutingState, call: CallRuntime) -> None:
    home = st.queues.get(call.home)
    rules = sorted(home.config.overflow, key=lambda r: r.after_seconds) if home else []
    if call.overflow_index < len(rules):
        call.overflow_at = call.entered_home_at + rules[call.overflow_index].after_seconds
        st.call_timer(call, TimerKind.OVERFLOW, call.overflow_at)
    else:
        call.overflow_at = 0.0
        st.cancel_call_timer(call, TimerKind.OVERFLOW)
    st.touch_call(call)
