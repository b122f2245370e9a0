"""The Chinese statutory calendar: holidays and adjusted working days (调休).

The source is the maintained `holidays` package (`holidays.China`). How it
represents a year's official arrangement (as of 0.109):

* the statutory days themselves (元旦, 春节, 清明节 ...) are computed from the
  law for any year, lunar dates included;
* a year's State Council notice is transcribed into
  `ChinaStaticHolidays.special_public_holidays[year]`: each weekday given as a
  day off becomes a holiday labelled `休息日（由 2026-01-04 调休）`, and the
  weekend day worked in exchange (the 调休 make-up working day) is added to
  the instance's `weekend_workdays` set, so `China.is_working_day(d)` is True;
* for a year without a notice it only guesses "observed" days (Saturday or
  Sunday holidays moved to the next weekday), which is not how China works.

So a year counts as *covered* only when the package has its notice. For an
uncovered year we keep the days fixed by law (`observed=False`), know no make-up
working days, and warn once per year: a call is never refused because the
calendar ran out.

Weekend days inside a break are part of it (the 2026 Spring Festival break is
Feb 15-23 although the package lists only the weekdays): a Saturday or
Sunday that is not a make-up working day and touches a run of holidays is a
holiday with the run's name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from importlib import metadata

from holidays.countries.china import China

log = logging.getLogger(__name__)

# Substituted days off carry this in their label; the break's real name is
# taken from a neighbouring day instead.
_SUBSTITUTE_MARK = "调休"
# "国庆节（补假）" (observed) and "（推定）" (estimated) name the same holiday.
_QUALIFIER = re.compile(r"（[^）]*）$")
# A break is never longer than this many days on either side of a weekend day.
_MAX_BREAK_REACH = 10


class DayKind(Enum):
    ORDINARY = "ordinary"  # follow the weekly hours
    HOLIDAY = "holiday"  # a statutory holiday or a day of its break
    ADJUSTED_WORKDAY = "adjusted_workday"  # a weekend day worked (调休)


@dataclass(frozen=True)
class StatutoryDay:
    kind: DayKind
    name: str | None  # the holiday's name, e.g. "春节"
    covered: bool  # False: no official arrangement for this year in the source


@dataclass(frozen=True)
class _Year:
    covered: bool
    holidays: dict[date, str]
    workdays: frozenset[date]


def _source_version() -> str:
    try:
        return metadata.version("holidays")
    except metadata.PackageNotFoundError:  # pragma: no cover - vendored copy
        return "?"


def _official_years() -> frozenset[int]:
    try:
        from holidays.countries.china import ChinaStaticHolidays
    except ImportError:  # pragma: no cover - a future layout of the package
        return frozenset()
    return frozenset(getattr(ChinaStaticHolidays, "special_public_holidays", {}))


class StatutoryCalendar:
    """Chinese statutory holidays per date, cached per year; never raises."""

    def __init__(self, official_years: frozenset[int] | None = None) -> None:
        self._official = _official_years() if official_years is None else official_years
        self._years: dict[int, _Year] = {}
        self._warned: set[int] = set()

    @property
    def source(self) -> str:
        return f"holidays {_source_version()}"

    def covers(self, day: date) -> bool:
        return day.year in self._official

    def day(self, day: date, *, warn: bool = False) -> StatutoryDay:
        year = self._year(day.year)
        if warn and not year.covered:
            self._warn_once(day.year)
        if day in year.workdays:
            return StatutoryDay(DayKind.ADJUSTED_WORKDAY, None, year.covered)
        name = year.holidays.get(day)
        if name is not None:
            return StatutoryDay(DayKind.HOLIDAY, self._break_name(day, name), year.covered)
        if day.weekday() >= 5:
            name = self._break_around(day)
            if name is not None:
                return StatutoryDay(DayKind.HOLIDAY, name, year.covered)
        return StatutoryDay(DayKind.ORDINARY, None, year.covered)

    def _warn_once(self, year: int) -> None:
        if year in self._warned:
            return
        self._warned.add(year)
        log.warning(
            "%s has no official Chinese holiday arrangement for %d: using the days fixed "
            "by law without 调休 (make-up working days unknown); upgrade `holidays` or "
            "add company_dates", self.source, year)

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._load(year)
        return cached

    def _load(self, year: int) -> _Year:
        covered = year in self._official
        try:
            # The next year's notice may put a make-up working day in late
            # December of this one, hence both years.
            cn = China(  # type: ignore[no-untyped-call]
                years=[year, year + 1], observed=covered, language="zh_CN")
            days = {d: str(n) for d, n in cn.items() if d.year == year}
            workdays = frozenset(d for d in cn.weekend_workdays if d.year == year)
        except Exception:  # the source must never break a call
            log.exception("holidays.China failed for %d; using plain weekly hours", year)
            days, workdays = {}, frozenset()
        return _Year(covered, days, workdays)

    def _is_off(self, day: date) -> bool:
        year = self._year(day.year)
        if day in year.workdays:
            return False
        return day in year.holidays or day.weekday() >= 5

    def _break_around(self, day: date) -> str | None:
        """The name of the nearest holiday reached through days off, if any."""
        for step in range(1, _MAX_BREAK_REACH + 1):
            for other in (day - timedelta(days=step), day + timedelta(days=step)):
                name = self._year(other.year).holidays.get(other)
                if name is not None and self._reachable(day, other):
                    return self._break_name(other, name)
        return None

    def _reachable(self, start: date, end: date) -> bool:
        step = timedelta(days=1 if end > start else -1)
        current = start
        while current != end:
            if not self._is_off(current):
                return False
            current += step
        return True

    def _break_name(self, day: date, name: str) -> str:
        if _SUBSTITUTE_MARK not in name:
            return _QUALIFIER.sub("", name) or name
        for step in range(1, _MAX_BREAK_REACH + 1):
            for other in (day - timedelta(days=step), day + timedelta(days=step)):
                other_name = self._year(other.year).holidays.get(other)
                if (other_name and _SUBSTITUTE_MARK not in other_name
                        and self._reachable(day, other)):
                    return _QUALIFIER.sub("", other_name) or other_name
        return name
