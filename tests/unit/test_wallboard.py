"""The wallboard's model: the routing core's views as rows, each change as a small delta,
what each viewer may see (the pure engine, driven with a hand-set clock)."""

from __future__ import annotations

from acd.console.wallboard import Thresholds, Viewer, Wallboard, for_viewer, merge
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember

T0 = 1_750_000_000.0
CALLER = "13800138000"


def engine() -> RoutingEngine:
    queues = [QueueConfig("support", members=(QueueMember("1001", 0), QueueMember("1002", 0)),
                          service_level_seconds=20.0)]
    agents = [AgentConfig("1001", "Li"), AgentConfig("1002", "Wang")]
    return RoutingEngine(queues, agents, period_key=lambda now: "today")


def board() -> Wallboard:
    return Wallboard(Thresholds(pause_alert_seconds=600, pause_alert_by_reason={"lunch": 3600},
                                service_level_seconds={"support": 20.0}))


def update(wb: Wallboard, e: RoutingEngine, now: float):  # noqa: ANN201 (a Message | None)
    return wb.update([e.agent_view(a) for a in e.agent_ids()],
                     [e.queue_view(q) for q in e.queue_names()], now)


def test_the_first_update_holds_every_row_and_a_second_without_change_holds_nothing():
    e, wb = engine(), board()
    first = update(wb, e, T0)
    assert set(first["agents"]) == {"1001", "1002"} and set(first["queues"]) == {"support"}
    assert update(wb, e, T0 + 5) is None


def test_a_pause_is_one_agent_row_with_its_reason_since_and_the_allowed_time():
    e, wb = engine(), board()
    e.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0)
    e.handle(ev.AgentLoggedIn("1002", "PJSIP/agent1002"), T0)
    update(wb, e, T0)
    e.handle(ev.AgentPaused("1001", "lunch"), T0 + 10)
    delta = update(wb, e, T0 + 10.1)
    assert delta["type"] == "delta" and list(delta["agents"]) == ["1001"]
    row = delta["agents"]["1001"]
    assert (row["state"], row["reason"], row["since"], row["pause_alert"]) == \
        ("paused", "lunch", T0 + 10, 3600)
    tile = delta["queues"]["support"]
    assert (tile["available"], tile["paused"]) == (1, 1)


def test_a_caller_waits_then_is_answered_and_the_tile_counts_today():
    e, wb = engine(), board()
    e.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0)
    e.handle(ev.AgentPaused("1001", "busy"), T0)
    update(wb, e, T0)
    e.handle(ev.CallQueued("c1", "support", CALLER, priority=5), T0 + 1)
    delta = update(wb, e, T0 + 1)
    assert delta["callers"] == {"support/c1": {
        "id": "c1", "queue": "support", "caller": CALLER, "vip": True, "priority": 5,
        "arrived_at": T0 + 1, "callback": False}}
    assert delta["queues"]["support"]["oldest_arrived_at"] == T0 + 1
    e.handle(ev.AgentResumed("1001"), T0 + 4)  # rings at once
    e.handle(ev.RingAnswered("c1", "1001"), T0 + 6)
    delta = update(wb, e, T0 + 6)
    assert delta["gone"] == {"callers": ["support/c1"]}
    assert delta["agents"]["1001"]["state"] == "on-call"
    e.handle(ev.CallEnded("c1", "1001"), T0 + 66)
    update(wb, e, T0 + 66)
    tile = wb.snapshot(T0 + 70)["queues"]["support"]
    assert (tile["offered"], tile["answered"], tile["waiting"], tile["asa"]) == (1, 1, 0, 5.0)
    assert tile["service_level"] == 1.0 and tile["aht"] == 60.0
    assert wb.snapshot(T0 + 70)["agents"]["1001"]["answered"] == 1


def test_survey_answers_split_per_queue_and_start_again_on_a_new_day():
    e, wb = engine(), board()
    update(wb, e, T0)
    for answer in ("1", "1", "3", "not-surveyed"):
        wb.survey_answered("support", answer, "day1")
    assert update(wb, e, T0)["queues"]["support"]["survey"] == {"1": 2, "2": 0, "3": 1}
    wb.survey_answered("support", "2", "day2")
    assert update(wb, e, T0)["queues"]["support"]["survey"] == {"1": 0, "2": 1, "3": 0}
    # the day ends before anyone answers again: the split starts from zero anyway
    delta = wb.update([], [e.queue_view("support")], T0, period="day3")
    assert delta["queues"]["support"]["survey"] == {"1": 0, "2": 0, "3": 0}


def test_a_viewer_without_the_right_sees_callers_masked_and_an_agent_only_themself():
    e, wb = engine(), board()
    e.handle(ev.CallQueued("c1", "support", CALLER), T0)
    snapshot = (update(wb, e, T0), wb.snapshot(T0))[1]
    masked = for_viewer(snapshot, Viewer(sees_everything=True, sees_numbers=False))
    assert masked["callers"]["support/c1"]["caller"] == "13******000"
    assert snapshot["callers"]["support/c1"]["caller"] == CALLER  # the model keeps it
    own = for_viewer(snapshot, Viewer(False, False, agent_id="1002"))
    assert own["agents"] == {"1002": snapshot["agents"]["1002"]}
    assert own["callers"] == {} and own["queues"] == {}
    e.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0 + 1)
    e.handle(ev.AgentPaused("1001", "busy"), T0 + 1)
    assert for_viewer(update(wb, e, T0 + 1), Viewer(False, False, agent_id="1002")) is None


def test_deltas_of_a_viewer_that_fell_behind_merge_and_too_many_rows_ask_for_a_snapshot():
    first = {"type": "delta", "now": 1.0, "seq": 1, "callers": {"q/c1": {"id": "c1"}},
             "agents": {"1": {"state": "available"}}}
    second = {"type": "delta", "now": 2.0, "seq": 2, "agents": {"1": {"state": "paused"}},
              "gone": {"callers": ["q/c1"]}}
    merged = merge(first, second, max_rows=10)
    assert merged == {"type": "delta", "now": 2.0, "seq": 2,
                      "agents": {"1": {"state": "paused"}}, "gone": {"callers": ["q/c1"]}}
    assert merge(first, second, max_rows=1) is None


def test_an_update_of_some_agents_compares_only_those_and_notices_one_removed():
    e, wb = engine(), board()
    update(wb, e, T0)
    e.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0 + 1)
    e.handle(ev.AgentLoggedIn("1002", "PJSIP/agent1002"), T0 + 1)
    delta = wb.update([e.agent_view("1001")], [], T0 + 1, only_agents=["1001", "9999"])
    assert list(delta["agents"]) == ["1001"] and "gone" in delta  # (the queue's tile went)
    assert wb.snapshot(T0 + 1)["agents"]["1002"]["state"] == "logged-out"  # not re-read
    wb.rows["agents"]["9999"] = {"id": "9999"}  # an agent a reload removed
    delta = wb.update([], [], T0 + 2, only_agents=["9999"])
    assert delta["gone"] == {"agents": ["9999"]} and "9999" not in wb.snapshot(T0)["agents"]


def test_an_unreachable_phone_and_a_pause_asked_during_a_call_show_on_the_agents_row():
    e, wb = engine(), board()
    e.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0)
    e.handle(ev.CallQueued("c1", "support", CALLER), T0)
    e.handle(ev.RingAnswered("c1", "1001"), T0 + 2)
    update(wb, e, T0 + 2)
    e.handle(ev.AgentDeviceReachability("1001", False), T0 + 3)
    e.handle(ev.AgentPaused("1001", "lunch"), T0 + 3)
    row = update(wb, e, T0 + 3)["agents"]["1001"]
    assert (row["reachable"], row["state"], row["pending_pause"], row["call_id"]) == \
        (False, "on-call", "lunch", "c1")
