"""The console's recordings against a real Redis index and real files: search by role,
play with Range requests (seeking), download, path refusals, and the audit log."""

from __future__ import annotations

import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.http.recording_routes import RecordingAccess, register
from acd.adapters.recordings import Recordings
from acd.adapters.redis.audit_store import AuditStore
from acd.callflow.record import CallRecord

DB = 11
NOW = 1_795_000_000.0


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * int(8000 * 2 * seconds / 256))


class Calls:
    def __init__(self) -> None:
        self.records: dict[str, CallRecord] = {}

    async def get_call(self, call_id: str) -> CallRecord | None:
        return self.records.get(call_id)


#: call id, agent, queue, caller, start offset, seconds, survey
CALLS = [("c1", "1001", "support", "13800138000", 0, 3.0, "1"),
         ("c2", "1002", "support", "13900139000", 100, 2.0, "3"),
         ("c3", "1001", "sales", "02088886666", 200, 6.0, "no-answer")]


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    yield connection
    connection.close()


async def make_client(redis: Any, tmp_path: Path, replay_own: bool = False) -> TestClient:
    prefix = f"test-rec-{uuid.uuid4().hex[:8]}:"
    recordings = Recordings(tmp_path / "recordings", "Asia/Shanghai", redis, prefix)
    calls = Calls()
    for call_id, agent, queue, caller, offset, seconds, survey in CALLS:
        path = recordings.path_for(call_id, NOW + offset)
        write_wav(Path(path), seconds)
        await recordings.finish(call_id, path, True, {"agent": agent, "queue": queue,
                                                      "caller": caller,
                                                      "start": NOW + offset})
        calls.records[call_id] = CallRecord(call_id, caller, "4008001234", NOW + offset,
                                            agent=agent, survey=survey,
                                            talk_seconds=seconds)
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users, call_store=calls,  # type: ignore[arg-type]
                                sees_numbers=lambda user: user.role == Role.ADMIN))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, prefix + "audit:"), lambda: NOW + next(ticks))
    register(app, RecordingAccess(recordings, agents_replay_own=lambda: replay_own,
                                  clock=lambda: NOW + 1000))
    client = TestClient(TestServer(app))
    await client.start_server()
    client.recordings = recordings  # type: ignore[attr-defined]
    return client


@pytest_asyncio.fixture
async def client(redis: Any, tmp_path: Path) -> AsyncIterator[TestClient]:
    c = await make_client(redis, tmp_path)
    yield c
    await c.close()


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def found(client: TestClient, query: str, headers: dict[str, str]) -> list[str]:
    resp = await client.get(f"/api/recordings?{query}", headers=headers)
    assert resp.status == 200, await resp.text()
    return [r["call_id"] for r in (await resp.json())["recordings"]]


async def test_a_supervisor_finds_recordings_by_agent_queue_caller_survey_time_and_length(
        client):
    sam = await auth(client, "sam", "s")
    assert await found(client, "", sam) == ["c3", "c2", "c1"]  # newest first
    assert await found(client, "agent=1001", sam) == ["c3", "c1"]
    assert await found(client, "queue=support", sam) == ["c2", "c1"]
    assert await found(client, "agent=1001&queue=support", sam) == ["c1"]
    assert await found(client, "survey=3", sam) == ["c2"]
    assert await found(client, "min_seconds=2.5&max_seconds=4", sam) == ["c1"]
    assert await found(client, f"from={NOW + 50}&to={NOW + 150}", sam) == ["c2"]


async def test_the_caller_is_searched_and_shown_as_the_role_may_see_it(client):
    sam, root = await auth(client, "sam", "s"), await auth(client, "root", "r")
    resp = await client.get("/api/recordings?agent=1002", headers=sam)
    [row] = (await resp.json())["recordings"]
    assert row["caller"] == "139*****000" or "*" in row["caller"]
    assert "path" not in row and row["survey"] == "3" and row["duration"] == 2.0
    # the supervisor sees 13******000: only the digits shown find it
    assert await found(client, "caller=8000", sam) == []
    assert await found(client, "caller=13800138000", sam) == []
    assert await found(client, "caller=13800138000", root) == ["c1"]
    assert await found(client, "caller=8666", root) == ["c3"]


async def test_pages_follow_the_cursor_until_it_is_null(client):
    sam = await auth(client, "sam", "s")
    resp = await client.get("/api/recordings?limit=2", headers=sam)
    first = await resp.json()
    assert [r["call_id"] for r in first["recordings"]] == ["c3", "c2"]
    resp = await client.get(f"/api/recordings?limit=2&cursor={first['next_cursor']}",
                            headers=sam)
    second = await resp.json()
    assert [r["call_id"] for r in second["recordings"]] == ["c1"]
    assert second["next_cursor"] is None


async def test_bad_search_parameters_are_refused_with_what_is_wrong(client):
    sam = await auth(client, "sam", "s")
    for query in ("from=yesterday", "survey=5", "limit=x", "min_seconds=9&max_seconds=1",
                  "cursor=nonsense", f"from={NOW + 10}&to={NOW}"):
        resp = await client.get(f"/api/recordings?{query}", headers=sam)
        assert resp.status == 400, query
        assert (await resp.json())["message"]


async def test_agents_hear_nothing_unless_allowed_and_then_only_their_own_calls(
        client, redis, tmp_path):
    assert (await client.get("/api/recordings")).status == 401
    alice = await auth(client, "alice", "a")
    assert (await client.get("/api/recordings", headers=alice)).status == 403
    assert (await client.post("/api/recordings/c1/play", headers=alice)).status == 403
    allowed = await make_client(redis, tmp_path / "allowed", replay_own=True)
    try:
        alice = await auth(allowed, "alice", "a")
        assert await found(allowed, "", alice) == ["c3", "c1"]
        assert (await allowed.get("/api/recordings?agent=1002", headers=alice)).status == 403
        assert (await allowed.post("/api/recordings/c2/play", headers=alice)).status == 404
        resp = await allowed.post("/api/recordings/c1/play", headers=alice)
        assert resp.status == 200
        assert (await allowed.get((await resp.json())["audio"])).status == 200
    finally:
        await allowed.close()


async def test_a_range_request_is_answered_206_with_exactly_those_bytes(client):
    sam = await auth(client, "sam", "s")
    resp = await client.post("/api/recordings/c1/play", headers=sam)
    urls = await resp.json()
    whole = Path((await client.recordings.entry("c1"))["path"]).read_bytes()
    resp = await client.get(urls["audio"], headers={"Range": "bytes=1000-1999"})
    assert resp.status == 206
    assert await resp.read() == whole[1000:2000]
    assert resp.headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
    resp = await client.get(urls["audio"])
    assert resp.status == 200 and await resp.read() == whole
    assert resp.headers["Content-Disposition"].startswith("inline")
    resp = await client.get(urls["download"])
    assert resp.status == 200 and await resp.read() == whole
    assert resp.headers["Content-Disposition"] == 'attachment; filename="c1.wav"'


async def test_every_play_and_download_is_in_the_audit_log_with_its_range(client):
    sam = await auth(client, "sam", "s")
    urls = await (await client.post("/api/recordings/c2/play", headers=sam)).json()
    await client.get(urls["audio"], headers={"Range": "bytes=0-"})
    await client.get(urls["audio"], headers={"Range": "bytes=20000-"})
    await client.get(urls["download"])
    resp = await client.get("/api/audit", headers=await auth(client, "root", "r"))
    entries = [(e["user"], e["action"], e["call"], e.get("range"), e["status"])
               for e in await resp.json()]
    assert entries == [("sam", "recording.download", "c2", None, 200),
                       ("sam", "recording.play", "c2", "bytes=20000-", 206),
                       ("sam", "recording.play", "c2", "bytes=0-", 206)]


async def test_a_ticket_opens_only_its_recording_and_dies_with_the_login(client):
    sam = await auth(client, "sam", "s")
    urls = await (await client.post("/api/recordings/c1/play", headers=sam)).json()
    other = urls["audio"].replace("/c1/", "/c2/")
    assert (await client.get(other)).status == 401
    assert (await client.get("/api/recordings/c1/audio")).status == 401
    assert (await client.get("/api/recordings/c1/audio?ticket=guess")).status == 401
    await client.post("/api/logout", headers=sam)
    assert (await client.get(urls["audio"])).status == 401


async def test_paths_never_come_from_the_request_nor_leave_the_recordings_folder(
        client, redis):
    sam = await auth(client, "sam", "s")
    for call_id in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "nope"):
        resp = await client.post(f"/api/recordings/{call_id}/play", headers=sam)
        assert resp.status == 404, call_id
    # an index entry that names a file outside recordings/ (tampered with) is not served
    prefix = client.recordings.prefix
    await redis.hmset(f"{prefix}rec:evil", {"path": "/etc/passwd", "agent": "1001",
                                              "start": str(NOW)})
    urls = await (await client.post("/api/recordings/evil/play", headers=sam)).json()
    resp = await client.get(urls["audio"])
    assert resp.status == 404
    assert "missing" in (await resp.json())["message"]
