"""Read-only views of the routing state for supervisors, the API and reports (JSON-able)."""

from __future__ import annotations

from typing import TypedDict

from acd.core.calls import CallState
from acd.core.errors import UnknownAgent, UnknownQueue
from acd.core.state import RoutingState
from acd.core.stats import AgentStatsRecord, PeriodStats, QueueSummary


class AgentView(TypedDict):
    agent_id: str
    name: str
    #: an AgentState value
    state: str
    since: float
    reason: str
    device: str
    call_id: str
    pending_pause: str
    #: a logout asked for during the call, applied when it (and wrap-up) ends
    pending_logout: bool
    reachable: bool
    #: in the pools of the agent's queues right now (available, reachable, not held)
    available_for_calls: bool
    hold_until: float
    hold_reason: str
    missed_in_row: int
    skills: list[str]
    queues: list[str]
    #: the queues they take calls from now (all of `queues` but those logged out of)
    serving: list[str]
    wrap_until: float
    stats: AgentStatsRecord


class MemberView(TypedDict):
    penalty: int
    state: str


class WaitingCallView(TypedDict):
    call_id: str
    caller: str
    priority: int
    arrived_at: float
    callback: bool
    skills: list[str]


class RingingCallView(TypedDict):
    call_id: str
    agents: list[str]


class QueueView(TypedDict):
    queue: str
    #: a Strategy value
    strategy: str
    members: dict[str, MemberView]
    logged_in: int
    staffed: int
    available: int
    #: in service order
    waiting: list[WaitingCallView]
    ringing: list[RingingCallView]
    average_handle_seconds: float
    stats: QueueSummary


def agent_view(st: RoutingState, agent_id: str) -> AgentView:
    a = st.agents.get(agent_id)
    if a is None:
        raise UnknownAgent(agent_id)
    return {
        "agent_id": a.agent_id, "name": a.config.name, "state": a.state.value,
        "since": a.since, "reason": a.reason, "device": a.device, "call_id": a.call_id,
        "pending_pause": a.pending_pause, "pending_logout": a.pending_logout,
        "reachable": a.reachable,
        "available_for_calls": a.agent_id in st.pooled,
        "hold_until": a.hold_until, "hold_reason": a.hold_reason,
        "missed_in_row": a.missed_in_row, "skills": sorted(a.config.skills),
        "queues": list(st.agent_queues.get(a.agent_id, ())),
        "serving": st.serving(a),
        "wrap_until": a.wrap_until, "stats": a.stats.to_dict(),
    }


def queue_view(st: RoutingState, queue: str) -> QueueView:
    """The queue with its waiting callers in service order (O(n log n): not for hot paths)."""
    q = st.queues.get(queue)
    if q is None:
        raise UnknownQueue(queue)
    calls = sorted((st.calls[c] for c in q.waiting.call_ids()),
                   key=lambda c: (-c.priority, c.seq))
    ringing = [c for c in st.calls.values()
               if c.offer_queue == q.name and c.state is not CallState.CONNECTED]
    return {
        "queue": q.name, "strategy": q.config.strategy.value,
        "members": {a: {"penalty": p, "state": st.agents[a].state.value}
                    for a, (p, _) in q.members.items()},
        "logged_in": q.logged_in, "staffed": q.staffed, "available": len(q.pool),
        "waiting": [{"call_id": c.call_id, "caller": c.caller, "priority": c.priority,
                     "arrived_at": c.arrived_at, "callback": c.is_callback,
                     "skills": sorted(c.skills)} for c in calls],
        "ringing": [{"call_id": c.call_id, "agents": list(c.ringing)} for c in ringing],
        "average_handle_seconds": q.handle_seconds,
        "stats": q.stats.summary(),
    }


def stats(st: RoutingState) -> PeriodStats:
    return {
        "period": st.period,
        "queues": {q.name: q.stats.summary() for q in st.queues.values()},
        "agents": {a.agent_id: a.stats.to_dict() for a in st.agents.values()},
    }
