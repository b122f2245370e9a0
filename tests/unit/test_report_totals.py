"""The report sums a supervisor reads beyond one queue's row: the all-queues (all-agents)
total, the calls that overflowed out of a queue, and the roll-up's rows completed
with the calls at a threshold. Pure: sums in, sums out."""

from __future__ import annotations

from acd.history.departures import left, queues_of
from acd.history.schema import ANSWERED_WAIT_EDGES
from acd.reports.buckets import Bucket
from acd.reports.figures import ALL, QUEUES, add_departures, add_totals, build
from acd.reports.queries import Filters
from acd.reports.rollup_queries import combine, covers, edge_below


def _row(report_rows: list[list[object]], queue: str) -> dict[str, object]:
    names = [f.column.name for f in QUEUES.figures]
    row = next(r for r in report_rows if r[1] == queue)
    return dict(zip(names, row[2:], strict=True))


def test_the_all_queues_service_level_is_taken_over_every_call_not_averaged() -> None:
    sums = [  # sales: 9 of 10 within its level; vip: 0 of 90 within its own
        {"bucket": 0, "queue": "sales", "offered": 10, "answered": 10,
         "answered_in_service_level": 9, "longest_wait": 30.0, "talk_seconds": 100.0},
        {"bucket": 0, "queue": "vip", "offered": 90, "answered": 90,
         "answered_in_service_level": 0, "longest_wait": 80.0, "talk_seconds": 900.0}]
    report = build(QUEUES, add_totals(sums, ("queue",)), ["b0"], interval="total",
                   timezone="UTC", start="", end="")
    every = _row(report.rows, ALL)
    assert every["offered"] == 100 and every["answered_in_service_level"] == 9
    assert every["service_level"] == 0.09  # not (0.9 + 0.0) / 2
    assert every["longest_wait"] == 80.0 and every["average_talk"] == 10.0


def test_a_survey_total_is_per_question_over_all_queues() -> None:
    sums = [{"bucket": 0, "queue": q, "question": question, "answers": 2, "answer_1": 1}
            for q in ("sales", "vip") for question in ("service", "all")]
    totals = [r for r in add_totals(sums, ("queue", "question")) if r["queue"] == ALL]
    assert sorted((r["question"], r["answers"]) for r in totals) == [("all", 4),
                                                                      ("service", 4)]


def test_a_queue_only_left_by_overflowed_calls_shows_them_offered_and_overflowed_out(
        ) -> None:
    sums = add_departures([{"bucket": 0, "queue": "sales", "offered": 3, "answered": 3}],
                          [{"bucket": 0, "queue": "sales", "overflowed_out": 1},
                           {"bucket": 0, "queue": "vip", "overflowed_out": 2}])
    report = build(QUEUES, sums, ["b0"], interval="total", timezone="UTC", start="", end="")
    sales, vip = _row(report.rows, "sales"), _row(report.rows, "vip")
    assert (sales["offered"], sales["overflowed_out"], sales["service_level"]) == (4, 1, 0.0)
    assert (vip["offered"], vip["overflowed_out"], vip["unanswered_other"]) == (2, 2, 0)
    assert vip["service_level"] is None  # no call ended there: nothing to measure


def test_the_queues_a_call_left_are_all_but_the_last() -> None:
    assert left('["sales", "support", "sales"]') == ["sales", "support"]
    assert left('["sales"]') == [] and left("") == [] and left("{broken") == []
    assert queues_of('["a", "b"]', "b") == {"a", "b"}


def test_a_threshold_is_read_under_the_edge_at_or_below_it() -> None:
    assert edge_below(20, ANSWERED_WAIT_EDGES) == 20
    assert edge_below(22.5, ANSWERED_WAIT_EDGES) == 20
    assert edge_below(3, ANSWERED_WAIT_EDGES) == 0


def test_the_roll_up_serves_ranges_of_whole_quarter_hours_without_an_agent_filter() -> None:
    quarter = [Bucket(900.0 * n, 900.0 * (n + 1), "") for n in range(4)]
    assert covers(quarter, Filters(0.0, 3600.0))
    assert not covers(quarter, Filters(0.0, 3600.0, agent="1001"))
    assert not covers([Bucket(420.0, 900.0, ""), *quarter[1:]], Filters(420.0, 3600.0))
    assert not covers(quarter, Filters(0.0, 3000.0))


def test_calls_at_a_threshold_complete_the_roll_ups_counts() -> None:
    [row] = combine([{"bucket": 0, "queue": "sales", "offered": 10, "answered": 6,
                      "abandoned_all": 4, "exited": 0, "answered_wait_seconds": 60.0,
                      "talk_seconds": 0.0, "hold_seconds": 0.0, "wrap_up_seconds": 0.0,
                      "callbacks_requested": 0, "callbacks_completed": 0, "transfers": 0,
                      "overflowed_out": 0, "longest_wait": 50.0, "in_level_under_edge": 4,
                      "short_under_edge": 1}],
                    [{"bucket": 0, "queue": "sales", "figure": "in_level", "calls": 1},
                     {"bucket": 0, "queue": "sales", "figure": "short", "calls": 2}])
    assert row["answered_in_service_level"] == 5
    assert (row["short_abandoned"], row["abandoned"]) == (3, 1)
