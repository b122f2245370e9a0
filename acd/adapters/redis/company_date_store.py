"""Redis: the company dates admins edit in the console, kept across restarts and shared
by every acd (acd.config.company_dates says how they stand over config.yaml's).

Keys (under the configured prefix, default `acd:`):

| key            | type | content                                                    |
|----------------|------|------------------------------------------------------------|
| company_dates  | hash | `support|2026-12-24` -> {"state": "closed", "hours": null, |
|                |      | "label": "..."} or {"removed": true}                       |

Each change is announced on the changes channel ("company_dates"): every acd reads the
edits again and decides its next call with them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import date

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import bounded
from acd.adapters.redis.store import changes_channel
from acd.rules.schedule import CompanyDate, ScheduleState

log = logging.getLogger(__name__)

#: schedule -> day -> its company date, or None (config.yaml's removed)
ScheduleEdits = dict[str, dict[date, CompanyDate | None]]
CHANGE = "company_dates"


def _to_json(entry: CompanyDate | None) -> str:
    if entry is None:
        return '{"removed":true}'
    return json.dumps({"state": entry.state.value, "hours": entry.hours,
                       "label": entry.name}, ensure_ascii=False, separators=(",", ":"))


def _from_json(day: date, text: str) -> CompanyDate | None:
    data = json.loads(text)
    if data.get("removed"):
        return None
    hours = data.get("hours")
    return CompanyDate(day, day, ScheduleState(data["state"]),
                       None if hours is None else tuple((int(a), int(b)) for a, b in hours),
                       name=data.get("label") or None)


class CompanyDateStore:
    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis
        self._key = f"{prefix}company_dates"
        self._changes = changes_channel(prefix)

    async def put(self, schedule: str, days: Iterable[tuple[date, CompanyDate | None]]) -> None:
        """Set each day's edit (None: the day has no company date, config.yaml's hidden)."""
        values = {f"{schedule}|{day.isoformat()}": _to_json(entry) for day, entry in days}
        tx = await self._redis.multi()
        await tx.hmset(self._key, values)
        await tx.publish(self._changes, CHANGE)
        await tx.exec()

    async def drop(self, schedule: str, days: Iterable[date]) -> None:
        """Forget the edits of these days (config.yaml's company dates apply again)."""
        fields = [f"{schedule}|{day.isoformat()}" for day in days]
        tx = await self._redis.multi()
        await tx.hdel(self._key, fields)
        await tx.publish(self._changes, CHANGE)
        await tx.exec()

    async def load(self) -> ScheduleEdits:
        raw = await bounded(self._redis.hgetall_asdict(self._key))
        edits: ScheduleEdits = {}
        for field, text in raw.items():
            schedule, _, day_text = field.rpartition("|")
            try:
                day = date.fromisoformat(day_text)
                edits.setdefault(schedule, {})[day] = _from_json(day, text)
            except (ValueError, KeyError, TypeError) as exc:  # written by hand, or older
                log.warning("company date %s in Redis skipped (%s): remove it or add it "
                            "again at /console/dates.html", field, exc)
        return edits
