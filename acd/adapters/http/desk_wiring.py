"""The agent desk wired into the running service: its routes, the routing core's views
it reads, and the call history opened with the HTTP app and closed with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web

from acd.adapters.desk_history import DeskHistory
from acd.adapters.http.desk_routes import DeskServices, add_desk
from acd.config.settings import Config
from acd.console.desk import day_start
from acd.core.views import AgentView, QueueView
from acd.reports.database import history_url, open_history


def attach(app: web.Application, config: Config,
           agent_view: Callable[[str], AgentView | None],
           queue_view: Callable[[str], QueueView],
           pause_reasons: Callable[[], Mapping[str, str]],
           now: Callable[[], float]) -> None:
    """GET /api/me and GET /api/calls/{id}/history; previous calls and the survey split
    come from the history database at config `history.url` (none when it is off)."""
    desk = DeskServices(agent_view, queue_view, pause_reasons,
                        lambda: day_start(now(), config.timezone))
    add_desk(app, desk)
    if not config.history.enabled:
        return

    async def history(_: web.Application) -> AsyncIterator[None]:
        engine = open_history(history_url(config))
        desk.history = DeskHistory(engine)
        yield
        desk.history = None
        await engine.dispose()

    app.cleanup_ctx.append(history)
