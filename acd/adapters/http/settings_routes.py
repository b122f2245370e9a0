"""Queue and agent settings in the console (admins): those safe to change while acd runs
(acd.config.live_settings), applied to the routing core at once, kept in Redis.

GET /api/settings: every queue and agent as they are now, with the fields changed here.
PATCH /api/settings/queues/{queue} {strategy, service_level_seconds, wrap_up_seconds,
ring_timeout_seconds, max_wait_seconds}; PATCH /api/settings/agents/{agent_id} {name,
skills, queues: {queue: penalty}}; DELETE of either: back to config.yaml's. A bad value
answers 400 with what to write; every change is in the audit log.
"""

from __future__ import annotations

from aiohttp import web

from acd.adapters.http.app import ApiError, _json_body, require
from acd.adapters.http.auth import Role
from acd.adapters.live_settings import LiveSettings, NotConfigured
from acd.config.live_settings import SettingsError

LIVE_SETTINGS = web.AppKey("live_settings", LiveSettings)


def register(app: web.Application, settings: LiveSettings) -> None:
    app[LIVE_SETTINGS] = settings
    app.router.add_get("/api/settings", list_settings)
    app.router.add_patch("/api/settings/queues/{queue}", change_queue)
    app.router.add_delete("/api/settings/queues/{queue}", reset_queue)
    app.router.add_patch("/api/settings/agents/{agent_id}", change_agent)
    app.router.add_delete("/api/settings/agents/{agent_id}", reset_agent)


@require(Role.ADMIN)
async def list_settings(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[LIVE_SETTINGS].rows())


async def _changed(request: web.Request, kind: str, key: str) -> web.StreamResponse:
    body = await _json_body(request)
    settings = request.app[LIVE_SETTINGS]
    name = request.match_info[key]
    try:
        row = await (settings.change_queue(name, body) if kind == "queue"
                     else settings.change_agent(name, body))
    except SettingsError as exc:
        raise ApiError(str(exc)) from None
    except NotConfigured as exc:
        raise ApiError(str(exc), status=404) from None
    return web.json_response(row)


async def _reset(request: web.Request, kind: str, key: str) -> web.StreamResponse:
    try:
        await request.app[LIVE_SETTINGS].reset(kind, request.match_info[key])
    except NotConfigured as exc:
        raise ApiError(str(exc), status=404) from None
    return web.json_response({"reset": True})


@require(Role.ADMIN)
async def change_queue(request: web.Request) -> web.StreamResponse:
    return await _changed(request, "queue", "queue")


@require(Role.ADMIN)
async def change_agent(request: web.Request) -> web.StreamResponse:
    return await _changed(request, "agent", "agent_id")


@require(Role.ADMIN)
async def reset_queue(request: web.Request) -> web.StreamResponse:
    return await _reset(request, "queue", "queue")


@require(Role.ADMIN)
async def reset_agent(request: web.Request) -> web.StreamResponse:
    return await _reset(request, "agent", "agent_id")
