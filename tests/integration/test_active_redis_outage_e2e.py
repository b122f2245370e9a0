"""Two active acds (cluster.mode: active) and Redis stopped: a new call that reaches the
follower, which cannot reach the leader without Redis, is offered to the next acd
address at once (ACD_NEXT), and the leader routes it from memory; its record is written
when Redis is back. Redis here is the test's own (tests/redis_process.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncio_redis
import pytest
from acd_service import REPO, TEST_CONFIG, AcdService, wait_for
from redis_process import RedisProcess
from service_fixtures import TEST_DB, CallRecords, make_flows_dir
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: straight to queue support
AGENTS = ("1001", "1002")
PORTS = {"acd-1": (4573, 8080), "acd-2": (4574, 8081)}
CALLER = "13920000001"


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    redis = RedisProcess(persist=True)
    redis.start()
    yield redis
    redis.remove()


@pytest.fixture
def pair(asterisk, own_redis: RedisProcess, tmp_path) -> Iterator[tuple[AcdService, AcdService]]:
    """(leader, follower): two active acds on this module's Redis."""
    original = "redis: {host: 127.0.0.1, port: 6391,"
    text = TEST_CONFIG.read_text()
    assert original in text
    config = tmp_path / "config.yaml"
    config.write_text(text.replace(original, f"redis: {{host: 127.0.0.1, port: {own_redis.port},")
                      .replace("../../", f"{REPO}/"))
    flows = make_flows_dir(tmp_path / "flows")
    acds = {}
    for node, (agi, http) in PORTS.items():
        acds[node] = AcdService({"ACD_TEST_FLOWS": str(flows), "ACD_TEST_SECOND_FLOW": "direct",
                                 "ACD_TEST_START_AT": "", "ACD_TEST_CLUSTER_MODE": "active",
                                 "ACD_TEST_NODE": node, "ACD_TEST_AGI_PORT": str(agi),
                                 "ACD_TEST_HTTP_PORT": str(http)},
                                tmp_path / f"{node}.log", config=config,
                                http=f"http://127.0.0.1:{http}")
    try:
        for service in acds.values():
            service.start()
        wait_for(lambda: any("leads the routing core" in s.log_text() for s in acds.values()),
                 10, "one acd to lead")
        leader = next(s for s in acds.values() if "leads the routing core" in s.log_text())
        follower = next(s for s in acds.values() if s is not leader)
        yield leader, follower
    finally:
        asterisk.cli("dialplan reload")  # the globals as asterisk/ has them
        for service in acds.values():
            service.stop()


@pytest.fixture
async def records(own_redis: RedisProcess) -> AsyncIterator[CallRecords]:
    conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=own_redis.port,
                                                 db=TEST_DB)
    yield CallRecords(conn)
    conn.close()


async def test_a_new_call_to_a_follower_cut_off_from_redis_is_routed_by_the_leader(
        pair, own_redis, records, asterisk, tmp_path):
    leader, follower = pair
    for agent in AGENTS:
        status, body = leader.agent_do(agent, "login")
        assert status == 200, body
    # the follower is the address Asterisk tries first
    asterisk.cli(f"dialplan set global ACD_AGI agi://127.0.0.1:{agi_port(follower)}")
    asterisk.cli(f"dialplan set global ACD_AGI_2 agi://127.0.0.1:{agi_port(leader)}")
    await asyncio.sleep(1.5)  # (the leader's own events go straight to its core by now)
    own_redis.stop()
    await asyncio.to_thread(wait_for, lambda: redis_state(follower) == "down", 5,
                            "the follower to see Redis away")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=5.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller([CALLER], did=DIRECT, calls=1, rate=1, hangup_after=None,
                        timeout=60, workdir=tmp_path / "caller")
    with phones, caller:
        await phones.wait_for_calls(1, timeout=15)  # rung while Redis is still away
        own_redis.start()
        await asyncio.to_thread(caller.wait, caller.timeout)
        answered = [c for c in phones.calls() if c.outcome == "answered"]
    assert len(answered) == 1, phones.calls()
    assert "offered to the next acd (Redis is away" in follower.log_text()
    record = await records.wait_call_of(CALLER, timeout=15)
    record = await records.wait_closed_call(record.call_id, timeout=30)
    assert record.outcome == "answered" and record.agent in AGENTS, record


def agi_port(service: AcdService) -> int:
    return int(service.env["ACD_TEST_AGI_PORT"])


def redis_state(service: AcdService) -> str:
    status, body = service.api("GET", "/api/health", auth=False)
    return str(body.get("dependencies", {}).get("redis", "?"))
