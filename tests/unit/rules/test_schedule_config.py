"""The `schedules:` YAML: the format, and errors at their exact file:line:column."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from acd.config.schedules import parse_schedules
from acd.rules.calendar import StatutoryCalendar
from acd.rules.schedule import ScheduleState
from acd.yamlsource import SourceError, load_text

EXAMPLE = """\
schedules:
  support:
    timezone: Asia/Shanghai
    hours:
      mon-fri: ["09:00-12:00", "13:00-18:00"]
      sat: ["09:00-12:00"]
    holidays: statutory
    adjusted_workday_hours: mon
    company_dates:
      - {date: 2026-12-24, state: closed, prompt: christmas_eve}
      - {from: 2026-12-31, to: 2027-01-01, state: holiday, flow: newyear}
      - {date: 2026-12-26, state: open, hours: ["10:00-16:00"], name: year-end push}
  night:
    hours:
      "sat,sun": "00:00-24:00"
    holidays: none
"""


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def parse(text: str) -> tuple[dict[str, object], list[str]]:
    errors: list[SourceError] = []
    node = load_text(text, "config.yaml")["schedules"]
    schedules = parse_schedules(node, errors, calendar=StatutoryCalendar())
    return dict(schedules), [str(e) for e in errors]


def test_the_documented_example_parses_into_working_schedules() -> None:
    errors: list[SourceError] = []
    schedules = parse_schedules(load_text(EXAMPLE, "config.yaml")["schedules"], errors)
    assert errors == []
    support, night = schedules["support"], schedules["night"]
    assert support.timezone == "Asia/Shanghai" and support.statutory
    assert support.weekly[0] == ((9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600))
    assert support.weekly[6] == ()
    assert [d.first for d in support.company_dates] == [
        date(2026, 12, 24), date(2026, 12, 31), date(2026, 12, 26)]
    eve = support.decide(at(2026, 12, 24, 10, 0))
    assert (eve.state, eve.special_prompt) == (ScheduleState.CLOSED, "christmas_eve")
    assert support.decide(at(2027, 1, 1, 10, 0)).special_flow == "newyear"
    push = support.decide(at(2026, 12, 26, 15, 0))
    assert push.reason == "company date 2026-12-26 (year-end push): open 10:00-16:00"
    assert night.decide(at(2026, 11, 28, 3, 0)).state is ScheduleState.OPEN
    assert not night.statutory


@pytest.mark.parametrize(("body", "expected"), [
    # unknown key in a schedule
    ("  s:\n    hours: {}\n    opening: x\n",
     "config.yaml:4:5: unknown key 'opening' in schedule 's'"),
    # bad timezone
    ("  s:\n    timezone: Asia/Beijing\n    hours: {}\n",
     "config.yaml:3:5: unknown timezone 'Asia/Beijing'"),
    # unknown day name
    ("  s:\n    hours:\n      mon-fry: [\"09:00-18:00\"]\n",
     "config.yaml:4:7: unknown day 'fry' in 'mon-fry'"),
    # a day given twice
    ("  s:\n    hours:\n      mon-fri: [\"09:00-18:00\"]\n      fri: [\"09:00-12:00\"]\n",
     "config.yaml:5:7: fri is already given at config.yaml:4:7"),
    # backwards day range
    ("  s:\n    hours:\n      fri-mon: [\"09:00-18:00\"]\n",
     "config.yaml:4:7: day range 'fri-mon' runs backwards"),
    # bad time: the list item's own position
    ("  s:\n    hours:\n      mon: [\"09:00-12:00\", \"13:00-25:00\"]\n",
     "config.yaml:4:28: bad time in '13:00-25:00'"),
    # not a range at all
    ("  s:\n    hours:\n      mon:\n        - \"9am-5pm\"\n",
     "config.yaml:5:11: bad time range '9am-5pm'"),
    # ends before it starts
    ("  s:\n    hours:\n      mon: [\"18:00-09:00\"]\n",
     "config.yaml:4:13: range '18:00-09:00' ends before it starts"),
    # overlapping ranges: reported at the later one
    ("  s:\n    hours:\n      mon:\n        - \"09:00-12:00\"\n        - \"11:00-13:00\"\n",
     "config.yaml:6:11: 11:00-13:00 overlaps the range ending at 12:00"),
    # holidays value
    ("  s:\n    hours: {}\n    holidays: cn\n",
     "config.yaml:4:5: holidays must be 'statutory' or 'none'"),
    # missing hours
    ("  s:\n    holidays: none\n",
     "config.yaml:3:5: schedule 's' needs hours:"),
    # company date: bad state
    ("  s:\n    hours: {}\n    company_dates:\n      - {date: 2026-12-24, state: shut}\n",
     "config.yaml:5:28: state must be open, closed or holiday"),
    # company date: to before from
    ("  s:\n    hours: {}\n    company_dates:\n"
     "      - {from: 2027-01-02, to: 2027-01-01, state: holiday}\n",
     "config.yaml:5:28: to: 2027-01-01 is before from: 2027-01-02"),
    # company date: bad date
    ("  s:\n    hours: {}\n    company_dates:\n      - {date: \"2026-02-30\", state: closed}\n",
     "config.yaml:5:10: bad date '2026-02-30'"),
    # company date: overlapping entries
    ("  s:\n    hours: {}\n    company_dates:\n"
     "      - {from: 2026-12-30, to: 2027-01-02, state: holiday}\n"
     "      - {date: 2027-01-01, state: open}\n",
     "config.yaml:6:9: 2027-01-01 is already set by the entry at config.yaml:5:9"),
    # company date: hours on a closed day
    ("  s:\n    hours: {}\n    company_dates:\n"
     "      - {date: 2026-12-24, state: closed, hours: [\"09:00-12:00\"]}\n",
     "config.yaml:5:43: hours only go with state: open, not closed"),
    # company date: unknown key
    ("  s:\n    hours: {}\n    company_dates:\n"
     "      - {date: 2026-12-24, state: closed, promt: x}\n",
     "config.yaml:5:43: unknown key 'promt' in a company date"),
    # adjusted_workday_hours
    ("  s:\n    hours: {}\n    adjusted_workday_hours: monday\n",
     "config.yaml:4:5: adjusted_workday_hours must be a day name"),
])
def test_config_errors_point_at_the_offending_spot(body: str, expected: str) -> None:
    schedules, errors = parse("schedules:\n" + body)
    assert schedules == {}
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors[0]


def test_all_errors_are_collected_and_good_schedules_kept() -> None:
    text = ("schedules:\n"
            "  good:\n    hours: {mon: \"09:00-18:00\"}\n"
            "  bad:\n    timezone: Mars/Olympus\n    hours: {}\n"
            "  worse:\n    hours: {xyz: []}\n    colour: red\n")
    schedules, errors = parse(text)
    assert list(schedules) == ["good"]
    assert [e.split(": ")[0] for e in errors] == [
        "config.yaml:5:5", "config.yaml:9:5", "config.yaml:8:13"]


def test_without_an_error_list_the_first_problem_is_raised() -> None:
    node = load_text("schedules:\n  s:\n    hours: {mon: \"9-5\"}\n", "c.yaml")["schedules"]
    with pytest.raises(SourceError, match=r"^c\.yaml:3:13: bad time range '9-5'"):
        parse_schedules(node)


def test_schedules_must_be_a_mapping() -> None:
    node = load_text("schedules:\n  - support\n", "c.yaml")["schedules"]
    errors: list[SourceError] = []
    assert parse_schedules(node, errors) == {}
    assert str(errors[0]) == "c.yaml:2:3: schedules must be a mapping of name to schedule"
