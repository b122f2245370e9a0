"""The live stream (/api/live) over a real aiohttp server and WebSocket, fed by the real
dispatcher and routing core: who may open it, what each role sees, snapshot then deltas,
a reconnect or a resync request starts from a snapshot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.console import add_console
from acd.adapters.http.live import EngineViews, LiveStream
from acd.clock import SystemClock
from acd.console.wallboard import Thresholds, Wallboard
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

CALLER = "13800138000"


@pytest.fixture
async def acd():
    engine = RoutingEngine(
        [QueueConfig("support", members=(QueueMember("1001", 0), QueueMember("1002", 0)))],
        [AgentConfig("1001", "Li"), AgentConfig("1002", "Wang")])
    clock = SystemClock()
    dispatcher = Dispatcher(engine, clock)
    live = LiveStream(EngineViews(engine),
                      Wallboard(Thresholds(service_level_seconds={"support": 20})), clock.now,
                      interval=0.05)
    dispatcher.after_batch(live.after_batch)
    take_changes = live.watching(engine.take_changes)

    async def gate(commands: list[Any]) -> tuple[list[Any], list[Any]]:
        take_changes()  # as the routing commit does, once per batch (without Redis here)
        return commands, []

    dispatcher.set_gate(gate)
    dispatcher.start()
    users = {
        "alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001"),
        "sam": User("sam", Role.SUPERVISOR, password="s-pw"),
        "root": User("root", Role.ADMIN, password="r-pw"),
        "nobody": User("nobody", Role.AGENT, password="n-pw"),
    }
    app = make_app(HttpServices(users=users, sees_numbers=lambda u: u.role >= Role.ADMIN))
    add_console(app, live)
    async with TestClient(TestServer(app)) as client:
        yield client, dispatcher
    await dispatcher.stop()


async def login(client: TestClient, user: str, password: str) -> str:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    assert resp.status == 200
    return str((await resp.json())["token"])


async def stream(client: TestClient, token: str | None):  # noqa: ANN201 (a socket)
    ws = await client.ws_connect("/api/live")
    if token is not None:
        await ws.send_str(json.dumps({"type": "auth", "token": token}))
    return ws


async def next_message(ws: Any, timeout: float = 1.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, (msg.type, msg.data, msg.extra)
    return dict(json.loads(msg.data))


async def test_a_socket_without_a_login_or_with_a_wrong_token_is_closed_with_log_in_first(acd):
    client, _ = acd
    for token in (None, "not-a-token"):
        ws = await stream(client, token) if token else await client.ws_connect("/api/live")
        if token is None:
            await ws.send_str("hello")
        msg = await ws.receive(timeout=2)
        assert msg.type is WSMsgType.CLOSE and msg.data == 4401
        assert "log in first" in msg.extra


async def test_a_supervisor_gets_a_snapshot_then_a_pause_as_a_delta_within_a_second(acd):
    client, dispatcher = acd
    ws = await stream(client, await login(client, "sam", "s-pw"))
    snapshot = await next_message(ws)
    assert snapshot["type"] == "snapshot"
    assert set(snapshot["agents"]) == {"1001", "1002"} and set(snapshot["queues"]) == {"support"}
    await dispatcher.submit(ev.AgentLoggedIn("1002", "PJSIP/agent1002"))
    await dispatcher.submit(ev.AgentPaused("1002", "lunch"))
    delta = await next_message(ws)
    while delta["agents"]["1002"]["state"] != "paused":  # (login and pause may come apart)
        delta = await next_message(ws)
    assert delta["type"] == "delta" and delta["agents"]["1002"]["reason"] == "lunch"
    assert set(delta["agents"]) == {"1002"}


async def test_a_waiting_callers_number_is_masked_for_a_supervisor_but_not_for_an_admin(acd):
    client, dispatcher = acd
    sam = await stream(client, await login(client, "sam", "s-pw"))
    root = await stream(client, await login(client, "root", "r-pw"))
    await next_message(sam), await next_message(root)
    await dispatcher.submit(ev.CallQueued("c1", "support", CALLER, priority=3))
    seen = {}
    for name, ws in (("sam", sam), ("root", root)):
        delta = await next_message(ws)
        seen[name] = delta["callers"]["support/c1"]
    assert seen["sam"]["caller"] == "13******000" and seen["root"]["caller"] == CALLER
    assert seen["sam"]["vip"] is True


async def test_an_agent_sees_only_their_own_row_and_nothing_about_callers(acd):
    client, dispatcher = acd
    ws = await stream(client, await login(client, "alice", "a-pw"))
    snapshot = await next_message(ws)
    assert list(snapshot["agents"]) == ["1001"]
    assert snapshot["queues"] == {} and snapshot["callers"] == {}
    await dispatcher.submit(ev.CallQueued("c1", "support", CALLER))
    await dispatcher.submit(ev.AgentLoggedIn("1002", "PJSIP/agent1002"))
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    delta = await next_message(ws)
    assert set(delta) <= {"type", "now", "seq", "agents"} and list(delta["agents"]) == ["1001"]


async def test_an_agent_user_bound_to_no_agent_is_refused_the_stream(acd):
    client, _ = acd
    ws = await stream(client, await login(client, "nobody", "n-pw"))
    msg = await ws.receive(timeout=2)
    assert msg.type is WSMsgType.CLOSE and msg.data == 4403


async def test_a_reconnect_and_a_resync_request_each_start_again_from_a_snapshot(acd):
    client, dispatcher = acd
    token = await login(client, "sam", "s-pw")
    ws = await stream(client, token)
    assert (await next_message(ws))["type"] == "snapshot"
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    assert (await next_message(ws))["type"] == "delta"
    await ws.send_str(json.dumps({"type": "resync"}))
    again = await next_message(ws)
    assert again["type"] == "snapshot" and again["agents"]["1001"]["state"] == "available"
    await ws.close()
    ws = await stream(client, token)
    fresh = await next_message(ws)
    assert fresh["type"] == "snapshot" and fresh["agents"]["1001"]["state"] == "available"


async def test_a_logout_ends_the_stream_at_its_next_message(acd):
    client, dispatcher = acd
    token = await login(client, "sam", "s-pw")
    ws = await stream(client, token)
    await next_message(ws)
    resp = await client.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    msg = await ws.receive(timeout=2)
    assert msg.type is WSMsgType.CLOSE and msg.data == 4401


async def test_a_burst_of_events_reaches_a_page_as_few_coalesced_deltas(acd):
    client, dispatcher = acd
    ws = await stream(client, await login(client, "sam", "s-pw"))
    await next_message(ws)
    for n in range(200):
        dispatcher.post(ev.CallQueued(f"c{n}", "support", f"1380013{n:04d}"))
    await asyncio.sleep(0)
    received: dict[str, Any] = {}
    deltas = 0
    while len(received) < 200:
        received.update((await next_message(ws))["callers"])
        deltas += 1
    assert deltas <= 5


async def test_the_console_page_is_served_with_a_strict_content_policy(acd):
    client, _ = acd
    resp = await client.get("/console/")
    assert resp.status == 200 and "console.js" in await resp.text()
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert (await client.get("/console/console.js")).status == 200
    assert (await client.get("/console/..%2fwallboard.py")).status == 404
