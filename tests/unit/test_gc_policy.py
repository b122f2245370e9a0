"""The garbage collector's policy of a serving acd (acd.gc_policy)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember, Strategy
from acd.gc_policy import collections_paused, freeze_started_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def _engine_with_waiting_callers() -> RoutingEngine:
    agents = [AgentConfig(str(1000 + i)) for i in range(20)]
    queue = QueueConfig("sales", Strategy.LEAST_CALLS,
                        tuple(QueueMember(a.agent_id) for a in agents))
    engine = RoutingEngine([queue], agents)
    for i in range(50):
        engine.handle(ev.CallQueued(f"c{i}", "sales", "1"), 0.0)
    return engine


def test_routing_state_alive_at_the_start_is_not_walked_by_later_collections(
        unfrozen: None) -> None:
    engine = _engine_with_waiting_callers()
    started = {"routing": engine}  # what the service holds once started

    assert freeze_started_heap() > 0

    walked = {id(o) for o in gc.get_objects()}
    assert id(started) not in walked
    assert id(engine) not in walked


def test_what_is_created_after_the_start_is_still_collected(unfrozen: None) -> None:
    freeze_started_heap()
    cycle: list[object] = []
    cycle.append(cycle)  # garbage only a collection frees (a reference cycle)
    ident = id(cycle)
    del cycle

    assert ident in {id(o) for o in gc.get_objects()}
    gc.collect()
    assert ident not in {id(o) for o in gc.get_objects()}


def test_collections_resume_when_the_last_of_two_overlapping_pauses_ends() -> None:
    """Two reports built at once on two threads: the first to finish must not turn
    collections back on under the other."""
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collections_paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the second has finished: still paused

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with collections_paused():
        pass
    second_done.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_collections_turned_off_by_someone_else_stay_off_after_a_pause() -> None:
    gc.disable()
    try:
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
