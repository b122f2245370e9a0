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


@dataclass(eq=False)
class Timer:
    when: float
    kind: TimerKind
    key: str
    cancelled: bool = field(default=False)


class Deadlines:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._counter = 0
        self._cancelled = 0

    def __len__(self) -> int:
        return len(self._heap) - self._cancelled

    def schedule(self, when: float, kind: TimerKind, key: str) -> Timer:
        timer = Timer(when, kind, key)
        self._counter += 1
        heapq.heappush(self._heap, (when, self._counter, timer))
        return timer

    def cancel(self, timer: Timer | None) -> None:
        if timer is None or timer.cancelled:
            return
        timer.cancelled = True
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._heap = [e for e in self._heap if not e[2].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def next_deadline(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        self._drop_cancelled()
        if self._heap and self._heap[0][0] <= now:
            timer = heapq.heappop(self._heap)[2]
            timer.cancelled = True  # fired: a later cancel() is a no-op
            return timer
        return None

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
            self._cancelled -= 1
