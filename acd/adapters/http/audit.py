"""The audit log's HTTP side: every supervisor action through the API (forcing an agent's
state, listening in, transferring a call) and every recording played or downloaded is
written as it is answered; admins read the log at `GET /api/audit`.

A middleware, so that no route can forget it: it sees the route, the user the route let
in, the body and the status. An entry is written also when the action was refused (the
status says so). If Redis cannot take it, the entry goes to acd's log instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, Handler, require
from acd.adapters.http.auth import Role

log = logging.getLogger(__name__)


class AuditLog(Protocol):
    """acd.adapters.redis.audit_store.AuditStore."""

    async def write(self, entry: dict[str, Any]) -> None: ...

    async def recent(self, limit: int = 100, since: float = 0.0) -> list[dict[str, Any]]: ...


AUDIT = web.AppKey("audit", AuditLog)

#: route, or "METHOD route" where reading it is not an action -> (the action's name, the
#: least role whose use of it is audited)
AUDITED = {
    "/api/agents/{agent_id}/{action}": ("agent", Role.SUPERVISOR),
    "/api/calls/{call_id}/spy": ("call.spy", Role.SUPERVISOR),
    "/api/calls/{call_id}/transfer": ("call.transfer", Role.SUPERVISOR),
    "/api/calls/{call_id}/intercept": ("call.intercept", Role.SUPERVISOR),
    "/api/calls/{call_id}/recording": ("recording.play", Role.AGENT),
    "/api/recordings/{call_id}/audio": ("recording.play", Role.AGENT),
    "/api/recordings/{call_id}/download": ("recording.download", Role.AGENT),
    "/api/flows/{name}/save": ("flow.save", Role.ADMIN),
    "/api/flows/{name}/versions/{version}/restore": ("flow.restore", Role.ADMIN),
    "PUT /api/announcement": ("announcement.set", Role.ADMIN),
    "DELETE /api/announcement": ("announcement.clear", Role.ADMIN),
    "POST /api/lists": ("list.add", Role.ADMIN),
    "/api/lists/remove": ("list.remove", Role.ADMIN),
    "/api/lists/import": ("list.import", Role.ADMIN),
    "POST /api/users": ("user.add", Role.ADMIN),
    "PATCH /api/users/{user_name}": ("user.change", Role.ADMIN),
    "DELETE /api/users/{user_name}": ("user.remove", Role.ADMIN),
    "POST /api/schedules/{schedule}/dates": ("schedule.date.set", Role.ADMIN),
    "DELETE /api/schedules/{schedule}/dates/{day}": ("schedule.date.remove", Role.ADMIN),
    "PATCH /api/settings/queues/{queue}": ("settings.queue", Role.ADMIN),
    "DELETE /api/settings/queues/{queue}": ("settings.queue.reset", Role.ADMIN),
    "PATCH /api/settings/agents/{agent_id}": ("settings.agent", Role.ADMIN),
    "DELETE /api/settings/agents/{agent_id}": ("settings.agent.reset", Role.ADMIN),
}
#: what a route's address names, as the entry calls it
TARGETS = {"agent_id": "agent", "call_id": "call", "name": "flow", "version": "version",
           "user_name": "target_user", "schedule": "schedule", "day": "date", "queue": "queue"}
#: what of a request's body goes into the entry
DETAIL_FIELDS = ("reason", "device", "mode", "queue", "extension",
                 "date", "from", "to", "state", "hours", "label",  # (company dates)
                 "strategy", "service_level_seconds", "wrap_up_seconds",  # (queues, agents)
                 "ring_timeout_seconds", "max_wait_seconds", "skills", "queues")
#: body fields whose names the entry already uses for something else (the actor's role)
RENAMED_FIELDS = {"role": "new_role", "agent": "new_agent", "name": "target_user",
                  "list": "list", "match": "match", "action": "list_action"}


def add_audit(app: web.Application, audit: AuditLog, now: Callable[[], float]) -> None:
    app[AUDIT] = audit
    app.middlewares.append(_middleware(now))
    app.router.add_get("/api/audit", list_audit)


def _middleware(now: Callable[[], float]) -> Any:
    @web.middleware
    async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        info = request.match_info
        route = info.route.resource.canonical if info.route.resource is not None else ""
        if route not in AUDITED:
            route = f"{request.method} {route}"
            if route not in AUDITED:
                return await handler(request)
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except (ApiError, web.HTTPException) as exc:
            status = exc.status
            raise
        except Exception as exc:  # a domain error: the status the API will answer with
            mapped = request.app[SERVICES].error_statuses
            status = next((code for kind, code in mapped.items() if isinstance(exc, kind)), 500)
            raise
        finally:
            # after the route: it reads the body itself (a body read before would look
            # empty to it); aiohttp keeps what it read, and read() returns it again
            body = await request.read() if request.body_exists else b""
            await _write(request, route, body, status, now())

    return audit_middleware


async def _write(request: web.Request, route: str, body_bytes: bytes, status: int,
                 at: float) -> None:
    user = request.get(USER)
    kind, least = AUDITED[route]
    if user is None or user.role < least:
        return  # refused before anything happened, or an agent acting on their own
    info = request.match_info
    entry: dict[str, Any] = {
        "at": at, "user": user.name, "role": user.role.name.lower(),
        "action": f"agent.{info['action']}" if kind == "agent" else kind,
        "address": request.remote or "", "status": status}
    entry.update({field: info[key] for key, field in TARGETS.items() if key in info})
    if "Range" in request.headers:  # a player seeking asks for the part it plays
        entry["range"] = request.headers["Range"][:60]
    if body_bytes:
        try:
            body = json.loads(body_bytes)
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict):
            entry.update({k: str(body[k])[:200] for k in DETAIL_FIELDS if k in body})
            for key, field in RENAMED_FIELDS.items():  # never over what the route named
                if key == "name" and kind == "settings.agent":
                    field = "agent_name"  # (an agent's new name, not a user)
                if key in body:
                    entry.setdefault(field, str(body[key])[:200])
    try:
        await request.app[AUDIT].write(entry)
    except Exception as exc:  # the action is done: it must not be lost from the record
        log.error("audit entry not stored (%s); here it is: %s", exc,
                  json.dumps(entry, ensure_ascii=False))


@require(Role.ADMIN)
async def list_audit(request: web.Request) -> web.StreamResponse:
    """?limit=N (at most 1000, default 100)&since=EPOCH: newest first."""
    try:
        limit = min(1000, max(1, int(request.query.get("limit", "100"))))
        since = float(request.query.get("since", "0"))
    except ValueError:
        raise ApiError("limit is a whole number and since an epoch time (seconds)") from None
    return web.json_response(await request.app[AUDIT].recent(limit, since))
