"""The `lookup` node's HTTP side: ask a web service about the caller, never raise.

Any failure (refused, timeout, bad JSON, HTTP 5xx) becomes `LookupStatus.ERROR`
so the flow takes its error branch instead of dropping the call.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LookupRequest:
    url: str
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 3.0


class LookupStatus(Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ERROR = "error"


@dataclass(frozen=True)
class LookupResult:
    status: LookupStatus
    fields: Mapping[str, Any] = field(default_factory=dict)
    detail: str = ""


class LookupClient(Protocol):
    async def fetch(self, request: LookupRequest) -> LookupResult: ...


class HttpLookupClient:
    """aiohttp client; GET sends params as the query string, POST as a JSON body."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None

    async def fetch(self, request: LookupRequest) -> LookupResult:
        try:
            return await asyncio.wait_for(self._fetch(request), request.timeout)
        except TimeoutError:
            return _failed(request, f"no answer within {request.timeout:g} s")
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            return _failed(request, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a lookup must never take the call down
            log.exception("lookup %s failed unexpectedly", request.url)
            return _failed(request, f"{type(exc).__name__}: {exc}")

    async def _fetch(self, request: LookupRequest) -> LookupResult:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = dict(request.params)
        kwargs: dict[str, Any] = {"json": params} if request.method == "POST" else {
            "params": params}
        headers = {"Accept": "application/json"}
        async with self._session.request(request.method, request.url, headers=headers,
                                         **kwargs) as resp:
            if resp.status == 404:
                return LookupResult(LookupStatus.NOT_FOUND, detail="HTTP 404")
            if resp.status != 200:
                return _failed(request, f"HTTP {resp.status}")
            data = json.loads(await resp.text())
        if not isinstance(data, dict):
            return _failed(request, "the answer is not a JSON object")
        return LookupResult(LookupStatus.OK, data)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


def _failed(request: LookupRequest, detail: str) -> LookupResult:
    log.warning("lookup %s %s failed: %s", request.method, request.url, detail)
    return LookupResult(LookupStatus.ERROR, detail=detail)


def field_at(data: Mapping[str, Any], path: str) -> str | None:
    """The value at a dotted path (`order.status`) as text; None when absent or null."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
