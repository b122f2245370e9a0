"""The reports wired into the running service: the history database opened with the HTTP
app and closed with it, the thresholds taken from the config."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from acd.adapters.http.reports import REPORTS, ReportService
from acd.config.settings import Config
from acd.core.model import QueueConfig
from acd.reports.database import create_tables, history_url, missing_file, open_history
from acd.reports.engine import ReportEngine
from acd.reports.queries import Thresholds


def thresholds(config: Config, queues: Iterable[QueueConfig]) -> Thresholds:
    return Thresholds(short_abandon_seconds=config.reports.short_abandon_seconds,
                      answer_within_seconds=config.reports.answer_within_seconds,
                      service_levels={q.name: q.service_level_seconds for q in queues})


def attach(app: web.Application, config: Config, queues: list[QueueConfig]) -> None:
    """Serve reports from the history database at config `history.url`."""
    service = ReportService(config.timezone, config.reports.max_range_days)
    app[REPORTS] = service

    async def history(_: web.Application) -> AsyncIterator[None]:
        url = history_url(config)
        new_file = missing_file(url)
        if new_file is not None:  # a first start: SQLite makes the file, not its folder
            new_file.parent.mkdir(parents=True, exist_ok=True)
        engine = open_history(url)
        await create_tables(engine)
        service.source = ReportEngine(engine, thresholds(config, queues))
        yield
        service.source = None
        await engine.dispose()

    app.cleanup_ctx.append(history)
