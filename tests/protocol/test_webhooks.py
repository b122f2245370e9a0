"""Webhooks against a real receiver (aiohttp on loopback) and a real Redis: a receiver
that fails gets the events later, in order, with growing pauses between attempts; what
GET /api/webhooks shows an admin meanwhile; who may read it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest
from aiohttp.test_utils import TestClient, TestServer
from webhook_peers import EventSide, Receiver, hook

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.integration import add_integration
from acd.callflow.orders import TellIntegrators

DB = 10
T0 = 1_795_000_000.0


@pytest.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    pool = await asyncio_redis.Pool.create(host=redis_server.host, port=redis_server.port,
                                           db=DB, poolsize=4)
    prefix = f"test-webhooks-{uuid.uuid4().hex[:8]}:"
    pool.prefix = prefix
    yield pool
    cursor = await pool.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await pool.delete(keys)
    pool.close()


@pytest.fixture
async def receiver(unused_tcp_port_factory: Any) -> AsyncIterator[Receiver]:
    peer = Receiver(unused_tcp_port_factory())
    await peer.start()
    yield peer
    await peer.stop()


def offered(call_id: str) -> TellIntegrators:
    return TellIntegrators("call.offered", call_id, "1001", T0,
                           {"queue": "support", "caller": "13800138000"})


async def until(condition: Any, what: str, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_receiver_that_fails_three_times_gets_the_events_later_in_order_with_backoff(
        redis: Any, receiver: Receiver) -> None:
    side = EventSide(redis, redis.prefix, (hook(receiver, "crm", retry_base_seconds=0.1,
                                                retry_max_seconds=1.0),))
    side.start()
    try:
        await asyncio.sleep(0.1)  # (the webhook's cursor starts at the stream's end)
        receiver.failures = 3
        for n in range(5):
            side.feed.call_event(offered(f"c{n}"))
        await until(lambda: len(receiver.attempts.get("crm", [])) >= 2, "never tried")
        [status] = await side.webhooks.status()
        assert status["pending"] == 5 and status["last_delivered"] is None
        assert status["last_error"]["message"] == "HTTP 503"
        assert status["next_retry"] > status["last_error"]["at"]
        await until(lambda: len(receiver.events("crm")) == 5, "not all delivered", 15)
        [status] = await side.webhooks.status()
    finally:
        await side.stop()
    assert [e["call_id"] for e in receiver.events("crm")] == ["c0", "c1", "c2", "c3", "c4"]
    times = receiver.attempts["crm"]
    gaps = [b - a for a, b in zip(times[:4], times[1:4], strict=False)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39  # doubling from 0.1 s
    assert status["pending"] == 0 and status["failures"] == 0
    assert status["last_delivered"]["id"] == receiver.events("crm")[-1]["id"]
    assert status["last_error"]["message"] == "HTTP 503"  # (kept: when it last failed)


async def test_a_webhook_gets_only_the_types_it_asked_for_and_masked_numbers_by_default(
        redis: Any, receiver: Receiver) -> None:
    side = EventSide(redis, redis.prefix, (hook(receiver, "ends", events=("call.ended",)),
                                           hook(receiver, "all")))
    side.start()
    try:
        await asyncio.sleep(0.1)
        side.feed.call_event(offered("c1"))
        side.feed.call_event(TellIntegrators("call.ended", "c1", "1001", T0 + 60, {
            "caller": "13800138000", "variables": {"order": "98765432", "caller":
                                                   "13800138000"},
            "sensitive_variables": ["order"], "outcome": "answered"}))
        await until(lambda: len(receiver.events("all")) == 2, "not delivered")
        await until(lambda: len(receiver.events("ends")) == 1, "not delivered")
    finally:
        await side.stop()
    [ended] = receiver.events("ends")
    assert ended["type"] == "call.ended"
    assert ended["data"]["caller"] == "13******000"
    assert ended["data"]["variables"] == {"order": "98****32", "caller": "13******000"}


@pytest.fixture
async def client(redis: Any, receiver: Receiver) -> AsyncIterator[TestClient]:
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    side = EventSide(redis, redis.prefix, (hook(receiver, "crm"),))
    app = make_app(HttpServices(users=users))
    add_integration(app, side.webhooks)
    async with TestClient(TestServer(app)) as c:
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_admins_read_the_webhooks_delivery_status(client: TestClient) -> None:
    assert (await client.get("/api/webhooks")).status == 401
    for user, password in (("alice", "a"), ("sam", "s")):
        resp = await client.get("/api/webhooks", headers=await auth(client, user, password))
        assert resp.status == 403
    resp = await client.get("/api/webhooks", headers=await auth(client, "root", "r"))
    assert resp.status == 200
    [status] = (await resp.json())["webhooks"]
    assert (status["name"], status["pending"], status["last_error"]) == ("crm", 0, None)
    assert "secret" not in str(status)


async def test_the_api_document_is_served_without_a_login(client: TestClient) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    document = await resp.json()
    assert document["openapi"] == "3.1.0"
    assert document["paths"]["/api/webhooks"]["get"]["x-acd-role"] == "admin"


async def test_the_documented_example_receiver_accepts_acds_signed_deliveries(
        redis: Any, unused_tcp_port: int) -> None:
    import importlib.util
    from pathlib import Path

    from aiohttp import web
    from webhook_peers import SECRET

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    handled: list[dict[str, Any]] = []
    runner = web.AppRunner(example.make_app(SECRET, handled.append))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    url = f"http://127.0.0.1:{unused_tcp_port}/acd/events"
    side = EventSide(redis, redis.prefix, (hook(Receiver(0), "crm", url=url),))
    side.start()
    try:
        await asyncio.sleep(0.1)
        side.feed.call_event(offered("c1"))
        await until(lambda: len(handled) == 1, "the example receiver refused the event")
        [status] = await side.webhooks.status()
        assert status["pending"] == 0 and status["last_error"] is None
    finally:
        await side.stop()
        await runner.cleanup()
    assert not example.verified(SECRET, "1", b"{}", "sha256=00", now=1.0)
