"""Users and roles managed in the console, kept in a real Redis: CRUD by admins only,
tokens revoked when a role or password changes or the user goes, the last admin kept,
config.yaml's users as the bootstrap, other acd processes following, all audited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import user_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.http.user_routes import UserDirectory, reload_users
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.user_store import UserStore

NOW = 1_795_000_000.0
CONFIGURED = {"alice": User("alice", Role.AGENT, password="alice-pw", agent_id="1001"),
              "sam": User("sam", Role.SUPERVISOR, password="sam-pw"),
              "root": User("root", Role.ADMIN, password="root-pw")}


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield connection
    connection.close()


def new_app(redis: Any, prefix: str) -> Any:
    app = make_app(HttpServices(users=dict(CONFIGURED)))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, prefix + "audit:"), lambda: NOW + next(ticks))
    user_routes.register(app, UserDirectory(UserStore(redis, prefix), CONFIGURED,
                                            lambda: {"1001", "1002"}))
    return app


@pytest_asyncio.fixture
async def prefix() -> str:
    return f"test-users-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def client(redis: Any, prefix: str) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(new_app(redis, prefix))) as c:
        yield c


async def login(client: TestClient, user: str, password: str) -> int:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return resp.status


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_admins_list_add_change_and_remove_users(client):
    routes = [("GET", "/api/users"), ("POST", "/api/users"), ("PATCH", "/api/users/sam"),
              ("DELETE", "/api/users/sam")]
    body = {"name": "x", "role": "agent", "password": "long-enough"}
    for method, path in routes:
        assert (await client.request(method, path, json=body)).status == 401
        for user, password in (("alice", "alice-pw"), ("sam", "sam-pw")):
            resp = await client.request(method, path, json=body,
                                        headers=await auth(client, user, password))
            assert resp.status == 403, (method, path, user)
    root = await auth(client, "root", "root-pw")
    users = (await (await client.get("/api/users", headers=root)).json())["users"]
    assert [(u["name"], u["role"], u["source"]) for u in users] == [
        ("alice", "agent", "config"), ("root", "admin", "config"),
        ("sam", "supervisor", "config")]
    assert not any("password" in key for u in users for key in u)


async def test_an_added_user_logs_in_and_is_listed_from_the_console(client):
    root = await auth(client, "root", "root-pw")
    resp = await client.post("/api/users", json={
        "name": "lee", "role": "supervisor", "password": "lee-secret-1",
        "device": "PJSIP/sup2"}, headers=root)
    assert resp.status == 201
    assert await resp.json() == {"name": "lee", "role": "supervisor", "agent": "",
                                 "device": "PJSIP/sup2", "source": "console",
                                 "can_log_in": True}
    assert await login(client, "lee", "lee-secret-1") == 200
    assert await login(client, "lee", "wrong-password") == 401


async def test_a_new_role_or_password_ends_the_users_sessions(client):
    root = await auth(client, "root", "root-pw")
    sam = await auth(client, "sam", "sam-pw")
    resp = await client.patch("/api/users/sam", json={"role": "admin"}, headers=root)
    assert resp.status == 200 and (await resp.json())["role"] == "admin"
    assert (await client.get("/api/users", headers=sam)).status == 401  # token revoked
    sam = await auth(client, "sam", "sam-pw")
    assert (await client.get("/api/users", headers=sam)).status == 200  # now an admin
    resp = await client.patch("/api/users/sam", json={"password": "new-sam-secret"},
                              headers=root)
    assert resp.status == 200
    assert (await client.get("/api/users", headers=sam)).status == 401
    assert await login(client, "sam", "sam-pw") == 401
    assert await login(client, "sam", "new-sam-secret") == 200
    # a new phone too: the session's user would still listen in on the old one
    await client.patch("/api/users/root", json={"device": "PJSIP/boss"}, headers=root)
    assert (await client.get("/api/users", headers=root)).status == 401


async def test_a_removed_user_is_logged_out_and_stays_removed_over_a_config_reload(client):
    root = await auth(client, "root", "root-pw")
    alice = await auth(client, "alice", "alice-pw")
    assert (await client.delete("/api/users/alice", headers=root)).status == 200
    assert (await client.post("/api/logout", headers=alice)).status == 401
    assert await login(client, "alice", "alice-pw") == 401
    await reload_users(client.server.app, CONFIGURED)  # SIGHUP: alice is still in the file
    assert await login(client, "alice", "alice-pw") == 401
    assert (await client.delete("/api/users/alice", headers=root)).status == 404


async def test_the_last_admin_can_be_neither_removed_nor_demoted(client):
    root = await auth(client, "root", "root-pw")
    resp = await client.delete("/api/users/root", headers=root)
    assert resp.status == 409 and "last admin" in (await resp.json())["message"]
    resp = await client.patch("/api/users/root", json={"role": "supervisor"}, headers=root)
    assert resp.status == 409
    await client.patch("/api/users/sam", json={"role": "admin"}, headers=root)
    assert (await client.delete("/api/users/root", headers=root)).status == 200


@pytest.mark.parametrize("body, words", [
    ({"name": "../x", "role": "agent", "password": "long-enough"}, "user name"),
    ({"name": "x", "role": "king", "password": "long-enough"}, "role"),
    ({"name": "x", "role": "supervisor", "password": "short"}, "password"),
    ({"name": "x", "role": "agent", "password": "long-enough"}, "agent"),
    ({"name": "x", "role": "agent", "password": "long-enough", "agent": "9999"}, "9999"),
    ({"name": "x", "role": "supervisor", "password": "long-enough", "admin": True},
     "unknown"),
    ({"role": "supervisor", "password": "long-enough"}, "name"),
])
async def test_a_user_acd_cannot_use_is_refused_with_the_reason(client, body, words):
    root = await auth(client, "root", "root-pw")
    resp = await client.post("/api/users", json=body, headers=root)
    assert resp.status == 400
    assert words in (await resp.json())["message"]


async def test_adding_an_existing_user_or_changing_a_missing_one_is_refused(client):
    root = await auth(client, "root", "root-pw")
    resp = await client.post("/api/users", json={"name": "sam", "role": "supervisor",
                                                 "password": "long-enough"}, headers=root)
    assert resp.status == 409
    assert (await client.patch("/api/users/nobody", json={"role": "admin"},
                               headers=root)).status == 404


async def test_another_acd_process_follows_the_change(client, redis, prefix, monkeypatch):
    monkeypatch.setattr(user_routes, "POLL_SECONDS", 0.05)
    async with TestClient(TestServer(new_app(redis, prefix))) as other:
        sam_there = await auth(other, "sam", "sam-pw")
        root = await auth(client, "root", "root-pw")
        await client.post("/api/users", json={"name": "lee", "role": "supervisor",
                                              "password": "lee-secret-1"}, headers=root)
        await client.patch("/api/users/sam", json={"password": "new-sam-secret"},
                           headers=root)

        deadline = asyncio.get_running_loop().time() + 3
        while (await other.get("/api/users", headers=sam_there)).status != 401:
            assert asyncio.get_running_loop().time() < deadline, "not followed within 3 s"
            await asyncio.sleep(0.05)
        assert await login(other, "lee", "lee-secret-1") == 200


async def test_user_changes_are_audited_without_the_password(client):
    root = await auth(client, "root", "root-pw")
    await client.post("/api/users", json={"name": "lee", "role": "supervisor",
                                          "password": "lee-secret-1"}, headers=root)
    await client.patch("/api/users/lee", json={"role": "admin"}, headers=root)
    await client.delete("/api/users/lee", headers=root)
    await client.get("/api/users", headers=root)  # reading is not an action
    entries = await (await client.get("/api/audit", headers=root)).json()
    assert [(e["action"], e["target_user"], e.get("new_role"), e["status"], e["role"])
            for e in entries] == [("user.remove", "lee", None, 200, "admin"),
                                  ("user.change", "lee", "admin", 200, "admin"),
                                  ("user.add", "lee", "supervisor", 201, "admin")]
    assert "lee-secret-1" not in str(entries)
