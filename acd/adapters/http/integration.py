"""The integrators' routes: the API's description (`/api/openapi.json`, no login) and
the webhooks' delivery status (`/api/webhooks`, admins), added by the composition root.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from acd.adapters.http.app import require
from acd.adapters.http.auth import Role
from acd.adapters.http.openapi import openapi_json


class WebhookStatus(Protocol):
    """acd.adapters.webhooks.Webhooks."""

    async def status(self) -> list[dict[str, Any]]: ...


WEBHOOKS = web.AppKey("webhooks", WebhookStatus)


def add_integration(app: web.Application, webhooks: WebhookStatus) -> None:
    app[WEBHOOKS] = webhooks
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_get("/api/webhooks", list_webhooks)


@require(Role.ADMIN)
async def list_webhooks(request: web.Request) -> web.StreamResponse:
    return web.json_response({"webhooks": await request.app[WEBHOOKS].status()})
