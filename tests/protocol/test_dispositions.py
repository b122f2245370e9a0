"""Wrap-up dispositions against a real Redis call store and aiohttp's test client: the
agent files their call under a category with a note; refusals by role, category and
size; the note's numbers masked for roles without the right."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.store import CallStore
from acd.callflow.record import CallRecord

DB = 8
USERS = {"alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001"),
         "bob": User("bob", Role.AGENT, password="b-pw", agent_id="1002"),
         "sam": User("sam", Role.SUPERVISOR, password="s-pw")}
CATEGORIES = {"complaint": "投诉", "order": "订单"}


@pytest.fixture
async def store(redis_server: Any) -> AsyncIterator[CallStore]:
    prefix = f"test-disp-{uuid.uuid4().hex[:8]}:"
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    calls = CallStore(connection, prefix)
    await calls.record_call("c1", CallRecord("c1", "13800138000", "4008001234", 1.0,
                                             agent="1001", ended_at=60.0,
                                             outcome="answered").fields())
    yield calls
    keys = await (await connection.scan(match=f"{prefix}*")).fetchall()
    if keys:
        await connection.delete(list(keys))
    connection.close()


@pytest.fixture
async def client(store: CallStore) -> AsyncIterator[TestClient]:
    app = make_app(HttpServices(users=dict(USERS), call_store=store,
                                dispositions=lambda: CATEGORIES))
    async with TestClient(TestServer(app)) as c:
        yield c


async def login(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_the_agent_files_their_call_under_a_category_with_a_note(client, store):
    alice = await login(client, "alice", "a-pw")
    listed = await (await client.get("/api/dispositions", headers=alice)).json()
    assert listed == {"dispositions": [{"code": "complaint", "label": "投诉"},
                                       {"code": "order", "label": "订单"}]}
    resp = await client.post("/api/calls/c1/disposition", headers=alice,
                             json={"category": "complaint", "note": "回电 13912345678\n加急"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["label"] == "投诉"
    record = await store.get_call("c1")
    assert record is not None
    assert (record.disposition, record.disposition_note) == ("complaint",
                                                             "回电 13912345678\n加急")
    # the agent's own view: numbers in the note are masked like a caller's
    view = await (await client.get("/api/calls/c1", headers=alice)).json()
    assert view["disposition"] == "complaint" and "13912345678" not in view["disposition_note"]
    sam = await login(client, "sam", "s-pw")
    view = await (await client.get("/api/calls/c1", headers=sam)).json()
    assert "13912345678" in view["disposition_note"]


async def test_dispositions_that_make_no_sense_are_refused(client):
    alice, bob = await login(client, "alice", "a-pw"), await login(client, "bob", "b-pw")
    post = client.post
    assert (await post("/api/calls/c1/disposition", json={"category": "x"},
                       headers=alice)).status == 400
    assert (await post("/api/calls/c1/disposition", json={"category": "order",
                                                         "note": "x" * 1001},
                       headers=alice)).status == 400
    assert (await post("/api/calls/c1/disposition", json={"category": "order",
                                                         "note": "a\x00b"},
                       headers=alice)).status == 400
    # another agent's call, or none: the same 404
    assert (await post("/api/calls/c1/disposition", json={"category": "order"},
                       headers=bob)).status == 404
    assert (await post("/api/calls/nope/disposition", json={"category": "order"},
                       headers=alice)).status == 404
    assert (await post("/api/calls/c1/disposition", json={"category": "order"})).status == 401


async def test_without_configured_categories_filing_is_refused_with_what_to_do(store):
    app = make_app(HttpServices(users=dict(USERS), call_store=store))
    async with TestClient(TestServer(app)) as client:
        alice = await login(client, "alice", "a-pw")
        resp = await client.post("/api/calls/c1/disposition", json={"category": "order"},
                                 headers=alice)
        assert resp.status == 409
        assert "dispositions:" in (await resp.json())["message"]
