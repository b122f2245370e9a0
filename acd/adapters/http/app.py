"""The HTTP API: app factory, routes in one place, errors mapped once.

Every route but /api/health, /api/ready, /api/login and the IVR's demo lookups needs a
bearer token from /api/login; each route names the least role it needs. Logins are
checked on threads of their own (pbkdf2 is slow on purpose) and throttled;
expired tokens are purged on a timer started with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiohttp import web

from acd import call_csv
from acd.adapters.http import demo
from acd.adapters.http.auth import (
    Role,
    Sessions,
    User,
    authenticate,
    changed_users,
    prepare_users,
)
from acd.adapters.http.health import DependencyHealth, report
from acd.adapters.http.throttle import LoginThrottle
from acd.callflow.record import CallRecord
from acd.core.views import AgentView, QueueView
from acd.privacy import mask_call, mask_number
from acd.rules.numbers import dialable

if TYPE_CHECKING:
    from acd.adapters.http.own_calls import OwnCallPlacer

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    status = 400

    def __init__(self, message: str, *, status: int | None = None, error: str = "",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.error = error or {400: "bad_request", 401: "unauthorized", 403: "forbidden",
                               404: "not_found", 409: "conflict",
                               429: "too_many_requests"}.get(self.status, "error")
        self.headers = dict(headers or {})


class CallRecords(Protocol):
    """The call records (acd.adapters.redis.store.CallStore)."""

    async def recent_calls(self, limit: int = 100) -> list[CallRecord]: ...

    def call_hashes(self, since: float = 0, until: float = ...,
                    ) -> AsyncIterator[list[dict[str, str]]]: ...

    async def get_call(self, call_id: str) -> CallRecord | None: ...

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None: ...


class AgentActions(Protocol):
    """An agent's action (login, logout, pause...): acd.agents.desk.AgentDesk.api_action."""

    async def __call__(self, agent_id: str, action: str, body: dict[str, Any], *,
                       supervisor: bool = False) -> dict[str, Any]: ...


class Views(Protocol):
    """The routing core's views (acd.routing_service.RoutingService)."""

    def agents(self) -> list[AgentView]: ...

    def queues(self) -> list[QueueView]: ...


class Announcements(Protocol):
    """The global announcement (acd.media.announcement.Announcement)."""

    async def set(self, prompts: list[object] | None,
                  expires_at: float | None = None) -> None: ...

    async def get(self) -> list[object] | None: ...

    async def expires_at(self) -> float | None: ...


@dataclass
class HttpServices:
    """What the API reaches; the composition root fills it in (None: not available)."""

    users: dict[str, User]
    call_store: CallRecords | None = None
    recordings_dir: Path | None = None
    agent_actions: AgentActions | None = None
    views: Views | None = None
    announcements: Announcements | None = None
    #: (call_id, "queue" | "extension", target) -> the agent who had the call
    transfer: Callable[[str, str, str], Awaitable[str]] | None = None
    #: call_id -> the agent connected to it, or None
    transfer_agent: Callable[[str], str | None] | None = None
    #: (call_id, mode, device) -> the agent listened to
    spy: Callable[[str, str, str], Awaitable[str]] | None = None
    #: (call_id, control, target) -> the agent on the call (acd.callflow.facts.CallControl)
    call_control: Callable[[str, str, str], Awaitable[str]] | None = None
    #: agents' own calls (acd.agents.outbound.OwnCalls)
    own_calls: OwnCallPlacer | None = None
    #: the wrap-up categories (config dispositions: code -> label), as reloaded
    dispositions: Callable[[], Mapping[str, str]] = field(default=lambda: {})
    #: acd's own numbers for /api/health (waiting callers, counters...)
    health: Callable[[], dict[str, Any]] = field(default=lambda: {})
    #: Redis, AMI, FastAGI and the routing core, each up or down (/api/health, /api/ready)
    dependencies: DependencyHealth | None = None
    sessions: Sessions = field(default_factory=Sessions)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: the clock sessions and throttling read (monotonic seconds)
    now: Callable[[], float] = time.monotonic
    #: seconds between two purges of expired tokens
    purge_every: float = 300.0
    #: whether a user may see callers' numbers in full (config privacy.full_numbers_for)
    sees_numbers: Callable[[User], bool] = field(
        default=lambda user: user.role >= Role.SUPERVISOR)
    #: domain exception types mapped to HTTP statuses (e.g. IllegalTransition -> 409)
    error_statuses: dict[type[Exception], int] = field(default_factory=dict)


SERVICES = web.AppKey("services", HttpServices)
#: the threads that run pbkdf2, so a burst of logins queues there, not on the event loop
LOGIN_POOL = web.AppKey("login_pool", ThreadPoolExecutor)
USER = web.RequestKey("user", User)
MAX_USERNAME = 256
MAX_PASSWORD = 1024

@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response({"error": exc.error, "message": exc.message},
                                 status=exc.status, headers=exc.headers)
    except web.HTTPException:
        raise
    except Exception as exc:
        for kind, status in services.error_statuses.items():
            if isinstance(exc, kind):
                return web.json_response({"error": type(exc).__name__, "message": str(exc)},
                                         status=status)
        log.exception("HTTP %s %s failed", request.method, request.path)
        return web.json_response({"error": "internal", "message": "internal error; see the "
                                  "acd log"}, status=500)


S = TypeVar("S")


def _available(service: S | None, what: str) -> S:
    """A service the composition root left out (a partial set-up, a test): 503, like
    agent control, transfers and listening in."""
    if service is None:
        raise ApiError(f"{what} not available", status=503)
    return service


def _bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


def require(role: Role) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            services = request.app[SERVICES]
            token = _bearer_token(request)
            user = services.sessions.user(token, services.now()) if token else None
            if user is None:
                raise ApiError("log in first: POST /api/login", status=401)
            if user.role < role:
                raise ApiError(f"this needs the {role.name.lower()} role", status=403)
            request[USER] = user
            return await handler(request)

        return wrapped

    return decorate


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError("the body must be a JSON object")
    return body


async def health(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    up, states = report(services.dependencies)
    return web.json_response({"status": "ok" if up else "degraded", **services.health(),
                              "dependencies": states})


async def ready(request: web.Request) -> web.StreamResponse:
    up, states = report(request.app[SERVICES].dependencies)
    return web.json_response({"ready": up, "dependencies": states}, status=200 if up else 503)


async def login(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    name, password = body.get("username"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise ApiError("username and password are required strings")
    if not name or len(name) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        raise ApiError(f"a username has 1 to {MAX_USERNAME} characters, a password at most "
                       f"{MAX_PASSWORD}")
    services = request.app[SERVICES]
    address = request.remote or "unknown"
    wait = services.throttle.admit(name, address, services.now())
    if wait:
        raise ApiError(f"too many failed logins; try again in {wait} s", status=429,
                       headers={"Retry-After": str(wait)})
    user = None
    try:
        user = await asyncio.get_running_loop().run_in_executor(
            request.app[LOGIN_POOL], authenticate, services.users, name, password)
        if user is not None and services.users.get(name) != user:
            user = None  # removed or changed by a reload while the password was checked
    finally:  # also when the client goes away mid-check: the attempt still counts
        services.throttle.finish(name, address, succeeded=user is not None,
                                 now=services.now())
    if user is None:
        # the name only if it is a user's: a password typed into the name field stays out
        log.info("login refused for %s from %s",
                 name if name in services.users else "an unknown user", address)
        raise ApiError("wrong username or password", status=401)
    return web.json_response({"token": services.sessions.issue(user, services.now()),
                              "role": user.role.name.lower()})


@require(Role.AGENT)
async def logout(request: web.Request) -> web.StreamResponse:
    request.app[SERVICES].sessions.revoke(_bearer_token(request))
    return web.json_response({"logged_out": True})


async def demo_order(request: web.Request) -> web.StreamResponse:
    """The shipped IVR's order-status `lookup` (key 2), answered by the demo CRM."""
    order = demo.order(request.match_info["order"])
    if order is None:
        raise ApiError("no such order", status=404)
    return web.json_response(order)


async def demo_customer(request: web.Request) -> web.StreamResponse:
    """The shipped IVR's `vip_check`: the caller's tier, or 404 for a caller the demo CRM
    does not know (the flow takes that as "not VIP")."""
    customer = demo.customer(request.match_info["caller"])
    if customer is None:
        raise ApiError("no such customer", status=404)
    return web.json_response(customer)


def _call_view(record: CallRecord, user: User, sees_numbers: bool) -> dict[str, Any]:
    data = record.fields() if sees_numbers else mask_call(record.fields())
    if user.role < Role.SUPERVISOR:
        data.pop("recording", None)
    return data


#: every list route answers at most this many items, and at least one
MAX_LIMIT = 1000


def _limit(request: web.Request, default: int = 50) -> int:
    """?limit= clamped to 1..MAX_LIMIT: 0 or a negative number once meant everything."""
    try:
        limit = int(request.query.get("limit", str(default)))
    except ValueError:
        raise ApiError("limit must be a whole number") from None
    return max(1, min(limit, MAX_LIMIT))


@require(Role.AGENT)
async def list_calls(request: web.Request) -> web.StreamResponse:
    limit = _limit(request)
    user: User = request[USER]
    calls = _available(request.app[SERVICES].call_store, "call records are")
    records = await calls.recent_calls(limit)
    if user.role < Role.SUPERVISOR:
        records = [r for r in records if r.agent == user.agent_id]
    full = request.app[SERVICES].sees_numbers(user)
    return web.json_response({"calls": [_call_view(r, user, full) for r in records]})


def _epoch(request: web.Request, name: str, default: str) -> float:
    try:
        value = float(request.query.get(name, default))
    except ValueError:
        raise ApiError("since and until are epoch seconds") from None
    if math.isnan(value):
        raise ApiError("since and until are epoch seconds")
    return value


@require(Role.SUPERVISOR)
async def export_calls(request: web.Request) -> web.StreamResponse:
    """Call records as CSV: ?since=&until= in epoch seconds (default: everything).

    Streamed a batch at a time, so memory stays flat however many calls there
    are and the event loop (FastAGI sessions) gets a turn between batches.
    """
    since, until = _epoch(request, "since", "0"), _epoch(request, "until", "inf")
    services = request.app[SERVICES]
    calls = _available(services.call_store, "call records are")
    masked = not services.sees_numbers(request[USER])
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="calls.csv"'})
    await response.prepare(request)
    await response.write(call_csv.header().encode())
    try:
        async for batch in calls.call_hashes(since, until):
            await response.write(call_csv.rows(batch, masked=masked).encode())
    except Exception:
        transport = request.transport
        if transport is None or transport.is_closing():
            log.info("call export: the client went away; stopped reading")
        else:
            # The status line is sent: an error can no longer become a 500. Closing
            # before the last chunk tells the client that the file is cut short.
            log.exception("call export failed part way; closing the connection")
            transport.close()
        return response
    await response.write_eof()
    return response


@require(Role.AGENT)
async def get_call(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    calls = _available(request.app[SERVICES].call_store, "call records are")
    record = await calls.get_call(request.match_info["call_id"])
    if record is None or (user.role < Role.SUPERVISOR and record.agent != user.agent_id):
        raise ApiError("no such call", status=404)
    full = request.app[SERVICES].sees_numbers(user)
    return web.json_response(_call_view(record, user, full))


@require(Role.SUPERVISOR)
async def get_recording(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    calls = _available(services.call_store, "call records are")
    record = await calls.get_call(request.match_info["call_id"])
    if record is None or not record.recording or services.recordings_dir is None:
        raise ApiError("this call has no recording", status=404)
    root = services.recordings_dir.resolve()
    path = Path(record.recording).resolve()
    if not path.is_relative_to(root) or not path.is_file():  # never trust a stored path
        raise ApiError("the recording file is missing", status=404)
    return web.FileResponse(path)


@require(Role.AGENT)
async def agent_action(request: web.Request) -> web.StreamResponse:
    user: User = request[USER]
    agent_id, action = request.match_info["agent_id"], request.match_info["action"]
    if user.role < Role.SUPERVISOR and user.agent_id != agent_id:
        raise ApiError("agents may only change their own state", status=403)
    body = await _json_body(request) if request.can_read_body else {}
    services = request.app[SERVICES]
    if services.agent_actions is None:
        raise ApiError("agent control is not available", status=503)
    result = await services.agent_actions(agent_id, action, body,
                                          supervisor=user.role >= Role.SUPERVISOR)
    return web.json_response(result)


@require(Role.AGENT)
async def transfer_call(request: web.Request) -> web.StreamResponse:
    """Blind transfer: {"queue": NAME} or {"extension": DIGITS}."""
    user: User = request[USER]
    body = await _json_body(request)
    services = request.app[SERVICES]
    if services.transfer is None:
        raise ApiError("transfers are not available", status=503)
    kinds = [k for k in ("queue", "extension") if isinstance(body.get(k), str) and body[k]]
    if len(kinds) != 1:
        raise ApiError('give exactly one of "queue" or "extension"')
    target = body[kinds[0]]
    if kinds[0] == "extension":
        try:  # ASCII digits, * and #, normalised once (+86...); never a Unicode digit
            target = dialable(target, keys=True)
        except ValueError:
            raise ApiError("an extension is at most 24 digits, * and # (ASCII)") from None
    elif len(target) > 64:
        raise ApiError("no such queue")
    call_id = request.match_info["call_id"]
    agent = services.transfer_agent(call_id) if services.transfer_agent else None
    if user.role < Role.SUPERVISOR and agent != user.agent_id:
        raise ApiError("agents may only transfer their own calls", status=403)
    try:
        agent = await services.transfer(call_id, kinds[0], target)
    except LookupError as exc:
        raise ApiError(str(exc), status=409) from None
    return web.json_response({"call_id": call_id, "from_agent": agent, kinds[0]: target})


SPY_MODES = ("listen", "whisper", "barge")


@require(Role.SUPERVISOR)
async def spy_call(request: web.Request) -> web.StreamResponse:
    """{"mode": "listen"|"whisper"|"barge"}: the supervisor's own phone (users.NAME.device)
    rings and joins the call; a "device" in the body must be that phone."""
    body = await _json_body(request)
    user: User = request[USER]
    mode, device = body.get("mode"), body.get("device", user.device)
    if mode not in SPY_MODES:
        raise ApiError(f"mode must be one of {', '.join(SPY_MODES)}")
    if not user.device:
        raise ApiError(f"user {user.name} has no phone to listen on: set "
                       f"users.{user.name}.device in config.yaml", status=403)
    if device != user.device:
        raise ApiError(f"listening in rings your own phone ({user.device}) only", status=403)
    services = request.app[SERVICES]
    if services.spy is None:
        raise ApiError("listening in is not available", status=503)
    try:
        agent = await services.spy(request.match_info["call_id"], mode, device)
    except LookupError as exc:
        raise ApiError(str(exc), status=409) from None
    return web.json_response({"call_id": request.match_info["call_id"], "agent": agent,
                              "mode": mode, "device": device})


@require(Role.SUPERVISOR)
async def list_agents(request: web.Request) -> web.StreamResponse:
    views = _available(request.app[SERVICES].views, "agent views are")
    return web.json_response({"agents": views.agents()})


@require(Role.SUPERVISOR)
async def list_queues(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    queues = _available(services.views, "queue views are").queues()
    if not services.sees_numbers(request[USER]):
        queues = [{**q, "waiting": [{**w, "caller": mask_number(str(w.get("caller", "")))}
                                    for w in q.get("waiting", [])]} for q in queues]
    return web.json_response({"queues": queues})


@require(Role.ADMIN)
async def set_announcement(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    prompts = body.get("prompts")
    if not isinstance(prompts, list) or not prompts:
        raise ApiError('give "prompts": a non-empty list of prompt refs or {"text": ...}')
    expires_at = body.get("expires_at")  # epoch seconds; absent: until cleared
    try:
        await _available(request.app[SERVICES].announcements, "announcements are").set(
            prompts, expires_at)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    return web.json_response({"announcement": prompts, "expires_at": expires_at})


@require(Role.ADMIN)
async def clear_announcement(request: web.Request) -> web.StreamResponse:
    await _available(request.app[SERVICES].announcements, "announcements are").set(None)
    return web.json_response({"announcement": None})


@require(Role.SUPERVISOR)
async def get_announcement(request: web.Request) -> web.StreamResponse:
    announcements = _available(request.app[SERVICES].announcements, "announcements are")
    prompts = await announcements.get()
    return web.json_response({"announcement": prompts,
                              "expires_at": await announcements.expires_at() if prompts
                              else None})


async def replace_users(app: web.Application, users: Mapping[str, User]) -> set[str]:
    """SIGHUP: log in against `users` from now on.

    Tokens of users who were removed, or whose role, agent or password changed,
    are revoked; the names of those users are returned.
    """
    services = app[SERVICES]
    before = services.users
    after = await asyncio.get_running_loop().run_in_executor(
        app[LOGIN_POOL], prepare_users, users, before)
    services.users = after
    changed = changed_users(before, after)
    revoked = services.sessions.revoke_users(changed)
    if changed:
        log.info("users reloaded: %s removed or changed, %d token(s) revoked",
                 ", ".join(sorted(changed)), revoked)
    return changed


async def _login_pool(app: web.Application) -> AsyncIterator[None]:
    """The login threads, and the configured users made ready for them."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="acd-login")
    app[LOGIN_POOL] = pool
    services = app[SERVICES]
    services.users = await asyncio.get_running_loop().run_in_executor(
        pool, prepare_users, services.users)
    for user in services.users.values():
        if not user.password_hash:
            log.warning("user %s has no password and cannot log in", user.name)
    yield
    pool.shutdown(wait=False, cancel_futures=True)


async def _purge_sessions(app: web.Application) -> AsyncIterator[None]:
    """A timer that forgets expired tokens, so memory does not grow with old logins."""
    services = app[SERVICES]

    async def purge() -> None:
        while True:
            await asyncio.sleep(services.purge_every)
            count = services.sessions.purge(services.now())
            if count:
                log.debug("%d expired token(s) purged", count)

    task = asyncio.create_task(purge(), name="purge-sessions")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def make_app(services: HttpServices) -> web.Application:
    app = web.Application(middlewares=[errors_middleware], client_max_size=1024 * 1024)
    app[SERVICES] = services
    app.cleanup_ctx.extend([_login_pool, _purge_sessions])
    from acd.adapters.http import (  # they need this module's helpers
        call_controls,
        dispositions,
        own_calls,
    )

    own_calls.register(app)
    call_controls.register(app)
    dispositions.register(app)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/ready", ready)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/demo/orders/{order}", demo_order)
    app.router.add_get("/api/demo/customers/{caller}", demo_customer)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls.csv", export_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/api/calls/{call_id}/recording", get_recording)
    app.router.add_post("/api/calls/{call_id}/transfer", transfer_call)
    app.router.add_post("/api/calls/{call_id}/spy", spy_call)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_post("/api/agents/{agent_id}/{action}", agent_action)
    app.router.add_get("/api/queues", list_queues)
    app.router.add_get("/api/announcement", get_announcement)
    app.router.add_put("/api/announcement", set_announcement)
    app.router.add_delete("/api/announcement", clear_announcement)
    from acd.adapters.http import reports  # a module of its own that imports this one
    reports.register(app)
    return app
