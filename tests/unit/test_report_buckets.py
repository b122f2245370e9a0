"""Report buckets in local time, with and without daylight saving time, and the figures
derived from the database's sums."""

from __future__ import annotations

import math
import random

import pytest

from acd.reports import figures
from acd.reports.buckets import (
    Interval,
    RangeError,
    bucket_of,
    make_buckets,
    parse_range,
    segments,
)
from tests.reports_reference import local_bucket


def test_a_day_in_shanghai_has_96_quarter_hours_starting_at_local_midnight() -> None:
    buckets = make_buckets(parse_range("2026-11-01", "2026-11-01", "15m", "Asia/Shanghai", 31))
    assert len(buckets) == 96
    assert buckets[0].label == "2026-11-01T00:00:00+08:00"
    assert buckets[-1].label == "2026-11-01T23:45:00+08:00"
    assert all(b.end - b.start == 900 for b in buckets)


def test_the_spring_night_has_no_bucket_for_the_skipped_hour() -> None:
    hours = make_buckets(parse_range("2026-03-29", "2026-03-29", "hour", "Europe/Berlin", 31))
    labels = [b.label[11:] for b in hours]
    assert len(hours) == 23
    assert "02:00:00+01:00" not in labels and "02:00:00+02:00" not in labels
    assert labels[1:3] == ["01:00:00+01:00", "03:00:00+02:00"]


def test_the_autumn_day_has_25_hours_and_one_day_bucket_of_25_hours() -> None:
    span = "2026-10-25", "2026-10-25"
    assert len(make_buckets(parse_range(*span, "hour", "Europe/Berlin", 31))) == 25
    day = make_buckets(parse_range(*span, "day", "Europe/Berlin", 31))
    assert len(day) == 1 and day[0].end - day[0].start == 25 * 3600


def test_a_range_of_local_times_cuts_the_first_and_last_buckets_short() -> None:
    span = parse_range("2026-11-01T09:10", "2026-11-01T10:05", "15m", "Asia/Shanghai", 31)
    buckets = make_buckets(span)
    assert [b.label[11:16] for b in buckets] == ["09:10", "09:15", "09:30", "09:45", "10:00"]
    assert buckets[0].end - buckets[0].start == 300 and buckets[-1].end == span.end


@pytest.mark.parametrize("interval", list(Interval))
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "Asia/Kolkata",
                                  "America/St_Johns"])
def test_the_segment_arithmetic_finds_the_same_bucket_as_a_search(
        interval: Interval, zone: str) -> None:
    span = parse_range("2026-10-20T07:20", "2026-11-05", interval.value, zone, 31)
    buckets = make_buckets(span)
    starts = [b.start for b in buckets]
    parts = segments(buckets, interval)
    rng = random.Random(4)
    moments = [rng.uniform(span.start, span.end) for _ in range(3000)] + starts
    for moment in moments:
        part = next(p for p in parts if moment < p.until)
        number = part.base + (math.floor((moment - part.origin) / part.size) if part.size else 0)
        assert number == bucket_of(moment, starts, span.end)
        if number > 0:  # the first bucket starts at 07:20, not on a boundary
            assert buckets[number].label == local_bucket(moment, interval.value, zone,
                                                         span.start)


@pytest.mark.parametrize(("start", "end", "says"), [
    ("2026-11-02", "2026-11-01", "must be after from"),
    ("2026-11-01", "", "give both from and to"),
    ("11/01/2026", "2026-11-02", "is not a date"),
    ("2026-01-01", "2026-12-31", "at most 31 days"),
])
def test_a_range_that_cannot_be_reported_says_why(start: str, end: str, says: str) -> None:
    with pytest.raises(RangeError, match=says):
        parse_range(start, end, "day", "Asia/Shanghai", 31)


def test_ratios_with_nothing_to_divide_by_are_null_and_series_cover_every_bucket() -> None:
    sums = [{"bucket": 1, "queue": "sales", "offered": 4, "answered": 2, "short_abandoned": 2,
             "answered_in_service_level": 1, "answered_wait_seconds": 30.0,
             "talk_seconds": 100.0, "hold_seconds": 20.0, "wrap_up_seconds": 10.0}]
    report = figures.build(figures.QUEUES, sums, ["b0", "b1", "b2"], interval="hour",
                           timezone="Asia/Shanghai", start="b0", end="b3")
    row = dict(zip([c.name for c in report.columns], report.rows[0], strict=True))
    assert row["service_level"] == 0.5  # 1 of the 2 that were not short abandons
    assert row["asa"] == 15.0 and row["aht"] == 65.0
    series = report.series()["sales"]
    assert series["offered"] == [0, 4, 0]
    assert series["service_level"] == [None, 0.5, None]


def test_occupancy_is_talk_and_wrap_up_over_logged_in_time_that_was_not_paused() -> None:
    rows = [{"bucket": 0, "agent": "1001", "state": state, "reason": reason, "seconds": secs}
            for state, reason, secs in [("available", "", 300.0), ("on-call", "", 400.0),
                                        ("wrap-up", "", 100.0), ("paused", "lunch", 100.0)]]
    sums, reasons = figures.pivot_states(rows)
    report = figures.build(figures.Shape("agent-states", ("agent",),
                                         figures.state_figures(reasons)),
                           sums, ["b0"], interval="day", timezone="UTC", start="", end="")
    row = dict(zip([c.name for c in report.columns], report.rows[0], strict=True))
    assert row["logged_in"] == 900.0 and row["paused:lunch"] == 100.0
    assert row["occupancy"] == round(500 / 800, 4)
