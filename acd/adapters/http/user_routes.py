"""Users and roles managed in the console (admins): GET/POST /api/users,
PATCH/DELETE /api/users/{name}. Kept in Redis (acd.adapters.redis.user_store) with
pbkdf2 hashes; config.yaml's `users:` bootstrap (acd.adapters.http.user_rules says how
the two combine). A change of role, agent, password or phone, or a removal, revokes the
user's tokens (replace_users compares the users before and after). Every acd process polls the
store's version, so a change reaches all of them within POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Protocol

from aiohttp import web

from acd.adapters.http.app import (
    LOGIN_POOL,
    SERVICES,
    ApiError,
    _json_body,
    replace_users,
    require,
)
from acd.adapters.http.auth import Role, User, hash_password
from acd.adapters.http.user_rules import (
    UserRefused,
    changed_user,
    check_admins_remain,
    effective_users,
    public_view,
)

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class ManagedUsers(Protocol):
    """acd.adapters.redis.user_store.UserStore."""

    async def all(self) -> dict[str, User | None]: ...

    async def put(self, user: User) -> None: ...

    async def remove(self, name: str) -> None: ...

    async def version(self) -> str: ...


class UserDirectory:
    """config.yaml's users with the console's on top, installed as the API's logins."""

    def __init__(self, store: ManagedUsers, configured: Mapping[str, User],
                 agent_ids: Callable[[], Collection[str]]) -> None:
        self.store = store
        self.configured = dict(configured)
        self.agent_ids = agent_ids
        self.managed: dict[str, User | None] = {}
        self.seen_version = ""
        self.lock = asyncio.Lock()

    async def refresh(self, app: web.Application) -> None:
        """Re-read the store and install the result (tokens of changed users revoked)."""
        version = await self.store.version()
        self.managed = await self.store.all()
        self.seen_version = version
        await replace_users(app, effective_users(self.configured, self.managed))


DIRECTORY = web.AppKey("user_directory", UserDirectory)


def register(app: web.Application, directory: UserDirectory) -> None:
    app[DIRECTORY] = directory
    app.cleanup_ctx.append(_follow_store)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_patch("/api/users/{user_name}", change_user)
    app.router.add_delete("/api/users/{user_name}", remove_user)


async def reload_users(app: web.Application, configured: Mapping[str, User]) -> None:
    """SIGHUP: config.yaml's users changed; the console's stay on top of them."""
    directory = app.get(DIRECTORY)
    if directory is None:
        await replace_users(app, configured)
        return
    directory.configured = dict(configured)
    try:
        await directory.refresh(app)
    except Exception as exc:  # Redis away: the console's users as last read
        log.error("console users not re-read (%s); using those read before", exc)
        await replace_users(app, effective_users(directory.configured, directory.managed))


async def _follow_store(app: web.Application) -> AsyncIterator[None]:
    """Read the store at start, then follow its version (other acd processes' changes)."""
    directory = app[DIRECTORY]
    try:
        await directory.refresh(app)
    except Exception as exc:
        log.error("console users not read from Redis (%s): config.yaml's users only, "
                  "until Redis answers", exc)

    async def follow() -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                if await directory.store.version() != directory.seen_version:
                    async with directory.lock:
                        await directory.refresh(app)
            except Exception as exc:
                log.debug("console users not polled: %s", exc)

    task = asyncio.create_task(follow(), name="follow-console-users")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _listed(app: web.Application) -> list[dict[str, object]]:
    managed = app[DIRECTORY].managed
    users = app[SERVICES].users
    return [public_view(users[name], name in managed) for name in sorted(users)]


@require(Role.ADMIN)
async def list_users(request: web.Request) -> web.StreamResponse:
    return web.json_response({"users": _listed(request.app)})


async def _store(request: web.Request, name: str, body: Mapping[str, object],
                 adding: bool) -> web.StreamResponse:
    app = request.app
    directory, users = app[DIRECTORY], app[SERVICES].users
    async with directory.lock:
        before = users.get(name)
        if adding and before is not None:
            raise ApiError(f"user {name} exists: change it with PATCH /api/users/{name}",
                           status=409)
        if not adding and before is None:
            raise ApiError(f"no user named {name}", status=404)
        try:
            user, password = changed_user(name, body, before, directory.agent_ids())
            check_admins_remain(users, name, user)
        except UserRefused as exc:
            raise ApiError(str(exc), status=409 if "last admin" in str(exc) else 400) \
                from None
        if password:  # pbkdf2 is slow on purpose: on the login threads
            encoded = await asyncio.get_running_loop().run_in_executor(
                app[LOGIN_POOL], hash_password, password)
            user = dataclasses.replace(user, password_hash=encoded)
        await directory.store.put(user)
        await directory.refresh(app)
    view = public_view(app[SERVICES].users[name], True)
    return web.json_response(view, status=201 if adding else 200)


@require(Role.ADMIN)
async def add_user(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError('give "name", "role", "password" (and "agent" for an agent user)')
    return await _store(request, name, body, adding=True)


@require(Role.ADMIN)
async def change_user(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    if "name" in body and body["name"] != request.match_info["user_name"]:
        raise ApiError("a user cannot be renamed: add a new user, then remove this one")
    return await _store(request, request.match_info["user_name"], body, adding=False)


@require(Role.ADMIN)
async def remove_user(request: web.Request) -> web.StreamResponse:
    app, name = request.app, request.match_info["user_name"]
    directory, users = app[DIRECTORY], app[SERVICES].users
    async with directory.lock:
        if name not in users:
            raise ApiError(f"no user named {name}", status=404)
        try:
            check_admins_remain(users, name, None)
        except UserRefused as exc:
            raise ApiError(str(exc), status=409) from None
        await directory.store.remove(name)
        await directory.refresh(app)
    return web.json_response({"name": name, "removed": True})
