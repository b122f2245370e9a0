"""Call lists and the CSV export against a real Redis and aiohttp's test client:
bounded lists, batches, streaming in constant memory, masking, a cut-short export."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncio_redis
import pytest
from aiohttp import ClientPayloadError
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.store import BATCH, CallStore
from acd.callflow.record import CallRecord
from acd.cli import main as acd_main

DB = 7  # this module's own database; keys also carry a per-test prefix
T0 = 1795000000.0
USERS = {"sam": User("sam", Role.SUPERVISOR, password="s-pw"),
         "root": User("root", Role.ADMIN, password="r-pw")}


def record(i: int, arrived: float | None = None) -> CallRecord:
    number = f"138{i:08d}"
    return CallRecord(f"c{i:06d}", number, "4008001234", T0 + i if arrived is None else arrived,
                      ivr_path=["main:welcome", "main:menu"],
                      variables={"caller": number, "called": "4008001234", "menu": "1"},
                      queues=["sales"], agent="1001", talk_seconds=42.5, outcome="answered")


@pytest.fixture
def prefix() -> str:
    return f"test-export-{uuid.uuid4().hex[:8]}:"


async def _drop(redis: Any, prefix: str) -> None:
    keys = await (await redis.scan(match=f"{prefix}*")).fetchall()
    if keys:
        await redis.delete(list(keys))


@pytest.fixture
async def redis(redis_server: Any, prefix: str) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    yield connection
    await _drop(connection, prefix)
    connection.close()


async def fill(store: CallStore, records: list[CallRecord]) -> None:
    for r in records:
        await store.open_call(r.call_id, r.fields())


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- the store -------------------------------------------------------------------------


async def test_the_call_export_reads_every_call_in_the_range_oldest_first_a_batch_at_a_time(
        redis: Any, prefix: str) -> None:
    store = CallStore(redis, prefix)
    records = [record(i) for i in range(2 * BATCH + 50)]
    records.append(record(999_999, arrived=T0 + 7))  # the same arrival time as c000007
    await fill(store, records[::-1])
    batches = [b async for b in store.call_hashes()]
    assert [len(b) for b in batches] == [BATCH, BATCH, 51]
    ids = [h["call_id"] for b in batches for h in b]
    assert ids[:9] == [f"c{i:06d}" for i in range(8)] + ["c999999"]
    assert sorted(ids) == sorted(r.call_id for r in records)
    assert batches[0][0] == records[0].to_hash()  # as stored
    # since and until are inclusive
    inside = [h["call_id"] async for b in store.call_hashes(T0 + 10, T0 + 12) for h in b]
    assert inside == ["c000010", "c000011", "c000012"]
    assert [b async for b in store.call_hashes(T0 + 10_000)] == []


async def test_recent_calls_are_the_newest_first_and_never_more_than_asked(
        redis: Any, prefix: str) -> None:
    store = CallStore(redis, prefix)
    await fill(store, [record(i) for i in range(BATCH + 20)])
    latest = await store.recent_calls(BATCH + 5)
    assert len(latest) == BATCH + 5
    assert [r.call_id for r in latest[:2]] == ["c000119", "c000118"]
    assert await store.recent_calls(0) == []  # ZRANGE 0 -1 would be everything
    assert await store.recent_calls(-3) == []
    assert len(await store.recent_calls(10_000)) == BATCH + 20


async def test_a_call_whose_hash_is_gone_or_damaged_does_not_end_a_list_or_an_export(
        redis: Any, prefix: str) -> None:
    store = CallStore(redis, prefix)
    await fill(store, [record(1), record(2), record(3)])
    await redis.zadd(f"{prefix}calls:by_start", {"gone": T0 + 1.5})
    await redis.hset(f"{prefix}call:c000002", "arrived_at", "yesterday")
    exported = [h["call_id"] async for b in store.call_hashes() for h in b]
    assert exported == ["c000001", "c000002", "c000003"]  # the export writes what is stored
    assert [r.call_id for r in await store.recent_calls(10)] == ["c000003", "c000001"]


# -- the HTTP routes -------------------------------------------------------------------


async def login(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


class AskedLimits:
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def recent_calls(self, limit: int) -> list[CallRecord]:
        self.asked.append(limit)
        return []


async def test_limit_is_clamped_on_every_list_route() -> None:
    calls = AskedLimits()
    app = make_app(HttpServices(users=USERS, call_store=calls))
    async with TestClient(TestServer(app)) as client:
        sam = await login(client, "sam", "s-pw")
        for query in ("?limit=0", "?limit=-5", "?limit=5000", "?limit=7", ""):
            assert (await client.get(f"/api/calls{query}", headers=sam)).status == 200
        assert (await client.get("/api/calls?limit=1e9", headers=sam)).status == 400
    assert calls.asked == [1, 1, 1000, 7, 50]


async def test_the_export_masks_numbers_for_a_role_that_may_not_see_them(
        redis: Any, prefix: str) -> None:
    store = CallStore(redis, prefix)
    await fill(store, [record(1), CallRecord("evil", "=2+5+cmd|' /C calc'!A0", "400", T0 + 2)])
    # a deployment where only admins see full numbers (privacy.full_numbers_for)
    services = HttpServices(users=USERS, call_store=store,
                            sees_numbers=lambda user: user.role >= Role.ADMIN)
    async with TestClient(TestServer(make_app(services))) as client:
        resp = await client.get("/api/calls.csv", headers=await login(client, "sam", "s-pw"))
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        text = await resp.text()
        masked, evil = parse(text)
        assert "13800000001" not in text
        assert masked["caller"] == "13******001"
        assert '"caller": "13******001"' in masked["variables"]
        assert evil["caller"].startswith("'=")
        resp = await client.get("/api/calls.csv", headers=await login(client, "root", "r-pw"))
        full, _ = parse(await resp.text())
        assert full["caller"] == "13800000001" and "13800000001" in full["variables"]


class RepeatedCalls:
    """The same batch of BATCH records `batches` times: the route's memory, not a store's."""

    def __init__(self, batches: int, fail_after: int | None = None) -> None:
        self.batches, self.fail_after = batches, fail_after
        self.batch = [record(i).to_hash() for i in range(BATCH)]

    async def call_hashes(self, since: float, until: float
                          ) -> AsyncIterator[list[dict[str, str]]]:
        for b in range(self.batches):
            if b == self.fail_after:
                raise asyncio_redis.NotConnectedError("Redis went away")
            await asyncio.sleep(0)  # as a Redis round trip would
            yield self.batch


async def _export_peak(batches: int) -> tuple[int, int]:
    """(bytes received, peak traced memory) of one export read a chunk at a time."""
    services = HttpServices(users=USERS, call_store=RepeatedCalls(batches))
    async with TestClient(TestServer(make_app(services))) as client:
        sam = await login(client, "sam", "s-pw")
        tracemalloc.start()
        try:
            resp = await client.get("/api/calls.csv", headers=sam)
            received = 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                received += len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return received, peak


async def test_the_call_export_streams_in_constant_memory() -> None:
    small_size, small_peak = await _export_peak(5)
    large_size, large_peak = await _export_peak(50)
    assert large_size > 9 * small_size
    # ten times the rows, not ten times the memory, and less than the file itself
    assert large_peak < 1.3 * small_peak
    assert large_peak < large_size / 2


async def test_an_export_that_fails_part_way_is_cut_short_not_passed_off_as_whole(
        caplog: pytest.LogCaptureFixture) -> None:
    services = HttpServices(users=USERS, call_store=RepeatedCalls(5, fail_after=2))
    async with TestClient(TestServer(make_app(services))) as client:
        resp = await client.get("/api/calls.csv", headers=await login(client, "sam", "s-pw"))
        assert resp.status == 200  # sent before the first row was read
        with pytest.raises(ClientPayloadError):
            await resp.read()
    assert "call export failed part way" in caplog.text


# -- acd calls export ------------------------------------------------------------------


@pytest.fixture
def cli_config(redis_server: Any, prefix: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"redis: {{host: {redis_server.host}, port: {redis_server.port}, "
                    f"db: {DB}, prefix: '{prefix}'}}\n", encoding="utf-8")
    return path


async def test_acd_calls_export_writes_full_numbers_and_masks_them_with_masked(
        redis: Any, prefix: str, cli_config: Path, tmp_path: Path) -> None:
    await fill(CallStore(redis, prefix), [record(i) for i in range(BATCH + 3)])
    full, masked = tmp_path / "full.csv", tmp_path / "masked.csv"
    # the command runs its own event loop, as from a shell: in a thread of its own
    assert await asyncio.to_thread(
        acd_main, ["calls", "export", "--config", str(cli_config), "-o", str(full)]) == 0
    assert await asyncio.to_thread(
        acd_main, ["calls", "export", "--config", str(cli_config), "-o", str(masked),
                   "--masked", "--since", "2026-11-18T00:00"]) == 0
    rows = parse(full.read_text(encoding="utf-8"))
    assert len(rows) == BATCH + 3 and rows[1]["caller"] == "13800000001"
    text = masked.read_text(encoding="utf-8")
    assert len(parse(text)) == BATCH + 3 and "13800000001" not in text
