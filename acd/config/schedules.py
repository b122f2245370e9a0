"""The `schedules:` section of config.yaml, validated into `Schedule` objects.

Every problem is a `SourceError` at the offending key or list item. Pass an
`errors` list to collect them all (the valid schedules are still returned);
without one the first problem is raised.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from acd.rules.calendar import StatutoryCalendar
from acd.rules.schedule import (
    DAY_NAMES,
    CompanyDate,
    Ranges,
    Schedule,
    ScheduleState,
    format_seconds,
)
from acd.yamlsource import LocatedDict, LocatedList, Position, SourceError

_SCHEDULE_KEYS = {"timezone", "hours", "holidays", "adjusted_workday_hours", "company_dates"}
_DATE_KEYS = {"date", "from", "to", "state", "hours", "flow", "prompt", "name"}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MAX_SPAN_DAYS = 366


class _Errors:
    def __init__(self, sink: list[SourceError] | None) -> None:
        self.sink = sink
        self.count = 0

    def add(self, position: Position | None, message: str) -> None:
        error = SourceError(position, message)
        if self.sink is None:
            raise error
        self.sink.append(error)
        self.count += 1


def parse_schedules(
    node: LocatedDict,
    errors: list[SourceError] | None = None,
    *,
    calendar: StatutoryCalendar | None = None,
) -> dict[str, Schedule]:
    """Parse the mapping under `schedules:` (name -> schedule)."""
    report = _Errors(errors)
    result: dict[str, Schedule] = {}
    if not isinstance(node, dict):
        report.add(_pos(node), "schedules must be a mapping of name to schedule")
        return result
    for name, body in node.items():
        if not _NAME.match(name):
            report.add(node.pos(name), f"bad schedule name {name!r}: use letters, digits, _ . -")
            continue
        before = report.count
        schedule = _parse_schedule(name, body, node.pos(name), report, calendar)
        if schedule is not None and report.count == before:
            result[name] = schedule
    return result


def _pos(value: Any, fallback: Position | None = None) -> Position | None:
    pos = getattr(value, "position", None)
    return pos if isinstance(pos, Position) else fallback


def _parse_schedule(name: str, body: Any, where: Position, report: _Errors,
                    calendar: StatutoryCalendar | None) -> Schedule | None:
    if not isinstance(body, LocatedDict):
        report.add(where, f"schedule {name!r} must be a mapping")
        return None
    for key in body:
        if key not in _SCHEDULE_KEYS:
            report.add(body.pos(key), f"unknown key {key!r} in schedule {name!r}; "
                       f"expected one of {', '.join(sorted(_SCHEDULE_KEYS))}")
    timezone = body.get("timezone", "Asia/Shanghai")
    if not _valid_timezone(timezone):
        report.add(body.pos("timezone"), f"unknown timezone {timezone!r}, e.g. Asia/Shanghai")
        return None
    holidays = body.get("holidays", "statutory")
    if holidays not in ("statutory", "none"):
        report.add(body.pos("holidays"), f"holidays must be 'statutory' or 'none', "
                   f"not {holidays!r}")
    weekly: list[Ranges] = [()] * 7
    if "hours" in body:
        weekly = _parse_weekly(body["hours"], body.pos("hours"), report)
    else:
        report.add(body.pos(), f"schedule {name!r} needs hours:")
    adjusted = body.get("adjusted_workday_hours", "mon")
    if adjusted not in DAY_NAMES:
        report.add(body.pos("adjusted_workday_hours"),
                   f"adjusted_workday_hours must be a day name ({', '.join(DAY_NAMES)})")
        adjusted = "mon"
    dates: list[CompanyDate] = []
    if body.get("company_dates") is not None:
        dates = _parse_company_dates(body["company_dates"], body.pos("company_dates"), report)
    return Schedule(name, weekly, timezone=timezone, statutory=holidays == "statutory",
                    adjusted_workday=DAY_NAMES.index(adjusted), company_dates=dates,
                    calendar=calendar)


def _valid_timezone(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_days(spec: str) -> list[int]:
    """'mon-fri', 'sat', 'sat,sun' -> weekday indexes; ValueError explains."""
    days: list[int] = []
    for part in spec.lower().split(","):
        first, sep, last = (p.strip() for p in part.partition("-"))
        for day in (first, last) if sep else (first,):
            if day not in DAY_NAMES:
                raise ValueError(f"unknown day {day!r} in {spec!r}; "
                                 f"days are {', '.join(DAY_NAMES)}")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last if sep else first)
        if end < start:
            raise ValueError(f"day range {part.strip()!r} runs backwards; write it mon to sun")
        days.extend(range(start, end + 1))
    return days


def _parse_weekly(node: Any, where: Position, report: _Errors) -> list[Ranges]:
    weekly: list[Ranges] = [()] * 7
    if not isinstance(node, LocatedDict):
        report.add(_pos(node, where), "hours must map days (mon-fri, sat, ...) to ranges")
        return weekly
    seen: dict[int, Position] = {}
    for spec, value in node.items():
        try:
            days = _parse_days(str(spec))
        except ValueError as exc:
            report.add(node.pos(spec), str(exc))
            continue
        ranges = _parse_ranges(value, node.pos(spec), report)
        for day in days:
            if day in seen:
                report.add(node.pos(spec), f"{DAY_NAMES[day]} is already given at {seen[day]}")
                continue
            seen[day] = node.pos(spec)
            weekly[day] = ranges
    return weekly


def _parse_ranges(value: Any, where: Position, report: _Errors) -> Ranges:
    """["09:00-12:00", "13:00-18:00"] (or one string, or "closed"/[]) -> sorted ranges."""
    if value == "closed" or value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        report.add(_pos(value, where), "hours must be a list like [\"09:00-18:00\"]")
        return ()
    ranges: list[tuple[int, int, Position]] = []
    for index, item in enumerate(items):
        pos = items.pos(index) if isinstance(items, LocatedList) else where
        parsed = parse_range(item)
        if isinstance(parsed, str):
            report.add(pos, parsed)
        else:
            ranges.append((*parsed, pos))
    ranges.sort(key=lambda r: r[0])
    for (_, prev_end, _), (start, end, pos) in zip(ranges, ranges[1:], strict=False):
        if start < prev_end:
            report.add(pos, f"{format_seconds(start)}-{format_seconds(end)} overlaps the "
                       f"range ending at {format_seconds(prev_end)}")
    return tuple((start, end) for start, end, _ in ranges)


def parse_range(item: Any) -> tuple[int, int] | str:
    """A range "HH:MM-HH:MM" as (start, end) in seconds since midnight, or what is wrong (also
    for the console's company dates, acd.config.company_dates)."""
    match = _RANGE.match(item) if isinstance(item, str) else None
    if match is None:
        return f"bad time range {item!r}: write \"HH:MM-HH:MM\", quoted"
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        return f"bad time in {item!r}: hours 00-23 (24:00 only as an end), minutes 00-59"
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        return (f"range {item!r} ends before it starts; split a range past midnight "
                "into \"22:00-24:00\" and the next day's \"00:00-02:00\"")
    return start, end


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _parse_company_dates(node: Any, where: Position, report: _Errors) -> list[CompanyDate]:
    if not isinstance(node, LocatedList):
        report.add(_pos(node, where), "company_dates must be a list")
        return []
    result: list[CompanyDate] = []
    taken: dict[date, Position] = {}
    for index, item in enumerate(node):
        entry = _parse_company_date(item, node.pos(index), report)
        if entry is None:
            continue
        clash = next((d for d in entry.days() if d in taken), None)
        if clash is not None:
            report.add(node.pos(index), f"{clash} is already set by the entry at {taken[clash]}")
            continue
        taken.update(dict.fromkeys(entry.days(), node.pos(index)))
        result.append(entry)
    return result


def _parse_company_date(item: Any, where: Position, report: _Errors) -> CompanyDate | None:
    if not isinstance(item, LocatedDict):
        report.add(where, "a company date is a mapping like {date: 2026-12-24, state: closed}")
        return None
    before = report.count
    for key in item:
        if key not in _DATE_KEYS:
            report.add(item.pos(key), f"unknown key {key!r} in a company date; expected "
                       f"one of {', '.join(sorted(_DATE_KEYS))}")
    first, last = _company_span(item, report)
    state_text = item.get("state")
    try:
        state = ScheduleState(state_text)
    except ValueError:
        report.add(item.pos("state") if "state" in item else item.pos(),
                   "state must be open, closed or holiday")
        return None
    hours: Ranges | None = None
    if "hours" in item:
        if state is not ScheduleState.OPEN:
            report.add(item.pos("hours"), f"hours only go with state: open, not {state.value}")
        hours = _parse_ranges(item["hours"], item.pos("hours"), report)
    texts: dict[str, str | None] = {}
    for key in ("flow", "prompt", "name"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            report.add(item.pos(key), f"{key} must be a non-empty string")
        texts[key] = value if isinstance(value, str) and value.strip() else None
    if first is None or last is None or report.count != before:
        return None
    return CompanyDate(first, last, state, hours, texts["flow"], texts["prompt"], texts["name"])


def _company_span(item: LocatedDict, report: _Errors) -> tuple[date | None, date | None]:
    if "date" in item:
        if "from" in item or "to" in item:
            report.add(item.pos("date"), "give either date: or from:/to:, not both")
            return None, None
        day = _parse_date(item["date"])
        if day is None:
            report.add(item.pos("date"), f"bad date {item['date']!r}: write YYYY-MM-DD")
        return day, day
    if "from" not in item or "to" not in item:
        report.add(item.pos(), "a company date needs date:, or both from: and to:")
        return None, None
    first, last = _parse_date(item["from"]), _parse_date(item["to"])
    for key, value in (("from", first), ("to", last)):
        if value is None:
            report.add(item.pos(key), f"bad date {item[key]!r}: write YYYY-MM-DD")
    if first is None or last is None:
        return None, None
    if last < first:
        report.add(item.pos("to"), f"to: {last} is before from: {first}")
        return None, None
    if (last - first).days >= _MAX_SPAN_DAYS:
        report.add(item.pos("to"), f"a company date range covers at most {_MAX_SPAN_DAYS} days")
        return None, None
    return first, last
