"""Strategies: which available agents of a queue are offered the next call.

Each queue keeps its available agents in an `AgentPool`, split into partitions
by skill set, so that a call needing skills only looks at partitions whose
skills cover them: a choice costs O(P log n), P being the number of distinct
skill sets among the queue's members (a handful in practice), n the agents.

- least calls, shortest talk time, fastest answer, longest idle: a lazy heap per
  partition keyed (penalty, metric, idle since, agent-number rank). The key is fixed while the
  agent is available: metrics only change during a call.
- round robin: per partition and penalty level, a Fenwick set of member
  positions; the next agent is the first available position after the one
  offered last (cyclically), at the lowest penalty level.
- ring all: per partition, a set of agents per penalty level; every agent of the
  lowest level rings (inherently O(agents rung)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from acd.core.fenwick import PositionSet
from acd.core.heaps import Key, LazyHeap
from acd.core.model import Strategy


@dataclass(frozen=True)
class Candidate:
    """An available agent as one queue sees it."""

    agent_id: str
    penalty: int
    position: int
    #: answered calls and talk seconds as the strategy counts them (seeded, see agents.py)
    calls: float
    talk: float
    idle_since: float
    number_rank: int
    #: average seconds from ringing to answering (fastest-answer)
    speed: float = 0.0


def rank_key(strategy: Strategy, c: Candidate) -> Key:
    """The heap order for heap-based strategies; ties: longest idle, then agent number."""
    if strategy is Strategy.LEAST_CALLS:
        return (c.penalty, c.calls, c.idle_since, c.number_rank)
    if strategy is Strategy.SHORTEST_TALK_TIME:
        return (c.penalty, c.talk, c.idle_since, c.number_rank)
    if strategy is Strategy.FASTEST_ANSWER:
        return (c.penalty, c.speed, c.idle_since, c.number_rank)
    return (c.penalty, c.idle_since, c.number_rank)


class Partition(Protocol):
    def __len__(self) -> int: ...
    def add(self, c: Candidate) -> None: ...
    def discard(self, agent_id: str) -> None: ...
    def peek(self, pointer: int) -> tuple[Key, str] | None: ...


class HeapPartition:
    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._heap = LazyHeap()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, c: Candidate) -> None:
        self._heap.push(c.agent_id, rank_key(self._strategy, c))

    def discard(self, agent_id: str) -> None:
        self._heap.discard(agent_id)

    def peek(self, pointer: int) -> tuple[Key, str] | None:
        return self._heap.peek()


class RotationPartition:
    def __init__(self, size: int) -> None:
        self._size = size
        self._levels: dict[int, PositionSet] = {}
        self._owner: dict[int, str] = {}
        self._where: dict[str, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def add(self, c: Candidate) -> None:
        level = self._levels.get(c.penalty)
        if level is None:
            level = self._levels[c.penalty] = PositionSet(self._size)
        level.add(c.position)
        self._owner[c.position] = c.agent_id
        self._where[c.agent_id] = (c.penalty, c.position)

    def discard(self, agent_id: str) -> None:
        where = self._where.pop(agent_id, None)
        if where is not None:
            self._levels[where[0]].discard(where[1])
            del self._owner[where[1]]

    def peek(self, pointer: int) -> tuple[Key, str] | None:
        occupied = [p for p, level in self._levels.items() if len(level)]
        if not occupied:
            return None
        penalty = min(occupied)
        position = self._levels[penalty].next_after(pointer)
        assert position is not None
        return (penalty, (position - pointer - 1) % self._size), self._owner[position]


class LevelPartition:
    """Ring all: available agents grouped by penalty level."""

    def __init__(self) -> None:
        self._levels: dict[int, set[str]] = {}
        self._where: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._where)

    def add(self, c: Candidate) -> None:
        self._levels.setdefault(c.penalty, set()).add(c.agent_id)
        self._where[c.agent_id] = c.penalty

    def discard(self, agent_id: str) -> None:
        penalty = self._where.pop(agent_id, None)
        if penalty is not None:
            level = self._levels[penalty]
            level.discard(agent_id)
            if not level:
                del self._levels[penalty]

    def peek(self, pointer: int) -> tuple[Key, str] | None:
        if not self._levels:
            return None
        penalty = min(self._levels)
        return (penalty,), next(iter(self._levels[penalty]))

    def level(self, penalty: int) -> set[str]:
        return self._levels.get(penalty, set())


class AgentPool:
    """The available agents of one queue, ready to be chosen by its strategy."""

    def __init__(self, strategy: Strategy, size: int) -> None:
        self.strategy = strategy
        self._size = max(size, 1)
        self._partitions: dict[frozenset[str], Partition] = {}
        self._where: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, agent_id: str) -> bool:
        return agent_id in self._where

    def agent_ids(self) -> list[str]:
        return list(self._where)

    def add(self, c: Candidate, skills: frozenset[str]) -> None:
        partition = self._partitions.get(skills)
        if partition is None:
            partition = self._partitions[skills] = self._new_partition()
        partition.add(c)
        self._where[c.agent_id] = skills

    def discard(self, agent_id: str) -> None:
        skills = self._where.pop(agent_id, None)
        if skills is not None:
            self._partitions[skills].discard(agent_id)

    def choose(self, needs: frozenset[str], pointer: int) -> list[str]:
        """The agents to ring for a call needing `needs` (several only for ring all)."""
        best: tuple[Key, str] | None = None
        for skills, partition in self._partitions.items():
            if not partition or not needs <= skills:
                continue
            top = partition.peek(pointer)
            if top is not None and (best is None or top < best):
                best = top
        if best is None:
            return []
        if self.strategy is not Strategy.RING_ALL:
            return [best[1]]
        return self._level_members(needs, int(best[0][0]))

    def _level_members(self, needs: frozenset[str], penalty: int) -> list[str]:
        members: list[str] = []
        for skills, partition in self._partitions.items():
            if needs <= skills and isinstance(partition, LevelPartition):
                members.extend(partition.level(penalty))
        return members

    def _new_partition(self) -> Partition:
        if self.strategy is Strategy.ROUND_ROBIN:
            return RotationPartition(self._size)
        if self.strategy is Strategy.RING_ALL:
            return LevelPartition()
        return HeapPartition(self.strategy)
