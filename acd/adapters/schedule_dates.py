"""The schedules the running service decides with: config.yaml's, with the company dates
admins edit in the console over them (acd.config.company_dates), kept in Redis.

One owner for the schedule book: at start it reads the edits, after a SIGHUP it takes
config.yaml's new schedules, after an edit (here or in another acd, told by the change
feed) it reads them again; each time it hands the new book to the IVR's schedule
oracle, so the next call decides with it. Redis away at start: config.yaml's dates
apply until the change feed's first subscription reads the edits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Protocol

from acd.config.company_dates import date_row, effective_dates, single_days
from acd.rules.schedule import CompanyDate, ScheduleBook, format_seconds

log = logging.getLogger(__name__)

ScheduleEdits = dict[str, dict[date, CompanyDate | None]]


class DateStore(Protocol):
    """acd.adapters.redis.company_date_store.CompanyDateStore."""

    async def put(self, schedule: str,
                  days: Iterable[tuple[date, CompanyDate | None]]) -> None: ...

    async def drop(self, schedule: str, days: Iterable[date]) -> None: ...

    async def load(self) -> ScheduleEdits: ...


class NoSuchDate(LookupError):
    """Nothing to remove (HTTP 404)."""


class ScheduleDates:
    def __init__(self, store: DateStore, configured: ScheduleBook,
                 publish: Callable[[ScheduleBook], None] = lambda book: None) -> None:
        self.store = store
        self._configured = configured
        self._edits: ScheduleEdits = {}
        #: the new book to where calls read it (the IVR's schedule oracle)
        self.publish = publish
        self.book = configured
        self._loading: asyncio.Task[None] | None = None

    def reconfigure(self, configured: ScheduleBook) -> None:
        """config.yaml's schedules changed (SIGHUP): the edits stay over them."""
        self._configured = configured
        self._rebuild()

    async def load(self) -> None:
        try:
            self._edits = await self.store.load()
        except Exception as exc:
            log.warning("company dates edited in the console not read (%s): config.yaml's "
                        "apply until Redis answers", exc)
            return
        self._rebuild()

    def invalidate(self) -> None:
        """The change feed: an acd changed the edits (or the feed subscribed again)."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.create_task(self.load(), name="company-dates")

    def _rebuild(self) -> None:
        schedules = {}
        for name in self._configured.names():
            schedule = self._configured.get(name)
            edits = self._edits.get(name, {})
            schedules[name] = (schedule.with_company_dates(
                effective_dates(schedule.company_dates, edits)) if edits else schedule)
        self.book = ScheduleBook(schedules)
        self.publish(self.book)

    # -- edits (the console's API) ------------------------------------------------------

    async def add_date(self, schedule: str, entry: CompanyDate) -> None:
        self._configured.get(schedule)  # UnknownSchedule: 404
        days = single_days(entry)
        await self.store.put(schedule, days.items())
        self._edits.setdefault(schedule, {}).update(days)
        self._rebuild()

    async def remove_dates(self, schedule: str, first: date, last: date) -> int:
        """These days have no company date from now on; how many had one."""
        configured = self._configured.get(schedule)
        configured_days = {d for e in configured.company_dates for d in e.days()}
        edits = self._edits.setdefault(schedule, {})
        had = [d for d in self._days_of(schedule) if first <= d <= last]
        if not had:
            raise NoSuchDate(f"schedule {schedule!r} has no company date from {first} "
                             f"to {last}")
        hidden = [(d, None) for d in had if d in configured_days]
        dropped = [d for d in had if d not in configured_days]
        if hidden:
            await self.store.put(schedule, hidden)
        if dropped:
            await self.store.drop(schedule, dropped)
        edits.update(hidden)
        for day in dropped:
            edits.pop(day, None)
        self._rebuild()
        return len(had)

    def _days_of(self, schedule: str) -> set[date]:
        return {d for e in self.book.get(schedule).company_dates for d in e.days()}

    # -- what the console shows ---------------------------------------------------------

    def describe(self, schedule: str, now: float, day: date | None = None) -> dict[str, Any]:
        """The schedule now and through one day (default today), with its company dates
        and where each comes from."""
        current = self.book.get(schedule)
        edited = self._edits.get(schedule, {})
        decision = current.decide(now)
        day = day or current.today(now)
        return {
            "name": schedule, "timezone": current.timezone,
            "now": {"state": decision.state.value, "reason": decision.reason,
                    "next_change": decision.next_change},
            "date": day.isoformat(),
            "day": [{"from": format_seconds(start), "state": state.value, "reason": reason}
                    for start, state, reason in current.describe(day)],
            "dates": [date_row(e, e.first in edited) for e in current.company_dates],
        }
