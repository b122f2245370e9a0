"""Queues at run time: waiting callers in priority order, members, counters and statistics.

Waiting callers are ordered by (higher priority first, then arrival sequence).
They are split into lazy heaps by the skills they need, so an agent only looks
at heaps whose needs its skills cover; per priority, a `SequenceCounter` gives a
caller's position in O(log n) for announcements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.core.fenwick import SequenceCounter
from acd.core.heaps import Key, LazyHeap
from acd.core.model import QueueConfig, Strategy
from acd.core.stats import QueueStats
from acd.core.strategies import AgentPool


class WaitingCalls:
    def __init__(self) -> None:
        self._heaps: dict[frozenset[str], LazyHeap] = {}
        self._where: dict[str, tuple[frozenset[str], int, int]] = {}
        self._order: dict[int, SequenceCounter] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, call_id: str) -> bool:
        return call_id in self._where

    def call_ids(self) -> list[str]:
        return list(self._where)

    def add(self, call_id: str, priority: int, seq: int, needs: frozenset[str]) -> None:
        if call_id in self._where:
            return
        heap = self._heaps.get(needs)
        if heap is None:
            heap = self._heaps[needs] = LazyHeap()
        heap.push(call_id, (-priority, seq))
        self._where[call_id] = (needs, priority, seq)
        counter = self._order.get(priority)
        if counter is None:
            counter = self._order[priority] = SequenceCounter()
        counter.add(seq)

    def discard(self, call_id: str) -> None:
        where = self._where.pop(call_id, None)
        if where is None:
            return
        needs, priority, seq = where
        self._heaps[needs].discard(call_id)
        self._order[priority].discard(seq)

    def best_for(self, skills: frozenset[str]) -> tuple[Key, str] | None:
        """The first caller an agent with `skills` can take: (-priority, seq), call id."""
        best: tuple[Key, str] | None = None
        for needs, heap in self._heaps.items():
            if not heap or not needs <= skills:
                continue
            top = heap.peek()
            if top is not None and (best is None or top < best):
                best = top
        return best

    def position(self, call_id: str) -> int:
        """1 for the next caller to be served, counting callers of every skill need."""
        _, priority, seq = self._where[call_id]
        ahead = sum(len(c) for p, c in self._order.items() if p > priority)
        return ahead + self._order[priority].count_below(seq) + 1


@dataclass
class QueueRuntime:
    config: QueueConfig
    #: agent id -> (penalty, round-robin position)
    members: dict[str, tuple[int, int]]
    pool: AgentPool
    waiting: WaitingCalls = field(default_factory=WaitingCalls)
    #: round robin: position of the member offered a call last (-1: none yet)
    pointer: int = -1
    #: the strategy metrics of the agent offered a call last: the level at which the
    #: rotation currently stands, used to seed agents who log in late (see agents.py)
    floor_calls: float = 0.0
    floor_talk: float = 0.0
    #: exponential average of talk + wrap-up seconds, for wait estimates
    handle_seconds: float = 0.0
    logged_in: int = 0
    #: logged in and not paused: the agents who will take the waiting calls
    staffed: int = 0
    stats: QueueStats = field(default_factory=QueueStats)

    @property
    def name(self) -> str:
        return self.config.name

    @classmethod
    def build(cls, config: QueueConfig, members: dict[str, tuple[int, int]]) -> QueueRuntime:
        pool = AgentPool(config.strategy, len(members))
        return cls(config, members, pool, handle_seconds=config.default_handle_seconds)

    def estimated_wait(self, position: int) -> int | None:
        """Position x handle time / agents staffed: the k-th in line when all are busy."""
        if self.staffed <= 0:
            return None
        return round(position * self.handle_seconds / self.staffed)

    def record_handle_time(self, seconds: float, smoothing: float) -> None:
        self.handle_seconds += smoothing * (seconds - self.handle_seconds)

    def uses_counts(self) -> bool:
        return self.config.strategy in (Strategy.LEAST_CALLS, Strategy.SHORTEST_TALK_TIME)
