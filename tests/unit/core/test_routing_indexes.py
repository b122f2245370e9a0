"""The logarithmic indexes behind routing decisions agree with brute force."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as hs

from acd.core.fenwick import PositionSet, SequenceCounter
from acd.core.heaps import LazyHeap
from acd.core.timers import Deadlines, TimerKind


@given(hs.integers(1, 70), hs.lists(hs.tuples(hs.booleans(), hs.integers(0, 69))))
def test_a_position_set_answers_rank_and_cyclic_successor_like_a_sorted_list(size, ops):
    positions, truth = PositionSet(size), set()
    for add, p in ops:
        p %= size
        if add:
            positions.add(p)
            truth.add(p)
        else:
            positions.discard(p)
            truth.discard(p)
        assert len(positions) == len(truth)
        for probe in range(-1, size):
            assert positions.count_below(probe + 1) == len([x for x in truth if x <= probe])
            after = sorted(x for x in truth if x > probe) or sorted(truth)
            assert positions.next_after(probe) == (after[0] if after else None)


@given(hs.lists(hs.tuples(hs.booleans(), hs.integers(0, 5000))))
def test_a_sequence_counter_counts_members_below_any_number(ops):
    counter, truth = SequenceCounter(), set()
    for add, seq in ops:
        if add:
            counter.add(seq)
            truth.add(seq)
        else:
            counter.discard(seq)
            truth.discard(seq)
        for probe in (0, seq, seq + 1, 2500, 6000):
            assert counter.count_below(probe) == len([x for x in truth if x < probe])


@given(hs.lists(hs.tuples(hs.booleans(), hs.sampled_from("abcdefgh"), hs.integers(0, 9))))
def test_a_lazy_heap_peeks_the_smallest_live_key(ops):
    heap, truth = LazyHeap(), {}
    for push, item, key in ops:
        if push:
            heap.push(item, (key,))
            truth[item] = key
        else:
            heap.discard(item)
            truth.pop(item, None)
        top = heap.peek()
        if truth:
            assert top is not None and top[0] == (min(truth.values()),)
            assert truth[top[1]] == top[0][0]
        else:
            assert top is None


def test_deadlines_fire_in_order_and_cancelled_ones_never_fire():
    deadlines = Deadlines()
    a = deadlines.schedule(5.0, TimerKind.RING, "call:a")
    deadlines.schedule(3.0, TimerKind.HOLD, "agent:b")
    deadlines.cancel(a)
    assert deadlines.next_deadline() == 3.0
    assert deadlines.pop_due(2.0) is None
    assert deadlines.pop_due(10.0).key == "agent:b"
    assert deadlines.pop_due(10.0) is None and deadlines.next_deadline() is None
