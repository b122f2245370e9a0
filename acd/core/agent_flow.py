"""Agent inputs: login, logout, pause, resume, wrap-up, reachability and cross-process claims."""

from __future__ import annotations

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.agents import AgentRuntime
from acd.core.errors import IllegalTransition, UnknownAgent, UnknownPauseReason, UnknownQueue
from acd.core.model import NO_ANSWER_REASON, OWN_CALL_REASONS, AgentState
from acd.core.outcomes import exit_queue
from acd.core.routing import back_from_ring, ring_over
from acd.core.state import RoutingState
from acd.core.timers import TimerKind

S = AgentState
HELD_ELSEWHERE = "held-elsewhere"


def agent(st: RoutingState, agent_id: str) -> AgentRuntime:
    found = st.agents.get(agent_id)
    if found is None:
        raise UnknownAgent(agent_id)
    return found


def logged_in(st: RoutingState, e: ev.AgentLoggedIn, now: float) -> None:
    a = agent(st, e.agent_id)
    if a.state is not S.LOGGED_OUT:
        raise IllegalTransition(a.agent_id, a.state.value, S.AVAILABLE.value, "already logged in")
    a.device, a.logged_in_at, a.missed_in_row, a.reachable = e.device, now, 0, True
    counting = [st.queues[n] for n in st.serving(a) if st.queues[n].uses_counts()]
    if counting:  # late-login fairness: see acd/core/agents.py
        a.seed(max(q.floor_calls for q in counting), max(q.floor_talk for q in counting))
    st.set_agent_state(a, S.AVAILABLE, "", now)


def logged_out(st: RoutingState, e: ev.AgentLoggedOut, now: float) -> None:
    a = agent(st, e.agent_id)
    if a.state is S.ON_CALL:  # takes effect when the call (and wrap-up) ends, like a pause
        a.pending_logout, a.pending_pause = True, ""
        st.touch_agent(a)
        return
    if a.state is S.LOGGED_OUT:
        a.check(S.LOGGED_OUT)  # raises with a hint
    log_out(st, a, now)


def log_out(st: RoutingState, a: AgentRuntime, now: float, *, work_done: bool = False) -> None:
    """Log the agent out now; `work_done`: their call and wrap-up are already closed (a
    logout asked for during the call)."""
    a.pending_pause, a.pending_logout = "", False
    if a.hold_until:
        st.hold(a, 0.0, "")
    if not work_done:
        leave_work(st, a, now, to=S.LOGGED_OUT)
    if a.state is not S.LOGGED_OUT:
        st.set_agent_state(a, S.LOGGED_OUT, "", now)
    if a.left_queues:  # the next login serves every queue of theirs again
        a.left_queues.clear()
        st.touch_agent(a)
    leave_if_empty(st, st.agent_queues[a.agent_id], now)


def paused(st: RoutingState, e: ev.AgentPaused, now: float) -> None:
    a = agent(st, e.agent_id)
    allowed = st.settings.pause_reasons | {NO_ANSWER_REASON}
    if e.reason not in allowed:
        raise UnknownPauseReason(e.reason, allowed)
    if a.state is S.ON_CALL:  # 话后示忙: takes effect when the call (and wrap-up) ends
        a.pending_pause, a.pending_logout = e.reason, False
        st.touch_agent(a)
        return
    a.check(S.PAUSED)
    a.pending_pause = ""  # pausing now supersedes a pause asked for during the call
    leave_work(st, a, now, to=S.PAUSED, reason=e.reason)
    if (a.state, a.reason) != (S.PAUSED, e.reason):
        st.set_agent_state(a, S.PAUSED, e.reason, now)


def resumed(st: RoutingState, e: ev.AgentResumed, now: float) -> None:
    a = agent(st, e.agent_id)
    if a.state is S.ON_CALL and (a.pending_pause or a.pending_logout):
        a.pending_pause, a.pending_logout = "", False  # "available" after all
        st.touch_agent(a)
        return
    if a.state is S.WRAP_UP:  # "ready": ends wrap-up and cancels a pending pause or logout
        a.pending_pause, a.pending_logout = "", False
        end_wrap_up(st, a, now)
        return
    if a.state is not S.PAUSED:
        hint = {S.AVAILABLE: "already available", S.LOGGED_OUT: "log in first",
                S.RINGING: "answer the ringing call", S.ON_CALL: "the agent is on a call"}
        raise IllegalTransition(a.agent_id, a.state.value, S.AVAILABLE.value, hint[a.state])
    a.missed_in_row = 0
    st.set_agent_state(a, S.AVAILABLE, "", now)


def wrap_up_ended(st: RoutingState, e: ev.WrapUpEnded, now: float) -> None:
    a = agent(st, e.agent_id)
    if a.state is not S.WRAP_UP:
        raise IllegalTransition(a.agent_id, a.state.value, S.AVAILABLE.value, "not in wrap-up")
    end_wrap_up(st, a, now)


def reachability(st: RoutingState, e: ev.AgentDeviceReachability, now: float) -> None:
    a = st.agents.get(e.agent_id)
    if a is not None and a.reachable != e.reachable:
        a.reachable = e.reachable
        st.touch_agent(a)
        st.refresh_pool(a)


def queue_served(st: RoutingState, e: ev.AgentQueueLogin | ev.AgentQueueLogout,
                 now: float) -> None:
    """Per-queue login and logout: a logged-in agent takes calls from a subset of their
    queues. A call already ringing or connected is not affected."""
    a = agent(st, e.agent_id)
    if e.queue not in st.agent_queues[a.agent_id]:
        if e.queue not in st.queues:
            raise UnknownQueue(e.queue)
        raise IllegalTransition(a.agent_id, "not a member", f"serving {e.queue}",
                                f"agent {a.agent_id} is not a member of {e.queue}")
    if a.state is S.LOGGED_OUT:
        raise IllegalTransition(a.agent_id, a.state.value, f"serving {e.queue}", "log in first")
    serving = isinstance(e, ev.AgentQueueLogin)
    st.set_serving(a, e.queue, serving)
    if not serving:
        leave_if_empty(st, [e.queue], now)


def outbound_started(st: RoutingState, e: ev.OutboundStarted, now: float) -> None:
    """The agent calls out: on that call, offered no caller; from a pause (a 回访 is
    often made paused) they go back to it afterwards, from wrap-up it ends."""
    a = agent(st, e.agent_id)
    if a.state in (S.LOGGED_OUT, S.RINGING, S.ON_CALL):
        hint = {S.LOGGED_OUT: "log in first", S.RINGING: "answer the ringing call first",
                S.ON_CALL: "the agent is on a call"}
        raise IllegalTransition(a.agent_id, a.state.value, S.ON_CALL.value, hint[a.state])
    if a.hold_until:
        st.hold(a, 0.0, "")
    if a.state is S.PAUSED:
        a.pending_pause = a.reason
    elif a.state is S.WRAP_UP:
        close_wrap_up(st, a, now)
    a.call_id = e.call_id
    st.set_agent_state(a, S.ON_CALL, e.reason if e.reason in OWN_CALL_REASONS
                       else OWN_CALL_REASONS[0], now)


def outbound_ended(st: RoutingState, e: ev.OutboundEnded, now: float) -> None:
    """Their own call is over: no wrap-up (no queue's), straight back to work or to the
    pause they were in (or asked for meanwhile)."""
    a = st.agents.get(e.agent_id)
    if a is None or a.state is not S.ON_CALL or a.reason not in OWN_CALL_REASONS \
            or a.call_id != e.call_id:
        return  # a late or repeated word: the agent has moved on
    finish_work(st, a, now)


def claim_lost(st: RoutingState, e: ev.AgentClaimLost, now: float) -> None:
    """Another process holds the agent: withdraw the offer and leave them alone a while."""
    a = st.agents.get(e.agent_id)
    call = st.calls.get(e.call_id)
    if a is None or call is None or a.agent_id not in call.ringing:
        return
    call.ringing.remove(a.agent_id)
    a.call_id = ""
    a.hold_until = now + st.settings.claim_retry_seconds
    st.set_agent_state(a, S.AVAILABLE, "", now)
    st.hold(a, a.hold_until, HELD_ELSEWHERE)
    st.touch_call(call)
    if not call.ringing:
        ring_over(st, call, now)


def claim_released(st: RoutingState, e: ev.AgentClaimReleased, now: float) -> None:
    a = st.agents.get(e.agent_id)
    if a is not None and a.hold_reason == HELD_ELSEWHERE:
        st.hold(a, 0.0, "")


# -- shared moves -----------------------------------------------------------------


def leave_work(st: RoutingState, a: AgentRuntime, now: float, *,
               to: AgentState = S.AVAILABLE, reason: str = "") -> None:
    """Before a pause or logout: stop ringing for a call, or cut wrap-up short."""
    if a.state is S.RINGING:
        call = st.calls.get(a.call_id)
        if call is not None and a.agent_id in call.ringing:
            st.emit(cmd.StopRinging(call.call_id, (a.agent_id,)))
            back_from_ring(st, call, a, now, to=to, reason=reason)
            if not call.ringing:
                ring_over(st, call, now)
            return
        st.emit(cmd.ReleaseAgent(a.agent_id, a.call_id))
        a.call_id = ""
        st.set_agent_state(a, to, reason, now)
    elif a.state is S.WRAP_UP:
        close_wrap_up(st, a, now)
        st.set_agent_state(a, to, reason, now)


def after_call(st: RoutingState, a: AgentRuntime, queue: str, now: float) -> None:
    """The agent's call ended: wrap-up if the queue has one, else straight back."""
    a.last_call_end = now
    q = st.queues.get(queue)
    wrap = q.config.wrap_up_seconds if q is not None else 0.0
    if wrap > 0:
        a.wrap_until = now + wrap
        st.set_agent_state(a, S.WRAP_UP, queue, now)
        st.set_timer(("agent", a.agent_id, TimerKind.WRAP_UP), a.wrap_until)
    else:
        finish_work(st, a, now)


def end_wrap_up(st: RoutingState, a: AgentRuntime, now: float) -> None:
    close_wrap_up(st, a, now)
    finish_work(st, a, now)


def close_wrap_up(st: RoutingState, a: AgentRuntime, now: float) -> None:
    st.cancel_timer(("agent", a.agent_id, TimerKind.WRAP_UP))
    seconds = max(0.0, now - a.since)
    st.queue_stats(a.reason).wrap_up_seconds += seconds
    if a.call_id:
        st.emit(cmd.WrapUpDone(a.agent_id, a.call_id, seconds))
    st.emit(cmd.ReleaseAgent(a.agent_id, a.call_id))
    a.call_id, a.wrap_until = "", 0.0


def finish_work(st: RoutingState, a: AgentRuntime, now: float) -> None:
    """Back to work after a call: available, or the pause asked for during the call."""
    if a.state is S.ON_CALL:
        st.emit(cmd.ReleaseAgent(a.agent_id, a.call_id))
        a.call_id = ""
    if a.pending_logout:
        log_out(st, a, now, work_done=True)
    elif a.pending_pause:
        reason, a.pending_pause = a.pending_pause, ""
        st.set_agent_state(a, S.PAUSED, reason, now)
    else:
        st.set_agent_state(a, S.AVAILABLE, "", now)


def on_hold_timer(st: RoutingState, agent_id: str, now: float) -> None:
    a = st.agents.get(agent_id)
    if a is not None:
        st.hold(a, 0.0, "")


def on_wrap_timer(st: RoutingState, agent_id: str, now: float) -> None:
    a = st.agents.get(agent_id)
    if a is not None and a.state is S.WRAP_UP:
        end_wrap_up(st, a, now)


def leave_if_empty(st: RoutingState, queues: list[str], now: float) -> None:
    """Callers leave a queue configured to empty when its last member logs out."""
    for name in queues:
        q = st.queues.get(name)
        if q is None or q.logged_in or not q.config.leave_when_empty:
            continue
        for call_id in q.waiting.call_ids():
            call = st.calls[call_id]
            if call.is_callback:
                continue  # a callback waits for tomorrow's agents rather than vanish
            q.waiting.discard(call_id)
            call.queues.remove(name)
            st.touch_call(call)
            if not call.queues:
                call.queues.append(name)  # keep its home for the record
                exit_queue(st, call, "leave-empty", now)
