"""POST /api/calls/{id}/intercept: a supervisor takes a call over. The agent's leg is
hung up (the agent goes to wrap-up), the supervisor's own phone (users.NAME.device)
rings and the caller talks to them; the call record's `transfer` shows
`intercept:<phone>`. Built on the API's blind transfer (the same session step)."""

from __future__ import annotations

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, require
from acd.adapters.http.auth import Role, User


@require(Role.SUPERVISOR)
async def intercept_call(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    if not user.device:
        raise ApiError(f"user {user.name} has no phone to take the call on: set "
                       f"users.{user.name}.device", status=403)
    services = request.app[SERVICES]
    if services.transfer is None:
        raise ApiError("taking calls over is not available", status=503)
    call_id = request.match_info["call_id"]
    try:
        agent = await services.transfer(call_id, "intercept", user.device)
    except LookupError as exc:
        raise ApiError(str(exc), status=409) from None
    return web.json_response({"call_id": call_id, "from_agent": agent,
                              "device": user.device})


def register(app: web.Application) -> None:
    app.router.add_post("/api/calls/{call_id}/intercept", intercept_call)
