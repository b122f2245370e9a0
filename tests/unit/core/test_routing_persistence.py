"""Snapshots, incremental changes, restore after a restart, reload, statistics periods."""

from __future__ import annotations

import json
from typing import Any

from routing_harness import T0, Harness, agent, apply_changes, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import Strategy
from acd.core.periods import daily, shifts


def busy_harness() -> Harness:
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=Strategy.ROUND_ROBIN,
                       wrap_up_seconds=20, announce_period_seconds=30, max_wait_seconds=600)])
    h.login("1001", "1002", "1003")
    h.serve("c1")
    h.call("c2")
    h.answer("c2")
    h.send(ev.AgentPaused("1003", "break"))
    h.call("c3")  # rings 1003? no: paused; waits
    h.call("c4", priority=2)
    h.send(ev.CallbackRequested("c3", "13900000000"))
    h.advance(5)
    return h


def restored(h: Harness) -> RoutingEngine:
    data = json.loads(json.dumps(h.engine.snapshot()))  # must survive JSON
    return RoutingEngine.restore(h.queues, h.agents, data, h.now,
                                 period_key=h.engine._st.period_key, settings=h.settings)


def test_a_restored_engine_has_exactly_the_same_state():
    h = busy_harness()
    engine = restored(h)
    assert engine.snapshot() == h.engine.snapshot()
    assert engine.on_timer(h.now) == []  # nothing owed: the state was consistent
    for a in ("1001", "1002", "1003"):
        assert engine.agent_view(a) == h.engine.agent_view(a)
    assert engine.queue_view("sales") == h.engine.queue_view("sales")
    assert engine.stats() == h.engine.stats()


def test_a_restored_engine_continues_exactly_like_the_original():
    h = busy_harness()
    twin = Harness(h.queues, h.agents, now=h.now)
    twin.engine = restored(h)
    twin.engine.on_timer(h.now)
    script = [
        lambda x: x.hang_up("c2", "1002"),
        lambda x: x.advance(25),
        lambda x: x.send(ev.AgentResumed("1003")),
        lambda x: x.call("c5"),
        lambda x: x.advance(200),
        lambda x: x.send(ev.CallAbandoned("c5")),
        lambda x: x.advance(1000),
    ]
    for step in script:
        assert step(h) == step(twin)
    assert twin.engine.snapshot() == h.engine.snapshot()


def test_deadlines_are_rearmed_after_a_restore():
    h = Harness([queue(members=["1001"], wrap_up_seconds=30)])
    h.login("1001")
    h.serve("c1", talk=10)
    h.call("c2")
    h.advance(10)
    twin = Harness(h.queues, h.agents, now=h.now)
    twin.engine = restored(h)
    assert twin.engine.next_deadline() == h.now
    twin.advance(19)
    assert twin.rung() == []
    twin.advance(1)
    assert twin.rung("c2") == ["1001"]


def test_round_robin_remembers_where_it_stopped_across_a_restart():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=Strategy.ROUND_ROBIN)])
    h.login("1001", "1002", "1003")
    h.serve("c1")
    h.serve("c2")
    twin = Harness(h.queues, h.agents, now=h.now)
    twin.engine = restored(h)
    assert twin.serve("c3") == "1003"


def test_callbacks_survive_a_restart():
    h = Harness([queue(members=["1001"])])
    h.call("c1")
    h.send(ev.CallbackRequested("c1", "13900000000"))
    twin = Harness(h.queues, h.agents, now=h.now + 3600)
    twin.engine = restored(h)
    twin.login("1001")
    assert twin.of(cmd.PlaceCallback) == [
        cmd.PlaceCallback("c1", "13900000000", "1001", "PJSIP/1001", 75.0)]


def test_incremental_changes_add_up_to_the_snapshot():
    h = Harness([queue(members=["1001", "1002"], wrap_up_seconds=10, max_wait_seconds=50)])
    store: dict[str, Any] = {}
    steps = [lambda: h.login("1001", "1002"), lambda: h.serve("c1"), lambda: h.call("c2"),
             lambda: h.call("c3"), lambda: h.call("c4"), lambda: h.advance(60),
             lambda: h.send(ev.AgentLoggedOut("1002")), lambda: h.advance(100)]
    for step in steps:
        step()
        apply_changes(store, h.engine.take_changes())
        assert store == h.engine.snapshot()


def test_a_reload_keeps_states_and_callers_and_applies_new_members():
    qs = [queue(members=["1001", "1002"])]
    h = Harness(qs, [agent("1001"), agent("1002"), agent("1003")])
    h.login("1001", "1002", "1003")
    h.call("c1")
    h.answer("c1", "1001")
    h.send(ev.AgentPaused("1002", "break"))
    h.call("c2")
    out = h.engine.reconfigure([queue(members=["1001", "1002", "1003"])], h.agents, h.now)
    assert [c for c in out if isinstance(c, cmd.RingAgents)][0].targets[0].agent_id == "1003"
    assert h.state("1001") == "on-call" and h.state("1002") == "paused"


def test_a_reload_logs_out_removed_agents_and_exits_callers_of_removed_queues():
    h = Harness([queue(members=["1001", "1002"]), queue("old", members=["1002"])])
    h.login("1001", "1002")
    h.call("c1")  # rings 1001
    h.send(ev.AgentPaused("1002", "break"))
    h.call("c2", "old")
    out = h.engine.reconfigure([queue(members=["1002"])], [agent("1002")], h.now)
    assert cmd.StopRinging("c1", ("1001",)) in out
    assert cmd.AgentStateChanged("1001", cmd.AgentState.LOGGED_OUT, "removed", h.now) in out
    assert cmd.ExitQueue("c2", "", "queue-removed") in out
    assert h.engine.queue_view("sales")["waiting"][0]["call_id"] == "c1"
    assert h.engine.take_changes()["agents"]["1001"] is None


def test_a_new_period_closes_the_statistics_and_starts_from_zero():
    periods = {"p": "day1"}
    h = Harness([queue(members=["1001"], strategy=Strategy.LEAST_CALLS)],
                period_key=lambda now: periods["p"])
    h.login("1001")
    h.serve("c1")
    periods["p"] = "day2"
    h.call("c2")
    closed = h.of(cmd.PeriodClosed)
    assert len(closed) == 1 and closed[0].period == "day1"
    assert closed[0].stats["queues"]["sales"]["answered"] == 1
    assert h.engine.stats()["queues"]["sales"]["offered"] == 1
    assert h.engine.agent_view("1001")["stats"]["answered"] == 0


def test_periods_are_local_days_or_shifts():
    day = daily("Asia/Shanghai")
    assert day(T0) == "2025-06-15"
    assert day(T0 + 3600) == "2025-06-16"  # 00:06 in Beijing
    shift = shifts(["08:00", "20:00"], "Asia/Shanghai")
    assert shift(T0) == "2025-06-15T20:00"
    assert shift(T0 + 3600) == "2025-06-15T20:00"  # before 08:00: last night's shift
    assert shift(T0 + 10 * 3600) == "2025-06-16T08:00"
