"""The Chinese statutory calendar in schedules: holidays, 调休, the horizon."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from acd.rules import calendar as calendar_module
from acd.rules.calendar import DayKind, StatutoryCalendar
from acd.rules.schedule import CompanyDate, Schedule, ScheduleBook, ScheduleState

OPEN, CLOSED, HOLIDAY = ScheduleState.OPEN, ScheduleState.CLOSED, ScheduleState.HOLIDAY
NINE_TO_SIX = ((9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600))
SATURDAY_MORNING = ((9 * 3600, 12 * 3600),)


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def support(statutory: bool = True, **kwargs: Any) -> Schedule:
    weekly = [NINE_TO_SIX] * 5 + [SATURDAY_MORNING, ()]
    return Schedule("support", weekly, statutory=statutory,
                    calendar=kwargs.pop("calendar", StatutoryCalendar()), **kwargs)


# The 2026 arrangement, as the holidays package has it from the State Council
# notice: 国庆 10/1-10/7 with 9/20 (Sun) and 10/10 (Sat) worked; 春节 2/15-2/23
# with 2/14 (Sat) and 2/28 (Sat) worked.
@pytest.mark.parametrize(("moment", "state", "reason"), [
    ((2026, 10, 1, 10, 0), HOLIDAY, "statutory holiday: 国庆节"),
    ((2026, 10, 4, 10, 0), HOLIDAY, "statutory holiday: 国庆节"),  # a Sunday of the break
    ((2026, 10, 6, 10, 0), HOLIDAY, "statutory holiday: 国庆节"),  # day off for 9/20
    ((2026, 10, 7, 10, 0), HOLIDAY, "statutory holiday: 国庆节"),
    ((2026, 10, 8, 10, 0), OPEN, "open 09:00-12:00"),
    ((2026, 9, 20, 10, 0), OPEN, "adjusted working day (调休): open 09:00-12:00"),  # Sunday
    ((2026, 9, 20, 15, 0), OPEN, "adjusted working day (调休): open 13:00-18:00"),
    ((2026, 10, 10, 15, 0), OPEN, "adjusted working day (调休): open 13:00-18:00"),  # Sat
    ((2026, 10, 10, 18, 0), CLOSED, "adjusted working day (调休): outside hours"),
    ((2026, 2, 14, 15, 0), OPEN, "adjusted working day (调休): open 13:00-18:00"),  # Sat
    ((2026, 2, 16, 10, 0), HOLIDAY, "statutory holiday: 农历除夕"),
    ((2026, 2, 17, 10, 0), HOLIDAY, "statutory holiday: 春节"),
    ((2026, 2, 21, 10, 0), HOLIDAY, "statutory holiday: 春节"),  # Sat inside the break
    ((2026, 2, 23, 10, 0), HOLIDAY, "statutory holiday: 春节"),  # Mon, day off for 2/28
    ((2026, 2, 24, 10, 0), OPEN, "open 09:00-12:00"),
    ((2026, 2, 28, 10, 0), OPEN, "adjusted working day (调休): open 09:00-12:00"),
    ((2026, 1, 3, 10, 0), HOLIDAY, "statutory holiday: 元旦"),  # Sat of the 元旦 break
    ((2026, 1, 4, 10, 0), OPEN, "adjusted working day (调休): open 09:00-12:00"),  # Sun
])
def test_statutory_2026_holidays_and_adjusted_working_days(
        moment: tuple[int, ...], state: ScheduleState, reason: str) -> None:
    decision = support().decide(at(*moment))
    assert (decision.state, decision.reason) == (state, reason)


def test_national_day_break_ends_when_the_office_reopens() -> None:
    decision = support().decide(at(2026, 10, 1, 10, 0))
    assert decision.next_change == at(2026, 10, 8, 0, 0)


def test_adjusted_working_day_uses_the_configured_weekday_hours() -> None:
    weekly = [NINE_TO_SIX] * 4 + [((9 * 3600, 15 * 3600),), (), ()]
    friday_hours = Schedule("short_fridays", weekly, adjusted_workday=4,
                            calendar=StatutoryCalendar())
    assert friday_hours.decide(at(2026, 9, 20, 14, 0)).state is OPEN
    assert friday_hours.decide(at(2026, 9, 20, 15, 0)).state is CLOSED


def test_holidays_none_ignores_the_statutory_calendar() -> None:
    plain = support(statutory=False)
    assert plain.decide(at(2026, 10, 1, 10, 0)).state is OPEN
    assert plain.decide(at(2026, 9, 20, 10, 0)).state is CLOSED  # just a Sunday


def test_spring_festival_2027_keeps_the_days_fixed_by_law(
        caplog: pytest.LogCaptureFixture) -> None:
    schedule = support()
    with caplog.at_level(logging.WARNING, logger="acd.rules.calendar"):
        eve = schedule.decide(at(2027, 2, 5, 10, 0))
        first = schedule.decide(at(2027, 2, 6, 10, 0))
        third = schedule.decide(at(2027, 2, 8, 10, 0))
        after = schedule.decide(at(2027, 2, 9, 10, 0))
    assert (eve.state, eve.reason) == (HOLIDAY, "statutory holiday: 农历除夕")
    assert (first.state, first.reason) == (HOLIDAY, "statutory holiday: 春节")
    assert (third.state, third.reason) == (HOLIDAY, "statutory holiday: 春节")
    # holidays 0.109 has no 2027 notice: its "observed" guesses are not used.
    assert after.state is OPEN
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "no official Chinese holiday arrangement for 2027" in warnings[0]


def test_spring_festival_2027_adjusted_days_come_from_company_dates() -> None:
    # What an operator writes once the 2027 notice is out and before the
    # holidays package has it (example arrangement, not the official one).
    days_off = CompanyDate(date(2027, 2, 9), date(2027, 2, 13), HOLIDAY, name="春节调休")
    worked_saturday = CompanyDate(date(2027, 2, 20), date(2027, 2, 20), OPEN, name="调休上班")
    schedule = support(company_dates=[days_off, worked_saturday])
    assert schedule.decide(at(2027, 2, 10, 10, 0)).state is HOLIDAY
    assert schedule.decide(at(2027, 2, 13, 10, 0)).state is HOLIDAY  # a Saturday
    assert schedule.decide(at(2027, 2, 14, 10, 0)).state is CLOSED  # an ordinary Sunday
    assert schedule.decide(at(2027, 2, 15, 10, 0)).state is OPEN
    saturday = schedule.decide(at(2027, 2, 20, 15, 0))  # weekday (Monday) hours
    assert (saturday.state, saturday.reason) == (OPEN, "company date 2027-02-20 (调休上班): "
                                                       "open 13:00-18:00")


def test_out_of_horizon_year_never_raises_and_warns_once(
        caplog: pytest.LogCaptureFixture) -> None:
    schedule = support()
    with caplog.at_level(logging.WARNING, logger="acd.rules.calendar"):
        for hour in range(24):
            schedule.decide(at(2040, 3, 5, hour, 0))  # a Monday
        new_year = schedule.decide(at(2040, 1, 1, 10, 0))
    assert schedule.decide(at(2040, 3, 5, 10, 0)).state is OPEN
    assert new_year.state is HOLIDAY
    assert len([r for r in caplog.records if "2040" in r.getMessage()]) == 1


def test_beyond_the_sources_years_falls_back_to_weekly_hours() -> None:
    schedule = support()
    assert schedule.decide(at(2105, 1, 1, 10, 0)).state is OPEN  # a Thursday
    assert schedule.decide(at(2105, 1, 4, 10, 0)).state is CLOSED  # a Sunday


def test_a_failing_source_is_logged_and_weekly_hours_apply(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("data file missing")

    monkeypatch.setattr(calendar_module, "China", broken)
    with caplog.at_level(logging.ERROR, logger="acd.rules.calendar"):
        decision = support().decide(at(2026, 10, 1, 10, 0))
    assert decision.state is OPEN
    assert "holidays.China failed" in caplog.text


def test_calendar_reports_coverage_by_official_notice() -> None:
    calendar = StatutoryCalendar()
    assert calendar.covers(date(2026, 12, 31))
    assert not calendar.covers(date(2027, 1, 1))
    assert calendar.day(date(2026, 2, 14)).kind is DayKind.ADJUSTED_WORKDAY
    assert calendar.day(date(2027, 1, 1)) == calendar_module.StatutoryDay(
        DayKind.HOLIDAY, "元旦", covered=False)


def test_coverage_warning_names_the_uncovered_days() -> None:
    schedule = support()
    assert schedule.coverage_warning(at(2026, 9, 1, 12, 0)) is None
    warning = schedule.coverage_warning(at(2026, 11, 23, 12, 0))
    assert warning is not None
    assert "21 of the next 60 days (2027-01-01..2027-01-21)" in warning
    assert "upgrade `holidays` or add company_dates" in warning


def test_company_dates_fill_the_coverage_gap() -> None:
    gap = CompanyDate(date(2027, 1, 1), date(2027, 1, 21), HOLIDAY)
    assert support(company_dates=[gap]).coverage_warning(at(2026, 11, 23, 12, 0)) is None
    assert support(statutory=False).coverage_warning(at(2026, 11, 23, 12, 0)) is None


def test_schedule_book_joins_the_warnings_of_its_schedules() -> None:
    book = ScheduleBook({"a": support(), "b": support(statutory=False)})
    warning = book.coverage_warning(at(2026, 11, 23, 12, 0), days=60)
    assert warning is not None and warning.startswith("schedule 'support'")
    assert book.coverage_warning(at(2026, 11, 23, 12, 0), days=30) is None
