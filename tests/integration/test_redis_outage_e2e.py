"""Redis stopped for seven seconds while calls flow on the sandbox: acd's health says so
(and says when it is back), every caller is answered by an agent, and every call has its
record afterwards. Redis here is the test's own (tests/redis_process.py, saving its data
on a stop like an operator's restart), so the session's shared one is never stopped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import asyncio_redis
import pytest
from acd_service import REPO, TEST_CONFIG, AcdService, wait_for
from redis_process import RedisProcess
from service_fixtures import TEST_DB, CallRecords, make_flows_dir
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: straight to queue support
CALLERS = [f"1390000{n:04d}" for n in range(12)]
OUTAGE_SECONDS = 7.0


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisProcess]:
    redis = RedisProcess(persist=True)
    redis.start()
    yield redis
    redis.remove()


@pytest.fixture(scope="module")
def acd(asterisk_sandbox, own_redis: RedisProcess, tmp_path_factory) -> Iterator[AcdService]:
    """acd on the test config, but with this module's Redis."""
    tmp = tmp_path_factory.mktemp("acd-redis-outage")
    original = "redis: {host: 127.0.0.1, port: 6391,"
    text = TEST_CONFIG.read_text()
    assert original in text
    config = tmp / "config.yaml"
    config.write_text(text.replace(original, f"redis: {{host: 127.0.0.1, port: {own_redis.port},")
                      .replace("../../", f"{REPO}/"))
    service = AcdService({"ACD_TEST_FLOWS": str(make_flows_dir(tmp / "flows")),
                          "ACD_TEST_SECOND_FLOW": "direct", "ACD_TEST_START_AT": ""},
                         tmp / "acd.log", config=config)
    service.start()
    yield service
    service.stop()


@pytest.fixture
async def records(own_redis: RedisProcess) -> AsyncIterator[CallRecords]:
    conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=own_redis.port,
                                                 db=TEST_DB)
    yield CallRecords(conn)
    conn.close()


def health(acd: AcdService) -> tuple[str, str, int]:
    """(/api/health's status, its Redis state, /api/ready's HTTP status)."""
    status, body = acd.api("GET", "/api/health", auth=False)
    assert status == 200, body
    ready, _ = acd.api("GET", "/api/ready", auth=False)
    return body["status"], body["dependencies"]["redis"], ready


async def test_calls_through_a_seven_second_redis_outage_are_all_answered_and_recorded(
        acd, own_redis, records, asterisk, tmp_path):
    for agent in ("1001", "1002", "1003"):
        status, body = acd.agent_do(agent, "login")
        assert status == 200, body
    assert health(acd) == ("ok", "up", 200)
    # Each call: answered at once, the agent rung (answers after 0.5 s), the agent's number
    # said (~3 s), then talk until the agent hangs up 6 s after answering (an agent who
    # hangs up during the 报工号 never spoke to the caller, who is offered again), then
    # the survey until the caller hangs up. A call every 3 s keeps two or three of the
    # three agents busy: nobody waits long, before, during or after.
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=6.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller(CALLERS, did=DIRECT, calls=len(CALLERS), rate=1 / 3,
                        hangup_after=25.0, timeout=150, workdir=tmp_path / "callers")
    with phones, caller:
        await phones.wait_for_calls(2, timeout=20)  # calls flow: now Redis goes
        own_redis.stop()
        stopped = time.monotonic()
        await asyncio.to_thread(wait_for, lambda: health(acd) == ("degraded", "down", 503),
                                3, "/api/health and /api/ready to say Redis is down")
        # the outage's length is the scenario (not a wait for an outcome)
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        own_redis.start()
        await asyncio.to_thread(wait_for, lambda: health(acd) == ("ok", "up", 200), 2,
                                "/api/health and /api/ready to say Redis is back")
        await asyncio.to_thread(caller.wait, caller.timeout)
        answered = [c for c in phones.calls() if c.outcome == "answered"]

    placed = caller.calls()
    assert len(placed) == len(CALLERS) and all(c.answered for c in placed), placed
    assert len(answered) == len(CALLERS), phones.calls()  # each by an agent, once
    for number in CALLERS:
        record = await records.wait_call_of(number)  # one record per caller, no more
        record = await records.wait_closed_call(record.call_id)
        assert record.outcome == "answered" and record.agent in {"1001", "1002", "1003"}, \
            record
        assert record.queues == ["support"] and record.answered_at and record.talk_seconds > 0
    log = acd.log_text()
    assert log.count("is unreachable (") == 1 and log.count("is back after") == 1, \
        [line for line in log.splitlines() if "Redis" in line]
