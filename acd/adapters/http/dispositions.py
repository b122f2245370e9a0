"""Wrap-up dispositions: the agent files a call under a category and adds a note.

GET /api/dispositions lists the categories (config `dispositions:`, code -> label).
POST /api/calls/{id}/disposition {"category": code, "note": text} stores both on the
call record: the call's own agent, during the call, in wrap-up or later, or a
supervisor. The note is free text; for roles without the right to see numbers the
numbers in it are masked like a caller's.
"""

from __future__ import annotations

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, _available, _json_body, require
from acd.adapters.http.auth import Role, User

MAX_NOTE = 1000


@require(Role.AGENT)
async def list_dispositions(request: web.Request) -> web.StreamResponse:
    categories = request.app[SERVICES].dispositions()
    return web.json_response({"dispositions": [{"code": code, "label": label}
                                               for code, label in categories.items()]})


@require(Role.AGENT)
async def set_disposition(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    services = request.app[SERVICES]
    calls = _available(services.call_store, "call records are")
    body = await _json_body(request)
    category, note = body.get("category"), body.get("note", "")
    categories = services.dispositions()
    if not categories:
        raise ApiError("no dispositions are configured (config.yaml dispositions:)",
                       status=409)
    if not isinstance(category, str) or category not in categories:
        raise ApiError(f"category must be one of {', '.join(categories)}")
    if not isinstance(note, str) or len(note) > MAX_NOTE or \
            not all(c.isprintable() or c == "\n" for c in note):
        raise ApiError(f"note must be text of at most {MAX_NOTE} characters")
    call_id = request.match_info["call_id"]
    record = await calls.get_call(call_id)
    if record is None or (user.role < Role.SUPERVISOR and record.agent != user.agent_id):
        raise ApiError("no such call", status=404)
    await calls.save_call(call_id, {"disposition": category, "disposition_note": note})
    return web.json_response({"call_id": call_id, "disposition": category,
                              "label": categories[category]})


def register(app: web.Application) -> None:
    app.router.add_get("/api/dispositions", list_dispositions)
    app.router.add_post("/api/calls/{call_id}/disposition", set_disposition)
