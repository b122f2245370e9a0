"""Company dates edited in the console over config.yaml's: what a day then does, and
the clear words for a bad edit (acd.config.company_dates)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from acd.config.company_dates import (
    DateEditError,
    date_row,
    effective_dates,
    parse_date_edit,
    single_days,
)
from acd.rules.calendar import StatutoryCalendar
from acd.rules.schedule import CompanyDate, Schedule, ScheduleState

WEEKDAYS = ((9 * 3600, 18 * 3600),)
NATIONAL_DAY = CompanyDate(date(2026, 10, 1), date(2026, 10, 7), ScheduleState.HOLIDAY,
                           name="国庆")


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def schedule(*dates: CompanyDate) -> Schedule:
    return Schedule("support", [WEEKDAYS] * 5 + [(), ()], statutory=False,
                    company_dates=dates, calendar=StatutoryCalendar(frozenset()))


def test_a_holiday_the_company_adds_closes_that_day_and_says_its_name():
    base = schedule()
    assert base.decide(at(2026, 12, 24, 10)).state is ScheduleState.OPEN
    edit = parse_date_edit({"date": "2026-12-24", "state": "holiday", "label": "公司年会"})
    edited = base.with_company_dates(effective_dates(base.company_dates, single_days(edit)))
    decision = edited.decide(at(2026, 12, 24, 10))
    assert decision.state is ScheduleState.HOLIDAY
    assert decision.reason == "company date 2026-12-24 (公司年会)"
    assert edited.decide(at(2026, 12, 23, 10)).state is ScheduleState.OPEN


def test_an_adjusted_working_saturday_opens_with_the_adjusted_day_hours_or_its_own():
    base = schedule()
    workday = parse_date_edit({"date": "2026-12-26", "state": "open"})
    special = parse_date_edit({"date": "2026-12-27", "state": "open",
                               "hours": "10:00-12:00, 13:00-15:00"})
    edits = {**single_days(workday), **single_days(special)}
    edited = base.with_company_dates(effective_dates((), edits))
    assert edited.decide(at(2026, 12, 26, 9)).state is ScheduleState.OPEN  # Monday's hours
    assert [(start, state.value) for start, state, _ in edited.describe(date(2026, 12, 27))] \
        == [(0, "closed"), (36000, "open"), (43200, "closed"), (46800, "open"),
            (54000, "closed")]


def test_removing_one_day_of_a_configured_range_keeps_the_other_days():
    edits: dict[date, CompanyDate | None] = {date(2026, 10, 3): None}
    dates = effective_dates([NATIONAL_DAY], edits)
    assert [(e.first.day, e.last.day) for e in dates] == [(1, 2), (4, 7)]
    edited = schedule(NATIONAL_DAY).with_company_dates(dates)
    assert edited.decide(at(2026, 10, 3, 10)).state is ScheduleState.CLOSED  # a Saturday
    assert edited.decide(at(2026, 10, 5, 10)).state is ScheduleState.HOLIDAY


def test_an_edited_day_replaces_the_configured_one_and_is_listed_as_the_consoles():
    edit = parse_date_edit({"date": "2026-10-08", "state": "closed"})
    edits = single_days(parse_date_edit({"date": "2026-10-07", "state": "open"})) | \
        single_days(edit)
    dates = effective_dates([NATIONAL_DAY], edits)
    rows = [date_row(e, e.first in edits) for e in dates]
    assert [(r["from"], r["to"], r["state"], r["source"]) for r in rows] == [
        ("2026-10-01", "2026-10-06", "holiday", "config"),
        ("2026-10-07", "2026-10-07", "open", "console"),
        ("2026-10-08", "2026-10-08", "closed", "console")]


def test_a_range_edit_is_kept_one_day_at_a_time():
    edit = parse_date_edit({"from": "2027-02-01", "to": "2027-02-03", "state": "holiday"})
    assert sorted(d.day for d in single_days(edit)) == [1, 2, 3]


@pytest.mark.parametrize(("body", "words"), [
    ({"state": "closed"}, "give date"),
    ({"date": "24/12/2026", "state": "closed"}, "write YYYY-MM-DD"),
    ({"date": "2026-12-24", "state": "shut"}, "state is open, closed or holiday"),
    ({"date": "2026-12-24", "state": "closed", "hours": ["09:00-12:00"]},
     "hours only go with state open"),
    ({"date": "2026-12-24", "state": "open", "hours": ["18:00-09:00"]}, "ends before"),
    ({"date": "2026-12-24", "state": "open", "hours": ["09:00-12:00", "11:00-13:00"]},
     "overlaps"),
    ({"from": "2026-12-24", "to": "2026-12-20", "state": "closed"}, "is before"),
    ({"from": "2026-01-01", "to": "2027-06-01", "state": "closed"}, "at most 366 days"),
    ({"date": "2026-12-24", "state": "closed", "label": "x" * 61}, "at most 60"),
])
def test_a_bad_edit_is_refused_with_what_to_write(body, words):
    with pytest.raises(DateEditError, match=words):
        parse_date_edit(body)
