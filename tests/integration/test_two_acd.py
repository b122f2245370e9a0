"""Two acd processes on one Redis and one Asterisk: one serves, the other stands by and
takes over when the first is killed, with the routing state it left in Redis."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from datetime import datetime

import pytest
from acd_service import AcdService, wait_for
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: queue support
AGENTS = ("1001", "1002", "1003", "1004", "1005", "1006")
STANDBY_AGI, STANDBY_HTTP = 4574, 8081


@pytest.fixture
def two_acds(acd_factory, asterisk, tmp_path):
    primary = acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")
    standby = AcdService({"ACD_TEST_FLOWS": str(primary.flows_dir),
                          "ACD_TEST_SECOND_FLOW": "direct", "ACD_TEST_START_AT": "",
                          "ACD_TEST_AGI_PORT": str(STANDBY_AGI),
                          "ACD_TEST_HTTP_PORT": str(STANDBY_HTTP)},
                         tmp_path / "standby.log", http=f"http://127.0.0.1:{STANDBY_HTTP}")
    standby.start(ready="standing by")
    asterisk.cli(f"dialplan set global ACD_AGI_2 agi://127.0.0.1:{STANDBY_AGI}")
    try:
        yield primary, standby
    finally:
        asterisk.cli("dialplan reload")  # the globals as asterisk/ has them
        serving = standby if standby.proc is not None and "acd ready" in \
            standby.log_text() else primary
        for agent in AGENTS:
            serving.agent_do(agent, "logout")
        standby.stop()
        if primary.proc is None:
            primary.start()  # the module's acd, for the tests after this one


def logged_at(log: str, text: str) -> float:
    """The epoch time of the first log line containing `text`."""
    line = next(line for line in log.splitlines() if text in line)
    stamp = re.match(r"(\S+ \S+)", line).group(1)  # type: ignore[union-attr]
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


async def test_the_standby_takes_over_when_the_serving_acd_is_killed(
        two_acds, call_records, tmp_path):
    primary, standby = two_acds
    for agent in AGENTS:
        status, body = primary.agent_do(agent, "login")
        assert status == 200, body
    # the agents talk 6 s: longer than the 报工号 the caller hears first (an agent who
    # hangs up during it never spoke to the caller, and the caller is offered again)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.3, talk_time=6.0),
                             workdir=tmp_path / "phones")
    numbers = [f"1390000{i:04d}" for i in range(40)]
    callers = SippCaller(numbers, did=DIRECT, calls=40, rate=10, hangup_after=None,
                         timeout=150, workdir=tmp_path / "callers")
    with phones, callers:
        await asyncio.to_thread(wait_for, lambda: len(phones.calls()) >= 12, 30,
                                "a dozen calls offered to agents")
        killed_at = time.time()
        await asyncio.to_thread(primary.stop, signal.SIGKILL)
        await asyncio.to_thread(wait_for, lambda: "acd ready" in standby.log_text(), 10,
                                "the standby to take over")
        await asyncio.to_thread(callers.wait, 150)
        agent_calls = phones.calls()
    took_over = logged_at(standby.log_text(), "acd ready") - killed_at
    assert took_over < 5.0, f"the standby served {took_over:.1f} s after the kill"

    answered = [c for c in agent_calls if c.outcome == "answered"]
    for agent in {c.agent for c in answered}:  # no agent ever had two calls at a time
        spans = sorted((c.answered_at, c.ended_at or float("inf")) for c in answered
                       if c.agent == agent)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end - 0.05, f"{agent} had two calls at once: {spans}"
    assert len(answered) == 40, f"{len(answered)} conversations for 40 callers"
    for number in numbers:
        record = await call_records.wait_call_of(number)
        record = await call_records.wait_closed_call(record.call_id, timeout=30)
        assert record.outcome in ("answered", "answered-by-fallback"), record
        assert record.agent in AGENTS, record
    assert all(c.final_status == 200 for c in callers.calls())


# -- cluster.mode active: both acds take calls, one leads the routing core -------------


@pytest.fixture
def two_active_acds(acd_factory, asterisk, tmp_path):
    first = acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="",
                        ACD_TEST_CLUSTER_MODE="active", ACD_TEST_NODE="acd-1")
    second = AcdService({"ACD_TEST_FLOWS": str(first.flows_dir),
                         "ACD_TEST_SECOND_FLOW": "direct", "ACD_TEST_START_AT": "",
                         "ACD_TEST_CLUSTER_MODE": "active", "ACD_TEST_NODE": "acd-2",
                         "ACD_TEST_AGI_PORT": str(STANDBY_AGI),
                         "ACD_TEST_HTTP_PORT": str(STANDBY_HTTP)},
                        tmp_path / "second.log", http=f"http://127.0.0.1:{STANDBY_HTTP}")
    second.start()  # (active: "acd ready" at once, leading or not)
    asterisk.cli(f"dialplan set global ACD_AGI_2 agi://127.0.0.1:{STANDBY_AGI}")
    try:
        yield first, second
    finally:
        asterisk.cli("dialplan reload")
        alive = first if first.proc is not None else second
        for agent in AGENTS:
            alive.agent_do(agent, "logout")
        second.stop()
        if first.proc is None:
            first.start()


async def spread_calls(asterisk, addresses: list[str], stop: asyncio.Event) -> None:
    """The dialplan tries ACD_AGI first, then ACD_AGI_2: swapping the two every 100 ms
    spreads a burst at 10 calls/s over both acds (and each call still falls back to the
    other when its first one does not answer)."""
    turn = 0
    while not stop.is_set():
        first, other = addresses[turn % 2], addresses[(turn + 1) % 2]
        await asyncio.to_thread(asterisk.cli, f"dialplan set global ACD_AGI {first}")
        await asyncio.to_thread(asterisk.cli, f"dialplan set global ACD_AGI_2 {other}")
        turn += 1
        await asyncio.sleep(0.1)


async def test_two_active_acds_share_a_burst_and_the_follower_leads_when_the_leader_is_killed(
        two_active_acds, asterisk, call_records, tmp_path):
    first, second = two_active_acds
    leader, follower = (first, second) if "leads the routing core" in first.log_text() \
        else (second, first)
    for agent in AGENTS:  # through the follower: the leader's engine takes them
        status, body = follower.agent_do(agent, "login")
        assert status == 200, body
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.3, talk_time=6.0),
                             workdir=tmp_path / "phones")
    numbers = [f"1391000{i:04d}" for i in range(40)]
    callers = SippCaller(numbers, did=DIRECT, calls=40, rate=10, hangup_after=None,
                         timeout=150, workdir=tmp_path / "callers")
    stop_spreading = asyncio.Event()
    spreading = asyncio.create_task(spread_calls(
        asterisk, ["agi://127.0.0.1:4573", f"agi://127.0.0.1:{STANDBY_AGI}"], stop_spreading))
    try:
        with phones, callers:
            await asyncio.to_thread(wait_for, lambda: len(phones.calls()) >= 12, 30,
                                    "a dozen calls offered to agents")
            killed_at = time.time()
            await asyncio.to_thread(leader.stop, signal.SIGKILL)
            await asyncio.to_thread(
                wait_for, lambda: "leads the routing core" in follower.log_text(), 10,
                "the follower to lead")
            await asyncio.to_thread(callers.wait, 150)
            agent_calls = phones.calls()
    finally:
        stop_spreading.set()
        await spreading
    took_over = logged_at(follower.log_text(), "leads the routing core") - killed_at
    assert took_over < 5.0, f"the follower led {took_over:.1f} s after the kill"

    answered = [c for c in agent_calls if c.outcome == "answered"]
    for agent in {c.agent for c in answered}:  # no agent ever had two calls at a time
        spans = sorted((c.answered_at, c.ended_at or float("inf")) for c in answered
                       if c.agent == agent)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end - 0.05, f"{agent} had two calls at once: {spans}"
    assert len(answered) == 40, f"{len(answered)} conversations for 40 callers"
    for number in numbers:
        record = await call_records.wait_call_of(number)
        record = await call_records.wait_closed_call(record.call_id, timeout=30)
        assert record.outcome in ("answered", "answered-by-fallback"), record
        assert record.agent in AGENTS, record
    assert all(c.final_status == 200 for c in callers.calls())
