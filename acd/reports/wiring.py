"""The reports wired into the running service: the history database opened with the HTTP
app and closed with it, the thresholds taken from the config and taken again when it
is reloaded (SIGHUP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from acd.adapters.http.reports import REPORTS, ReportService
from acd.config.settings import Config
from acd.core.model import QueueConfig
from acd.reports.database import history_url, open_history
from acd.reports.engine import ReportEngine
from acd.reports.queries import Thresholds


def thresholds(config: Config, queues: Iterable[QueueConfig]) -> Thresholds:
    return Thresholds(short_abandon_seconds=config.reports.short_abandon_seconds,
                      answer_within_seconds=config.reports.answer_within_seconds,
                      service_levels={q.name: q.service_level_seconds for q in queues})


#: the thresholds reports are computed with now (a reload replaces them)
LIMITS = web.AppKey("report_limits", list[Thresholds])


def attach(app: web.Application, config: Config, queues: list[QueueConfig]) -> None:
    """Serve reports from the history database at config `history.url` (the writer
    creates and migrates it; until it has, a report answers 503)."""
    service = ReportService(config.timezone, config.reports.max_range_days)
    app[REPORTS] = service
    app[LIMITS] = [thresholds(config, queues)]
    if not config.history.enabled:
        service.unavailable = "the history is off (history.enabled: false in the config)"
        return

    async def history(_: web.Application) -> AsyncIterator[None]:
        engine = open_history(history_url(config))
        service.source = ReportEngine(engine, app[LIMITS][0])
        yield
        service.source = None
        await engine.dispose()

    app.cleanup_ctx.append(history)


def reconfigure(app: web.Application, config: Config, queues: Iterable[QueueConfig]) -> None:
    """A reloaded config's thresholds (short abandon, each queue's service level,
    "within three rings") and longest range, for the next report asked for; a report
    being computed finishes with the ones it began with."""
    service = app.get(REPORTS)
    if service is None or LIMITS not in app:
        return
    limits = app[LIMITS][0] = thresholds(config, queues)
    service.max_range_days = config.reports.max_range_days
    if isinstance(service.source, ReportEngine):
        service.source.limits = limits
