"""The caller lists through the console's API against a real Redis: admins only, entries
added and removed with clear refusals, CSV imported whole or not at all and exported,
numbers as the role may see them, changes seen by the next call, every change audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import list_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.http.list_routes import ListAccess
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.list_store import CachedRules, ListStore
from acd.rules.caller_entries import Action

NOW = 1_795_000_000.0
CSV = ("list,match,value,action,target,priority,expires,note\n"
       "white,exact,13800000888,vip,,50,,gold customer\n"
       "black,prefix,170,hangup,,,,virtual operators\n")


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def client(redis: Any) -> AsyncIterator[TestClient]:
    prefix = f"test-clists-{uuid.uuid4().hex[:8]}:"
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r"),
             "masked": User("masked", Role.ADMIN, password="m")}
    app = make_app(HttpServices(users=users, sees_numbers=lambda u: u.name == "root"))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, prefix + "audit:"), lambda: NOW + next(ticks))
    store = ListStore(redis, prefix)

    def announce_problem(entry: Any) -> str:
        return "no such recording: prompts/zh/nope.wav" \
            if entry.action is Action.ANNOUNCE and entry.target == "nope" else ""

    list_routes.register(app, ListAccess(store, announce_problem))
    async with TestClient(TestServer(app)) as c:
        c.store = store  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_admins_see_and_change_the_caller_lists(client):
    routes = [("GET", "/api/lists"), ("POST", "/api/lists"), ("POST", "/api/lists/remove"),
              ("POST", "/api/lists/import"), ("GET", "/api/lists.csv")]
    for method, path in routes:
        assert (await client.request(method, path, json={})).status == 401, path
        for user, password in (("alice", "a"), ("sam", "s")):
            resp = await client.request(method, path, json={},
                                        headers=await auth(client, user, password))
            assert resp.status == 403, (path, user)


async def test_an_added_entry_is_listed_and_decides_the_next_call_then_is_removed(client):
    root = await auth(client, "root", "r")
    rules = CachedRules(client.store)
    resp = await client.post("/api/lists", json={
        "list": "black", "match": "exact", "value": "+86 138-0013-8000",
        "action": "hangup", "note": "abusive"}, headers=root)
    assert resp.status == 201
    assert (await resp.json())["entry"]["value"] == "13800138000"
    assert (await rules.decide("13800138000", NOW)) is not None
    entries = (await (await client.get("/api/lists", headers=root)).json())["entries"]
    assert [(e["list"], e["value"], e["action"], e["note"]) for e in entries] == [
        ("black", "13800138000", "hangup", "abusive")]
    resp = await client.post("/api/lists/remove", json={
        "list": "black", "match": "exact", "value": "13800138000"}, headers=root)
    assert resp.status == 200
    rules.invalidate()  # what acd's change feed does on the store's "lists" message
    assert (await rules.decide("13800138000", NOW)) is None
    resp = await client.post("/api/lists/remove", json={
        "list": "black", "match": "exact", "value": "13800138000"}, headers=root)
    assert resp.status == 404


async def test_an_entry_acd_cannot_use_is_refused_with_the_reason(client):
    root = await auth(client, "root", "r")
    for body, words in (
            ({"list": "grey", "value": "1", "action": "hangup"}, "list"),
            ({"list": "white", "value": "13800138000", "action": "hangup"}, "not for"),
            ({"list": "white", "value": "13800138000", "action": "vip"}, "priority"),
            ({"list": "black", "value": "hello", "action": "hangup"}, "phone number"),
            ({"list": "black", "value": "13800138000", "action": "announce",
              "target": "nope"}, "no such recording"),
            ({"list": "black", "value": ["x"], "action": "hangup"}, "text")):
        resp = await client.post("/api/lists", json=body, headers=root)
        assert resp.status == 400, body
        assert words in (await resp.json())["message"], body


async def test_a_csv_is_imported_whole_or_not_at_all_and_exported_back(client):
    root = await auth(client, "root", "r")
    bad = CSV + "white,exact,notanumber,vip,,5,,\n"
    resp = await client.post("/api/lists/import", data=bad.encode(), headers=root)
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"] == [{"row": 4, "message": body["errors"][0]["message"]}]
    assert await client.store.entries() == []
    resp = await client.post("/api/lists/import", data=CSV.encode(), headers=root)
    assert (await resp.json()) == {"imported": 2}
    resp = await client.get("/api/lists.csv", headers=root)
    assert resp.headers["Content-Disposition"] == 'attachment; filename="caller-lists.csv"'
    exported = await resp.text()
    assert "13800000888" in exported and "virtual operators" in exported
    resp = await client.post("/api/lists/import?replace=1",
                             data=CSV.splitlines()[0].encode() + b"\n", headers=root)
    assert (await resp.json()) == {"imported": 0}
    assert await client.store.entries() == []


async def test_an_admin_without_the_right_to_numbers_sees_them_masked_and_cannot_export(
        client):
    root, masked = await auth(client, "root", "r"), await auth(client, "masked", "m")
    await client.post("/api/lists/import", data=CSV.encode(), headers=root)
    entries = (await (await client.get("/api/lists", headers=masked)).json())["entries"]
    assert sorted(e["value"] for e in entries) == ["13******888", "170"]
    assert (await client.get("/api/lists.csv", headers=masked)).status == 403


async def test_list_changes_are_audited(client):
    root = await auth(client, "root", "r")
    await client.post("/api/lists", json={"list": "white", "value": "13800000888",
                                          "action": "vip", "priority": 5}, headers=root)
    await client.post("/api/lists/remove", json={"list": "white", "value": "13800000888"},
                      headers=root)
    await client.post("/api/lists/import", data=CSV.encode(), headers=root)
    await client.get("/api/lists", headers=root)  # reading is not an action
    entries = await (await client.get("/api/audit", headers=root)).json()
    assert [(e["action"], e.get("list"), e.get("list_action"), e["status"])
            for e in entries] == [("list.import", None, None, 200),
                                  ("list.remove", "white", None, 200),
                                  ("list.add", "white", "vip", 201)]
