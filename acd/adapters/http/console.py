"""The console's routes: the live stream (`/api/live`, a WebSocket) and the page's files
(`/console/`), added to the API's app by the composition root.

A browser cannot put a bearer token on a WebSocket's upgrade request, and a token in
the URL would end up in proxies' logs; so the page sends it as the first message,
`{"type": "auth", "token": "..."}`, within AUTH_SECONDS. Other clients may send the
usual `Authorization: Bearer` header instead. Nothing ambient (no cookie) authenticates
the socket, so another site's page cannot open it on a logged-in user's behalf.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import WSMsgType, web

from acd import console
from acd.adapters.http.app import SERVICES, HttpServices
from acd.adapters.http.auth import Role, User
from acd.adapters.http.live import CLOSE_LOGGED_OUT, LiveStream
from acd.console.wallboard import Viewer

STATIC = Path(console.__file__).resolve().parent / "static"
LIVE = web.AppKey("live", LiveStream)
#: how long a new socket has to send its token
AUTH_SECONDS = 5.0
#: the close code of a user who may not see the stream (an agent user without an agent)
CLOSE_FORBIDDEN = 4403
#: no script, style or connection from anywhere but acd itself
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache"}


def add_console(app: web.Application, live: LiveStream) -> None:
    app[LIVE] = live
    app.router.add_get("/api/live", live_socket)
    app.router.add_get("/console", to_console)
    app.router.add_get("/console/", console_page)
    app.router.add_get("/console/{name}", console_file)


async def to_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def console_page(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)


async def console_file(request: web.Request) -> web.StreamResponse:
    # the page's files by name, never a path from the request
    name = request.match_info["name"]
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        raise web.HTTPNotFound(text="no such file in the console")
    return web.FileResponse(files[name], headers=SECURITY_HEADERS)


async def _token(request: web.Request, ws: web.WebSocketResponse) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    try:
        msg = await ws.receive(timeout=AUTH_SECONDS)
    except TimeoutError:
        return ""
    if msg.type is not WSMsgType.TEXT:
        return ""
    try:
        first = json.loads(msg.data)
    except ValueError:
        return ""
    token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" \
        else None
    return token if isinstance(token, str) else ""


def viewer_of(user: User, services: HttpServices) -> Viewer | None:
    """What this user sees: the wallboard (supervisors, admins) or their own row (an
    agent user bound to an agent); None: nothing."""
    if user.role >= Role.SUPERVISOR:
        return Viewer(sees_everything=True, sees_numbers=services.sees_numbers(user))
    if user.agent_id:
        return Viewer(sees_everything=False, sees_numbers=False, agent_id=user.agent_id)
    return None


async def live_socket(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=16 * 1024)
    await ws.prepare(request)
    token = await _token(request, ws)
    user = services.sessions.user(token, services.now()) if token else None
    if user is None:
        await ws.close(code=CLOSE_LOGGED_OUT, message=b"log in first: POST /api/login, then "
                       b'send {"type": "auth", "token": ...}')
        return ws
    viewer = viewer_of(user, services)
    if viewer is None:
        await ws.close(code=CLOSE_FORBIDDEN, message=b"this user is bound to no agent")
        return ws

    def still_allowed() -> bool:
        return services.sessions.user(token, services.now()) == user

    async def incoming() -> str | None:
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                return str(msg.data)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                            WSMsgType.ERROR):
                return None

    await request.app[LIVE].serve(ws, viewer, still_allowed, incoming)
    if not ws.closed:
        await ws.close()
    return ws
