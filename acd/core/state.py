"""The routing core's live state and the low-level moves every handler shares.

Invariants kept here:
- an agent is in its queues' pools exactly when `agent.eligible`;
- a call is in the waiting structures of each of its queues exactly when
  its state is WAITING;
- every agent or call that becomes eligible/waiting is put on a pending list,
  which `routing.dispatch` drains before control returns to the caller.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from acd.core import commands as cmd
from acd.core.agents import AgentRuntime, natural_key, presence
from acd.core.calls import CallRuntime, CallState
from acd.core.model import AgentConfig, AgentState, QueueConfig, RoutingSettings
from acd.core.periods import PeriodKey
from acd.core.queues import QueueRuntime
from acd.core.stats import QueueStats
from acd.core.strategies import Candidate
from acd.core.timers import Deadlines, Timer, TimerKind

#: every kind, in declaration order (iterating the enum class builds them each time: a
#: caller's hang-up cancelled its five timers through it)
_TIMER_KINDS = tuple(TimerKind)


class RoutingState:
    def __init__(self, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig],
                 settings: RoutingSettings, period_key: PeriodKey) -> None:
        self.settings = settings
        self.period_key = period_key
        self.period = ""
        self.seq = 0
        agent_list = sorted(agents, key=lambda a: natural_key(a.agent_id))
        self.agents = {a.agent_id: AgentRuntime(a, number_rank=i) for i, a in enumerate(agent_list)}
        self.queues = self._build_queues(list(queues))
        self.agent_queues: dict[str, list[str]] = {a: [] for a in self.agents}
        for q in self.queues.values():
            for agent_id in q.members:
                self.agent_queues[agent_id].append(q.name)
        self.calls: dict[str, CallRuntime] = {}
        self.pooled: set[str] = set()
        self.deadlines = Deadlines()
        self.timers: dict[tuple[str, str, TimerKind], Timer] = {}
        self.out: list[cmd.Command] = []
        self.pending_agents: list[str] = []
        self.pending_calls: list[tuple[int, int, str]] = []
        self.dirty_agents: set[str] = set()
        self.dirty_calls: set[str] = set()
        self.dirty_queues: set[str] = set()
        self.removed_agents: set[str] = set()

    def _build_queues(self, configs: list[QueueConfig]) -> dict[str, QueueRuntime]:
        built: dict[str, QueueRuntime] = {}
        for config in configs:
            members: dict[str, tuple[int, int]] = {}
            for m in config.members:
                if m.agent_id in self.agents and m.agent_id not in members:
                    members[m.agent_id] = (m.penalty, len(members))
            for agent in self.agents.values():  # agents listing the queue themselves
                if config.name in agent.config.queues and agent.agent_id not in members:
                    members[agent.agent_id] = (0, len(members))
            built[config.name] = QueueRuntime.build(config, members)
        return built

    # -- output and persistence bookkeeping ------------------------------------

    def emit(self, command: cmd.Command) -> None:
        self.out.append(command)

    def touch_agent(self, agent: AgentRuntime) -> None:
        self.dirty_agents.add(agent.agent_id)

    def touch_call(self, call: CallRuntime) -> None:
        self.dirty_calls.add(call.call_id)

    def touch_queue(self, q: QueueRuntime) -> None:
        self.dirty_queues.add(q.name)

    def queue_stats(self, name: str) -> QueueStats:
        """A queue's statistics; a throwaway for a queue removed by a reload."""
        q = self.queues.get(name)
        if q is None:
            return QueueStats()
        self.touch_queue(q)
        return q.stats

    # -- agents -------------------------------------------------------------------

    def set_agent_state(self, agent: AgentRuntime, state: AgentState, reason: str,
                        now: float) -> None:
        before = presence(agent.state)
        agent.enter(state, reason, now)
        after = presence(state)
        if before != after:
            for name in self.serving(agent):
                q = self.queues[name]
                q.logged_in += after[0] - before[0]
                q.staffed += after[1] - before[1]
        self.emit(cmd.AgentStateChanged(agent.agent_id, state, reason, now))
        self.touch_agent(agent)
        self.refresh_pool(agent)

    def refresh_pool(self, agent: AgentRuntime) -> None:
        """Put the agent into its queues' pools, or take them out, to match `eligible`."""
        agent_id = agent.agent_id
        if agent.eligible and agent_id not in self.pooled:
            self.pooled.add(agent_id)
            for name in self.serving(agent):
                q = self.queues[name]
                q.pool.add(self.candidate(agent, q), agent.config.skills)
            self.pending_agents.append(agent_id)
        elif not agent.eligible and agent_id in self.pooled:
            self.pooled.discard(agent_id)
            for name in self.agent_queues.get(agent_id, ()):
                self.queues[name].pool.discard(agent_id)

    def serving(self, agent: AgentRuntime) -> list[str]:
        """The agent's queues they take calls from now: their members' queues less the
        ones they logged out of (per-queue logout)."""
        queues = self.agent_queues.get(agent.agent_id, [])
        return [n for n in queues if n not in agent.left_queues] if agent.left_queues \
            else queues

    def set_serving(self, agent: AgentRuntime, queue: str, serving: bool) -> None:
        """Per-queue login (`serving`) or logout: the queue's counters and pool follow."""
        if (queue not in agent.left_queues) == serving:
            return
        if serving:
            agent.left_queues.discard(queue)
        else:
            agent.left_queues.add(queue)
        q, sign = self.queues[queue], 1 if serving else -1
        logged_in, staffed = presence(agent.state)
        q.logged_in += sign * logged_in
        q.staffed += sign * staffed
        if agent.agent_id in self.pooled:
            if serving:
                q.pool.add(self.candidate(agent, q), agent.config.skills)
                self.pending_agents.append(agent.agent_id)
            else:
                q.pool.discard(agent.agent_id)
        self.emit(cmd.AgentServingChanged(agent.agent_id, queue, serving))
        self.touch_agent(agent)
        self.touch_queue(q)

    def candidate(self, agent: AgentRuntime, q: QueueRuntime) -> Candidate:
        penalty, position = q.members[agent.agent_id]
        return Candidate(agent.agent_id, penalty, position, agent.rank_calls, agent.rank_talk,
                         agent.idle_since, agent.number_rank,
                         agent.rank_speed(self.settings.answer_speed_prior_seconds))

    def repool_all(self) -> None:
        """Re-key every available agent (their metrics changed: new period, reload)."""
        for agent_id in list(self.pooled):
            self.pooled.discard(agent_id)
            for name in self.agent_queues.get(agent_id, ()):
                self.queues[name].pool.discard(agent_id)
        for agent in self.agents.values():
            self.refresh_pool(agent)

    def hold(self, agent: AgentRuntime, until: float, reason: str) -> None:
        """Keep an available agent out of routing until `until` (0: release the hold)."""
        agent.hold_until, agent.hold_reason = until, reason if until else ""
        key = ("agent", agent.agent_id, TimerKind.HOLD)
        self.cancel_timer(key)
        if until:
            self.set_timer(key, until)
        self.touch_agent(agent)
        self.refresh_pool(agent)

    # -- calls ---------------------------------------------------------------------

    def add_waiting(self, call: CallRuntime) -> None:
        call.state = CallState.WAITING
        for name in call.queues:
            q = self.queues.get(name)
            if q is not None:
                q.waiting.add(call.call_id, call.priority, call.seq, call.skills)
        heapq.heappush(self.pending_calls, (-call.priority, call.seq, call.call_id))
        self.touch_call(call)

    def remove_waiting(self, call: CallRuntime) -> None:
        for name in call.queues:
            q = self.queues.get(name)
            if q is not None:
                q.waiting.discard(call.call_id)

    def drop_call(self, call: CallRuntime) -> None:
        self.remove_waiting(call)
        for kind in _TIMER_KINDS:
            self.cancel_timer(("call", call.call_id, kind))
        self.calls.pop(call.call_id, None)
        self.touch_call(call)

    # -- timers -----------------------------------------------------------------

    def set_timer(self, key: tuple[str, str, TimerKind], when: float) -> None:
        self.cancel_timer(key)
        self.timers[key] = self.deadlines.schedule(when, key[2], f"{key[0]}:{key[1]}")

    def cancel_timer(self, key: tuple[str, str, TimerKind]) -> None:
        self.deadlines.cancel(self.timers.pop(key, None))

    def call_timer(self, call: CallRuntime, kind: TimerKind, when: float) -> None:
        self.set_timer(("call", call.call_id, kind), when)

    def cancel_call_timer(self, call: CallRuntime, kind: TimerKind) -> None:
        self.cancel_timer(("call", call.call_id, kind))

