"""The agent desk's routes against a real Redis call store, a real SQLite call history,
the real routing core's views and aiohttp's test client: an agent reads their own day
and the previous calls of a caller offered to them, never another agent's call and
never the number; supervisors and admins read any call, numbers as their role may."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from acd.adapters.desk_history import DeskHistory
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.desk_routes import DeskServices, add_desk
from acd.adapters.http.live import EngineViews
from acd.adapters.redis.store import CallStore
from acd.callflow.record import CallRecord
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.history.schema import calls
from acd.reports.database import create_tables, open_history

DB = 6  # this module's own database; keys also carry a per-test prefix
CALLER = "13800138000"
USERS = {"alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001"),
         "bob": User("bob", Role.AGENT, password="b-pw", agent_id="1002"),
         "nobody": User("nobody", Role.AGENT, password="n-pw"),
         "sam": User("sam", Role.SUPERVISOR, password="s-pw"),
         "ada": User("ada", Role.ADMIN, password="ad-pw")}
PASSWORDS = {"alice": "a-pw", "bob": "b-pw", "nobody": "n-pw", "sam": "s-pw", "ada": "ad-pw"}
T0 = 1_795_000_000.0
#: a history row's columns the rows below leave out (one INSERT takes the same keys)
BLANK = {"agent": "", "queue": "", "outcome": "", "talk_seconds": 0.0, "survey": "",
         "disposition": "", "disposition_note": ""}


@pytest.fixture
async def store(redis_server: Any) -> AsyncIterator[CallStore]:
    prefix = f"test-desk-{uuid.uuid4().hex[:8]}:"
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    records = CallStore(connection, prefix)
    # an earlier call bob answered, with a note that holds the number; the call now
    # ringing alice (the routing core's view says so); one that bob was rung for
    await records.record_call("old", CallRecord(
        "old", CALLER, "4008001234", T0 - 86400, agent="1002", ended_at=T0 - 86000,
        outcome="answered").fields())
    await records.record_call("now", CallRecord("now", CALLER, "4008001234", T0).fields())
    await records.record_call("bobs", CallRecord(
        "bobs", "13900139000", "4008001234", T0, rings=[{"agent": "1002"}]).fields())
    yield records
    keys = await (await connection.scan(match=f"{prefix}*")).fetchall()
    if keys:
        await connection.delete(list(keys))
    connection.close()


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[DeskHistory]:
    engine = open_history(f"sqlite+aiosqlite:///{tmp_path / 'history.db'}")
    await create_tables(engine)
    async with engine.begin() as conn:
        await conn.execute(insert(calls), [{**BLANK, **row} for row in [
            {"call_id": "old", "caller": CALLER, "arrived_at": T0 - 86400, "agent": "1002",
             "queue": "support", "outcome": "answered", "talk_seconds": 95.0,
             "survey": "3", "disposition": "complaint",
             "disposition_note": f"call back on {CALLER}"},
            {"call_id": "older", "caller": CALLER, "arrived_at": T0 - 2 * 86400,
             "queue": "support", "outcome": "abandoned"},
            {"call_id": "now", "caller": CALLER, "arrived_at": T0},  # (not listed)
            {"call_id": "other", "caller": "13900139000", "arrived_at": T0 - 50},
            # alice's calls today: two rated 1, one 2; one of yesterday rated 3
            *({"call_id": f"a{n}", "caller": "1", "agent": "1001", "arrived_at": T0 - n,
               "survey": s} for n, s in ((1, "1"), (2, "1"), (3, "2"))),
            {"call_id": "a-yesterday", "caller": "1", "agent": "1001",
             "arrived_at": T0 - 86400, "survey": "3"}]])
    yield DeskHistory(engine)
    await engine.dispose()


@pytest.fixture
async def routing() -> RoutingEngine:
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),
                                                           QueueMember("1002"))),
                            QueueConfig("sales", members=(QueueMember("1001"),))],
                           [AgentConfig("1001", name="Alice"), AgentConfig("1002")])
    engine.handle(ev.AgentLoggedIn("1001", "PJSIP/agent1001"), T0 - 600)
    engine.handle(ev.AgentLoggedIn("1002", "PJSIP/agent1002"), T0 - 600)
    engine.handle(ev.AgentPaused("1002", "lunch"), T0 - 600)
    engine.handle(ev.CallQueued("now", "support", CALLER), T0)  # rings alice
    return engine


@pytest.fixture
async def client(store: CallStore, history: DeskHistory,
                 routing: RoutingEngine) -> AsyncIterator[TestClient]:
    views = EngineViews(routing)
    app = make_app(HttpServices(
        users=dict(USERS), call_store=store,
        sees_numbers=lambda user: user.role is Role.ADMIN))
    add_desk(app, DeskServices(views.agent, routing.queue_view, lambda: {"1": "break",
                                                                  "4": "meeting"},
                               lambda: T0 - 3 * 3600, history))
    async with TestClient(TestServer(app)) as c:
        yield c


async def login(client: TestClient, user: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user,
                                                 "password": PASSWORDS[user]})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_an_agent_sees_the_previous_calls_of_the_caller_ringing_them_without_the_number(
        client: TestClient) -> None:
    alice = await login(client, "alice")
    resp = await client.get("/api/calls/now/history", headers=alice)
    assert resp.status == 200, await resp.text()
    text = await resp.text()
    assert CALLER not in text
    body = await resp.json()
    assert body["caller"] == "13******000"
    assert [c["call_id"] for c in body["calls"]] == ["old", "older"]
    old = body["calls"][0]
    assert (old["agent"], old["outcome"], old["survey"], old["talk_seconds"],
            old["disposition"]) == ("1002", "answered", "3", 95.0, "complaint")
    assert old["disposition_note"] == "call back on 13******000"


async def test_an_agent_may_not_ask_about_a_call_offered_to_another_agent(
        client: TestClient) -> None:
    alice = await login(client, "alice")
    for call_id in ("bobs", "old", "no-such-call"):
        resp = await client.get(f"/api/calls/{call_id}/history", headers=alice)
        assert resp.status == 404, call_id
        assert CALLER not in await resp.text()
    bob = await login(client, "bob")
    assert (await client.get("/api/calls/bobs/history", headers=bob)).status == 200
    assert (await client.get("/api/calls/old/history", headers=bob)).status == 200  # his
    assert (await client.get("/api/calls/now/history", headers=bob)).status == 404
    nobody = await login(client, "nobody")  # an agent user bound to no agent
    assert (await client.get("/api/calls/now/history", headers=nobody)).status == 403
    assert (await client.get("/api/calls/now/history")).status == 401


async def test_a_supervisor_reads_any_call_masked_and_an_admin_with_the_right_in_full(
        client: TestClient) -> None:
    sam = await (await client.get("/api/calls/bobs/history",
                                  headers=await login(client, "sam"))).json()
    assert (sam["caller"], [c["call_id"] for c in sam["calls"]]) == ("13******000",
                                                                       ["other"])
    ada = await (await client.get("/api/calls/now/history",
                                  headers=await login(client, "ada"))).json()
    assert ada["caller"] == CALLER
    assert ada["calls"][0]["disposition_note"] == f"call back on {CALLER}"


async def test_an_agent_reads_their_own_state_queues_reasons_and_todays_figures(
        client: TestClient) -> None:
    resp = await client.get("/api/me", headers=await login(client, "alice"))
    assert resp.status == 200, await resp.text()
    me = await resp.json()
    assert (me["agent"], me["name"], me["state"], me["call_id"]) == (
        "1001", "Alice", "ringing", "now")
    assert sorted(me["queues"]) == ["sales", "support"]
    assert me["pause_reasons"] == [{"code": "1", "reason": "break"},
                                   {"code": "4", "reason": "meeting"}]
    assert me["today"] == {"answered": 0, "talk_seconds": 0.0, "aht_seconds": None,
                           "survey": {"1": 2, "2": 1, "3": 0}}  # yesterday's 3 not counted
    assert me["pending_logout"] is False


async def test_a_colleague_sees_the_call_ringing_alice_as_one_to_pick_up_by_id_only(
        client: TestClient, routing: RoutingEngine) -> None:
    routing.handle(ev.AgentResumed("1002"), T0 + 1)
    me = await (await client.get("/api/me", headers=await login(client, "bob"))).json()
    assert me["ringing_colleagues"] == [{"call_id": "now", "queue": "support",
                                         "ringing": ["1001"]}]
    alice = await (await client.get("/api/me", headers=await login(client, "alice"))).json()
    assert alice["ringing_colleagues"] == []  # her own ringing call is no pickup


async def test_supervisors_and_users_without_an_agent_have_no_desk_of_their_own(
        client: TestClient) -> None:
    for user in ("sam", "ada", "nobody"):
        resp = await client.get("/api/me", headers=await login(client, user))
        assert resp.status == 403, user
        assert "bound to no agent" in (await resp.json())["message"]
    assert (await client.get("/api/me")).status == 401
