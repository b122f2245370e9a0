"""POST /api/outbound: an agent's own call (click-to-call, a 回访, an internal call).

{"call_id": an earlier call} calls that caller back without the number ever reaching
the agent; {"extension": "1002"} calls a colleague; {"number": ...} only for a role
that may see numbers (privacy.full_numbers_for). The agent's phone rings first, then
the other party, who sees the 400 number. 202 with the new call's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, _json_body, require
from acd.adapters.http.auth import Role, User


class OwnCallPlacer(Protocol):
    """acd.agents.outbound.OwnCalls."""

    async def place(self, agent_id: str, target: Mapping[str, Any], *,
                    may_dial_numbers: bool) -> dict[str, str]: ...


@require(Role.AGENT)
async def place_own_call(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    services = request.app[SERVICES]
    if services.own_calls is None:
        raise ApiError("own calls are not available", status=503)
    if not user.agent_id:
        raise ApiError("only a user bound to an agent places own calls (users.<name>.agent)",
                       status=403)
    body = await _json_body(request)
    try:
        placed = await services.own_calls.place(user.agent_id, body,
                                                may_dial_numbers=services.sees_numbers(user))
    except PermissionError as exc:
        raise ApiError(str(exc), status=403) from None
    except LookupError as exc:
        raise ApiError(str(exc).strip("'\""), status=404) from None
    except ValueError as exc:
        from acd.agents.outbound import OwnCallRefused

        raise ApiError(str(exc), status=409 if isinstance(exc, OwnCallRefused) else 400) \
            from None
    return web.json_response(placed, status=202)


def register(app: web.Application) -> None:
    app.router.add_post("/api/outbound", place_own_call)
