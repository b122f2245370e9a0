"""Fixtures for tests that need the acd service itself (imported by conftest)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncio_redis
import pytest
from acd_service import REPO, AcdService

from acd.callflow.record import CallRecord

T = TypeVar("T")

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
            # nor the dialplan's accounts of their calls: with the records gone, acd would
            # take them for calls no acd saw, and record them (acd/unseen_calls.py)
            asterisk_sandbox.cli("database deltree acd-lost")
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


class CallRecords:
    """The call records acd writes to the test Redis database, read back the way a user
    would (acd's own CallRecord); every wait polls with a deadline."""

    def __init__(self, conn: asyncio_redis.Connection) -> None:
        self.conn = conn

    async def call(self, call_id: str) -> CallRecord | None:
        data = await self.conn.hgetall_asdict(f"{TEST_PREFIX}call:{call_id}")
        return CallRecord.from_hash(data) if data else None

    async def calls_of(self, caller: str) -> list[CallRecord]:
        keys = await self.conn.keys_aslist(f"{TEST_PREFIX}call:*")
        records = [await self.call(k.removeprefix(f"{TEST_PREFIX}call:")) for k in keys]
        return sorted((r for r in records if r and r.caller == caller),
                      key=lambda r: r.arrived_at)

    async def wait_until(self, probe: Callable[[], Awaitable[T | None]], what: str,
                         timeout: float,
                         shown: Callable[[], Awaitable[object]] | None = None) -> T:
        """Poll `probe` until it returns something truthy; fail after `timeout` s, with
        what `shown()` returns then."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (value := await probe()):
            if asyncio.get_running_loop().time() > deadline:
                seen = f"; at the deadline: {await shown()}" if shown else ""
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{seen}")
            await asyncio.sleep(0.1)
        return value

    async def wait_closed_call(self, call_id: str, timeout: float = 15) -> CallRecord:
        """The record once the call has ended (ended_at set)."""
        async def closed() -> CallRecord | None:
            record = await self.call(call_id)
            return record if record is not None and record.ended_at else None

        return await self.wait_until(closed, f"call {call_id} to have a closed record",
                                     timeout, lambda: self.call(call_id))

    async def wait_answered(self, call_id: str, timeout: float = 10) -> CallRecord:
        """The record once acd has seen the agent answer: the caller is bridged to the
        agent (answered_at is set after the 报工号)."""
        async def answered() -> CallRecord | None:
            record = await self.call(call_id)
            return record if record is not None and record.answered_at else None

        return await self.wait_until(answered, f"call {call_id} to be answered", timeout,
                                     lambda: self.call(call_id))

    async def wait_call_of(self, caller: str, timeout: float = 10) -> CallRecord:
        """The record of this caller's one call, as soon as acd has written it."""
        async def one() -> CallRecord | None:
            records = await self.calls_of(caller)
            assert len(records) <= 1, f"{caller} has {len(records)} calls: {records}"
            return records[0] if records else None

        return await self.wait_until(one, f"a call record of {caller}", timeout)

    async def wait_queued_call_of(self, caller: str, timeout: float = 10) -> CallRecord:
        """The record of this caller's one call once it waits in a queue (enqueued_at)."""
        async def queued() -> CallRecord | None:
            records = await self.calls_of(caller)
            return records[0] if len(records) == 1 and records[0].enqueued_at else None

        return await self.wait_until(queued, f"{caller}'s call to wait in a queue", timeout,
                                     lambda: self.calls_of(caller))


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
async def call_records(redis_server) -> AsyncIterator[CallRecords]:
    """The call records acd wrote to the test Redis database."""
    conn = await asyncio_redis.Connection.create(host=redis_server.host,
                                                 port=redis_server.port, db=TEST_DB)
    yield CallRecords(conn)
    conn.close()
