"""Fixtures for tests that need the acd service itself (imported by conftest)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncio_redis
import pytest
from acd_service import REPO, AcdService

from acd.callflow.record import CallRecord

TEST_PREFIX = "acdtest:"
TEST_DB = 1


def make_flows_dir(target: Path) -> Path:
    """The shipped flows plus the tests' own, in a folder tests may edit."""
    target.mkdir(parents=True, exist_ok=True)
    for source in [*(REPO / "ivr_flows").glob("*.yaml"),
                   *(Path(__file__).parent / "flows").glob("*.yaml")]:
        shutil.copy(source, target / source.name)
    return target


@pytest.fixture(scope="module")
def acd_factory(asterisk_sandbox, redis_server, tmp_path_factory) -> Iterator[object]:
    """Start acd with extra environment (e.g. ACD_TEST_SECOND_FLOW=hello)."""
    started: list[AcdService] = []

    def start(*, fresh: bool = True, **env: str) -> AcdService:
        for running in started:  # one acd at a time: the dialplan knows one FastAGI port
            running.stop()
        if fresh:  # no routing state, records or lists from an earlier test module
            subprocess.run(["redis-cli", "-h", redis_server.host, "-p", str(redis_server.port),
                            "-n", str(TEST_DB), "flushdb"], check=True, capture_output=True)
        tmp = tmp_path_factory.mktemp("acd")
        flows = make_flows_dir(tmp / "flows")
        service = AcdService({"ACD_TEST_FLOWS": str(flows), **env}, tmp / "acd.log")
        service.flows_dir = flows  # type: ignore[attr-defined]
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


class TestRedis:
    """The test Redis database acd writes to, read back the way a user would."""

    def __init__(self, conn: asyncio_redis.Connection) -> None:
        self.conn = conn

    async def call(self, call_id: str) -> CallRecord | None:
        data = await self.conn.hgetall_asdict(f"{TEST_PREFIX}call:{call_id}")
        return CallRecord.from_hash(data) if data else None

    async def wait_closed_call(self, call_id: str, timeout: float = 15) -> CallRecord:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            record = await self.call(call_id)
            if record is not None and record.ended_at:
                return record
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"call {call_id} has no closed record: {record}")
            await asyncio.sleep(0.1)

    async def calls_of(self, caller: str) -> list[CallRecord]:
        keys = await self.conn.keys_aslist(f"{TEST_PREFIX}call:*")
        records = [await self.call(k.removeprefix(f"{TEST_PREFIX}call:")) for k in keys]
        return sorted((r for r in records if r and r.caller == caller),
                      key=lambda r: r.arrived_at)


@pytest.fixture
async def caller_lists(redis_server) -> AsyncIterator[object]:
    """The caller black/whitelists acd reads, emptied before and after the test."""
    from acd.adapters.redis.list_store import ListStore

    conn = await asyncio_redis.Connection.create(host=redis_server.host,
                                                 port=redis_server.port, db=TEST_DB)
    store = ListStore(conn, TEST_PREFIX)
    await store.clear()
    yield store
    await store.clear()
    conn.close()


@pytest.fixture
async def test_redis(redis_server) -> AsyncIterator[TestRedis]:
    conn = await asyncio_redis.Connection.create(host=redis_server.host,
                                                 port=redis_server.port, db=TEST_DB)
    yield TestRedis(conn)
    conn.close()
