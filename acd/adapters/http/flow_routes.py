"""The console's flow editor (admins): list, read, check, save and restore IVR flows.

GET /api/flows, GET /api/flows/{name}, POST /api/flows/{name}/check {text},
POST /api/flows/{name}/save {text, sha?}, GET /api/flows/{name}/versions/{version},
POST /api/flows/{name}/versions/{version}/restore. A save runs the validation of
`acd check` first; a text that would not load answers 400 with each error at its line
and column, and the file is not touched. Saves and restores are in the audit log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from acd.adapters.flow_files import FlowChanged, FlowFiles, FlowInvalid, digest
from acd.adapters.http.app import ApiError, _json_body, require
from acd.adapters.http.auth import Role
from acd.yamlsource import SourceError

FLOW_FILES = web.AppKey("flow_files", FlowFiles)
FLOW_CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("flow_clock")
MAX_TEXT = 256 * 1024


def register(app: web.Application, files: FlowFiles,
             clock: Callable[[], float] = time.time) -> None:
    app[FLOW_FILES] = files
    app[FLOW_CLOCK] = clock
    app.router.add_get("/api/flows", list_flows)
    app.router.add_get("/api/flows/{name}", get_flow)
    app.router.add_post("/api/flows/{name}/check", check_flow)
    app.router.add_post("/api/flows/{name}/save", save_flow)
    app.router.add_get("/api/flows/{name}/versions/{version}", get_version)
    app.router.add_post("/api/flows/{name}/versions/{version}/restore", restore_version)


def _error_view(error: SourceError) -> dict[str, Any]:
    """An error for the browser: the file's name only, never the server's folders."""
    pos = error.position
    return {"file": Path(pos.file).name if pos else "", "line": pos.line if pos else None,
            "column": pos.column if pos else None, "message": error.message}


def _invalid(errors: list[SourceError]) -> web.Response:
    return web.json_response({
        "error": "invalid_flow", "errors": [_error_view(e) for e in errors],
        "message": "the flow was not saved: " + "; ".join(
            f"line {e.position.line}:{e.position.column}: {e.message}" if e.position
            else e.message for e in errors[:5])}, status=400)


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    try:
        request.app[FLOW_FILES].path_of(name)
    except KeyError:
        raise ApiError(f"no flow named {name!r} in the flows folder", status=404) from None
    return name


async def _text(request: web.Request) -> tuple[str, dict[str, Any]]:
    body = await _json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ApiError(f'give "text": the flow\'s YAML, at most {MAX_TEXT} characters')
    return text, body


@require(Role.ADMIN)
async def list_flows(request: web.Request) -> web.StreamResponse:
    names = request.app[FLOW_FILES].names()
    return web.json_response({"flows": [
        {"name": name, "file": path.name, "size": path.stat().st_size,
         "modified": path.stat().st_mtime} for name, path in names.items()]})


@require(Role.ADMIN)
async def get_flow(request: web.Request) -> web.StreamResponse:
    files, name = request.app[FLOW_FILES], _name(request)
    text = files.read(name)
    return web.json_response({"name": name, "file": files.path_of(name).name, "text": text,
                              "sha": digest(text), "versions": files.version_names(name)})


@require(Role.ADMIN)
async def check_flow(request: web.Request) -> web.StreamResponse:
    name = _name(request)
    text, _ = await _text(request)
    errors = await asyncio.to_thread(request.app[FLOW_FILES].errors, name, text)
    return web.json_response({"errors": [_error_view(e) for e in errors]})


async def _saved(request: web.Request, name: str,
                 save: Callable[[], str]) -> web.StreamResponse:
    files = request.app[FLOW_FILES]
    try:
        kept = await asyncio.to_thread(save)
    except FlowInvalid as exc:
        return _invalid(exc.errors)
    except FlowChanged:
        raise ApiError(f"flow {name} changed since you opened it; reload it, then edit",
                       status=409) from None
    text = files.read(name)
    return web.json_response({"name": name, "saved": True, "sha": digest(text),
                              "previous_version": kept,
                              "versions": files.version_names(name)})


@require(Role.ADMIN)
async def save_flow(request: web.Request) -> web.StreamResponse:
    name = _name(request)
    text, body = await _text(request)
    expected = body.get("sha", "")
    if not isinstance(expected, str):
        raise ApiError('"sha" is the sha the flow was read with')
    files, now = request.app[FLOW_FILES], request.app[FLOW_CLOCK]()
    return await _saved(request, name, lambda: files.save(name, text, now, expected))


@require(Role.ADMIN)
async def get_version(request: web.Request) -> web.StreamResponse:
    name, version = _name(request), request.match_info["version"]
    try:
        text = request.app[FLOW_FILES].read_version(name, version)
    except KeyError:
        raise ApiError(f"flow {name} has no kept version {version!r}", status=404) from None
    return web.json_response({"name": name, "version": version, "text": text})


@require(Role.ADMIN)
async def restore_version(request: web.Request) -> web.StreamResponse:
    name, version = _name(request), request.match_info["version"]
    files, now = request.app[FLOW_FILES], request.app[FLOW_CLOCK]()
    if version not in files.version_names(name):
        raise ApiError(f"flow {name} has no kept version {version!r}", status=404)
    return await _saved(request, name, lambda: files.restore(name, version, now))
