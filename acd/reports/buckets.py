"""Report intervals in local time: the date range a reader asked for, cut into buckets.

A bucket is a stretch of the local clock (a 15-minute slot, an hour, a day) and is
labelled with its local start and UTC offset. The cut is made here, with zoneinfo,
so it is right in a zone with daylight saving time: a day is 23 or 25 hours long
when the clocks change, the hour the clocks skip has no bucket, and the hour they
repeat is two buckets (02:00+02:00 and 02:00+01:00), never one bucket of two hours.

The database buckets a time `t` by the same cut without a table of every bucket:
between two irregular buckets the buckets are of equal length, so the bucket's
number is `base + floor((t - origin) / size)` there (`segments`); a handful of
segments cover a month.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Interval(StrEnum):
    QUARTER = "15m"
    HOUR = "hour"
    DAY = "day"
    TOTAL = "total"


#: local seconds per bucket (TOTAL: the whole range is one bucket)
LOCAL_SECONDS = {Interval.QUARTER: 900, Interval.HOUR: 3600, Interval.DAY: 86400}
#: the real-time step at which bucket starts are looked for; every zone's UTC offset
#: today is a whole number of 15 minutes, so every local boundary falls on one
_STEP = 900


class RangeError(ValueError):
    """A date range or interval that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Bucket:
    start: float          # epoch seconds, inclusive
    end: float            # epoch seconds, exclusive
    label: str            # local ISO time with offset, e.g. 2026-11-01T09:15:00+08:00


@dataclass(frozen=True)
class Segment:
    """Buckets base, base+1, ... from `origin`, each `size` seconds long (size 0: the one
    bucket `base`), for times before `until`."""

    until: float
    base: int
    origin: float
    size: float


@dataclass(frozen=True)
class ReportRange:
    start: float
    end: float
    interval: Interval
    zone: str


def parse_interval(text: str) -> Interval:
    try:
        return Interval(text)
    except ValueError:
        choices = "|".join(i.value for i in Interval)
        raise RangeError(f"interval must be one of {choices}, not {text!r}") from None


def _moment(text: str, zone: ZoneInfo, *, is_end: bool) -> float:
    """A local date (the whole day: an end date includes that day) or ISO date-time."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if is_end:
                day += timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RangeError(f"{text!r} is not a date (2026-11-01) or a local time "
                         "(2026-11-01T09:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def parse_range(start: str, end: str, interval: str, zone: str,
                max_days: float) -> ReportRange:
    """The range a reader typed: `start` and `end` are local dates (both days included)
    or local ISO times (the end excluded)."""
    tz = ZoneInfo(zone)
    if not start or not end:
        raise RangeError("give both from and to (dates like 2026-11-01, or local times)")
    first, last = _moment(start, tz, is_end=False), _moment(end, tz, is_end=True)
    if last <= first:
        raise RangeError(f"to ({end}) must be after from ({start})")
    if last - first > max_days * 86400 + 3600:  # + an hour: a range over a clock change
        raise RangeError(f"the range is {(last - first) / 86400:.1f} days; at most "
                         f"{max_days:g} days per report (reports.max_range_days)")
    return ReportRange(first, last, parse_interval(interval), zone)


def _label(moment: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, tz).isoformat()


def make_buckets(span: ReportRange) -> list[Bucket]:
    """The buckets of `span`, in time order; a range that does not start or end on a
    bucket boundary has a shorter first or last bucket."""
    tz = ZoneInfo(span.zone)
    if span.interval is Interval.TOTAL:
        return [Bucket(span.start, span.end, _label(span.start, tz))]
    size = LOCAL_SECONDS[span.interval]
    starts = [span.start]
    moment = math.floor(span.start / _STEP) * _STEP + _STEP
    while moment < span.end:
        offset = datetime.fromtimestamp(moment, tz).utcoffset()
        local = moment + (offset.total_seconds() if offset else 0)
        if local % size == 0:
            starts.append(float(moment))
        moment += _STEP
    ends = [*starts[1:], span.end]
    return [Bucket(s, e, _label(s, tz)) for s, e in zip(starts, ends, strict=True)]


def segments(buckets: list[Bucket], interval: Interval) -> list[Segment]:
    """`buckets` as runs of equal buckets, for the database's bucket arithmetic."""
    size = LOCAL_SECONDS.get(interval, 0)
    out: list[Segment] = []
    index = 0
    while index < len(buckets):
        bucket = buckets[index]
        if size and bucket.end - bucket.start == size:
            run = index
            while run + 1 < len(buckets) and buckets[run + 1].end - buckets[run + 1].start == size:
                run += 1
            out.append(Segment(buckets[run].end, index, bucket.start, size))
            index = run + 1
        else:
            out.append(Segment(bucket.end, index, bucket.start, 0))
            index += 1
    return out


def bucket_of(moment: float, starts: list[float], end: float) -> int | None:
    """The index of the bucket that holds `moment` (`starts`: the buckets' starts, `end`:
    the range's end), or None outside the range."""
    if not starts or not starts[0] <= moment < end:
        return None
    return bisect.bisect_right(starts, moment) - 1
