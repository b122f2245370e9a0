"""The engine's state as JSON-able data, and rebuilding an engine from it.

Shape (version 1)::

    {"version": 1, "period": "2025-05-01", "seq": 42,
     "agents": {agent_id: {...AgentRuntime.to_dict()}},
     "calls":  {call_id:  {...CallRuntime.to_dict()}},
     "queues": {name: {"pointer", "floor_calls", "floor_talk", "handle_seconds", "stats"}}}

`changes()` returns the same shape restricted to what changed, with None for
deleted agents and calls, so stores can persist increments. Indexes (pools,
waiting heaps, counters) and timers are derived, never stored: loading
rebuilds them, and reconciles records that no longer fit the configuration.
"""

from __future__ import annotations

import heapq
from typing import TypedDict

from acd.core import commands as cmd
from acd.core.agents import AgentRecord, presence
from acd.core.calls import CallRecord, CallRuntime, CallState
from acd.core.model import OWN_CALL_REASONS, AgentState
from acd.core.outcomes import complete, exit_queue
from acd.core.queues import QueueRuntime
from acd.core.state import RoutingState
from acd.core.stats import QueueStats, QueueStatsRecord
from acd.core.timers import TimerKind

VERSION = 1


class QueueRecord(TypedDict):
    pointer: int
    floor_calls: float
    floor_talk: float
    handle_seconds: float
    stats: QueueStatsRecord


class Snapshot(TypedDict):
    """The whole state (`dump`), and what `load` and `RoutingEngine.restore` take."""

    version: int
    period: str
    seq: int
    agents: dict[str, AgentRecord]
    calls: dict[str, CallRecord]
    queues: dict[str, QueueRecord]


class Changes(TypedDict):
    """What changed since the last `changes()`; None: the agent or call was deleted."""

    version: int
    period: str
    seq: int
    agents: dict[str, AgentRecord | None]
    calls: dict[str, CallRecord | None]
    queues: dict[str, QueueRecord]


def dump(st: RoutingState) -> Snapshot:
    return {
        "version": VERSION, "period": st.period, "seq": st.seq,
        "agents": {a.agent_id: a.to_dict() for a in st.agents.values()},
        "calls": {c.call_id: c.to_dict() for c in st.calls.values()},
        "queues": {q.name: _queue_dict(q) for q in st.queues.values()},
    }


def changes(st: RoutingState) -> Changes:
    agents: dict[str, AgentRecord | None] = {a: st.agents[a].to_dict() for a in st.dirty_agents
                                             if a in st.agents}
    agents.update({a: None for a in st.removed_agents if a not in st.agents})
    calls = {c: (st.calls[c].to_dict() if c in st.calls else None) for c in st.dirty_calls}
    queues = {q: _queue_dict(st.queues[q]) for q in st.dirty_queues if q in st.queues}
    st.dirty_agents.clear()
    st.dirty_calls.clear()
    st.dirty_queues.clear()
    st.removed_agents.clear()
    return {"version": VERSION, "period": st.period, "seq": st.seq,
            "agents": agents, "calls": calls, "queues": queues}


def _queue_dict(q: QueueRuntime) -> QueueRecord:
    return {"pointer": q.pointer, "floor_calls": q.floor_calls, "floor_talk": q.floor_talk,
            "handle_seconds": q.handle_seconds, "stats": q.stats.to_dict()}


def load(st: RoutingState, data: Snapshot, now: float, *, restart: bool = False) -> None:
    """Continue from `data`: after a restart (`restart`) or a reload of the
    configuration."""
    if data.get("version", VERSION) != VERSION:
        raise ValueError(f"routing snapshot version {data.get('version')} is not {VERSION}")
    st.period, st.seq = data.get("period", ""), int(data.get("seq", 0))
    for name, qd in data.get("queues", {}).items():
        q = st.queues.get(name)
        if q is not None:
            q.pointer = min(int(qd.get("pointer", -1)), max(len(q.members) - 1, -1))
            q.floor_calls, q.floor_talk = qd.get("floor_calls", 0.0), qd.get("floor_talk", 0.0)
            q.handle_seconds = qd.get("handle_seconds", q.handle_seconds)
            q.stats = QueueStats.from_dict(qd.get("stats", {}))
    gone: dict[str, AgentRecord] = {}
    for agent_id, ad in data.get("agents", {}).items():
        if agent_id in st.agents:
            st.agents[agent_id].load(ad)
        else:
            gone[agent_id] = ad
    for call_id, cd in data.get("calls", {}).items():
        st.calls[call_id] = CallRuntime.from_dict(cd)
    _reconcile(st, gone, now, restart=restart)
    _rebuild(st)


def _reconcile(st: RoutingState, gone: dict[str, AgentRecord], now: float, *,
               restart: bool) -> None:
    """Make agents and calls agree again after a reload changed the configuration, or
    after a restart. An agent's own call (outbound) has no caller in the core: it
    survives a reload, not a restart (its channel ran only acd's FastAGI session, so
    Asterisk hung it up when that acd went away)."""
    for agent_id, ad in gone.items():
        if ad.get("state") != AgentState.LOGGED_OUT.value:
            st.emit(cmd.AgentStateChanged(agent_id, AgentState.LOGGED_OUT, "removed", now))
        if ad.get("call_id"):
            st.emit(cmd.ReleaseAgent(agent_id, ad["call_id"]))
    for call in list(st.calls.values()):
        _reconcile_call(st, call, now)
    for a in st.agents.values():
        held = st.calls.get(a.call_id)
        ringing = a.state is AgentState.RINGING and (held is None or a.agent_id not in held.ringing)
        talking = a.state is AgentState.ON_CALL and (held is None or held.agent_id != a.agent_id)
        own_call = talking and a.reason in OWN_CALL_REASONS
        if own_call and not restart:
            continue
        if ringing or talking:
            st.emit(cmd.ReleaseAgent(a.agent_id, a.call_id))
            back = AgentState.PAUSED if own_call and a.pending_pause else AgentState.AVAILABLE
            reason = a.pending_pause if back is AgentState.PAUSED else ""
            a.call_id, a.state, a.since, a.reason = "", back, now, reason
            a.pending_pause = ""
            st.emit(cmd.AgentStateChanged(a.agent_id, a.state, reason, now))


def _reconcile_call(st: RoutingState, call: CallRuntime, now: float) -> None:
    stale = [a for a in call.ringing if a not in st.agents
             or st.agents[a].state is not AgentState.RINGING
             or st.agents[a].call_id != call.call_id]
    if stale:
        st.emit(cmd.StopRinging(call.call_id, tuple(stale)))
        call.ringing = [a for a in call.ringing if a not in stale]
        if not call.ringing and call.state in (CallState.RINGING, CallState.CALLBACK_DIALING):
            call.state, call.offer_queue = CallState.WAITING, ""
    known = [n for n in call.queues if n in st.queues]
    if known or call.state not in (CallState.WAITING, CallState.CALLBACK_RETRY):
        if known:
            call.queues = known
            call.home = call.home if call.home in known else known[0]
        return
    if call.is_callback:
        complete(st, call, "callback-failed", now)
    else:
        exit_queue(st, call, "queue-removed", now)


def _rebuild(st: RoutingState) -> None:
    """Derived structures: queue counters, waiting heaps, pools and timers."""
    for a in st.agents.values():
        logged_in, staffed = presence(a.state)
        a.left_queues &= set(st.agent_queues.get(a.agent_id, ()))  # a reload took some away
        for name in st.serving(a):
            st.queues[name].logged_in += logged_in
            st.queues[name].staffed += staffed
        if a.state is AgentState.WRAP_UP:
            st.set_timer(("agent", a.agent_id, TimerKind.WRAP_UP), a.wrap_until)
        if a.hold_until:
            st.set_timer(("agent", a.agent_id, TimerKind.HOLD), a.hold_until)
    for call in st.calls.values():
        if call.state is CallState.WAITING:
            for name in call.queues:
                st.queues[name].waiting.add(call.call_id, call.priority, call.seq, call.skills)
        deadlines = {TimerKind.RING: call.ring_deadline if call.ringing else 0.0,
                     TimerKind.ANNOUNCE: call.next_announce_at,
                     TimerKind.OVERFLOW: call.overflow_at,
                     TimerKind.MAX_WAIT: call.max_wait_at,
                     TimerKind.CALLBACK_RETRY: call.retry_at}
        for kind, when in deadlines.items():
            if when:
                st.call_timer(call, kind, when)
    st.repool_all()


def queue_everything(st: RoutingState) -> None:
    """Put every available agent and waiting caller on the pending lists (a full pass)."""
    st.pending_agents = sorted(st.pooled, key=lambda a: -st.agents[a].number_rank)
    st.pending_calls = [(-c.priority, c.seq, c.call_id) for c in st.calls.values()
                        if c.state is CallState.WAITING]
    heapq.heapify(st.pending_calls)


def new_period(st: RoutingState) -> None:
    for a in st.agents.values():
        a.new_period()
    for q in st.queues.values():
        q.stats = QueueStats()
        q.floor_calls = q.floor_talk = 0.0
    st.repool_all()
    mark_all_dirty(st)


def mark_all_dirty(st: RoutingState, removed_agents: set[str] | None = None) -> None:
    st.dirty_agents.update(st.agents)
    st.dirty_calls.update(st.calls)
    st.dirty_queues.update(st.queues)
    st.removed_agents.update(removed_agents or ())

