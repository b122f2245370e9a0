"""Matching waiting callers with available agents, and the life of one offer (a ring).

`dispatch` is work-conserving: it runs after every input and pairs every
newly available agent and newly waiting caller at once. Agents are handled
first: each takes the best caller it can serve (highest queue weight, then
priority, then arrival), and that caller is offered by its queue's strategy,
so priority order holds even when a ring failure frees an agent and returns a
caller in the same step. Then the remaining new callers are offered in
priority order. By induction no eligible agent and compatible caller are left
apart: only the inputs of this step could have created such a pair.
"""

from __future__ import annotations

import heapq

from acd.core import commands as cmd
from acd.core.agents import AgentRuntime
from acd.core.calls import CallRuntime, CallState
from acd.core.events import RingFailure
from acd.core.heaps import Key
from acd.core.model import NO_ANSWER_REASON, AgentState, Strategy
from acd.core.outcomes import arm_live_timers, exit_queue
from acd.core.queues import QueueRuntime
from acd.core.state import RoutingState
from acd.core.timers import TimerKind


def dispatch(st: RoutingState, now: float) -> None:
    while st.pending_agents or st.pending_calls:
        if st.pending_agents:
            agent_id = st.pending_agents.pop()
            while agent_id in st.pooled:
                call = best_call_for(st, st.agents[agent_id])
                if call is None or not offer_call(st, call, now):
                    break
            continue
        _, _, call_id = heapq.heappop(st.pending_calls)
        call = st.calls.get(call_id)
        if call is not None and call.state is CallState.WAITING:
            offer_call(st, call, now)


def best_call_for(st: RoutingState, agent: AgentRuntime) -> CallRuntime | None:
    best: tuple[Key, str] | None = None
    for name in st.serving(agent):
        q = st.queues[name]
        if not q.waiting:
            continue
        top = q.waiting.best_for(agent.config.skills)
        if top is not None:
            key = (-q.config.weight, *top[0])
            if best is None or (key, top[1]) < best:
                best = (key, top[1])
    return None if best is None else st.calls[best[1]]


def offer_call(st: RoutingState, call: CallRuntime, now: float) -> bool:
    """Offer a waiting caller through the first of its queues with a suitable agent."""
    for name in call.queues:
        q = st.queues.get(name)
        if q is None or not q.pool:
            continue
        agent_ids = q.pool.choose(call.skills, q.pointer)
        if len(agent_ids) > 1:
            # ring-all: only the agents for whom this is the best waiting caller; one who
            # can serve a caller before it (priority, a queue's weight) keeps for that one
            agent_ids = [a for a in agent_ids if best_call_for(st, st.agents[a]) is call]
        if agent_ids:
            ring(st, call, q, agent_ids, now)
            return True
    return False


def ring(st: RoutingState, call: CallRuntime, q: QueueRuntime, agent_ids: list[str],
         now: float) -> None:
    st.remove_waiting(call)
    agents = sorted((st.agents[a] for a in agent_ids), key=lambda a: a.number_rank)
    if call.is_callback:
        agents = agents[:1]  # a callback reserves one agent, even in a ring-all queue
    first = agents[0]
    if q.config.strategy is Strategy.ROUND_ROBIN:
        q.pointer = q.members[first.agent_id][1]
    elif q.uses_counts():
        q.floor_calls, q.floor_talk = first.rank_calls, first.rank_talk
    st.touch_queue(q)
    for agent in agents:
        agent.call_id = call.call_id
        agent.stats.offered += 1
        st.set_agent_state(agent, AgentState.RINGING, q.name, now)
    call.offer_queue = q.name
    call.ringing = [a.agent_id for a in agents]
    if call.is_callback:
        call.state = CallState.CALLBACK_DIALING
        timeout = q.config.callback_timeout_seconds + q.config.ring_timeout_seconds
        call.ring_deadline = now + timeout + st.settings.ring_grace_seconds
        st.emit(cmd.PlaceCallback(call.call_id, call.callback_number, first.agent_id,
                                  first.device, timeout))
    else:
        call.state = CallState.RINGING
        timeout = q.config.ring_timeout_seconds
        call.ring_deadline = now + timeout + st.settings.ring_grace_seconds
        targets = tuple(cmd.RingTarget(a.agent_id, a.device) for a in agents)
        st.emit(cmd.RingAgents(call.call_id, q.name, targets, timeout, call.ring_deadline))
    st.call_timer(call, TimerKind.RING, call.ring_deadline)
    st.touch_call(call)


def answered(st: RoutingState, call: CallRuntime, agent: AgentRuntime, now: float) -> None:
    others = tuple(a for a in call.ringing if a != agent.agent_id)
    if others:
        st.emit(cmd.StopRinging(call.call_id, others))
        for other in others:
            back_from_ring(st, call, st.agents[other], now)
    st.cancel_call_timer(call, TimerKind.RING)
    agent.missed_in_row = 0
    agent.stats.answered += 1
    agent.rang_for(now - agent.since, st.settings.answer_speed_window)
    st.set_agent_state(agent, AgentState.ON_CALL, call.offer_queue, now)
    call.state, call.agent_id, call.answered_at, call.ringing = (
        CallState.CONNECTED, agent.agent_id, now, [])
    for kind in (TimerKind.ANNOUNCE, TimerKind.MAX_WAIT, TimerKind.OVERFLOW):
        st.cancel_call_timer(call, kind)
    call.next_announce_at = call.max_wait_at = call.overflow_at = call.ring_deadline = 0.0
    answered_in(st, call)
    waited = call.waited(now)
    home = st.queues.get(call.home)
    stats = st.queue_stats(call.home)
    stats.answered += 1
    stats.wait_answered_seconds += waited
    stats.waited(waited)
    if home is not None and waited <= home.config.service_level_seconds:
        stats.answered_within_sl += 1
    st.touch_call(call)
    st.emit(cmd.CallRouted(call.call_id, call.offer_queue, agent.agent_id, waited))


def answered_in(st: RoutingState, call: CallRuntime) -> None:
    """An agent of a queue an `also` overflow added answered: the call becomes that
    queue's, as after a `move` (overflowed out of its first queue, offered and answered
    in this one), so that these figures and the call's record (whose last queue is the
    answering one: acd.callflow.overflow) count it in the same queue."""
    if call.offer_queue == call.home or call.offer_queue not in st.queues:
        return
    home, target = st.queues.get(call.home), st.queues[call.offer_queue]
    if home is not None:
        home.stats.overflowed += 1
        st.touch_queue(home)
    target.stats.offered += 1
    st.touch_queue(target)
    call.home = target.name
    if target.name not in call.queues:  # (moved away while this queue's agent rang)
        call.queues.append(target.name)  # a call's home is always among its queues


def ring_failed(st: RoutingState, call: CallRuntime, agent: AgentRuntime,
                reason: RingFailure, now: float) -> None:
    call.ringing.remove(agent.agent_id)
    st.emit(cmd.ReleaseAgent(agent.agent_id, call.call_id))
    agent.call_id = ""
    if reason == "no-answer":
        agent.stats.missed += 1
        agent.missed_in_row += 1
        agent.rang_for(now - agent.since, st.settings.answer_speed_window)
    else:
        agent.stats.failed += 1
    q = st.queues.get(call.offer_queue)
    limit = q.config.auto_pause_after if q is not None else 0
    if reason == "no-answer" and limit and agent.missed_in_row >= limit:
        st.set_agent_state(agent, AgentState.PAUSED, NO_ANSWER_REASON, now)
        st.emit(cmd.AgentAutoPaused(agent.agent_id, NO_ANSWER_REASON, agent.missed_in_row))
    else:
        delay = st.settings.ring_failure_delay_seconds
        if delay > 0:
            agent.hold_until, agent.hold_reason = now + delay, "ring-failed"
        st.set_agent_state(agent, AgentState.AVAILABLE, "", now)
        if delay > 0:
            st.hold(agent, now + delay, "ring-failed")
    st.touch_call(call)
    if not call.ringing:
        ring_over(st, call, now, customer_reached=True)


def back_from_ring(st: RoutingState, call: CallRuntime, agent: AgentRuntime, now: float,
                   *, to: AgentState = AgentState.AVAILABLE, reason: str = "") -> None:
    """An agent stops ringing through no fault of theirs (another answered, caller left)."""
    if agent.agent_id in call.ringing:
        call.ringing.remove(agent.agent_id)
    st.emit(cmd.ReleaseAgent(agent.agent_id, call.call_id))
    agent.call_id = ""
    st.set_agent_state(agent, to, reason, now)
    st.touch_call(call)


def stop_ringing(st: RoutingState, call: CallRuntime, now: float) -> None:
    """Stop every agent ringing for this caller and put them back to work."""
    if not call.ringing:
        return
    st.emit(cmd.StopRinging(call.call_id, tuple(call.ringing)))
    for agent_id in list(call.ringing):
        back_from_ring(st, call, st.agents[agent_id], now)
    st.cancel_call_timer(call, TimerKind.RING)


def ring_over(st: RoutingState, call: CallRuntime, now: float, *,
              customer_reached: bool = False) -> None:
    """Nobody answered: the caller goes back to its place (or leaves if past max wait).

    For a callback, `customer_reached` says the customer is on the line (their
    agent failed to answer): they become a live caller; otherwise the attempt
    was withdrawn before it happened and the callback keeps its place.
    """
    st.cancel_call_timer(call, TimerKind.RING)
    call.offer_queue, call.ring_deadline = "", 0.0
    if call.state is CallState.CALLBACK_DIALING and customer_reached:
        # RingFailed after a callback: the customer answered and is now a live caller
        # at the front of the line; their promise of an agent outlives max wait.
        call.callback_number, call.max_wait_at, call.expired = "", 0.0, False
        arm_live_timers(st, call, now, max_wait=False)
    if call.expired:
        exit_queue(st, call, "max-wait", now)
        return
    if not any(name in st.queues for name in call.queues):
        exit_queue(st, call, "queue-removed", now)  # its queues went away in a reload
        return
    st.add_waiting(call)
