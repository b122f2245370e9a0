"""A min-heap of string ids with lazy deletion: push, discard and peek in O(log n) amortised."""

from __future__ import annotations

import heapq

Key = tuple[float, ...]


class LazyHeap:
    """Ids ordered by a key fixed when they are pushed.

    Discarding only forgets the id; its stale entry is dropped when it reaches
    the top, and the heap is compacted when stale entries outnumber live ones.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[Key, int, str]] = []
        self._live: dict[str, int] = {}
        self._counter = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, item: str) -> bool:
        return item in self._live

    def push(self, item: str, key: Key) -> None:
        self._counter += 1
        self._live[item] = self._counter
        heapq.heappush(self._heap, (key, self._counter, item))

    def discard(self, item: str) -> None:
        if self._live.pop(item, None) is not None and len(self._heap) > 2 * len(self._live) + 64:
            self._heap = [e for e in self._heap if self._live.get(e[2]) == e[1]]
            heapq.heapify(self._heap)

    def peek(self) -> tuple[Key, str] | None:
        heap, live = self._heap, self._live
        while heap:
            key, token, item = heap[0]
            if live.get(item) == token:
                return key, item
            heapq.heappop(heap)
        return None

    def items(self) -> list[str]:
        return list(self._live)
