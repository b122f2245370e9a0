"""The caller lists in the console (admins): the blacklist and whitelist entries, added
and removed one at a time, imported and exported as CSV (the columns of `acd lists`).

GET /api/lists?list=black|white, POST /api/lists {list, match, value, action, target,
priority, expires, note}, POST /api/lists/remove {list, match, value},
POST /api/lists/import?replace=1 (the CSV as the body), GET /api/lists.csv. A change
applies from the next call (the lists' version moves). Numbers are shown as the admin's
role may see them; the CSV export, which has them all, needs that right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from acd.adapters.http.app import SERVICES, USER, ApiError, _json_body, require
from acd.adapters.http.auth import Role
from acd.privacy import mask_number
from acd.rules.caller_csv import CsvError
from acd.rules.caller_entries import (
    CallerEntry,
    EntryError,
    ListKind,
    MatchKind,
    format_expires,
    make_entry,
)

ENTRY_FIELDS = ("list", "match", "value", "action", "target", "priority", "expires", "note")


class CallerLists(Protocol):
    """acd.adapters.redis.list_store.ListStore."""

    async def add(self, entry: CallerEntry) -> bool: ...

    async def remove(self, list_: ListKind, match: MatchKind, value: str) -> bool: ...

    async def entries(self, list_: ListKind | None = None) -> list[CallerEntry]: ...

    async def import_csv(self, text: str, *, replace: bool = False,
                         check: Callable[[CallerEntry], str] | None = None) -> int: ...

    async def export_csv(self, list_: ListKind | None = None) -> str: ...


@dataclass
class ListAccess:
    store: CallerLists
    #: why an entry's announce prompt would not be heard ('' when it would), as configured
    announce_problem: Callable[[CallerEntry], str]


LISTS = web.AppKey("caller_lists", ListAccess)


def register(app: web.Application, access: ListAccess) -> None:
    app[LISTS] = access
    app.router.add_get("/api/lists", list_entries)
    app.router.add_post("/api/lists", add_entry)
    app.router.add_post("/api/lists/remove", remove_entry)
    app.router.add_post("/api/lists/import", import_entries)
    app.router.add_get("/api/lists.csv", export_entries)


def _kind(text: str | None) -> ListKind | None:
    if not text:
        return None
    try:
        return ListKind(text)
    except ValueError:
        raise ApiError("list is black or white") from None


def _view(entry: CallerEntry, sees_numbers: bool) -> dict[str, Any]:
    shown = entry.value if sees_numbers or entry.match is not MatchKind.EXACT \
        else mask_number(entry.value)
    return {"list": entry.list.value, "match": entry.match.value, "value": shown,
            "action": entry.action.value, "target": entry.target or "",
            "priority": entry.priority, "expires": format_expires(entry.expires),
            "note": entry.note}


@require(Role.ADMIN)
async def list_entries(request: web.Request) -> web.StreamResponse:
    entries = await request.app[LISTS].store.entries(_kind(request.query.get("list")))
    sees = request.app[SERVICES].sees_numbers(request[USER])
    return web.json_response({"entries": [_view(e, sees) for e in entries]})


@require(Role.ADMIN)
async def add_entry(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    cells = {k: body.get(k) for k in ENTRY_FIELDS}
    if not all(v is None or isinstance(v, str | int | float) and not isinstance(v, bool)
               for v in cells.values()):
        raise ApiError("each field is text (priority and expires may be numbers)")
    access = request.app[LISTS]
    try:
        entry = make_entry(str(cells["list"] or ""), str(cells["match"] or ""),
                           str(cells["value"] or ""), str(cells["action"] or ""),
                           str(cells["target"] or ""), cells["priority"],  # type: ignore[arg-type]
                           cells["expires"], str(cells["note"] or ""))  # type: ignore[arg-type]
    except EntryError as exc:
        raise ApiError(str(exc)) from None
    problem = access.announce_problem(entry)
    if problem:
        raise ApiError(problem)
    new = await access.store.add(entry)
    sees = request.app[SERVICES].sees_numbers(request[USER])
    return web.json_response({"added": new, "entry": _view(entry, sees)},
                             status=201 if new else 200)


@require(Role.ADMIN)
async def remove_entry(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    kind = _kind(str(body.get("list", "")))
    if kind is None:
        raise ApiError("list is black or white")
    try:
        match = MatchKind(str(body.get("match", "exact")))
    except ValueError:
        raise ApiError("match is exact, prefix, pattern or anonymous") from None
    if not await request.app[LISTS].store.remove(kind, match, str(body.get("value", ""))):
        raise ApiError(f"no {kind.value}list {match.value} entry like that", status=404)
    return web.json_response({"removed": True})


@require(Role.ADMIN)
async def import_entries(request: web.Request) -> web.StreamResponse:
    """Every row or none: the answer names each bad row."""
    # (the API takes bodies up to 1 MB, about 2,500 rows: larger files go through
    # `acd lists import`, which reads up to MAX_FILE_BYTES)
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("the CSV must be UTF-8 (save it as 'CSV UTF-8')") from None
    access = request.app[LISTS]
    try:
        count = await access.store.import_csv(
            text, replace=request.query.get("replace") in ("1", "true"),
            check=access.announce_problem)
    except CsvError as exc:
        return web.json_response({
            "error": "invalid_csv", "message": f"nothing imported: {len(exc.problems)} bad "
                                               "row(s)",
            "errors": [{"row": row, "message": message} for row, message in exc.problems]},
            status=400)
    return web.json_response({"imported": count})


@require(Role.ADMIN)
async def export_entries(request: web.Request) -> web.StreamResponse:
    if not request.app[SERVICES].sees_numbers(request[USER]):
        raise ApiError("the export has every number in full: it needs a role in "
                       "privacy.full_numbers_for", status=403)
    text = await request.app[LISTS].store.export_csv(_kind(request.query.get("list")))
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="caller-lists.csv"'})
