"""Queue and agent settings through the console's API against a real Redis and a real
routing core (dispatcher and engine, as acd runs them): admins only; a change reaches
the routing core at once by the reload path (a waiting caller is offered to an agent
who just joined the queue), survives a restart and reaches another acd through the
change feed; bad values are refused with what to write; every change is audited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import settings_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.live_settings import LiveSettings
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.changes import follow_changes
from acd.adapters.redis.live_settings_store import LiveSettingsStore
from acd.clock import SystemClock
from acd.config.sections import Sections
from acd.config.settings import RedisConfig
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings
from acd.dispatcher import Dispatcher
from acd.rules.schedule import ScheduleBook

DB = 11


def configured() -> Sections:
    return Sections(
        [QueueConfig("support", members=(QueueMember("1001"), QueueMember("1002"))),
         QueueConfig("sales", members=(QueueMember("1001"),))],
        [AgentConfig("1001", "张伟"), AgentConfig("1002", "李娜"), AgentConfig("1003", "王芳")],
        RoutingSettings(), ScheduleBook({}))


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def prefix() -> str:
    return f"test-settings-{uuid.uuid4().hex[:8]}:"


class Acd:
    """The routing core fed by its dispatcher, and the settings as acd.app wires them:
    a change goes to `RoutingEngine.reconfigure`, as a SIGHUP reload does."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self.rung: list[cmd.RingAgents] = []
        self.settings = LiveSettings(LiveSettingsStore(redis, prefix), configured(),
                                     self.apply)
        sections = self.settings.current()
        self.engine = RoutingEngine(sections.queues, sections.agents)
        self.dispatcher = Dispatcher(self.engine, SystemClock())

        async def gate(commands: list[Any]) -> tuple[list[Any], list[Any]]:
            self.rung += [c for c in commands if isinstance(c, cmd.RingAgents)]
            return commands, []

        self.dispatcher.set_gate(gate)

    async def start(self) -> None:
        await self.settings.load()
        await self.apply()
        self.dispatcher.start()

    async def apply(self) -> None:
        sections = self.settings.current()
        if self.dispatcher.running:
            await self.dispatcher.apply(lambda now: self.engine.reconfigure(
                sections.queues, sections.agents, now))
        else:
            self.engine.reconfigure(sections.queues, sections.agents, 0.0)


@pytest_asyncio.fixture
async def acd(redis: Any, prefix: str) -> AsyncIterator[Acd]:
    running = Acd(redis, prefix)
    await running.start()
    yield running
    await running.dispatcher.stop()


@pytest_asyncio.fixture
async def client(acd: Acd, redis: Any, prefix: str) -> AsyncIterator[TestClient]:
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, prefix + "audit:"), lambda: 1_795_000_000.0 + next(ticks))
    settings_routes.register(app, acd.settings)
    async with TestClient(TestServer(app)) as c:
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_only_admins_see_and_change_queue_and_agent_settings(client):
    routes = [("GET", "/api/settings"), ("PATCH", "/api/settings/queues/support"),
              ("DELETE", "/api/settings/queues/support"),
              ("PATCH", "/api/settings/agents/1001"), ("DELETE", "/api/settings/agents/1001")]
    for method, path in routes:
        assert (await client.request(method, path, json={})).status == 401, path
        for user, password in (("alice", "a"), ("sam", "s")):
            resp = await client.request(method, path, json={"name": "x"},
                                        headers=await auth(client, user, password))
            assert resp.status == 403, (path, user)
            assert "needs the admin role" in (await resp.json())["message"]


async def test_a_queue_change_reaches_the_routing_core_at_once(client, acd):
    root = await auth(client, "root", "r")
    resp = await client.patch("/api/settings/queues/support", headers=root, json={
        "strategy": "ring-all", "wrap_up_seconds": 9, "service_level_seconds": 30})
    assert resp.status == 200
    row = await resp.json()
    assert (row["strategy"], row["wrap_up_seconds"], row["changed"]) == (
        "ring-all", 9.0, ["service_level_seconds", "strategy", "wrap_up_seconds"])
    assert acd.engine.queue_view("support")["strategy"] == "ring-all"
    listed = await (await client.get("/api/settings", headers=root)).json()
    assert [q["changed"] for q in listed["queues"]] == [
        ["service_level_seconds", "strategy", "wrap_up_seconds"], []]
    assert "fastest-answer" in listed["strategies"]


async def test_an_agent_who_joins_a_queue_is_offered_its_waiting_caller_at_once(client, acd):
    await acd.dispatcher.submit(ev.AgentLoggedIn("1003", "PJSIP/agent1003"))
    await acd.dispatcher.submit(ev.CallQueued("c1", "sales", "13800138000"))
    assert acd.rung == []  # 1001 (sales' only member) is logged out
    root = await auth(client, "root", "r")
    resp = await client.patch("/api/settings/agents/1003", headers=root,
                              json={"name": "王芳芳", "queues": {"sales": 0, "support": 1}})
    assert (await resp.json())["queues"] == {"sales": 0, "support": 1}
    assert [(r.call_id, [t.agent_id for t in r.targets]) for r in acd.rung] == [
        ("c1", ["1003"])]
    view = acd.engine.agent_view("1003")
    assert (view["name"], view["state"]) == ("王芳芳", "ringing")  # kept its state
    assert acd.engine.queue_view("support")["members"]["1003"]["penalty"] == 1


async def test_changes_survive_a_restart_and_a_reset_brings_config_back(client, acd, redis,
                                                                        prefix):
    root = await auth(client, "root", "r")
    await client.patch("/api/settings/queues/sales", headers=root,
                       json={"ring_timeout_seconds": 25})
    await client.patch("/api/settings/agents/1002", headers=root, json={"skills": ["vip"]})
    restarted = Acd(redis, prefix)
    await restarted.start()
    try:
        assert restarted.engine.agent_view("1002")["skills"] == ["vip"]
        assert restarted.settings.current().queues[1].ring_timeout_seconds == 25.0
    finally:
        await restarted.dispatcher.stop()
    assert (await client.delete("/api/settings/agents/1002", headers=root)).status == 200
    assert acd.engine.agent_view("1002")["skills"] == []
    again = await client.delete("/api/settings/agents/1002", headers=root)
    assert again.status == 404
    assert "no settings changed" in (await again.json())["message"]


async def test_another_acd_applies_a_change_once_the_change_feed_tells_it(
        client, redis, prefix, redis_server):
    other = Acd(redis, prefix)
    await other.start()
    heard = asyncio.Event()

    def invalidate() -> None:
        other.settings.invalidate()
        heard.set()

    config = RedisConfig(host=redis_server.host, port=redis_server.port, db=DB, prefix=prefix)
    feed = asyncio.create_task(follow_changes(config, {"live_settings": invalidate}))
    try:
        await asyncio.wait_for(heard.wait(), 5)
        heard.clear()
        root = await auth(client, "root", "r")
        await client.patch("/api/settings/agents/1001", headers=root, json={"name": "Zhang"})
        await asyncio.wait_for(heard.wait(), 5)
        deadline = asyncio.get_running_loop().time() + 5
        while other.engine.agent_view("1001")["name"] != "Zhang":
            assert asyncio.get_running_loop().time() < deadline, "the change never applied"
            await asyncio.sleep(0.02)
    finally:
        feed.cancel()
        await other.dispatcher.stop()


async def test_bad_values_are_refused_with_what_to_write_and_nothing_changes(client, acd):
    root = await auth(client, "root", "r")
    cases = [
        ("/api/settings/queues/support", {"wrap_up_seconds": "ten"}, 400,
         "wrap_up_seconds is a number of seconds"),
        ("/api/settings/queues/support", {"strategy": "random"}, 400, "strategy is one of"),
        ("/api/settings/queues/support", {"overflow": []}, 400, "not changeable here"),
        ("/api/settings/queues/nope", {"wrap_up_seconds": 1}, 404, "no queue 'nope'"),
        ("/api/settings/agents/1001", {"queues": {"nope": 0}}, 400, "no queue 'nope'"),
        ("/api/settings/agents/9999", {"name": "x"}, 404, "no agent '9999'"),
    ]
    for path, body, status, words in cases:
        resp = await client.patch(path, json=body, headers=root)
        assert resp.status == status, (path, await resp.text())
        assert words in (await resp.json())["message"], path
    assert acd.engine.queue_view("support")["strategy"] == "longest-idle"
    assert (await client.patch("/api/settings/queues/support", data=b"[",
                               headers=root)).status == 400


async def test_settings_changes_are_audited_with_what_changed(client):
    root = await auth(client, "root", "r")
    await client.patch("/api/settings/queues/support", headers=root,
                       json={"wrap_up_seconds": 9})
    await client.patch("/api/settings/agents/1001", headers=root, json={"name": "Zhang"})
    await client.delete("/api/settings/agents/1001", headers=root)
    entries = await (await client.get("/api/audit", headers=root)).json()
    assert [(e["action"], e.get("queue"), e.get("agent"), e.get("wrap_up_seconds"),
             e.get("agent_name"), e.get("target_user"), e["status"]) for e in entries] == [
        ("settings.agent.reset", None, "1001", None, None, None, 200),
        ("settings.agent", None, "1001", None, "Zhang", None, 200),
        ("settings.queue", "support", None, "9", None, None, 200)]


async def test_a_kept_change_that_no_longer_fits_config_is_left_out_and_said_once(
        redis, prefix, caplog):
    store = LiveSettingsStore(redis, prefix)
    await store.put("queue", "support", {"max_wait_seconds": 60.0})  # no max_wait_target
    await store.put("queue", "sales", {"strategy": "bogus", "wrap_up_seconds": 4.0})
    await store.put("agent", "1002", {"name": "Li"})
    restarted = Acd(redis, prefix)
    await restarted.start()  # not a crash: config.yaml's settings for those queues
    try:
        queues = {q.name: q for q in restarted.settings.current().queues}
        assert queues["support"].max_wait_seconds is None
        assert queues["sales"].wrap_up_seconds == 0.0  # the whole edit, not half of it
        assert restarted.engine.agent_view("1002")["name"] == "Li"  # the others apply
        restarted.settings.current()
        warned = [r.getMessage() for r in caplog.records if "no longer fit" in r.getMessage()]
        assert len(warned) == 2 and "no max_wait_target" in warned[0]
    finally:
        await restarted.dispatcher.stop()
