"""Statistics periods: functions from an epoch time to the name of its day or shift."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PeriodKey = Callable[[float], str]


def daily(tz: str = "Asia/Shanghai") -> PeriodKey:
    """One period per local calendar day: '2025-05-01'."""
    zone = ZoneInfo(tz)

    def key(now: float) -> str:
        return datetime.fromtimestamp(now, zone).date().isoformat()

    return key


def shifts(starts: Sequence[str], tz: str = "Asia/Shanghai") -> PeriodKey:
    """One period per shift, given the local start times ('08:00', '20:00').

    A time before the first start belongs to the previous day's last shift.
    """
    zone = ZoneInfo(tz)
    minutes = sorted(int(s[:2]) * 60 + int(s[3:5]) for s in starts)
    if not minutes:
        raise ValueError("shifts need at least one start time")

    def key(now: float) -> str:
        local = datetime.fromtimestamp(now, zone)
        minute = local.hour * 60 + local.minute
        started = [m for m in minutes if m <= minute]
        day = local.date()
        if not started:
            day -= timedelta(days=1)
            start = minutes[-1]
        else:
            start = started[-1]
        return f"{day.isoformat()}T{start // 60:02d}:{start % 60:02d}"

    return key
