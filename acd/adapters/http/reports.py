"""GET /api/reports/{queues|agents|surveys|agent-states}: the reports as JSON, CSV or XLSX.

Query: `from` and `to` (local dates, both days included, or local ISO times),
`interval` (15m|hour|day|total, default day), `queue`, `agent`, `format`
(json|csv|xlsx). Supervisors and admins only. The JSON shape is
acd.reports.figures' (docs/reports.md); the downloads hold the same rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.exc import DBAPIError, OperationalError

from acd.adapters.http.app import ApiError, require
from acd.adapters.http.auth import Role
from acd.reports.buckets import RangeError, parse_range
from acd.reports.engine import REPORT_KINDS, ReportSource
from acd.reports.export import to_csv, to_xlsx

log = logging.getLogger(__name__)

PARAMETERS = {"from", "to", "interval", "queue", "agent", "format"}
FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ReportService:
    """What the routes reach; `source` is None until the history database is open."""

    timezone: str
    max_range_days: float
    source: ReportSource | None = None
    #: why there are no reports, when that is known (the history is off)
    unavailable: str = "the history database is not open"


REPORTS = web.AppKey("reports", ReportService)


def _name(request: web.Request, key: str) -> str | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    if len(value) > 64:
        raise ApiError(f"{key} is at most 64 characters")
    return value


@require(Role.SUPERVISOR)
async def get_report(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    if kind not in REPORT_KINDS:
        raise ApiError(f"no report {kind!r}; reports: {', '.join(REPORT_KINDS)}", status=404)
    unknown = sorted(set(request.query) - PARAMETERS)
    if unknown:
        raise ApiError(f"unknown parameter {unknown[0]!r}; reports take "
                       f"{', '.join(sorted(PARAMETERS))}")
    shape = request.query.get("format", "json")
    if shape not in FORMATS:
        raise ApiError(f"format must be one of {'|'.join(FORMATS)}, not {shape!r}")
    service = request.app.get(REPORTS)
    if service is None or service.source is None:
        why = service.unavailable if service is not None else "they are not set up"
        raise ApiError(f"reports are not available: {why}", status=503)
    try:
        span = parse_range(request.query.get("from", ""), request.query.get("to", ""),
                           request.query.get("interval", "day"), service.timezone,
                           service.max_range_days)
    except RangeError as exc:
        raise ApiError(str(exc)) from None
    try:
        report = await service.source.report(kind, span, queue=_name(request, "queue"),
                                             agent=_name(request, "agent"))
    except (OperationalError, DBAPIError):
        log.exception("report %s: the history database failed", kind)
        raise ApiError("the history database did not answer; try again, and see the acd "
                       "log if it goes on", status=503) from None
    # a big report is seconds of encoding: on a thread, off the event loop
    if shape == "json":
        text = await asyncio.to_thread(lambda: json.dumps(report.to_json()))
        return web.Response(text=text, content_type="application/json")
    name = f"{kind}-{request.query['from']}-{request.query['to']}-{span.interval.value}"
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    if shape == "csv":
        body = (await asyncio.to_thread(to_csv, report)).encode()
        kind_of = "text/csv; charset=utf-8"
    else:
        body, kind_of = await asyncio.to_thread(to_xlsx, report), XLSX
    return web.Response(body=body, headers={
        "Content-Type": kind_of,
        "Content-Disposition": f'attachment; filename="{name}.{shape}"'})


def register(app: web.Application) -> None:
    """The report routes (make_app calls this); the composition root attaches the
    source (acd.reports.wiring)."""
    app.router.add_get("/api/reports/{kind}", get_report)
