"""Deadlines: one heap of pending timers with lazy cancellation.

Timers are not persisted: every deadline is also a field of the agent or call
it concerns (wrap_until, ring_deadline, ...), so a restored engine re-arms them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import StrEnum


class TimerKind(StrEnum):
    RING = "ring"
    ANNOUNCE = "announce"
    OVERFLOW = "overflow"
    MAX_WAIT = "max-wait"
    CALLBACK_RETRY = "callback-retry"
    WRAP_UP = "wrap-up"
    HOLD = "hold"


#: which of several timers due at the same moment fires first: what ends a ring or a
#: caller's wait before what only informs (a caller past max wait is not announced a
#: position first)
PRECEDENCE = {kind: rank for rank, kind in enumerate((
    TimerKind.RING, TimerKind.MAX_WAIT, TimerKind.OVERFLOW, TimerKind.CALLBACK_RETRY,
    TimerKind.ANNOUNCE, TimerKind.WRAP_UP, TimerKind.HOLD))}


@dataclass(eq=False)
class Timer:
    when: float
    kind: TimerKind
    key: str
    cancelled: bool = field(default=False)


class Deadlines:
    """Timers due at the same moment fire by PRECEDENCE, then by key, never in the order
    they were scheduled: an engine restored from a snapshot (which re-arms its timers in
    another order) then decides exactly as the original would."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, int, Timer]] = []
        self._counter = 0
        self._cancelled = 0

    def __len__(self) -> int:
        return len(self._heap) - self._cancelled

    def schedule(self, when: float, kind: TimerKind, key: str) -> Timer:
        timer = Timer(when, kind, key)
        self._counter += 1
        heapq.heappush(self._heap, (when, PRECEDENCE[kind], key, self._counter, timer))
        return timer

    def cancel(self, timer: Timer | None) -> None:
        if timer is None or timer.cancelled:
            return
        timer.cancelled = True
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._heap = [e for e in self._heap if not e[-1].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def next_deadline(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        self._drop_cancelled()
        if self._heap and self._heap[0][0] <= now:
            timer = heapq.heappop(self._heap)[-1]
            timer.cancelled = True  # fired: a later cancel() is a no-op
            return timer
        return None

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][-1].cancelled:
            heapq.heappop(heap)
            self._cancelled -= 1
