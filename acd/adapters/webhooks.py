"""Webhooks: each configured receiver gets the events it asked for, signed, one at a
time and in order, until it has taken each one (HTTP 2xx).

Each webhook reads the event stream (acd.adapters.redis.event_stream) from its own
cursor, kept in Redis: a restarted acd goes on after the last event the receiver
took, so none is lost and, normally, none is sent twice (a crash between a receiver's
2xx and the cursor's write sends that one event again: receivers drop a repeat by
its id). A failed delivery is tried again after 1 s, 2 s, 4 s... up to the webhook's
`retry_max_seconds`, and the events behind it wait: the order never changes.

Each POST carries the event's JSON (numbers masked unless the webhook has
`full_numbers`) and `X-Acd-Timestamp` (epoch seconds) and `X-Acd-Signature`
(`sha256=` HMAC-SHA256 of "<timestamp>." + body with the webhook's secret); see
docs/integration.md for a receiver that checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from acd.adapters.redis.event_stream import EventStream
from acd.config.webhooks import WebhookConfig
from acd.integration.events import Event, masked, retry_delay, signature, wanted

log = logging.getLogger(__name__)

#: events read from the stream at a time
READ_COUNT = 100
#: how often an idle webhook looks at the stream (another acd may have written)
POLL_SECONDS = 2.0
#: the pending count in the status stops counting here
COUNT_LIMIT = 10_000


def shown_url(url: str) -> str:
    """The URL without credentials (user:password@) for the status page and the log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class WebhookDelivery:
    """One webhook's delivery loop."""

    def __init__(self, config: WebhookConfig, stream: EventStream,
                 http: Callable[[], aiohttp.ClientSession], now: Callable[[], float]) -> None:
        self.config = config
        self._stream = stream
        self._http = http
        #: wall-clock time: the receiver compares the timestamp with its own clock
        self._now = now
        self._wake = asyncio.Event()
        self.failures = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver for ever; Redis away: wait and go on from the cursor in Redis."""
        delay = 0.5
        while True:
            try:
                await self._deliver_forever()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhook %s: delivery paused (%s); retrying in %.1f s",
                            self.config.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _deliver_forever(self) -> None:
        name = self.config.name
        cursor = await self._stream.start_webhook(name)
        state = await self._stream.webhook_state(name)
        self.failures = int(state.get("failures") or 0)
        while True:
            events = await self._stream.after(cursor, READ_COUNT)
            if not events:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                continue
            skipped = ""
            for event in events:
                if wanted(event["type"], self.config.events):
                    await self._deliver(event)
                    skipped = ""
                else:
                    skipped = event["id"]
                cursor = event["id"]
            if skipped:  # events this webhook does not want: passed over for good
                await self._stream.save_webhook_state(name, {"cursor": skipped})

    async def _deliver(self, event: Event) -> None:
        """Post until the receiver takes it."""
        body = json.dumps(masked(event, self.config.full_numbers), ensure_ascii=False,
                          separators=(",", ":")).encode()
        while True:
            error = await self._post(event, body)
            now = self._now()
            if error is None:
                self.failures = 0
                await self._stream.save_webhook_state(self.config.name, {
                    "cursor": event["id"], "delivered_id": event["id"],
                    "delivered_at": repr(now), "failures": "0", "next_retry": ""})
                return
            self.failures += 1
            delay = retry_delay(self.failures, self.config.retry_base_seconds,
                                self.config.retry_max_seconds)
            log.warning("webhook %s: event %s not delivered (%s); attempt %d, next in "
                        "%.1f s", self.config.name, event["id"], error, self.failures, delay)
            await self._stream.save_webhook_state(self.config.name, {
                "failures": str(self.failures), "last_error": error, "error_at": repr(now),
                "next_retry": repr(now + delay)})
            await asyncio.sleep(delay)

    async def _post(self, event: Event, body: bytes) -> str | None:
        """None: delivered; else what went wrong, for the status and the log."""
        timestamp = str(int(self._now()))
        headers = {"Content-Type": "application/json",
                   "X-Acd-Event-Id": event["id"], "X-Acd-Event-Type": event["type"],
                   "X-Acd-Webhook": self.config.name, "X-Acd-Timestamp": timestamp,
                   "X-Acd-Signature": signature(self.config.secret, timestamp, body)}
        try:
            async with self._http().post(
                    self.config.url, data=body, headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as resp:
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
        except TimeoutError:
            return f"no answer within {self.config.timeout_seconds:g} s"
        except aiohttp.ClientError as exc:
            return f"{type(exc).__name__}: {exc}"[:300]

    async def status(self) -> dict[str, Any]:
        """What GET /api/webhooks shows of this webhook."""
        state = await self._stream.webhook_state(self.config.name)
        pending, cursor = 0, state.get("cursor", "")
        while pending < COUNT_LIMIT:
            events = await self._stream.after(cursor, 1000)
            if not events:
                break
            pending += sum(1 for e in events if wanted(e["type"], self.config.events))
            cursor = events[-1]["id"]

        def number(key: str) -> float | None:
            return float(state[key]) if state.get(key) else None

        return {"name": self.config.name, "url": shown_url(self.config.url),
                "events": list(self.config.events), "full_numbers": self.config.full_numbers,
                "pending": pending, "pending_capped": pending >= COUNT_LIMIT,
                "last_delivered": {"id": state["delivered_id"],
                                   "at": number("delivered_at")}
                if state.get("delivered_id") else None,
                "last_error": {"message": state["last_error"], "at": number("error_at")}
                if state.get("last_error") else None,
                "failures": int(state.get("failures") or 0),
                "next_retry": number("next_retry")}


class Webhooks:
    """Every configured webhook; a listener of the event feed (each event wakes them)."""

    def __init__(self, configs: tuple[WebhookConfig, ...], stream: EventStream,
                 now: Callable[[], float]) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.deliveries = [WebhookDelivery(c, stream, self._client, now) for c in configs]
        self._tasks: list[asyncio.Task[None]] = []

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def on_event(self, _event: Event) -> None:
        for delivery in self.deliveries:
            delivery.wake()

    def start(self) -> None:
        for delivery in self.deliveries:
            self._tasks.append(asyncio.create_task(delivery.run(),
                                                   name=f"webhook-{delivery.config.name}"))

    async def status(self) -> list[dict[str, Any]]:
        return [await d.status() for d in self.deliveries]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
