"""The schedules in the console: what state each is in, and its company dates, which
admins add and remove (acd.adapters.schedule_dates applies them to the next call and
keeps them in Redis).

GET /api/schedules (supervisors): every schedule now, with its company dates.
GET /api/schedules/{schedule}?date=YYYY-MM-DD: one schedule now and through that day
(default today). POST /api/schedules/{schedule}/dates {date | from+to, state, hours?,
label?} (admins) sets those days; DELETE /api/schedules/{schedule}/dates/{day}?to=...
removes the company date of those days (config.yaml's too: the edit hides it). Both
are in the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from acd.adapters.http.app import ApiError, _json_body, require
from acd.adapters.http.auth import Role
from acd.adapters.schedule_dates import NoSuchDate, ScheduleDates
from acd.config.company_dates import DateEditError, parse_date_edit, parse_day

SCHEDULE_DATES = web.AppKey("schedule_dates", ScheduleDates)
SCHEDULE_CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("schedule_clock")


def register(app: web.Application, dates: ScheduleDates,
             clock: Callable[[], float] = time.time) -> None:
    app[SCHEDULE_DATES] = dates
    app[SCHEDULE_CLOCK] = clock
    app.router.add_get("/api/schedules", list_schedules)
    app.router.add_get("/api/schedules/{schedule}", get_schedule)
    app.router.add_post("/api/schedules/{schedule}/dates", set_date)
    app.router.add_delete("/api/schedules/{schedule}/dates/{day}", remove_date)


def _schedule(request: web.Request) -> str:
    name = request.match_info["schedule"]
    if name not in request.app[SCHEDULE_DATES].book:
        raise ApiError(f"no schedule {name!r}: see GET /api/schedules", status=404)
    return name


def _edit_error(exc: DateEditError) -> ApiError:
    return ApiError(str(exc))


@require(Role.SUPERVISOR)
async def list_schedules(request: web.Request) -> web.StreamResponse:
    dates, now = request.app[SCHEDULE_DATES], request.app[SCHEDULE_CLOCK]()
    return web.json_response({"schedules": [dates.describe(name, now)
                                            for name in dates.book.names()]})


@require(Role.SUPERVISOR)
async def get_schedule(request: web.Request) -> web.StreamResponse:
    name = _schedule(request)
    try:
        day = parse_day(request.query["date"]) if request.query.get("date") else None
    except DateEditError as exc:
        raise _edit_error(exc) from None
    return web.json_response(request.app[SCHEDULE_DATES].describe(
        name, request.app[SCHEDULE_CLOCK](), day))


@require(Role.ADMIN)
async def set_date(request: web.Request) -> web.StreamResponse:
    name = _schedule(request)
    body = await _json_body(request)
    dates = request.app[SCHEDULE_DATES]
    try:
        entry = parse_date_edit(body)
    except DateEditError as exc:
        raise _edit_error(exc) from None
    await dates.add_date(name, entry)
    return web.json_response(dates.describe(name, request.app[SCHEDULE_CLOCK](), entry.first),
                             status=201)


@require(Role.ADMIN)
async def remove_date(request: web.Request) -> web.StreamResponse:
    name = _schedule(request)
    try:
        first = parse_day(request.match_info["day"], "day")
        last = parse_day(request.query["to"], "to") if request.query.get("to") else first
    except DateEditError as exc:
        raise _edit_error(exc) from None
    if last < first:
        raise ApiError(f"to {last} is before {first}")
    try:
        removed = await request.app[SCHEDULE_DATES].remove_dates(name, first, last)
    except NoSuchDate as exc:
        raise ApiError(str(exc), status=404) from None
    return web.json_response({"removed_days": removed})
