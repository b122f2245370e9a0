"""The HTTP API described for integrators: an OpenAPI 3.1 document made from one route
table, served at GET /api/openapi.json.

The table is written by hand, next to the routes it describes;
tests/protocol/test_openapi.py checks it against the real router both ways (every
route the app registers is here, every route here is registered, methods too), so a
new route without its line here fails the build and names the line to add.

The document needs no login: it holds no data, only what any client of the API must
know before it has a token (how to log in, which role each route needs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from acd import __version__


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    #: the least role that may call it: "" (no login), agent, supervisor, admin
    role: str = "agent"
    #: what the request body holds (JSON), if any
    body: str = ""


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", "Liveness and the dependencies' state", role=""),
    Route("GET", "/api/ready", "Whether this acd takes calls (200) or not (503)", role=""),
    Route("POST", "/api/login", "Log in: a bearer token for the other routes", role="",
          body="{user, password}"),
    Route("POST", "/api/logout", "End this token's session"),
    Route("GET", "/api/openapi.json", "This document", role=""),
    Route("GET", "/api/demo/orders/{order}", "The demo IVR lookup: an order's status",
          role=""),
    Route("GET", "/api/demo/customers/{caller}", "The demo IVR lookup: a customer",
          role=""),
    Route("GET", "/api/calls", "Recent calls (an agent sees their own; numbers masked per "
          "role)"),
    Route("GET", "/api/calls.csv", "Calls of a period as CSV", role="supervisor"),
    Route("GET", "/api/calls/{call_id}", "One call record"),
    Route("GET", "/api/calls/{call_id}/recording", "A call's recording",
          role="supervisor"),
    Route("POST", "/api/calls/{call_id}/transfer", "Transfer the connected call",
          body="{kind: queue|extension, target}"),
    Route("POST", "/api/calls/{call_id}/spy", "Listen in or whisper", role="supervisor",
          body="{mode: listen|whisper, device}"),
    Route("POST", "/api/calls/{call_id}/intercept", "Take the call over on your own phone "
          "(the agent's leg released)", role="supervisor"),
    Route("POST", "/api/calls/{call_id}/hold", "Put the caller on hold (music)"),
    Route("POST", "/api/calls/{call_id}/unhold", "Take the caller off hold"),
    Route("POST", "/api/calls/{call_id}/consult", "Call a colleague, an extension or a "
          "number while the caller holds", body="{to}"),
    Route("POST", "/api/calls/{call_id}/consult/complete", "Transfer the caller to the "
          "consulted party (the agent leaves)"),
    Route("POST", "/api/calls/{call_id}/consult/cancel", "End the consultation, back to "
          "the caller"),
    Route("POST", "/api/calls/{call_id}/conference", "Make the consultation a three-way "
          "call"),
    Route("POST", "/api/calls/{call_id}/pickup", "Take a call ringing a colleague in your "
          "queues (it rings your phone next)"),
    Route("POST", "/api/calls/{call_id}/disposition", "File the call in wrap-up",
          body="{disposition, note}"),
    Route("GET", "/api/dispositions", "The configured dispositions"),
    Route("GET", "/api/calls/{call_id}/history", "The caller's previous calls (time, "
          "agent, outcome, survey), by call id: an agent asks about a call offered to "
          "them; the number masked per role"),
    Route("GET", "/api/me", "The agent desk: my state, queues, pause reasons, today's "
          "figures (answered, talk, AHT, survey split), colleagues' ringing calls"),
    Route("POST", "/api/outbound", "Call a customer from the desk (the number firewall "
          "applies)", body="{call_id | number}"),
    Route("GET", "/api/agents", "Agents and their states", role="supervisor"),
    Route("POST", "/api/agents/{agent_id}/{action}", "login, logout, pause, resume, "
          "wrap-up-end, queue-login, queue-logout", body="{device, reason, queue}"),
    Route("GET", "/api/queues", "Queues and their figures", role="supervisor"),
    Route("GET", "/api/reports/{kind}", "A report (queues, agents, surveys, agent-states) "
          "per 15m/hour/day: ?from=&to=&interval=&queue=&agent=&format=json|csv|xlsx "
          "(docs/reports.md)", role="supervisor"),
    Route("GET", "/api/announcement", "The announcement played to callers",
          role="supervisor"),
    Route("PUT", "/api/announcement", "Set the announcement", role="admin",
          body="{prompts, expires_at}"),
    Route("DELETE", "/api/announcement", "Clear the announcement", role="admin"),
    Route("GET", "/api/audit", "Supervisors' actions and recordings played", role="admin"),
    Route("GET", "/api/recordings", "Recordings by time, agent, queue, caller, survey, "
          "length (agents: own calls, if allowed)"),
    Route("POST", "/api/recordings/{call_id}/play", "A short ticket to play or download "
          "one recording"),
    Route("GET", "/api/recordings/{call_id}/audio", "The recording, Range requests "
          "answered (?ticket= or bearer)", role=""),
    Route("GET", "/api/recordings/{call_id}/download", "The recording as a download "
          "(?ticket= or bearer)", role=""),
    Route("GET", "/api/flows", "The IVR flows", role="admin"),
    Route("GET", "/api/flows/{name}", "A flow's YAML, its sha and kept versions",
          role="admin"),
    Route("POST", "/api/flows/{name}/check", "Validate a flow's text (errors at line and "
          "column)", role="admin", body="{text}"),
    Route("POST", "/api/flows/{name}/save", "Validate and save a flow (the old text kept)",
          role="admin", body="{text, sha}"),
    Route("GET", "/api/flows/{name}/versions/{version}", "A kept version's text",
          role="admin"),
    Route("POST", "/api/flows/{name}/versions/{version}/restore", "Save a kept version "
          "back", role="admin"),
    Route("GET", "/api/users", "Users, roles, agents and phones", role="admin"),
    Route("POST", "/api/users", "Add a user", role="admin",
          body="{name, role, password, agent, device}"),
    Route("PATCH", "/api/users/{user_name}", "Change a user (their sessions end)",
          role="admin", body="{role, password, agent, device}"),
    Route("DELETE", "/api/users/{user_name}", "Remove a user (never the last admin)",
          role="admin"),
    Route("GET", "/api/lists", "The caller lists' entries", role="admin"),
    Route("POST", "/api/lists", "Add or replace a caller list entry", role="admin",
          body="{list, match, value, action, target, priority, expires, note}"),
    Route("POST", "/api/lists/remove", "Remove a caller list entry", role="admin",
          body="{list, match, value}"),
    Route("POST", "/api/lists/import", "Import a CSV (text/csv body; ?replace=1)",
          role="admin"),
    Route("GET", "/api/lists.csv", "Export the caller lists as CSV", role="admin"),
    Route("GET", "/api/schedules", "Every schedule's state now and its company dates",
          role="supervisor"),
    Route("GET", "/api/schedules/{schedule}", "A schedule now and through a day "
          "(?date=YYYY-MM-DD, default today)", role="supervisor"),
    Route("POST", "/api/schedules/{schedule}/dates", "Set a company date (applies to the "
          "next call, kept in Redis)", role="admin",
          body="{date | from+to, state: open|closed|holiday, hours?, label?}"),
    Route("DELETE", "/api/schedules/{schedule}/dates/{day}", "Remove the company date of "
          "a day (?to=YYYY-MM-DD: of a range)", role="admin"),
    Route("GET", "/api/settings", "Queues' and agents' settings changeable at run time, "
          "as they are now", role="admin"),
    Route("PATCH", "/api/settings/queues/{queue}", "Change a queue's settings now (kept "
          "across restarts)", role="admin", body="{strategy, service_level_seconds, "
          "wrap_up_seconds, ring_timeout_seconds, max_wait_seconds}"),
    Route("DELETE", "/api/settings/queues/{queue}", "A queue back to config.yaml's "
          "settings", role="admin"),
    Route("PATCH", "/api/settings/agents/{agent_id}", "Change an agent's name, skills or "
          "queues (with penalties) now", role="admin",
          body="{name, skills, queues: {queue: penalty}}"),
    Route("DELETE", "/api/settings/agents/{agent_id}", "An agent back to config.yaml's "
          "settings", role="admin"),
    Route("GET", "/api/webhooks", "Each webhook's delivery: pending, last delivered, last "
          "error, next retry", role="admin"),
    Route("GET", "/api/live", "WebSocket: the wallboard and, on subscription, the events "
          "(docs/integration.md)"),
    Route("GET", "/metrics", "Prometheus metrics (token or loopback, config metrics:)",
          role=""),
    Route("GET", "/console", "Redirect to /console/", role=""),
    Route("GET", "/console/", "The supervisors' console page (the agents' desk: "
          "/console/desk.html)", role=""),
    Route("GET", "/console/{name}", "The console page's files", role=""),
)

_PARAM = re.compile(r"\{([^}/:]+)(?::[^}]*)?\}")


def _operation_id(route: Route) -> str:
    """get_api_calls_call_id; a folder's page (/console/) ends in _index."""
    slug = re.sub(r"[^a-z0-9]+", "_", route.path.lower()).strip("_")
    return f"{route.method.lower()}_{slug}{'_index' if route.path.endswith('/') else ''}"


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": _operation_id(route),
        "x-acd-role": route.role or "none",
        "responses": {"200": {"description": "done"},
                      "4XX": {"description": "refused: {error, message} says why and what "
                                             "to do"}}}
    params = _PARAM.findall(route.path)
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True,
                             "schema": {"type": "string"}} for p in params]
    if route.role:
        op["security"] = [{"bearer": []}]
    if route.body:
        op["requestBody"] = {"description": route.body, "content": {
            "application/json": {"schema": {"type": "object"}}}}
    return op


def document(routes: tuple[Route, ...] = ROUTES) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "acd", "version": __version__,
                 "description": "The ACD/IVR server's HTTP API. Log in with POST "
                                "/api/login; send the token as `Authorization: Bearer`. "
                                "Events: docs/integration.md."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


async def openapi_json(_request: web.Request) -> web.StreamResponse:
    return web.json_response(document())


def documented() -> set[tuple[str, str]]:
    """(method, path) of every route the document describes."""
    return {(r.method, r.path) for r in ROUTES}
