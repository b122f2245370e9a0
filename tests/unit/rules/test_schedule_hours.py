"""Weekly hours, boundaries, company dates and next_change, with an explicit `now`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from acd.rules.calendar import StatutoryCalendar
from acd.rules.schedule import (
    CompanyDate,
    Schedule,
    ScheduleBook,
    ScheduleState,
    UnknownSchedule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN, CLOSED, HOLIDAY = ScheduleState.OPEN, ScheduleState.CLOSED, ScheduleState.HOLIDAY


def at(*parts: int, tz: str = "Asia/Shanghai") -> float:
    return datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def ranges(*texts: str) -> tuple[tuple[int, int], ...]:
    return tuple((hm(t.split("-")[0]), hm(t.split("-")[1])) for t in texts)


WEEKDAY = ranges("09:00-12:00", "13:00-18:00")
WEEKLY = [WEEKDAY] * 5 + [ranges("09:00-12:00"), ()]


def support(**kwargs: Any) -> Schedule:
    kwargs.setdefault("calendar", StatutoryCalendar())
    return Schedule("support", WEEKLY, **kwargs)


# 2026-11-23 is a Monday, 2026-11-28 a Saturday, 2026-11-29 a Sunday.
@pytest.mark.parametrize(("moment", "state", "reason", "next_change"), [
    ((2026, 11, 23, 8, 59, 59), CLOSED, "outside hours", (2026, 11, 23, 9, 0)),
    ((2026, 11, 23, 9, 0, 0), OPEN, "open 09:00-12:00", (2026, 11, 23, 12, 0)),
    ((2026, 11, 23, 11, 59, 59), OPEN, "open 09:00-12:00", (2026, 11, 23, 12, 0)),
    ((2026, 11, 23, 12, 0, 0), CLOSED, "outside hours", (2026, 11, 23, 13, 0)),
    ((2026, 11, 23, 13, 0, 0), OPEN, "open 13:00-18:00", (2026, 11, 23, 18, 0)),
    ((2026, 11, 23, 17, 59, 59), OPEN, "open 13:00-18:00", (2026, 11, 23, 18, 0)),
    ((2026, 11, 23, 18, 0, 0), CLOSED, "outside hours", (2026, 11, 24, 9, 0)),
    ((2026, 11, 27, 18, 0, 0), CLOSED, "outside hours", (2026, 11, 28, 9, 0)),
    ((2026, 11, 28, 10, 0, 0), OPEN, "open 09:00-12:00", (2026, 11, 28, 12, 0)),
    ((2026, 11, 28, 12, 0, 0), CLOSED, "outside hours", (2026, 11, 30, 9, 0)),
    ((2026, 11, 29, 10, 0, 0), CLOSED, "outside hours", (2026, 11, 30, 9, 0)),
])
def test_weekly_ranges_open_at_their_start_and_close_at_their_end(
        moment: tuple[int, ...], state: ScheduleState, reason: str,
        next_change: tuple[int, ...]) -> None:
    decision = support().decide(at(*moment))
    assert (decision.state, decision.reason) == (state, reason)
    assert decision.next_change == at(*next_change)
    assert decision.special_flow is None and decision.special_prompt is None


def test_ranges_that_touch_across_midnight_report_the_real_change() -> None:
    night = ranges("00:00-24:00")
    schedule = Schedule("night", [night] * 5 + [(), ()], statutory=False)
    decision = schedule.decide(at(2026, 11, 23, 23, 0))
    assert decision.state is OPEN
    assert decision.next_change == at(2026, 11, 28, 0, 0)


def test_a_schedule_that_never_opens_has_no_next_change() -> None:
    closed = Schedule("closed", [()] * 7, statutory=False)
    decision = closed.decide(at(2026, 11, 23, 10, 0))
    assert decision.state is CLOSED and decision.next_change is None


def test_hours_are_read_in_the_schedules_own_timezone() -> None:
    london = Schedule("london", [ranges("09:00-17:00")] * 7, timezone="Europe/London",
                      statutory=False)
    # 09:00 in London is 17:00 in Shanghai (winter time).
    assert london.decide(at(2026, 11, 23, 16, 59, 59)).state is CLOSED
    assert london.decide(at(2026, 11, 23, 17, 0)).state is OPEN
    assert london.decide(at(2026, 11, 23, 9, 0, tz="Europe/London")).state is OPEN


def test_next_change_follows_wall_clock_across_a_dst_switch() -> None:
    london = Schedule("london", [ranges("09:00-17:00")] * 7, timezone="Europe/London",
                      statutory=False)
    # Clocks go forward on Sunday 2027-03-28; the next opening is 09:00 BST.
    decision = london.decide(at(2027, 3, 27, 18, 0, tz="Europe/London"))
    assert decision.next_change == at(2027, 3, 28, 9, 0, tz="Europe/London")


def test_company_date_closes_a_normal_working_day_with_its_prompt() -> None:
    eve = CompanyDate(datetime(2026, 12, 24).date(), datetime(2026, 12, 24).date(), CLOSED,
                      prompt="christmas_eve")
    decision = support(company_dates=[eve]).decide(at(2026, 12, 24, 10, 0))
    assert decision.state is CLOSED
    assert decision.special_prompt == "christmas_eve"
    assert decision.reason == "company date 2026-12-24"
    assert decision.next_change == at(2026, 12, 25, 0, 0)


def test_company_date_opens_a_statutory_holiday_with_its_own_hours() -> None:
    day = datetime(2026, 10, 2).date()
    duty = CompanyDate(day, day, OPEN, hours=ranges("10:00-16:00"), name="值班")
    schedule = support(company_dates=[duty])
    assert schedule.decide(at(2026, 10, 2, 10, 0)).state is OPEN
    assert schedule.decide(at(2026, 10, 2, 10, 0)).reason == \
        "company date 2026-10-02 (值班): open 10:00-16:00"
    assert schedule.decide(at(2026, 10, 2, 16, 0)).state is CLOSED
    assert schedule.decide(at(2026, 10, 1, 10, 0)).state is HOLIDAY


def test_company_holiday_range_carries_its_flow_all_day() -> None:
    newyear = CompanyDate(datetime(2026, 12, 31).date(), datetime(2027, 1, 1).date(),
                          HOLIDAY, flow="newyear")
    schedule = support(company_dates=[newyear])
    decision = schedule.decide(at(2026, 12, 31, 10, 0))
    assert (decision.state, decision.special_flow) == (HOLIDAY, "newyear")
    assert decision.reason == "company dates 2026-12-31..2027-01-01"
    # 2027-01-02/03 are the weekend of the 元旦 break: still a holiday, no flow.
    assert decision.next_change == at(2027, 1, 2, 0, 0)


def test_new_years_eve_2026_turns_into_the_new_year_holiday_at_midnight() -> None:
    schedule = support()
    before = schedule.decide(at(2026, 12, 31, 23, 59, 59))
    after = schedule.decide(at(2027, 1, 1, 0, 0, 1))
    assert (before.state, before.reason) == (CLOSED, "outside hours")
    assert before.next_change == at(2027, 1, 1, 0, 0)
    assert (after.state, after.reason) == (HOLIDAY, "statutory holiday: 元旦")
    # Friday 1 January and the weekend after it; at Monday 00:00 it is only closed.
    assert after.next_change == at(2027, 1, 4, 0, 0)


def test_new_years_eve_follows_a_frozen_clock_stepping_over_midnight() -> None:
    from acd.clock import FixedClock

    clock = FixedClock(at(2026, 12, 31, 23, 59, 59))
    schedule = support()
    states = []
    for _ in range(3):
        states.append(schedule.decide(clock.now()).state)
        clock.advance(1)
    assert states == [CLOSED, HOLIDAY, HOLIDAY]


def test_schedule_book_decides_by_name_and_lists_names() -> None:
    book = ScheduleBook({"support": support(), "sales": support()})
    assert book.names() == ["support", "sales"]
    assert book.decide("sales", at(2026, 11, 23, 9, 0)).state is OPEN
    with pytest.raises(UnknownSchedule, match="unknown schedule 'nope'"):
        book.decide("nope", at(2026, 11, 23, 9, 0))


def test_weekly_hours_must_cover_seven_days() -> None:
    with pytest.raises(ValueError, match="7 days"):
        Schedule("short", [WEEKDAY] * 5)
