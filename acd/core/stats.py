"""Per-period statistics of agents and queues (reset when the day or shift changes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class QueueStats:
    #: callers who entered the queue (joined, or moved in by overflow)
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    #: left for another target: max wait, empty queue
    exited: int = 0
    #: moved to another queue by an overflow rule
    overflowed: int = 0
    callbacks_requested: int = 0
    callbacks_failed: int = 0
    answered_within_sl: int = 0
    abandoned_within_sl: int = 0
    wait_answered_seconds: float = 0.0
    wait_abandoned_seconds: float = 0.0
    longest_wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0

    def waited(self, seconds: float) -> None:
        self.longest_wait_seconds = max(self.longest_wait_seconds, seconds)

    def summary(self) -> dict[str, Any]:
        """The raw counters plus service level, average speed of answer and abandon rate."""
        out: dict[str, Any] = asdict(self)
        finished = self.answered + self.abandoned
        out["service_level"] = self.answered_within_sl / finished if finished else None
        out["average_speed_of_answer"] = (
            self.wait_answered_seconds / self.answered if self.answered else None)
        out["abandon_rate"] = self.abandoned / finished if finished else None
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueueStats:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class AgentStats:
    #: rings (each offer, answered or not)
    offered: int = 0
    answered: int = 0
    #: rings that timed out
    missed: int = 0
    #: rings the agent rejected, or that found the phone busy or unreachable
    failed: int = 0
    #: callers who hung up while this agent was ringing
    abandoned_while_ringing: int = 0
    transferred: int = 0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    #: seconds per state ("available", "paused:break", ...), counted when a state ends
    state_seconds: dict[str, float] = field(default_factory=dict)

    def spent(self, label: str, seconds: float) -> None:
        if seconds > 0:
            self.state_seconds[label] = self.state_seconds.get(label, 0.0) + seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentStats:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state_seconds"] = dict(values.get("state_seconds", {}))
        return cls(**values)
