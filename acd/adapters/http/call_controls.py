"""The agent's call controls over HTTP (the desk's buttons): hold and resume, consult a
colleague, then complete, cancel or make it a three-way call.

POST /api/calls/{id}/hold, /unhold, /consult {"to": number}, /consult/complete,
/consult/cancel, /conference: the call's own agent, or a supervisor. POST
/api/calls/{id}/pickup: an agent takes the call ringing a colleague in their queues
(抢接); it rings their phone next. 409 with the reason
when the control does not fit where the call stands (e.g. resume when not on hold); the
state that follows reaches the desk as events (call.held, call.transferred...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, _json_body, require
from acd.adapters.http.auth import Role, User
from acd.callflow.facts import CallControl

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: the route's last part -> the control
ROUTES = {"hold": CallControl.HOLD, "unhold": CallControl.RESUME,
          "consult": CallControl.CONSULT, "consult/complete": CallControl.CONSULT_COMPLETE,
          "consult/cancel": CallControl.CONSULT_CANCEL,
          "conference": CallControl.CONFERENCE}


def _handler(control: CallControl) -> Handler:
    @require(Role.AGENT)
    async def handle(request: web.Request) -> web.StreamResponse:
        user: User = request[USER]
        services = request.app[SERVICES]
        if services.call_control is None:
            raise ApiError("call controls are not available", status=503)
        call_id = request.match_info["call_id"]
        target = ""
        if control is CallControl.CONSULT:
            body = await _json_body(request)
            to = body.get("to")
            if not isinstance(to, str) or not to.strip():
                raise ApiError('give the number to consult: {"to": "1002"}')
            target = to
        agent = services.transfer_agent(call_id) if services.transfer_agent else None
        if user.role < Role.SUPERVISOR and (agent is None or agent != user.agent_id):
            raise ApiError("agents may only control their own calls", status=403)
        try:
            agent = await services.call_control(call_id, control.value, target)
        except LookupError as exc:  # not connected (any more)
            raise ApiError(str(exc), status=409) from None
        except ValueError as exc:  # does not fit now: the message says what would
            raise ApiError(str(exc), status=409) from None
        return web.json_response({"call_id": call_id, "agent": agent,
                                  "control": control.value,
                                  **({"to": target} if target else {})}, status=202)

    return handle


@require(Role.AGENT)
async def pick_up(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    services = request.app[SERVICES]
    if not user.agent_id:
        raise ApiError(f"user {user.name} is not an agent (users.{user.name}.agent)",
                       status=403)
    if services.agent_actions is None:
        raise ApiError("agent control is not available", status=503)
    result = await services.agent_actions(user.agent_id, "pickup",
                                          {"call_id": request.match_info["call_id"]})
    return web.json_response(result, status=202)


def register(app: web.Application) -> None:
    for path, control in ROUTES.items():
        app.router.add_post(f"/api/calls/{{call_id}}/{path}", _handler(control))
    app.router.add_post("/api/calls/{call_id}/pickup", pick_up)
