"""Business hours: weekly ranges, the statutory calendar and company dates.

Pure: `decide(now)` takes epoch seconds and reads nothing else. Precedence for
a local date: a company date, then the statutory calendar (holiday, or an
adjusted working day that takes the hours of `adjusted_workday`), then the
weekly hours. Ranges start inclusive and end exclusive (09:00 is open, 18:00
is closed).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from acd.rules.calendar import DayKind, StatutoryCalendar

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 24 * 3600
# How far ahead `next_change` looks before it answers None (never changes).
_SCAN_DAYS = 400

Range = tuple[int, int]  # seconds since local midnight, [start, end)
Ranges = tuple[Range, ...]


class ScheduleState(Enum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class ScheduleDecision:
    state: ScheduleState
    special_flow: str | None
    special_prompt: str | None
    reason: str  # for people: "statutory holiday: 元旦", "outside hours"
    next_change: float | None  # epoch seconds when state/flow/prompt next change


@dataclass(frozen=True)
class CompanyDate:
    """A company's own day or days: closed, holiday, or open with given hours.

    `hours=None` on an open date means the hours of an adjusted working day.
    `flow` and `prompt` apply all day long, inside and outside the hours.
    """

    first: date
    last: date
    state: ScheduleState
    hours: Ranges | None = None
    flow: str | None = None
    prompt: str | None = None
    name: str | None = None

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    @property
    def label(self) -> str:
        when = (f"company date {self.first}" if self.first == self.last
                else f"company dates {self.first}..{self.last}")
        return f"{when} ({self.name})" if self.name else when


@dataclass(frozen=True)
class _DayPlan:
    state: ScheduleState  # OPEN: open within `hours`, closed outside
    hours: Ranges
    reason: str  # "" for the plain weekly hours
    flow: str | None = None
    prompt: str | None = None


@dataclass(frozen=True)
class _Segment:
    start: int  # seconds since local midnight
    state: ScheduleState
    reason: str


def format_seconds(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _segments(plan: _DayPlan) -> list[_Segment]:
    if plan.state is not ScheduleState.OPEN:
        return [_Segment(0, plan.state, plan.reason)]
    prefix = f"{plan.reason}: " if plan.reason else ""
    outside = f"{prefix}outside hours"
    segments: list[_Segment] = []
    cursor = 0
    for start, end in plan.hours:
        if start > cursor:
            segments.append(_Segment(cursor, ScheduleState.CLOSED, outside))
        span = f"{format_seconds(start)}-{format_seconds(end)}"
        segments.append(_Segment(start, ScheduleState.OPEN, f"{prefix}open {span}"))
        cursor = end
    if cursor < DAY_SECONDS:
        segments.append(_Segment(cursor, ScheduleState.CLOSED, outside))
    return segments


@functools.cache
def shared_calendar() -> StatutoryCalendar:
    """One calendar per process, so a missing year is warned about once."""
    return StatutoryCalendar()


class Schedule:
    """One named schedule; immutable once built."""

    def __init__(
        self,
        name: str,
        weekly: Iterable[Ranges],
        *,
        timezone: str = "Asia/Shanghai",
        statutory: bool = True,
        adjusted_workday: int = 0,
        company_dates: Iterable[CompanyDate] = (),
        calendar: StatutoryCalendar | None = None,
    ) -> None:
        self.name = name
        self.weekly: tuple[Ranges, ...] = tuple(weekly)
        if len(self.weekly) != 7:
            raise ValueError("weekly hours need 7 days, Monday first")
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self.statutory = statutory
        self.adjusted_workday = adjusted_workday
        self.company_dates = tuple(company_dates)
        self._company: dict[date, CompanyDate] = {}
        for entry in self.company_dates:
            for day in entry.days():
                self._company.setdefault(day, entry)
        self._calendar = calendar or shared_calendar()

    def decide(self, now: float) -> ScheduleDecision:
        local = datetime.fromtimestamp(now, self._tz)
        today = local.date()
        second = local.hour * 3600 + local.minute * 60 + local.second
        plan = self._plan(today, warn=True)
        segments = _segments(plan)
        index = max(i for i, seg in enumerate(segments) if seg.start <= second)
        current = segments[index]
        key = (current.state, plan.flow, plan.prompt)
        return ScheduleDecision(
            state=current.state,
            special_flow=plan.flow,
            special_prompt=plan.prompt,
            reason=current.reason,
            next_change=self._next_change(today, plan, segments[index + 1:], key),
        )

    def with_company_dates(self, dates: Iterable[CompanyDate]) -> Schedule:
        """The same schedule with other company dates (as edited in the console)."""
        return Schedule(self.name, self.weekly, timezone=self.timezone,
                        statutory=self.statutory, adjusted_workday=self.adjusted_workday,
                        company_dates=dates, calendar=self._calendar)

    def today(self, now: float) -> date:
        return datetime.fromtimestamp(now, self._tz).date()

    def describe(self, day: date) -> list[tuple[int, ScheduleState, str]]:
        """What the schedule does on `day`: from each second since local midnight, its
        state and why (the reasons `decide` gives)."""
        return [(seg.start, seg.state, seg.reason)
                for seg in _segments(self._plan(day, warn=False))]

    def uncovered_days(self, now: float, days: int) -> list[date]:
        """Days ahead without an official statutory arrangement or a company date."""
        if not self.statutory:
            return []
        today = datetime.fromtimestamp(now, self._tz).date()
        ahead = (today + timedelta(days=i) for i in range(days))
        return [d for d in ahead if not self._calendar.covers(d) and d not in self._company]

    def coverage_warning(self, now: float, days: int = 60) -> str | None:
        missing = self.uncovered_days(now, days)
        if not missing:
            return None
        span = str(missing[0]) if len(missing) == 1 else f"{missing[0]}..{missing[-1]}"
        return (f"schedule {self.name!r}: {self._calendar.source} has no official Chinese "
                f"holiday arrangement for {len(missing)} of the next {days} days ({span}); "
                "the days fixed by law still apply but 调休 days are unknown: upgrade "
                "`holidays` or add company_dates for them")

    def _plan(self, day: date, *, warn: bool) -> _DayPlan:
        company = self._company.get(day)
        if company is not None:
            hours: Ranges = ()
            if company.state is ScheduleState.OPEN:
                hours = (company.hours if company.hours is not None
                         else self.weekly[self.adjusted_workday])
            return _DayPlan(company.state, hours, company.label, company.flow, company.prompt)
        if self.statutory:
            statutory = self._calendar.day(day, warn=warn)
            if statutory.kind is DayKind.HOLIDAY:
                return _DayPlan(ScheduleState.HOLIDAY, (), f"statutory holiday: {statutory.name}")
            if statutory.kind is DayKind.ADJUSTED_WORKDAY:
                return _DayPlan(ScheduleState.OPEN, self.weekly[self.adjusted_workday],
                                "adjusted working day (调休)")
        return _DayPlan(ScheduleState.OPEN, self.weekly[day.weekday()], "")

    def _next_change(
        self,
        today: date,
        plan: _DayPlan,
        rest_of_today: list[_Segment],
        key: tuple[ScheduleState, str | None, str | None],
    ) -> float | None:
        for seg in rest_of_today:
            if (seg.state, plan.flow, plan.prompt) != key:
                return self._epoch(today, seg.start)
        for offset in range(1, _SCAN_DAYS):
            day = today + timedelta(days=offset)
            plan = self._plan(day, warn=False)
            for seg in _segments(plan):
                if (seg.state, plan.flow, plan.prompt) != key:
                    return self._epoch(day, seg.start)
        return None

    def _epoch(self, day: date, second: int) -> float:
        # Wall-clock arithmetic on an aware datetime, then the zone's offset.
        return (datetime.combine(day, time(), tzinfo=self._tz)
                + timedelta(seconds=second)).timestamp()


class UnknownSchedule(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown schedule {name!r}")
        self.name = name


class ScheduleBook:
    """The named schedules; the IVR `schedule` node and the queues both ask here."""

    def __init__(self, schedules: Mapping[str, Schedule]) -> None:
        self._schedules = dict(schedules)

    def names(self) -> list[str]:
        return list(self._schedules)

    def get(self, name: str) -> Schedule:
        try:
            return self._schedules[name]
        except KeyError:
            raise UnknownSchedule(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._schedules

    def decide(self, name: str, now: float) -> ScheduleDecision:
        return self.get(name).decide(now)

    def coverage_warning(self, now: float, days: int = 60) -> str | None:
        warnings = [w for s in self._schedules.values()
                    if (w := s.coverage_warning(now, days)) is not None]
        return "; ".join(warnings) if warnings else None
