"""POST /api/calls/{id}/intercept over HTTP: supervisors only, on their own phone, the
call handed to the session's transfer step as an intercept, audited. (The call path
itself: tests/unit/callflow/test_session_paths.py; on Asterisk: tests/integration.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import intercept
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.audit_store import AuditStore
from acd.callflow.state import NotConnected

NOW = 1_795_000_000.0


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def client(redis: Any) -> AsyncIterator[TestClient]:
    asked: list[tuple[str, str, str]] = []

    async def transfer(call_id: str, kind: str, target: str) -> str:
        if call_id != "c1":
            raise NotConnected(f"call {call_id} is not connected to an agent")
        asked.append((call_id, kind, target))
        return "1001"

    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s", device="PJSIP/supervisor1"),
             "nophone": User("nophone", Role.SUPERVISOR, password="n"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users, transfer=transfer,
                                error_statuses={NotConnected: 409}))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, f"test-icpt-{uuid.uuid4().hex[:8]}:"),
              lambda: NOW + next(ticks))
    intercept.register(app)
    async with TestClient(TestServer(app)) as c:
        c.asked = asked  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_a_supervisor_takes_the_call_over_on_their_own_phone(client):
    resp = await client.post("/api/calls/c1/intercept", headers=await auth(client, "sam", "s"))
    assert resp.status == 200
    assert await resp.json() == {"call_id": "c1", "from_agent": "1001",
                                 "device": "PJSIP/supervisor1"}
    assert client.asked == [("c1", "intercept", "PJSIP/supervisor1")]
    entries = await (await client.get("/api/audit",
                                      headers=await auth(client, "root", "r"))).json()
    assert [(e["action"], e["call"], e["user"], e["status"]) for e in entries] == [
        ("call.intercept", "c1", "sam", 200)]


async def test_intercept_is_refused_to_agents_to_supervisors_without_a_phone_and_on_idle_calls(
        client):
    assert (await client.post("/api/calls/c1/intercept")).status == 401
    resp = await client.post("/api/calls/c1/intercept",
                             headers=await auth(client, "alice", "a"))
    assert resp.status == 403
    resp = await client.post("/api/calls/c1/intercept",
                             headers=await auth(client, "nophone", "n"))
    assert resp.status == 403 and "device" in (await resp.json())["message"]
    resp = await client.post("/api/calls/c9/intercept", headers=await auth(client, "sam", "s"))
    assert resp.status == 409
    assert client.asked == []
