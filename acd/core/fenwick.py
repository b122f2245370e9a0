"""Fenwick trees: sets of integer positions with O(log n) rank and successor queries.

`PositionSet` serves round robin (the next available member after the one
offered last); `SequenceCounter` serves announcements (how many callers are
ahead of this one) over sequence numbers that keep growing.
"""

from __future__ import annotations


class PositionSet:
    """A set of positions in ``range(size)`` with rank and cyclic-successor queries."""

    def __init__(self, size: int) -> None:
        self._size = max(size, 1)
        self._tree = [0] * (self._size + 1)
        self._present = bytearray(self._size)
        self._count = 0
        self._top = 1 << (self._size.bit_length() - 1)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._count

    def __contains__(self, position: int) -> bool:
        return bool(self._present[position])

    def add(self, position: int) -> None:
        if not self._present[position]:
            self._present[position] = 1
            self._count += 1
            self._update(position, 1)

    def discard(self, position: int) -> None:
        if self._present[position]:
            self._present[position] = 0
            self._count -= 1
            self._update(position, -1)

    def count_below(self, position: int) -> int:
        """How many members are < position."""
        total, i = 0, min(position, self._size)
        while i > 0:
            total += self._tree[i]
            i -= i & -i
        return total

    def kth(self, k: int) -> int:
        """The k-th smallest member (0-based k < len(self))."""
        pos, remaining, step = 0, k + 1, self._top
        while step:
            nxt = pos + step
            if nxt <= self._size and self._tree[nxt] < remaining:
                pos = nxt
                remaining -= self._tree[nxt]
            step >>= 1
        return pos

    def next_after(self, position: int) -> int | None:
        """The smallest member > position, wrapping around to the smallest member."""
        if not self._count:
            return None
        below = self.count_below(position + 1) if position >= 0 else 0
        return self.kth(below if below < self._count else 0)

    def _update(self, position: int, delta: int) -> None:
        i = position + 1
        while i <= self._size:
            self._tree[i] += delta
            i += i & -i


class SequenceCounter:
    """A set of non-negative integers that drift upwards, with O(log n) rank.

    The tree covers a window ``[base, base + size)`` of sequence numbers; a
    number outside it rebuilds the window around the live members with room to
    grow, so the amortised cost stays logarithmic.
    """

    def __init__(self) -> None:
        self._live: set[int] = set()
        self._base = 0
        self._tree = PositionSet(64)

    def __len__(self) -> int:
        return len(self._live)

    def add(self, seq: int) -> None:
        if seq in self._live:
            return
        self._live.add(seq)
        if self._base <= seq < self._base + self._tree.size:
            self._tree.add(seq - self._base)
        else:
            self._rebuild()

    def discard(self, seq: int) -> None:
        if seq in self._live:
            self._live.remove(seq)
            self._tree.discard(seq - self._base)

    def count_below(self, seq: int) -> int:
        if seq <= self._base:
            return 0
        if seq >= self._base + self._tree.size:
            return len(self._live)
        return self._tree.count_below(seq - self._base)

    def _rebuild(self) -> None:
        low, high = min(self._live), max(self._live)
        self._base = low
        self._tree = PositionSet(max(64, 2 * (high - low + 1)))
        for seq in self._live:
            self._tree.add(seq - low)
