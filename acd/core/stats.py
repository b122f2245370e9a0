"""Per-period statistics of agents and queues (reset when the day or shift changes)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict


class QueueStatsRecord(TypedDict):
    """`QueueStats` as JSON (persisted, and the counters of views and reports)."""

    offered: int
    answered: int
    abandoned: int
    exited: int
    overflowed: int
    callbacks_requested: int
    callbacks_failed: int
    answered_within_sl: int
    abandoned_within_sl: int
    wait_answered_seconds: float
    wait_abandoned_seconds: float
    longest_wait_seconds: float
    talk_seconds: float
    wrap_up_seconds: float


class QueueSummary(QueueStatsRecord):
    """The counters and the figures derived from them (None until a call has finished)."""

    service_level: float | None
    average_speed_of_answer: float | None
    abandon_rate: float | None


class AgentStatsRecord(TypedDict):
    """`AgentStats` as JSON."""

    offered: int
    answered: int
    missed: int
    failed: int
    abandoned_while_ringing: int
    transferred: int
    talk_seconds: float
    wrap_up_seconds: float
    state_seconds: dict[str, float]


class PeriodStats(TypedDict):
    """The statistics of one period (day or shift), as the API and PeriodClosed give them."""

    period: str
    queues: dict[str, QueueSummary]
    agents: dict[str, AgentStatsRecord]


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

    def summary(self) -> QueueSummary:
        """The raw counters plus service level, average speed of answer and abandon rate."""
        finished = self.answered + self.abandoned
        return QueueSummary(
            **self.to_dict(),
            service_level=self.answered_within_sl / finished if finished else None,
            average_speed_of_answer=(
                self.wait_answered_seconds / self.answered if self.answered else None),
            abandon_rate=self.abandoned / finished if finished else None,
        )

    def to_dict(self) -> QueueStatsRecord:
        return QueueStatsRecord(
            offered=self.offered, answered=self.answered, abandoned=self.abandoned,
            exited=self.exited, overflowed=self.overflowed,
            callbacks_requested=self.callbacks_requested,
            callbacks_failed=self.callbacks_failed,
            answered_within_sl=self.answered_within_sl,
            abandoned_within_sl=self.abandoned_within_sl,
            wait_answered_seconds=self.wait_answered_seconds,
            wait_abandoned_seconds=self.wait_abandoned_seconds,
            longest_wait_seconds=self.longest_wait_seconds,
            talk_seconds=self.talk_seconds, wrap_up_seconds=self.wrap_up_seconds,
        )

    @classmethod
    def from_dict(cls, data: QueueStatsRecord) -> QueueStats:
        return cls(**_known_fields(cls, data))


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

    def to_dict(self) -> AgentStatsRecord:
        return AgentStatsRecord(
            offered=self.offered, answered=self.answered, missed=self.missed,
            failed=self.failed, abandoned_while_ringing=self.abandoned_while_ringing,
            transferred=self.transferred, talk_seconds=self.talk_seconds,
            wrap_up_seconds=self.wrap_up_seconds, state_seconds=dict(self.state_seconds),
        )

    @classmethod
    def from_dict(cls, data: AgentStatsRecord) -> AgentStats:
        values = _known_fields(cls, data)
        values["state_seconds"] = dict(values.get("state_seconds", {}))
        return cls(**values)


def _known_fields(cls: type[QueueStats | AgentStats],
                  data: QueueStatsRecord | AgentStatsRecord) -> dict[str, Any]:
    """The stored counters this version knows: a record written by another version of
    acd may lack some (they start at zero) or have others (dropped). The values are
    JSON as stored; the record's type says what they are."""
    known = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in known}
