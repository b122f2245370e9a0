"""The integrators' events on the live WebSocket (/api/live), over a real aiohttp server,
the real dispatcher and routing core and the event feed on a real Redis: a page that
subscribes gets them beside the wallboard; an agent only their own calls and state;
numbers masked per role."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.console import add_console
from acd.adapters.http.live import EngineViews, LiveStream
from acd.adapters.redis.event_stream import EventFeed, EventStream
from acd.callflow.orders import TellIntegrators
from acd.clock import SystemClock
from acd.console.wallboard import Thresholds, Wallboard
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

DB = 10
CALLER = "13800138000"


@pytest.fixture
async def acd(redis_server: Any) -> AsyncIterator[tuple[TestClient, Dispatcher[Any, Any],
                                                        EventFeed]]:
    redis = await asyncio_redis.Pool.create(host=redis_server.host, port=redis_server.port,
                                            db=DB, poolsize=2)
    prefix = f"test-live-events-{uuid.uuid4().hex[:8]}:"
    engine = RoutingEngine(
        [QueueConfig("support", members=(QueueMember("1001", 0), QueueMember("1002", 0)))],
        [AgentConfig("1001", "Li"), AgentConfig("1002", "Wang")])
    clock = SystemClock()
    dispatcher: Dispatcher[Any, Any] = Dispatcher(engine, clock)
    live = LiveStream(EngineViews(engine), Wallboard(Thresholds()), clock.now, interval=0.05)
    dispatcher.after_batch(live.after_batch)
    feed = EventFeed(EventStream(redis, prefix))
    dispatcher.add_sink(feed.on_routing)  # as acd.app wires it
    feed.listen(live.publish)
    dispatcher.start()
    feed.start()
    users = {"alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s-pw"),
             "root": User("root", Role.ADMIN, password="r-pw")}
    app = make_app(HttpServices(users=users, sees_numbers=lambda u: u.role >= Role.ADMIN))
    add_console(app, live)
    async with TestClient(TestServer(app)) as client:
        yield client, dispatcher, feed
    await dispatcher.stop()
    await feed.close()
    cursor = await redis.scan(match=f"{prefix}*")
    keys = list(await cursor.fetchall())
    if keys:
        await redis.delete(keys)
    redis.close()


async def subscribed(client: TestClient, user: str, password: str,
                     events: list[str]) -> Any:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    token = (await resp.json())["token"]
    ws = await client.ws_connect("/api/live")
    await ws.send_str(json.dumps({"type": "auth", "token": token}))
    assert (await next_message(ws))["type"] == "snapshot"  # the wallboard as before
    await ws.send_str(json.dumps({"type": "subscribe", "events": events}))
    assert await next_message(ws) == {"type": "subscribed", "events": events}
    return ws


async def next_message(ws: Any, timeout: float = 2.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, (msg.type, msg.data, msg.extra)
    return dict(json.loads(msg.data))


async def events_until(ws: Any, last_call: str) -> list[dict[str, Any]]:
    """The events this page gets until the one of call `last_call` (deltas skipped)."""
    out = []
    while True:
        message = await next_message(ws)
        if message["type"] != "event":
            continue
        out.append(message["event"])
        if message["event"]["call_id"] == last_call:
            return out


def offered(call_id: str, agent_id: str) -> TellIntegrators:
    return TellIntegrators("call.offered", call_id, agent_id, 1.0,
                           {"caller": CALLER, "queue": "support", "variables": {}})


async def test_an_agent_gets_the_events_of_their_own_calls_and_state_only(acd: Any) -> None:
    client, dispatcher, feed = acd
    alice = await subscribed(client, "alice", "a-pw", ["*"])
    await dispatcher.submit(ev.AgentLoggedIn("1002", "PJSIP/agent1002"))
    await dispatcher.submit(ev.AgentLoggedIn("1001", "PJSIP/agent1001"))
    feed.call_event(offered("c-other", "1002"))
    feed.call_event(offered("c-own", "1001"))
    got = await events_until(alice, "c-own")
    assert [(e["type"], e["agent_id"]) for e in got] == [("agent.state", "1001"),
                                                          ("call.offered", "1001")]
    assert got[0]["data"]["state"] == "available"
    assert got[1]["data"]["caller"] == "13******000"  # agents never see full numbers
    assert got[1]["id"]  # the same id as the webhooks'


async def test_a_supervisor_gets_every_agents_events_masked_and_an_admin_full_numbers(
        acd: Any) -> None:
    client, _, feed = acd
    sam = await subscribed(client, "sam", "s-pw", ["call.*"])
    root = await subscribed(client, "root", "r-pw", ["call.offered"])
    feed.call_event(offered("c1", "1002"))
    feed.call_event(offered("c2", "1001"))
    sams = await events_until(sam, "c2")
    roots = await events_until(root, "c2")
    assert [e["call_id"] for e in sams] == ["c1", "c2"] == [e["call_id"] for e in roots]
    assert sams[0]["data"]["caller"] == "13******000" and roots[0]["data"]["caller"] == CALLER


async def test_a_subscription_to_no_such_event_type_is_answered_with_an_error(
        acd: Any) -> None:
    client, _, _ = acd
    resp = await client.post("/api/login", json={"username": "sam", "password": "s-pw"})
    ws = await client.ws_connect("/api/live")
    await ws.send_str(json.dumps({"type": "auth", "token": (await resp.json())["token"]}))
    await next_message(ws)
    await ws.send_str(json.dumps({"type": "subscribe", "events": ["call.rang"]}))
    reply = await next_message(ws)
    assert reply["type"] == "error" and "call.rang" in reply["message"]
