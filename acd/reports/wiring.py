"""The reports wired into the running service: the history database opened with the HTTP
app and closed with it, the thresholds taken from the config."""

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


def attach(app: web.Application, config: Config, queues: list[QueueConfig]) -> None:
    """Serve reports from the history database at config `history.url` (the writer
    creates and migrates it; until it has, a report answers 503)."""
    service = ReportService(config.timezone, config.reports.max_range_days)
    app[REPORTS] = service
    if not config.history.enabled:
        service.unavailable = "the history is off (history.enabled: false in the config)"
        return

    async def history(_: web.Application) -> AsyncIterator[None]:
        engine = open_history(history_url(config))
        service.source = ReportEngine(engine, thresholds(config, queues))
        yield
        service.source = None
        await engine.dispose()

    app.cleanup_ctx.append(history)
