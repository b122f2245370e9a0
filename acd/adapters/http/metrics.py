"""`GET /metrics`: the Prometheus text, for a scraper with the metrics token, a
supervisor's or an admin's session, or (metrics.allow_loopback) a scraper on this host.

Prometheus cannot fill in a login form: it sends `Authorization: Bearer <token>`
(`authorization: {credentials_file: ...}` in its scrape config), the token being
the value of the environment variable metrics.token_env names (docs/security.md).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from acd.adapters.http.app import SERVICES, ApiError
from acd.adapters.http.auth import Role


@dataclass(frozen=True)
class MetricsAccess:
    #: '' : no token, only sessions (and loopback if allowed)
    token: str = field(default="", repr=False)
    allow_loopback: bool = False


@dataclass(frozen=True)
class MetricsPage:
    render: Callable[[], bytes]
    access: MetricsAccess


METRICS_PAGE = web.AppKey("metrics_page", MetricsPage)


def add_metrics(app: web.Application, page: MetricsPage) -> None:
    app[METRICS_PAGE] = page
    app.router.add_get("/metrics", metrics)


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:  # a unix socket's peer
        return False


def check_access(request: web.Request, access: MetricsAccess) -> None:
    """Raise 401 or 403 unless the request may read the metrics."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if token:
        if access.token and hmac.compare_digest(token.encode(), access.token.encode()):
            return
        services = request.app[SERVICES]
        user = services.sessions.user(token, services.now())
        if user is None:
            raise ApiError("not the metrics token nor a live session", status=401)
        if user.role < Role.SUPERVISOR:
            raise ApiError("the metrics need the supervisor role", status=403)
        return
    if access.allow_loopback and _loopback(request.remote):
        return
    raise ApiError("send Authorization: Bearer <the metrics token> (metrics.token_env) or "
                   "a supervisor's session token (POST /api/login)", status=401)


async def metrics(request: web.Request) -> web.StreamResponse:
    page = request.app[METRICS_PAGE]
    check_access(request, page.access)
    return web.Response(body=page.render(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
