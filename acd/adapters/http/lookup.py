"""The `lookup` node's HTTP side: ask a web service about the caller, never raise.

Any failure (refused, timeout, bad JSON, HTTP 5xx, a redirect the flow did not
allow, an answer larger than its limit) becomes `LookupStatus.ERROR` so the flow
takes its error branch instead of dropping the call. What to ask and what the
answer means are the IVR's (acd.ivr.lookup); this module only does the asking.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from yarl import URL

from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus

log = logging.getLogger(__name__)


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
        # LookupError: the answer names a charset Python does not know;
        # RecursionError: its JSON is nested deeper than Python's stack.
        except (aiohttp.ClientError, ValueError, LookupError, RecursionError, OSError) as exc:
            return _failed(request, _describe(exc))
        except Exception as exc:  # a lookup must never take the call down
            log.exception("lookup %s failed unexpectedly", request.for_log)
            return _failed(request, f"{type(exc).__name__}: {exc}")

    async def _fetch(self, request: LookupRequest) -> LookupResult:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = dict(request.params)
        kwargs: dict[str, Any] = {"json": params} if request.method == "POST" else {
            "params": params}
        headers = {"Accept": "application/json"}
        # encoded=True: yarl would otherwise decode %2E and resolve the `..` that
        # a caller's digits or a lookup answer could put in the path.
        url = URL(request.url, encoded=True)
        async with self._session.request(request.method, url, headers=headers,
                                         allow_redirects=request.follow_redirects,
                                         **kwargs) as resp:
            if resp.status == 404:
                return LookupResult(LookupStatus.NOT_FOUND, detail="HTTP 404")
            if resp.status != 200:
                return _failed(request, f"HTTP {resp.status}")
            body = await _read_at_most(resp, request.max_bytes)
            if body is None:
                return _failed(request, f"the answer is larger than {request.max_bytes} "
                               "bytes (the node's max_bytes)")
            data = json.loads(body.decode(resp.charset or "utf-8"))
        if not isinstance(data, dict):
            return _failed(request, "the answer is not a JSON object")
        return LookupResult(LookupStatus.OK, data)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


async def _read_at_most(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` (read no further than that).

    The length header is not trusted alone: a chunked or lying answer is counted
    as it arrives. aiohttp decompresses in bounded steps, so this also caps what
    a compressed answer can expand to.
    """
    if resp.content_length is not None and resp.content_length > limit:
        return None
    body = bytearray()
    while len(body) <= limit:
        chunk = await resp.content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
    return None


def _describe(exc: Exception) -> str:
    # These two carry the URL with its query, where the caller's number is.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: {exc.status} {exc.message}"
    if isinstance(exc, aiohttp.InvalidURL):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _failed(request: LookupRequest, detail: str) -> LookupResult:
    log.warning("lookup %s %s failed: %s", request.method, request.for_log, detail)
    return LookupResult(LookupStatus.ERROR, detail=detail)
