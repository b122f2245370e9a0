"""The global announcement with an optional expiry, against a real Redis: set with an
expiry, callers stop hearing it when it passes (Redis drops it, for every acd process),
bad expiries refused, set and clear audited."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.store import CallStore
from acd.media.announcement import Announcement


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def client(redis: Any) -> AsyncIterator[TestClient]:
    prefix = f"test-ann-{uuid.uuid4().hex[:8]}:"
    announcement = Announcement(CallStore(redis, prefix), ["zh", "en"])
    announcement.RECHECK_SECONDS = 0.0  # (acd re-reads every 5 s and on the change feed)
    users = {"sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users, announcements=announcement))
    add_audit(app, AuditStore(redis, prefix + "audit:"), time.time)
    async with TestClient(TestServer(app)) as c:
        c.announcement = announcement  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_an_announcement_with_an_expiry_is_heard_until_then_and_not_after(client):
    root = await auth(client, "root", "r")
    expires_at = time.time() + 0.5
    resp = await client.put("/api/announcement", headers=root, json={
        "prompts": [{"text": "系统维护中"}], "expires_at": expires_at})
    assert resp.status == 200
    assert [p.text for p in await client.announcement.playables()] == ["系统维护中"]
    resp = await client.get("/api/announcement", headers=await auth(client, "sam", "s"))
    body = await resp.json()
    assert body["expires_at"] == expires_at
    assert body["announcement"] == [{"text": "系统维护中", "lang": "zh"}]
    deadline = time.monotonic() + 3
    while await client.announcement.playables():
        assert time.monotonic() < deadline, "still heard after its expiry"
        await asyncio.sleep(0.05)
    resp = await client.get("/api/announcement", headers=root)
    assert await resp.json() == {"announcement": None, "expires_at": None}


async def test_without_an_expiry_it_stays_until_cleared(client):
    root = await auth(client, "root", "r")
    await client.put("/api/announcement", headers=root, json={
        "prompts": [{"text": "a"}], "expires_at": time.time() + 60})
    await client.put("/api/announcement", headers=root, json={"prompts": [{"text": "b"}]})
    body = await (await client.get("/api/announcement", headers=root)).json()
    assert body["expires_at"] is None and body["announcement"][0]["text"] == "b"
    assert (await client.delete("/api/announcement", headers=root)).status == 200
    assert await client.announcement.playables() == ()


async def test_an_expiry_in_the_past_or_not_a_time_is_refused(client):
    root = await auth(client, "root", "r")
    for expires_at in (time.time() - 10, "tomorrow", True, time.time() + 400 * 86400):
        resp = await client.put("/api/announcement", headers=root, json={
            "prompts": [{"text": "x"}], "expires_at": expires_at})
        assert resp.status == 400, expires_at
        assert "expires_at" in (await resp.json())["message"]
    assert await client.announcement.playables() == ()


async def test_setting_and_clearing_the_announcement_are_audited(client):
    root = await auth(client, "root", "r")
    await client.put("/api/announcement", headers=root, json={"prompts": [{"text": "x"}]})
    await client.delete("/api/announcement", headers=root)
    await client.get("/api/announcement", headers=root)
    entries = await (await client.get("/api/audit", headers=root)).json()
    assert [(e["action"], e["status"]) for e in entries] == [
        ("announcement.clear", 200), ("announcement.set", 200)]
