"""A webhook receiver (a real aiohttp server on loopback) and acd's event side wired as
acd.app wires it, for the webhook and live-event tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from acd.adapters.redis.event_stream import EventFeed, EventStream
from acd.adapters.webhooks import Webhooks
from acd.clock import SystemClock
from acd.config.webhooks import WebhookConfig
from acd.integration.events import signature_valid

SECRET = "a-long-random-secret-for-tests"


@dataclass
class Delivery:
    event: dict[str, Any]
    signed: bool
    headers: dict[str, str]


@dataclass
class Receiver:
    """Takes POSTs on /hook/{name}; refuses the next `failures` with 503."""

    port: int
    failures: int = 0
    got: dict[str, list[Delivery]] = field(default_factory=dict)
    #: when each attempt arrived (time.monotonic()), per webhook
    attempts: dict[str, list[float]] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{name}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        self.attempts.setdefault(name, []).append(time.monotonic())
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=503, text="busy")
        signed = signature_valid(SECRET, request.headers.get("X-Acd-Timestamp", ""), body,
                                 request.headers.get("X-Acd-Signature", ""), time.time())
        self.got.setdefault(name, []).append(
            Delivery(json.loads(body), signed, dict(request.headers)))
        return web.Response(status=204)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [d.event for d in self.got.get(name, [])]


def hook(receiver: Receiver, name: str, **overrides: Any) -> WebhookConfig:
    values: dict[str, Any] = {"name": name, "url": receiver.url(name),
                              "secret_env": "ACD_TEST_SECRET", "secret": SECRET,
                              "retry_base_seconds": 0.05, "retry_max_seconds": 0.4,
                              "timeout_seconds": 2.0}
    values.update(overrides)
    return WebhookConfig(**values)


class EventSide:
    """The feed and the webhooks, started and stopped as acd.app does."""

    def __init__(self, redis: Any, prefix: str, hooks: tuple[WebhookConfig, ...]) -> None:
        self.feed = EventFeed(EventStream(redis, prefix))
        self.webhooks = Webhooks(hooks, self.feed.stream, SystemClock().now)
        self.feed.listen(self.webhooks.on_event)

    def start(self) -> None:
        self.feed.start()
        self.webhooks.start()

    async def stop(self) -> None:
        await self.feed.close()
        await self.webhooks.close()
