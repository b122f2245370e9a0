"""The console's flow editor over HTTP against real files and the real flow validation:
a broken text is refused at its line and column and the file is unchanged; a good one is
saved atomically, goes live on the next reload, and the text it replaced can be restored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.flow_files import FlowFiles
from acd.adapters.flows import FlowRegistry
from acd.adapters.http import flow_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.audit_store import AuditStore
from acd.media.prompts import PromptLibrary

NOW = 1_795_000_000.0
GOOD = "start: q\nnodes:\n  q: {type: queue, queue: support}\n"
BETTER = "start: q\nnodes:\n  q: {type: queue, queue: vip}\n"
#: line 3, column 20 (its key): a queue the configuration does not have
BROKEN = "start: q\nnodes:\n  q: {type: queue, queue: nowhere}\n"


class NoSpeech(PromptLibrary):
    async def prepare_all(self, speeches: object) -> int:  # type: ignore[override]
        return 0


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def client(redis: Any, tmp_path: Path) -> AsyncIterator[TestClient]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(GOOD)
    (flows / "other.yaml").write_text(GOOD)
    registry = FlowRegistry(flows, {"support", "vip"}, None,
                            NoSpeech(tmp_path / "prompts", tmp_path / "cache"))
    registry.load()
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, f"test-flows-{uuid.uuid4().hex[:8]}:"),
              lambda: NOW + next(ticks))
    clock = iter(range(1000))
    files = FlowFiles(flows, tmp_path / "versions", kept=lambda: 3,
                      check=registry.check_replaced)
    flow_routes.register(app, files, lambda: NOW + next(clock))
    async with TestClient(TestServer(app)) as c:
        c.registry = registry  # type: ignore[attr-defined]
        c.flow = flows / "main.yaml"  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_admins_list_read_check_save_and_restore_flows(client):
    routes = [("GET", "/api/flows"), ("GET", "/api/flows/main"),
              ("POST", "/api/flows/main/check"), ("POST", "/api/flows/main/save"),
              ("GET", "/api/flows/main/versions/20261118T000000.000000Z"),
              ("POST", "/api/flows/main/versions/20261118T000000.000000Z/restore")]
    for method, path in routes:
        assert (await client.request(method, path, json={"text": GOOD})).status == 401, path
        for user, password in (("alice", "a"), ("sam", "s")):
            resp = await client.request(method, path, json={"text": GOOD},
                                        headers=await auth(client, user, password))
            assert resp.status == 403, (path, user)
    root = await auth(client, "root", "r")
    resp = await client.get("/api/flows", headers=root)
    assert [f["name"] for f in (await resp.json())["flows"]] == ["main", "other"]
    flow = await (await client.get("/api/flows/main", headers=root)).json()
    assert flow["text"] == GOOD and flow["file"] == "main.yaml" and flow["versions"] == []


async def test_a_name_that_is_not_a_flow_in_the_folder_is_404_never_a_path(client):
    root = await auth(client, "root", "r")
    for name in ("nope", "..%2Fconfig", "%2E%2E", "main.yaml", "..%2F..%2Fetc%2Fpasswd"):
        assert (await client.get(f"/api/flows/{name}", headers=root)).status == 404, name
        resp = await client.post(f"/api/flows/{name}/save", json={"text": GOOD},
                                 headers=root)
        assert resp.status == 404, name
    for version in ("..%2F..%2Fmain", "latest", "..%2Fother"):
        resp = await client.get(f"/api/flows/main/versions/{version}", headers=root)
        assert resp.status == 404, version
    resp = await client.post("/api/flows/main/save", json={"txt": GOOD}, headers=root)
    assert resp.status == 400


async def test_a_broken_flow_is_refused_at_its_line_and_column_and_the_file_is_unchanged(
        client):
    root = await auth(client, "root", "r")
    resp = await client.post("/api/flows/main/check", json={"text": BROKEN}, headers=root)
    [error] = (await resp.json())["errors"]
    assert (error["file"], error["line"], error["column"]) == ("main.yaml", 3, 20)
    assert "nowhere" in error["message"]
    resp = await client.post("/api/flows/main/save", json={"text": BROKEN}, headers=root)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "invalid_flow" and body["errors"] == [error]
    assert "line 3:20" in body["message"]
    assert client.flow.read_text() == GOOD
    assert await client.registry.poll() is False
    resp = await client.post("/api/flows/main/save", json={"text": "nodes: [\n"},
                             headers=root)
    assert (await resp.json())["errors"][0]["line"] == 2  # YAML syntax: where it broke


async def test_a_good_edit_is_saved_goes_live_and_the_replaced_text_can_be_restored(client):
    root = await auth(client, "root", "r")
    sha = (await (await client.get("/api/flows/main", headers=root)).json())["sha"]
    resp = await client.post("/api/flows/main/save", json={"text": BETTER, "sha": sha},
                             headers=root)
    saved = await resp.json()
    assert resp.status == 200 and saved["saved"] is True
    assert client.flow.read_text() == BETTER
    assert await client.registry.poll() is True  # the hot reload takes it
    [version] = saved["versions"]
    assert version == saved["previous_version"]
    resp = await client.get(f"/api/flows/main/versions/{version}", headers=root)
    assert (await resp.json())["text"] == GOOD
    resp = await client.post(f"/api/flows/main/versions/{version}/restore", headers=root)
    assert resp.status == 200
    assert client.flow.read_text() == GOOD
    assert len((await resp.json())["versions"]) == 2  # BETTER is kept in turn
    assert not list(client.flow.parent.glob(".*"))  # no temporary file left behind
    resp = await client.get("/api/audit", headers=root)
    assert [(e["action"], e["flow"], e.get("version"), e["status"])
            for e in await resp.json()] == [("flow.restore", "main", version, 200),
                                            ("flow.save", "main", None, 200)]


async def test_a_save_over_a_change_made_meanwhile_is_refused(client):
    root = await auth(client, "root", "r")
    sha = (await (await client.get("/api/flows/main", headers=root)).json())["sha"]
    client.flow.write_text(BETTER)  # another admin, or an editor on the server
    resp = await client.post("/api/flows/main/save", json={"text": GOOD, "sha": sha},
                             headers=root)
    assert resp.status == 409
    assert client.flow.read_text() == BETTER


async def test_only_the_newest_versions_are_kept(client):
    root = await auth(client, "root", "r")
    for n in range(5):
        text = GOOD if n % 2 else BETTER
        assert (await client.post("/api/flows/main/save", json={"text": text},
                                  headers=root)).status == 200
    flow = await (await client.get("/api/flows/main", headers=root)).json()
    assert len(flow["versions"]) == 3
    assert flow["versions"] == sorted(flow["versions"], reverse=True)
