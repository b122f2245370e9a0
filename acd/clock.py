"""The one place that reads the time; everything else takes `now` as an input."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock, for records and schedules)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that moves only when told to (unit tests)."""

    def __init__(self, at: float) -> None:
        self._at = at

    def now(self) -> float:
        return self._at

    def set(self, at: float) -> None:
        self._at = at

    def advance(self, seconds: float) -> None:
        self._at += seconds


class ShiftedClock:
    """Real time, shifted so that it starts at a chosen instant (config `clock.start_at`).

    Lets a demo or a test run "on New Year's Eve" while timers still advance.
    """

    def __init__(self, start_at: float) -> None:
        self._offset = start_at - time.time()

    def now(self) -> float:
        return time.time() + self._offset


def local_datetime(epoch: float, tz: str) -> datetime:
    return datetime.fromtimestamp(epoch, ZoneInfo(tz))
