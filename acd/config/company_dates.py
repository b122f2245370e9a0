"""Company dates edited in the console, over those of config.yaml (pure).

config.yaml's `schedules.<name>.company_dates` stay the bootstrap; an admin's edit is
kept per day (acd.adapters.redis.company_date_store) and wins over config.yaml's entry
for that day: a date set replaces it, a date removed hides it (the edit is then `None`).
A configured range with an edited day in it keeps its other days.

`parse_date_edit` checks what the console sends with the rules of config.yaml's
`company_dates` (acd.config.schedules), and says what is wrong in words the page shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from acd.config.schedules import parse_range
from acd.rules.schedule import CompanyDate, Ranges, Schedule, ScheduleState, format_seconds

#: a day's edit: the company date of that day, or None (config.yaml's is removed)
Edits = Mapping[date, CompanyDate | None]
#: at most this many days in one edit (as a range in config.yaml)
MAX_DAYS = 366
MAX_LABEL = 60


class DateEditError(ValueError):
    """What is wrong with an edit, for the page (HTTP 400)."""


def parse_day(text: object, field: str = "date") -> date:
    if not isinstance(text, str):
        raise DateEditError(f"{field} is a date like 2026-12-24")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DateEditError(f"bad {field} {text!r}: write YYYY-MM-DD") from None


def parse_span(body: Mapping[str, Any]) -> tuple[date, date]:
    """`date`, or `from` and `to` (inclusive, at most MAX_DAYS days)."""
    if "date" in body:
        day = parse_day(body["date"])
        return day, day
    if "from" not in body or "to" not in body:
        raise DateEditError("give date: YYYY-MM-DD, or from: and to:")
    first, last = parse_day(body["from"], "from"), parse_day(body["to"], "to")
    if last < first:
        raise DateEditError(f"to {last} is before from {first}")
    if (last - first).days >= MAX_DAYS:
        raise DateEditError(f"at most {MAX_DAYS} days at once")
    return first, last


def _hours(value: object) -> Ranges:
    items = [p for p in value.split(",") if p.strip()] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise DateEditError('hours are ranges like ["09:00-12:00", "13:00-18:00"]')
    ranges: list[tuple[int, int]] = []
    for item in items:
        parsed = parse_range(item)
        if isinstance(parsed, str):
            raise DateEditError(parsed)
        ranges.append(parsed)
    ranges.sort()
    for (_, end), (start, next_end) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise DateEditError(f"{format_seconds(start)}-{format_seconds(next_end)} overlaps "
                                f"the range ending at {format_seconds(end)}")
    return tuple(ranges)


def parse_date_edit(body: Mapping[str, Any]) -> CompanyDate:
    """{date | from+to, state: open|closed|holiday, hours?, label?} -> a company date.

    `hours` only with `open`; an open date without hours takes the schedule's hours
    of an adjusted working day (调休). `label` is config.yaml's `name:` (a date's name,
    e.g. 公司年会)."""
    first, last = parse_span(body)
    try:
        state = ScheduleState(body.get("state"))
    except ValueError:
        raise DateEditError("state is open, closed or holiday") from None
    hours: Ranges | None = None
    if body.get("hours") not in (None, "", []):
        if state is not ScheduleState.OPEN:
            raise DateEditError(f"hours only go with state open, not {state.value}")
        hours = _hours(body["hours"])
    label = body.get("label")
    if label is not None and not isinstance(label, str):
        raise DateEditError("label is text")
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise DateEditError(f"label: at most {MAX_LABEL} characters")
    return CompanyDate(first, last, state, hours, name=label or None)


def single_days(entry: CompanyDate) -> dict[date, CompanyDate]:
    """An edit kept per day: each day its own one-day company date."""
    return {day: dataclasses.replace(entry, first=day, last=day) for day in entry.days()}


def effective_dates(configured: Iterable[CompanyDate], edits: Edits) -> list[CompanyDate]:
    """config.yaml's company dates with the console's edits over them, by first day."""
    result: list[CompanyDate] = []
    for entry in configured:
        run: list[date] = []
        for day in [*entry.days(), None]:  # (None: flush the last run)
            if day is not None and day not in edits:
                run.append(day)
                continue
            if run:
                result.append(dataclasses.replace(entry, first=run[0], last=run[-1]))
                run = []
    result.extend(entry for entry in edits.values() if entry is not None)
    return sorted(result, key=lambda e: e.first)


def with_edits(schedule: Schedule, configured: Iterable[CompanyDate], edits: Edits) -> Schedule:
    return schedule.with_company_dates(effective_dates(configured, edits))


def date_row(entry: CompanyDate, edited: bool) -> dict[str, Any]:
    """A company date as the console lists it."""
    return {"from": entry.first.isoformat(), "to": entry.last.isoformat(),
            "state": entry.state.value,
            "hours": None if entry.hours is None else [
                f"{format_seconds(a)}-{format_seconds(b)}" for a, b in entry.hours],
            "label": entry.name or "", "flow": entry.flow or "", "prompt": entry.prompt or "",
            "source": "console" if edited else "config"}
