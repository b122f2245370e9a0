"""The HTTP API with aiohttp's test client: login, roles, masking, safe recordings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User, hash_password
from acd.callflow.record import CallRecord


class MemoryCalls:
    def __init__(self, records: list[CallRecord]) -> None:
        self.records = {r.call_id: r for r in records}

    async def recent_calls(self, limit: int) -> list[CallRecord]:
        return list(self.records.values())[:limit]

    async def get_call(self, call_id: str) -> CallRecord | None:
        return self.records.get(call_id)

    async def call_hashes(self, since: float, until: float
                          ) -> AsyncIterator[list[dict[str, str]]]:
        for record in self.records.values():
            if since <= record.arrived_at <= until:
                yield [record.to_hash()]


@pytest.fixture
async def client(tmp_path: Path):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "c1.wav").write_bytes(b"RIFF....WAVE")
    (tmp_path / "secret.txt").write_text("not a recording")
    calls = MemoryCalls([
        CallRecord("c1", "13800138000", "4008001234", 1.0, agent="1001",
                   recording=str(recordings / "c1.wav")),
        CallRecord("c2", "13900139000", "4008001234", 2.0, agent="1002",
                   recording=str(recordings / "../secret.txt")),
    ])
    users = {
        "alice": User("alice", Role.AGENT, password_hash=hash_password("a-pw"), agent_id="1001"),
        "sam": User("sam", Role.SUPERVISOR, password="s-pw", device="PJSIP/supervisor1"),
        "root": User("root", Role.ADMIN, password="r-pw"),
        "nopass": User("nopass", Role.ADMIN),
    }
    app = make_app(HttpServices(users=users, call_store=calls, recordings_dir=recordings))
    async with TestClient(TestServer(app)) as c:
        yield c


async def token(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    assert resp.status == 200
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_the_api_needs_a_login(client):
    resp = await client.get("/api/calls")
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"


async def test_wrong_password_and_passwordless_users_are_refused(client):
    for user, pw in (("alice", "nope"), ("nopass", ""), ("ghost", "x")):
        resp = await client.post("/api/login", json={"username": user, "password": pw})
        assert resp.status == 401


async def test_malformed_requests_get_a_4xx_with_a_message(client):
    resp = await client.post("/api/login", data=b"{not json")
    assert resp.status == 400
    assert "JSON" in (await resp.json())["message"]
    resp = await client.post("/api/login", json={"username": 1})
    assert resp.status == 400
    headers = await token(client, "sam", "s-pw")
    assert (await client.get("/api/calls?limit=lots", headers=headers)).status == 400


async def test_agents_see_only_their_calls_with_the_caller_masked(client):
    headers = await token(client, "alice", "a-pw")
    calls = (await (await client.get("/api/calls", headers=headers)).json())["calls"]
    assert [c["call_id"] for c in calls] == ["c1"]
    assert calls[0]["caller"] == "13******000"
    assert "recording" not in calls[0]
    assert (await client.get("/api/calls/c2", headers=headers)).status == 404


async def test_supervisors_see_full_numbers(client):
    headers = await token(client, "sam", "s-pw")
    calls = (await (await client.get("/api/calls", headers=headers)).json())["calls"]
    assert {c["caller"] for c in calls} == {"13800138000", "13900139000"}
    assert all("schedule_state" not in c for c in calls)  # no schedule consulted


async def test_recordings_are_served_only_to_supervisors_and_only_from_the_recordings_dir(
        client):
    agent = await token(client, "alice", "a-pw")
    assert (await client.get("/api/calls/c1/recording", headers=agent)).status == 403
    sup = await token(client, "sam", "s-pw")
    resp = await client.get("/api/calls/c1/recording", headers=sup)
    assert resp.status == 200 and (await resp.read()).startswith(b"RIFF")
    # a stored path that escapes the recordings folder is never served
    assert (await client.get("/api/calls/c2/recording", headers=sup)).status == 404


async def test_the_demo_order_lookup_answers_known_orders_and_404s_others(client):
    resp = await client.get("/api/demo/orders/123456")
    assert (await resp.json())["status"] == "shipped"
    assert (await client.get("/api/demo/orders/0")).status == 404


async def test_the_demo_customer_lookup_of_the_shipped_flow_knows_its_vip_callers(client):
    resp = await client.get("/api/demo/customers/13800000888")
    assert resp.status == 200 and (await resp.json())["tier"] == "vip"
    # as the flow's lookup sends it: ${caller} percent-encoded, in any form Asterisk gave
    resp = await client.get("/api/demo/customers/%2B8613800000666")
    assert await resp.json() == {"caller": "13800000666", "tier": "gold"}
    resp = await client.get("/api/demo/customers/13800138000")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"
    assert (await client.get("/api/demo/customers/anonymous")).status == 404


async def test_agents_cannot_act_for_another_agent(client):
    headers = await token(client, "alice", "a-pw")
    resp = await client.post("/api/agents/1002/pause", headers=headers, json={})
    assert resp.status == 403


async def test_only_admins_switch_the_announcement(client):
    headers = await token(client, "sam", "s-pw")
    resp = await client.put("/api/announcement", headers=headers, json={"prompts": ["x"]})
    assert resp.status == 403


async def test_supervisors_export_call_records_as_csv_and_agents_may_not(client):
    sup = await token(client, "sam", "s-pw")
    resp = await client.get("/api/calls.csv", headers=sup)
    assert resp.status == 200 and resp.content_type == "text/csv"
    lines = (await resp.text()).splitlines()
    assert lines[0].startswith("call_id,caller,called") and len(lines) == 3
    agent = await token(client, "alice", "a-pw")
    assert (await client.get("/api/calls.csv", headers=agent)).status == 403
    assert (await client.get("/api/calls.csv?since=yesterday", headers=sup)).status == 400


async def test_listening_in_needs_a_supervisor_and_rings_only_their_own_phone(client):
    agent = await token(client, "alice", "a-pw")
    body = {"mode": "whisper", "device": "PJSIP/supervisor1"}
    assert (await client.post("/api/calls/c1/spy", headers=agent, json=body)).status == 403
    sup = await token(client, "sam", "s-pw")
    resp = await client.post("/api/calls/c1/spy", headers=sup, json={"mode": "shout"})
    assert resp.status == 400
    for bad in ({"mode": "listen", "device": "PJSIP/x\r\nAction: Originate"},
                {"mode": "listen", "device": "Local/123@somewhere"},
                {"mode": "listen", "device": "PJSIP/agent1002"}):
        resp = await client.post("/api/calls/c1/spy", headers=sup, json=bad)
        assert resp.status == 403, bad
    root = await token(client, "root", "r-pw")  # no phone of their own
    resp = await client.post("/api/calls/c1/spy", headers=root, json={"mode": "listen"})
    assert resp.status == 403 and "users.root.device" in (await resp.json())["message"]


async def test_a_transfer_target_is_ascii_digits_normalised_once(tmp_path):
    asked: list[tuple[str, str, str]] = []

    async def transfer(call_id: str, kind: str, target: str) -> str:
        asked.append((call_id, kind, target))
        return "1001"

    users = {"sam": User("sam", Role.SUPERVISOR, password="s-pw")}
    app = make_app(HttpServices(users=users, transfer=transfer,
                                transfer_agent=lambda call_id: "1001"))
    async with TestClient(TestServer(app)) as client:
        sup = await token(client, "sam", "s-pw")
        for bad in ("١٢٣", "１２３", "8100&8200", "8100,60,U(x)", "", "9" * 30):
            resp = await client.post("/api/calls/c1/transfer", headers=sup,
                                     json={"extension": bad})
            assert resp.status == 400, bad
        resp = await client.post("/api/calls/c1/transfer", headers=sup,
                                 json={"extension": "+86 138 0013 8000"})
        assert resp.status == 200
    assert asked == [("c1", "extension", "13800138000")]


async def test_an_agent_never_receives_a_full_number_in_any_field_of_a_call(tmp_path):
    record = CallRecord(
        "c9", "13800138000", "4008001234", 1.0, agent="1001",
        variables={"caller": "13800138000", "card": "6222021234567890", "order": "20261111"},
        sensitive_variables=["card"], rule="whitelist exact 13800138000",
        ivr_path=["rule:white:vip", "transfer:extension:13900139000"],
        transfer="extension:13900139000")
    users = {"alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s-pw")}
    app = make_app(HttpServices(users=users, call_store=MemoryCalls([record])))
    async with TestClient(TestServer(app)) as client:
        agent = await token(client, "alice", "a-pw")
        seen = await (await client.get("/api/calls/c9", headers=agent)).json()
        sup = await token(client, "sam", "s-pw")
        full = await (await client.get("/api/calls/c9", headers=sup)).json()
    text = str(seen)
    for number in ("13800138000", "6222021234567890", "13900139000"):
        assert number not in text
    assert seen["caller"] == "13******000"
    assert seen["variables"]["order"] == "20261111"  # not marked sensitive
    assert full["variables"]["card"] == "6222021234567890"


async def test_health_keeps_its_fields_names_each_dependency_and_is_not_ok_while_one_is_down():
    from acd.health import Dependencies

    up = {"redis": True, "ami": True, "fastagi": True, "routing": True}
    dependencies = Dependencies({name: (lambda name=name: up[name]) for name in up})
    app = make_app(HttpServices(users={}, dependencies=dependencies,
                                health=lambda: {"ami": up["ami"], "waiting": 2,
                                                "counters": {"calls": 5}}))
    async with TestClient(TestServer(app)) as client:
        healthy = await (await client.get("/api/health")).json()
        assert (await client.get("/api/ready")).status == 200
        up["ami"] = False
        resp, ready = await client.get("/api/health"), await client.get("/api/ready")
        sick, not_ready = await resp.json(), await ready.json()
    assert healthy == {"status": "ok", "ami": True, "waiting": 2, "counters": {"calls": 5},
                       "dependencies": {"redis": "up", "ami": "up", "fastagi": "up",
                                        "routing": "up"}}
    assert resp.status == 200 and sick["status"] == "degraded" and sick["ami"] is False
    assert sick["dependencies"]["ami"] == "down"
    assert ready.status == 503 and not_ready["ready"] is False
