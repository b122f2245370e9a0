"""The console's recordings: search (`GET /api/recordings`), play and download.

Who may hear: supervisors and admins; an agent user their own calls only, when
`console.agents_replay_own` is true. The file is the one the index names, and only if it
is inside the recordings folder; nothing in the request is ever a path.

An `<audio>` element cannot send an `Authorization` header, so playing starts with
`POST /api/recordings/{id}/play` (bearer token), which answers the audio and download
addresses with a ticket: good for this one recording, this user, TICKET_SECONDS, and
only while the user's login lasts. The browser then fetches the file with Range requests
(aiohttp's FileResponse answers 206), so seeking works. Each fetch of the file is in the
audit log, with its Range.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from acd.adapters.http.app import SERVICES, USER, ApiError, _bearer_token, require
from acd.adapters.http.auth import Role, User
from acd.console.recording_search import (
    QueryError,
    RecordingQuery,
    matches,
    next_cursor,
    parse_query,
    row,
)

#: how long a play ticket opens its recording (seeking in a long call included)
TICKET_SECONDS = 900.0
#: index entries one search looks through at most before it answers with a cursor
MAX_SCAN = 2000
BATCH = 200
CALL_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RecordingIndex(Protocol):
    """acd.adapters.recordings.Recordings."""

    async def page(self, *, agent: str = "", queue: str = "", caller: str = "",
                   since: float = 0, until: float = ..., offset: int = 0,
                   count: int = 100) -> list[tuple[str, dict[str, str]]]: ...

    async def entry(self, call_id: str) -> dict[str, str]: ...

    def file_of(self, stored: str) -> Path | None: ...


@dataclass(frozen=True)
class _Ticket:
    token: str
    user: User
    call_id: str
    expires: float


@dataclass
class RecordingAccess:
    index: RecordingIndex | None
    #: config console.agents_replay_own, as reloaded
    agents_replay_own: Callable[[], bool] = lambda: False
    #: the wall clock (epoch seconds): the top of a search's time range
    clock: Callable[[], float] = time.time
    tickets: dict[str, _Ticket] = field(default_factory=dict)


RECORDINGS = web.AppKey("recording_access", RecordingAccess)


def register(app: web.Application, access: RecordingAccess) -> None:
    app[RECORDINGS] = access
    app.router.add_get("/api/recordings", search)
    app.router.add_post("/api/recordings/{call_id}/play", play)
    app.router.add_get("/api/recordings/{call_id}/audio", audio)
    app.router.add_get("/api/recordings/{call_id}/download", download)


def _index(request: web.Request) -> RecordingIndex:
    index = request.app[RECORDINGS].index
    if index is None:
        raise ApiError("recordings are not available (no Redis index)", status=503)
    return index


def _may_hear(request: web.Request, user: User) -> None:
    """403 for an agent user unless the admin lets agents replay their own calls."""
    if user.role >= Role.SUPERVISOR:
        return
    if not request.app[RECORDINGS].agents_replay_own():
        raise ApiError("recordings are for supervisors and admins (an admin may let agents "
                       "replay their own calls: console.agents_replay_own)", status=403)
    if not user.agent_id:
        raise ApiError("this user is bound to no agent (users.<name>.agent)", status=403)


@require(Role.AGENT)
async def search(request: web.Request) -> web.StreamResponse:
    """?from=&to=&agent=&queue=&caller=&survey=&min_seconds=&max_seconds=&limit=&cursor=
    newest first; `next_cursor` is null on the last page."""
    user: User = request[USER]
    _may_hear(request, user)
    services = request.app[SERVICES]
    try:
        query = parse_query(request.query, request.app[RECORDINGS].clock())
    except QueryError as exc:
        raise ApiError(str(exc)) from None
    if user.role < Role.SUPERVISOR:
        if query.agent and query.agent != user.agent_id:
            raise ApiError("agents search their own calls only", status=403)
        query = replace(query, agent=user.agent_id)
    found, offset, more = await _scan(request, query, services.sees_numbers(user))
    return web.json_response({"recordings": found,
                              "next_cursor": next_cursor(query, offset) if more else None})


async def _scan(request: web.Request, query: RecordingQuery,
                sees_numbers: bool) -> tuple[list[dict[str, object]], int, bool]:
    """(rows, offset reached, whether there may be more)."""
    index, calls = _index(request), request.app[SERVICES].call_store
    found: list[dict[str, object]] = []
    offset = query.offset
    while offset - query.offset < MAX_SCAN:
        batch = await index.page(agent=query.agent, queue="" if query.agent else query.queue,
                                 since=query.since, until=query.until, offset=offset,
                                 count=BATCH)
        if not batch:
            return found, offset, False
        for call_id, entry in batch:
            offset += 1
            if not matches(query, entry, sees_numbers):
                continue
            record = await calls.get_call(call_id) if calls is not None else None
            survey = record.survey if record is not None else ""
            if query.survey and survey != query.survey:
                continue
            found.append(row(call_id, entry, survey=survey, sees_numbers=sees_numbers,
                             talk_seconds=record.talk_seconds if record else None))
            if len(found) >= query.limit:
                return found, offset, True
        if len(batch) < BATCH:
            return found, offset, False
    return found, offset, True


async def _heard_entry(request: web.Request, user: User, call_id: str) -> dict[str, str]:
    """The index entry of a recording this user may hear, or 403/404."""
    _may_hear(request, user)
    entry = await _index(request).entry(call_id) if CALL_ID.fullmatch(call_id) else {}
    if not entry or (user.role < Role.SUPERVISOR and entry.get("agent") != user.agent_id):
        raise ApiError("no such recording", status=404)
    return entry


@require(Role.AGENT)
async def play(request: web.Request) -> web.StreamResponse:
    """The audio and download addresses of one recording, with a ticket (see above)."""
    user: User = request[USER]
    call_id = request.match_info["call_id"]
    await _heard_entry(request, user, call_id)
    access, services = request.app[RECORDINGS], request.app[SERVICES]
    now = services.now()
    for old in [k for k, t in access.tickets.items() if t.expires <= now]:
        del access.tickets[old]
    ticket = secrets.token_urlsafe(24)
    access.tickets[ticket] = _Ticket(_bearer_token(request), user, call_id,
                                     now + TICKET_SECONDS)
    base = f"/api/recordings/{call_id}"
    return web.json_response({"call_id": call_id, "audio": f"{base}/audio?ticket={ticket}",
                              "download": f"{base}/download?ticket={ticket}",
                              "expires_in": TICKET_SECONDS})


def _ticket_user(request: web.Request, call_id: str) -> User:
    """The user a ticket (or, for API clients, a bearer token) stands for."""
    services, access = request.app[SERVICES], request.app[RECORDINGS]
    now = services.now()
    ticket = access.tickets.get(request.query.get("ticket", ""))
    if ticket is not None:
        # a ticket dies with its login (logged out, password or role changed)
        if ticket.expires > now and ticket.call_id == call_id and \
                services.sessions.user(ticket.token, now) == ticket.user:
            return ticket.user
        raise ApiError("this play ticket has expired: press play again", status=401)
    token = _bearer_token(request)
    user = services.sessions.user(token, now) if token else None
    if user is None:
        raise ApiError("log in first: POST /api/login, then POST "
                       f"/api/recordings/{call_id}/play", status=401)
    return user


async def _file(request: web.Request, disposition: str) -> web.StreamResponse:
    call_id = request.match_info["call_id"]
    user = _ticket_user(request, call_id)
    request[USER] = user  # for the audit log: who heard it
    entry = await _heard_entry(request, user, call_id)
    path = _index(request).file_of(entry.get("path", ""))
    if path is None:
        raise ApiError("the recording file is missing", status=404)
    response = _SentOnce(path, headers={
        "Content-Disposition": f'{disposition}; filename="{call_id}{path.suffix}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
    # sent here, so the audit log sees the status it was sent with (206 for a Range)
    await response.prepare(request)
    return response


class _SentOnce(web.FileResponse):
    """A file response that may be sent before the handler returns: aiohttp prepares
    every response again after the middlewares, and a FileResponse would start over."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self.prepared:
            return self._payload_writer
        return await super().prepare(request)


async def audio(request: web.Request) -> web.StreamResponse:
    return await _file(request, "inline")


async def download(request: web.Request) -> web.StreamResponse:
    return await _file(request, "attachment")
