"""The audit log: supervisors' actions through the API and recordings played, written to
a real Redis as they are answered; only admins read it; retention and a cap on entries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.audit_store import AuditStore
from acd.callflow.record import CallRecord
from acd.core.errors import IllegalTransition

DB = 15  # this module's own database; keys also carry a per-test prefix
NOW = 1795000000.0


class Desk:
    """The agent desk as the API reaches it: pausing 1002 is refused (on a call)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, agent_id: str, action: str, body: dict[str, Any], *,
                       supervisor: bool = False) -> dict[str, Any]:
        self.bodies.append(body)
        if agent_id == "1002":
            raise IllegalTransition(agent_id, "logged-out", "paused", "log in first")
        return {"agent": agent_id, "action": action, "ok": True}


class Calls:
    def __init__(self, recording: Path) -> None:
        self.record = CallRecord("c1", "13800138000", "4008001234", 1.0,
                                 recording=str(recording))

    async def get_call(self, call_id: str) -> CallRecord | None:
        return self.record if call_id == "c1" else None


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def client(redis: Any, tmp_path: Path) -> AsyncIterator[TestClient]:
    (tmp_path / "c1.wav").write_bytes(b"RIFF....WAVE")
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    desk = Desk()
    app = make_app(HttpServices(users=users, agent_actions=desk,
                                call_store=Calls(tmp_path / "c1.wav"),  # type: ignore[arg-type]
                                recordings_dir=tmp_path,
                                error_statuses={IllegalTransition: 409}))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, f"test-audit-{uuid.uuid4().hex[:8]}:"),
              lambda: NOW + next(ticks))
    async with TestClient(TestServer(app)) as c:
        c.desk = desk  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_a_supervisors_actions_and_a_recording_played_are_in_the_audit_log(client):
    sam = await auth(client, "sam", "s")
    resp = await client.post("/api/agents/1001/pause", json={"reason": "meeting"}, headers=sam)
    assert resp.status == 200
    assert client.desk.bodies == [{"reason": "meeting"}]  # the route still reads the body
    assert (await client.post("/api/agents/1002/pause", json={"reason": "lunch"},
                              headers=sam)).status == 409
    assert (await client.get("/api/calls/c1/recording", headers=sam)).status == 200
    resp = await client.get("/api/audit", headers=await auth(client, "root", "r"))
    entries = await resp.json()
    assert [(e["action"], e.get("agent") or e.get("call"), e["status"]) for e in entries] \
        == [("recording.play", "c1", 200), ("agent.pause", "1002", 409),
            ("agent.pause", "1001", 200)]  # newest first
    first = entries[-1]
    assert (first["user"], first["role"], first["reason"], first["at"]) == \
        ("sam", "supervisor", "meeting", NOW)
    assert first["address"] == "127.0.0.1"


async def test_an_agent_acting_on_their_own_state_is_not_a_supervisor_action(client):
    alice = await auth(client, "alice", "a")
    assert (await client.post("/api/agents/1001/pause", json={"reason": "busy"},
                              headers=alice)).status == 200
    resp = await client.get("/api/audit", headers=await auth(client, "root", "r"))
    assert await resp.json() == []


async def test_only_admins_read_the_audit_log(client):
    assert (await client.get("/api/audit")).status == 401
    for user, password in (("alice", "a"), ("sam", "s")):
        resp = await client.get("/api/audit", headers=await auth(client, user, password))
        assert resp.status == 403
    resp = await client.get("/api/audit?limit=x", headers=await auth(client, "root", "r"))
    assert resp.status == 400


async def test_entries_past_the_retention_or_the_cap_are_dropped_as_new_ones_come(redis):
    store = AuditStore(redis, f"test-audit-{uuid.uuid4().hex[:8]}:", retention_days=1,
                       max_entries=3)
    for n, at in enumerate([NOW - 2 * 86400, NOW - 10, NOW - 5, NOW - 4, NOW]):
        await store.write({"at": at, "user": "sam", "action": f"a{n}"})
    assert [e["action"] for e in await store.recent()] == ["a4", "a3", "a2"]
    assert [e["action"] for e in await store.recent(since=NOW - 4)] == ["a4", "a3"]
