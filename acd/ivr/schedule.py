"""What the IVR needs from the schedule rules: open, closed or holiday, right now.

The real rules live in acd.rules; the composition root adapts them to this
protocol so the IVR does not depend on how schedules are configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

ScheduleState = Literal["open", "closed", "holiday"]


@dataclass(frozen=True)
class ScheduleDecision:
    state: ScheduleState
    # A company special day may send callers to a flow of its own, or play a
    # prompt first: a recording name, 'sound:<name>' or text to be spoken.
    special_flow: str | None = None
    special_prompt: str | None = None


class ScheduleOracle(Protocol):
    def decide(self, schedule_name: str, now: float) -> ScheduleDecision: ...

    def names(self) -> set[str]: ...


class FixedScheduleOracle:
    """Every schedule in a fixed state: for tests, simulation and `acd check`."""

    def __init__(self, decisions: Mapping[str, ScheduleDecision]) -> None:
        self.decisions = dict(decisions)

    def decide(self, schedule_name: str, now: float) -> ScheduleDecision:
        return self.decisions[schedule_name]

    def names(self) -> set[str]:
        return set(self.decisions)
