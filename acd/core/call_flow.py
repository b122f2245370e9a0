"""Caller inputs and deadlines: joining, answers and failures, hang-ups, callbacks, overflow."""

from __future__ import annotations

from acd.core import agent_flow
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.agent_flow import after_call
from acd.core.calls import CallRuntime, CallState
from acd.core.errors import (
    CallbackNotPossible,
    DuplicateCall,
    IllegalTransition,
    UnknownCall,
    UnknownQueue,
)
from acd.core.model import AgentState as S
from acd.core.model import OverflowMode
from acd.core.outcomes import arm_live_timers, arm_overflow, complete, exit_queue
from acd.core.routing import answered, ring, ring_failed, stop_ringing
from acd.core.state import RoutingState
from acd.core.timers import TimerKind

C = CallState
RINGING_STATES = (C.RINGING, C.CALLBACK_DIALING)


def queued(st: RoutingState, e: ev.CallQueued, now: float) -> None:
    q = st.queues.get(e.queue)
    if q is None:
        raise UnknownQueue(e.queue)
    if e.call_id in st.calls:
        raise DuplicateCall(e.call_id)
    st.seq += 1
    call = CallRuntime(e.call_id, e.caller, e.priority, frozenset(e.skills), st.seq, q.name,
                       now, now, [q.name])
    st.calls[call.call_id] = call
    q.stats.offered += 1
    st.touch_queue(q)
    if not q.logged_in and not q.config.join_empty:
        exit_queue(st, call, "no-agents", now)
        return
    arm_live_timers(st, call, now)
    arm_overflow(st, call)
    st.add_waiting(call)


def abandoned(st: RoutingState, e: ev.CallAbandoned, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is None:
        return
    if call.state is C.CONNECTED:  # a hang-up after the answer is the end of the call
        ended(st, call, call.agent_id, now)
        return
    if call.is_callback and call.state is not C.CALLBACK_DIALING:
        return  # the caller hangs up on purpose after asking for a callback
    if call.state in RINGING_STATES:
        for agent_id in call.ringing:
            st.agents[agent_id].stats.abandoned_while_ringing += 1
        stop_ringing(st, call, now)
    waited = call.waited(now)
    stats = st.queue_stats(call.home)
    home = st.queues.get(call.home)
    stats.abandoned += 1
    stats.wait_abandoned_seconds += waited
    stats.waited(waited)
    if home is not None and waited <= home.config.service_level_seconds:
        stats.abandoned_within_sl += 1
    complete(st, call, "abandoned", now)


def left_for_fallback(st: RoutingState, e: ev.CallLeftForFallback, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is None:
        return
    if call.state is C.CONNECTED:  # the conversation acd saw is over
        ended(st, call, call.agent_id, now)
        return
    if call.state in RINGING_STATES:
        stop_ringing(st, call, now)
    exit_queue(st, call, "fallback", now)


def ring_answered(st: RoutingState, e: ev.RingAnswered, now: float) -> None:
    call = st.calls.get(e.call_id)
    agent = st.agents.get(e.agent_id)
    if agent is None:
        return
    if call is None or call.state not in RINGING_STATES or e.agent_id not in call.ringing:
        # a late answer (another agent won, or the caller left): hang that leg up
        st.emit(cmd.StopRinging(e.call_id, (e.agent_id,)))
        return
    answered(st, call, agent, now)


def ring_failed_event(st: RoutingState, e: ev.RingFailed, now: float) -> None:
    call = st.calls.get(e.call_id)
    agent = st.agents.get(e.agent_id)
    if call is None or agent is None or e.agent_id not in call.ringing:
        return
    ring_failed(st, call, agent, e.reason, now)


def picked_up(st: RoutingState, e: ev.CallPickedUp, now: float) -> None:
    """抢接: the call that rings a colleague rings this agent instead, now. From a pause
    they go back to it afterwards (as after an own call); wrap-up ends."""
    call = st.calls.get(e.call_id)
    a = agent_flow.agent(st, e.agent_id)
    if call is None or call.state is not C.RINGING or not call.ringing:
        raise IllegalTransition(a.agent_id, a.state.value, "picking up",
                                f"call {e.call_id} is not ringing an agent")
    q = st.queues.get(call.offer_queue)
    if q is None or q.config.name not in st.serving(a):
        raise IllegalTransition(a.agent_id, a.state.value, "picking up",
                                f"agent {a.agent_id} does not serve {call.offer_queue}")
    if a.agent_id in call.ringing:
        raise IllegalTransition(a.agent_id, a.state.value, "picking up",
                                "the call rings this agent: answer it")
    if a.state not in (S.AVAILABLE, S.WRAP_UP, S.PAUSED):
        raise IllegalTransition(a.agent_id, a.state.value, "picking up",
                                "log in first" if a.state is S.LOGGED_OUT
                                else "the agent is busy with another call")
    if a.hold_until:
        st.hold(a, 0.0, "")
    if a.state is S.PAUSED:
        a.pending_pause = a.reason
        st.set_agent_state(a, S.AVAILABLE, "", now)  # rung from here; paused again after
    elif a.state is S.WRAP_UP:
        agent_flow.close_wrap_up(st, a, now)
    stop_ringing(st, call, now)
    ring(st, call, q, [a.agent_id], now)


def call_ended(st: RoutingState, e: ev.CallEnded, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is not None and call.state is C.CONNECTED and call.agent_id == e.agent_id:
        ended(st, call, e.agent_id, now)


def transferred(st: RoutingState, e: ev.CallTransferred, now: float) -> None:
    """The agent's part ends at the transfer: one answered call, talk time up to now."""
    call = st.calls.get(e.call_id)
    if call is not None and call.state is C.CONNECTED and call.agent_id == e.agent_id:
        agent = st.agents.get(e.agent_id)
        if agent is not None:
            agent.stats.transferred += 1
        ended(st, call, e.agent_id, now)


def ended(st: RoutingState, call: CallRuntime, agent_id: str, now: float) -> None:
    talk = max(0.0, now - call.answered_at)
    st.queue_stats(call.home).talk_seconds += talk
    q = st.queues.get(call.offer_queue)
    if q is not None:
        q.record_handle_time(talk + q.config.wrap_up_seconds,
                             st.settings.handle_time_smoothing)
        st.touch_queue(q)
    complete(st, call, "answered", now, agent_id, talk)
    agent = st.agents.get(agent_id)
    if agent is not None and agent.call_id == call.call_id:
        agent.stats.talk_seconds += talk
        after_call(st, agent, call.offer_queue, now)


def callback_requested(st: RoutingState, e: ev.CallbackRequested, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is None:
        raise UnknownCall(e.call_id)
    if call.is_callback:
        raise CallbackNotPossible(e.call_id, "a callback is already booked")
    if call.state is not C.WAITING:
        raise CallbackNotPossible(e.call_id, f"the call is {call.state.value}, not waiting")
    if not e.number:
        raise CallbackNotPossible(e.call_id, "no number to call back")
    call.callback_number = e.number
    call.max_wait_at = call.next_announce_at = 0.0
    st.cancel_call_timer(call, TimerKind.MAX_WAIT)
    st.cancel_call_timer(call, TimerKind.ANNOUNCE)
    st.queue_stats(call.home).callbacks_requested += 1
    st.touch_call(call)


def callback_failed(st: RoutingState, e: ev.CallbackFailed, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is not None and call.state is C.CALLBACK_DIALING:
        attempt_failed(st, call, now)


def attempt_failed(st: RoutingState, call: CallRuntime, now: float) -> None:
    """The customer was not reached: the agent goes back to work, the callback retries."""
    stop_ringing(st, call, now)
    call.callback_attempts += 1
    home = st.queues.get(call.home)
    attempts = home.config.callback_attempts if home is not None else 1
    if call.callback_attempts >= attempts:
        st.queue_stats(call.home).callbacks_failed += 1
        complete(st, call, "callback-failed", now)
        return
    call.state, call.offer_queue = C.CALLBACK_RETRY, ""
    call.retry_at = now + (home.config.callback_retry_seconds if home is not None else 0.0)
    st.call_timer(call, TimerKind.CALLBACK_RETRY, call.retry_at)
    st.touch_call(call)


def callback_cancelled(st: RoutingState, e: ev.CallbackCancelled, now: float) -> None:
    call = st.calls.get(e.call_id)
    if call is None or not call.is_callback:
        raise UnknownCall(e.call_id)
    if call.state is C.CALLBACK_DIALING:
        stop_ringing(st, call, now)
    complete(st, call, "abandoned", now)


# -- deadlines -------------------------------------------------------------------


def on_ring_deadline(st: RoutingState, call: CallRuntime, now: float) -> None:
    """The outcome of a ring was never reported: give up on it (a safety net)."""
    if call.state is C.CALLBACK_DIALING:
        attempt_failed(st, call, now)
        return
    if call.state is not C.RINGING:
        return
    st.emit(cmd.StopRinging(call.call_id, tuple(call.ringing)))
    for agent_id in list(call.ringing):
        ring_failed(st, call, st.agents[agent_id], "no-answer", now)


def on_announce(st: RoutingState, call: CallRuntime, now: float) -> None:
    home = st.queues.get(call.home)
    if (home is None or call.is_callback or home.config.announce_period_seconds <= 0
            or call.state not in (C.WAITING, C.RINGING)):
        call.next_announce_at = 0.0
        st.touch_call(call)
        return
    if call.state is C.WAITING and call.call_id in home.waiting:
        position = home.waiting.position(call.call_id)
        st.emit(cmd.AnnouncePosition(
            call.call_id, position if home.config.announce_position else None,
            home.estimated_wait(position) if home.config.announce_wait_time else None))
    call.next_announce_at = now + home.config.announce_period_seconds
    st.call_timer(call, TimerKind.ANNOUNCE, call.next_announce_at)
    st.touch_call(call)


def on_max_wait(st: RoutingState, call: CallRuntime, now: float) -> None:
    if call.is_callback:
        return
    if call.state is C.WAITING:
        exit_queue(st, call, "max-wait", now)
    elif call.state is C.RINGING:
        call.expired = True  # let the ring finish; leave if it fails
        st.touch_call(call)


def on_overflow(st: RoutingState, call: CallRuntime, now: float) -> None:
    home = st.queues.get(call.home)
    if home is None or call.state is C.CONNECTED:
        return
    rule = sorted(home.config.overflow, key=lambda r: r.after_seconds)[call.overflow_index]
    target = st.queues.get(rule.target)
    call.overflow_index += 1
    if target is not None and rule.mode is OverflowMode.MOVE:
        st.remove_waiting(call)
        home.stats.overflowed += 1
        target.stats.offered += 1
        st.touch_queue(home)
        st.touch_queue(target)
        call.home, call.queues, call.entered_home_at, call.overflow_index = (
            target.name, [target.name], now, 0)
        st.cancel_call_timer(call, TimerKind.MAX_WAIT)
        arm_live_timers(st, call, now)
        st.emit(cmd.CallOverflowed(call.call_id, home.name, target.name, OverflowMode.MOVE))
    elif target is not None and target.name not in call.queues:
        st.remove_waiting(call)
        call.queues.append(target.name)
        st.emit(cmd.CallOverflowed(call.call_id, home.name, target.name, OverflowMode.ALSO))
    if call.state is C.WAITING:
        st.add_waiting(call)
    arm_overflow(st, call)


def on_callback_retry(st: RoutingState, call: CallRuntime, now: float) -> None:
    if call.state is C.CALLBACK_RETRY:
        call.retry_at = 0.0
        st.add_waiting(call)


CALL_TIMERS = {
    TimerKind.RING: on_ring_deadline,
    TimerKind.ANNOUNCE: on_announce,
    TimerKind.MAX_WAIT: on_max_wait,
    TimerKind.OVERFLOW: on_overflow,
    TimerKind.CALLBACK_RETRY: on_callback_retry,
}
