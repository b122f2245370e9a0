"""A hand-driven routing engine for tests: explicit time, commands collected per step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings, Strategy

T0 = 1_750_000_000.0  # 2025-06-15 23:06:40 Asia/Shanghai; tests stay within one day by default


def queue(name: str = "sales", members: Iterable[str | tuple[str, int]] = (),
          strategy: Strategy = Strategy.LONGEST_IDLE, **kw: Any) -> QueueConfig:
    built = tuple(QueueMember(m, 0) if isinstance(m, str) else QueueMember(*m) for m in members)
    return QueueConfig(name=name, strategy=strategy, members=built, **kw)


def agent(agent_id: str, *skills: str) -> AgentConfig:
    return AgentConfig(agent_id=agent_id, name=f"Agent {agent_id}", skills=frozenset(skills))


def fixed_period(now: float) -> str:
    return "today"


def apply_changes(store: dict[str, Any], changes: dict[str, Any]) -> None:
    """What a store does with take_changes(): merge, deleting None entries."""
    for key in ("version", "period", "seq"):
        store[key] = changes[key]
    for section in ("agents", "calls", "queues"):
        target = store.setdefault(section, {})
        for name, value in changes[section].items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value


class Harness:
    """Drives a RoutingEngine step by step; `self.out` holds the last step's commands."""

    def __init__(self, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig] | None = None,
                 *, now: float = T0, period_key: Any = fixed_period, **settings: Any) -> None:
        queues = list(queues)
        if agents is None:
            ids = sorted({m.agent_id for q in queues for m in q.members})
            agents = [agent(i) for i in ids]
        self.queues, self.agents = queues, list(agents)
        self.now = now
        self.settings = RoutingSettings(**settings)
        self.engine = RoutingEngine(queues, self.agents, period_key=period_key,
                                    settings=self.settings)
        self.out: list[cmd.Command] = []
        self.log: list[cmd.Command] = []

    # -- driving -----------------------------------------------------------------

    def send(self, event: Any) -> list[cmd.Command]:
        self.out = self.engine.handle(event, self.now)
        self.log.extend(self.out)
        return self.out

    def advance(self, seconds: float) -> list[cmd.Command]:
        """Move the clock, firing every deadline on the way (in order)."""
        target = self.now + seconds
        collected: list[cmd.Command] = []
        while (deadline := self.engine.next_deadline()) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            collected.extend(self.engine.on_timer(self.now))
        self.now = target
        self.out = collected
        self.log.extend(collected)
        return collected

    def login(self, *agent_ids: str) -> None:
        for a in agent_ids:
            self.send(ev.AgentLoggedIn(a, f"PJSIP/{a}"))

    def call(self, call_id: str, queue: str = "sales", priority: int = 0,
             skills: Iterable[str] = ()) -> list[cmd.Command]:
        return self.send(ev.CallQueued(call_id, queue, f"138{call_id}", priority,
                                       frozenset(skills)))

    def answer(self, call_id: str, agent_id: str | None = None) -> list[cmd.Command]:
        return self.send(ev.RingAnswered(call_id, agent_id or self.rung(call_id)[0]))

    def hang_up(self, call_id: str, agent_id: str) -> list[cmd.Command]:
        return self.send(ev.CallEnded(call_id, agent_id))

    def serve(self, call_id: str, queue: str = "sales", talk: float = 60.0) -> str:
        """Queue a call, answer it with whoever rings, talk, hang up; returns the agent."""
        self.call(call_id, queue)
        agent_id = self.rung(call_id)[0]
        self.answer(call_id, agent_id)
        self.advance(talk)
        self.hang_up(call_id, agent_id)
        return agent_id

    # -- reading -------------------------------------------------------------------

    def rung(self, call_id: str | None = None) -> list[str]:
        """Agents rung in the last step (for this call)."""
        for c in self.out:
            if isinstance(c, cmd.RingAgents) and (call_id is None or c.call_id == call_id):
                return [t.agent_id for t in c.targets]
            if isinstance(c, cmd.PlaceCallback) and (call_id is None or c.call_id == call_id):
                return [c.agent_id]
        return []

    def of(self, kind: type, log: bool = False) -> list[Any]:
        return [c for c in (self.log if log else self.out) if isinstance(c, kind)]

    def state(self, agent_id: str) -> str:
        return str(self.engine.agent_view(agent_id)["state"])
