"""Agents on the sandbox: feature codes from softphones, and the routing strategies
choosing the agent each one names."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from acd_service import wait_for
from sipp import Dtmf, PhoneBehaviour, SippAgentDialer, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration


async def dial(code: str, tmp_path, digits: str = "", agent: str = "agent1001",
               timeout: float = 30) -> None:
    dialer = SippAgentDialer(agent, code, Dtmf.sequence(digits, start=1.5) if digits else (),
                             hangup_after=None, timeout=timeout,
                             workdir=tmp_path / f"dial{code.replace('*', 's')}")
    with dialer:
        await asyncio.to_thread(dialer.wait, timeout)
    [call] = dialer.calls()
    assert call.answered, f"{code} was not answered"


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct")


async def test_an_agent_logs_in_pauses_resumes_and_logs_out_from_the_softphone(
        acd, asterisk, tmp_path):
    await dial("*71", tmp_path, "1001#1001#")
    agent = acd.agent("1001")
    assert agent["state"] == "available" and agent["device"] == "PJSIP/agent1001"
    await dial("*733", tmp_path)  # 3 = busy (示忙)
    agent = acd.agent("1001")
    assert (agent["state"], agent["reason"]) == ("paused", "busy")
    await dial("*74", tmp_path)
    assert acd.agent("1001")["state"] == "available"
    await dial("*72", tmp_path)
    assert acd.agent("1001")["state"] == "logged-out"


async def test_a_wrong_pin_does_not_log_the_agent_in(acd, asterisk, tmp_path):
    # two tries, then the phone hangs up: ~40 s of prompts and time-outs
    await dial("*71", tmp_path, "1002#9999#", agent="agent1002", timeout=60)
    assert acd.agent("1002")["state"] == "logged-out"


async def test_hot_desking_binds_the_agent_to_the_phone_dialled_from(acd, asterisk, tmp_path):
    await dial("*71", tmp_path, "1003#1003#", agent="agent1005")
    assert acd.agent("1003")["device"] == "PJSIP/agent1005"
    await dial("*72", tmp_path, agent="agent1005")
    assert acd.agent("1003")["state"] == "logged-out"


async def serve_calls(acd, did: str, hangups: list[float], tmp_path) -> list[str]:
    """Callers one after another; each hangs up `h` s after acd answers. Agents' phones
    answer after 0.5 s. Returns the agent each call reached."""
    reached = []
    with SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones") as ph:
        for n, hangup in enumerate(hangups):
            caller = SippCaller(f"1330000000{n}", did=did, hangup_after=hangup, timeout=30,
                                workdir=tmp_path / f"caller{n}")
            with caller:
                await asyncio.to_thread(caller.wait, 30)
            await asyncio.to_thread(
                wait_for, lambda n=n: len(ph.calls()) > n and ph.calls()[n].ended_at, 5,
                "the agent's side of the call to end")
            agent = ph.calls()[n].agent.removeprefix("agent")
            reached.append(agent)
            # the next call is routed on what the core counted for this one: wait until
            # it has handled the hang-up (the agent holds no call and is available again)
            await asyncio.to_thread(wait_for, lambda a=agent: agent_is_free(acd, a), 5,
                                    f"the core to free agent {agent} after the call")
    return reached


def agent_is_free(acd, agent_id: str) -> bool:
    view = acd.agent(agent_id)
    return not view["call_id"] and view["state"] == "available"


async def test_least_calls_offers_the_next_call_to_the_agent_with_fewest_calls(
        acd_factory, asterisk, tmp_path):
    acd = acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_STRATEGY="least-calls")
    for agent in ("1001", "1002"):
        assert acd.agent_do(agent, "login")[0] == 200
    # 1st: tie, lowest number; 2nd: 1002 has fewer calls; 3rd: tie again, and 1001 has
    # been idle longer.
    assert await serve_calls(acd, "4008000001", [6, 6, 6], tmp_path) == \
        ["1001", "1002", "1001"]


async def test_shortest_talk_time_offers_the_next_call_to_the_agent_who_talked_least(
        acd_factory, asterisk, tmp_path):
    acd = acd_factory(ACD_TEST_SECOND_FLOW="complain")
    for agent in ("1001", "1002"):
        assert acd.agent_do(agent, "login")[0] == 200
    # 1001 talks ~7 s, 1002 ~3 s; with one call each, least-calls would pick 1001 (idle
    # longer), shortest talk time picks 1002.
    assert await serve_calls(acd, "4008000001", [11, 7, 6], tmp_path) == \
        ["1001", "1002", "1002"]


async def test_an_agent_whose_phone_becomes_unreachable_is_unavailable_until_it_is_back(
        acd_factory, ami, asterisk):
    # Asterisk's own device states, driven through a custom device so the test can switch
    # the phone "off": the same DeviceStateChange events a PJSIP phone produces.
    acd = acd_factory(ACD_TEST_SECOND_FLOW="direct")
    device = "Custom:desk1003"
    assert acd.agent_do("1003", "login", device=device)[0] == 200

    async def set_state(state: str) -> None:
        await asyncio.wait_for(ami.send_action({
            "Action": "Setvar", "Variable": f"DEVICE_STATE({device})", "Value": state}), 5)

    await set_state("UNAVAILABLE")
    await asyncio.to_thread(wait_for, lambda: acd.agent("1003")["reachable"] is False, 5,
                            "acd to see the phone unreachable")
    assert acd.agent("1003")["available_for_calls"] is False
    await set_state("NOT_INUSE")
    await asyncio.to_thread(wait_for, lambda: acd.agent("1003")["reachable"] is True, 5,
                            "acd to see the phone back")
    assert acd.agent("1003")["available_for_calls"] is True


async def test_sighup_reloads_queues_and_agents_and_refuses_a_broken_config(
        acd_factory, asterisk, tmp_path):
    import signal

    from acd_service import REPO, TEST_CONFIG, AcdService
    from service_fixtures import make_flows_dir

    config = tmp_path / "config.yaml"
    original = TEST_CONFIG.read_text().replace("../../", f"{REPO}/")
    config.write_text(original)
    acd_factory(ACD_TEST_SECOND_FLOW="direct").stop()  # fresh Redis, no other acd running
    acd = AcdService({"ACD_TEST_FLOWS": str(make_flows_dir(tmp_path / "flows"))},
                     tmp_path / "acd.log", config=config)
    acd.start()
    try:
        agent_1002 = '  "1002": {name: 李娜, pin: "1002", skills: [hardware, software]}\n'
        assert agent_1002 in original
        config.write_text(original.replace('strategy: "${ACD_TEST_STRATEGY:-least-calls}"',
                                           "strategy: round-robin").replace(
            agent_1002, agent_1002 + '  "1007": {name: 赵磊, pin: "1007", queues: [support]}\n'))
        acd.proc.send_signal(signal.SIGHUP)
        await asyncio.to_thread(wait_for, lambda: "configuration reloaded" in acd.log_text(),
                                5, "the reload")
        queues = {q["queue"]: q for q in acd.api("GET", "/api/queues")[1]["queues"]}
        assert queues["support"]["strategy"] == "round-robin"
        assert "1007" in queues["support"]["members"]
        config.write_text(original.replace("wrap_up_seconds: 0", "wrap_up_seconds: soon", 1))
        acd.proc.send_signal(signal.SIGHUP)
        await asyncio.to_thread(wait_for, lambda: "reload refused" in acd.log_text(), 5,
                                "the refusal")
        line = next(x for x in acd.log_text().splitlines() if "reload refused" in x)
        assert f"{config}:" in line and "wrap_up_seconds" in line
        queues = {q["queue"]: q for q in acd.api("GET", "/api/queues")[1]["queues"]}
        assert queues["support"]["strategy"] == "round-robin"  # the running config stays
    finally:
        acd.stop()


async def test_a_crafted_login_with_a_malicious_device_is_refused_and_rings_nothing_extra(
        acd_factory, asterisk, tmp_path):
    acd = acd_factory(ACD_TEST_SECOND_FLOW="direct")
    crafted = [
        "PJSIP/agent1001&Local/8100@acd-transfer",           # a second destination
        "PJSIP/agent1001,60,U(evil)",                        # Dial options of its own
        'PJSIP/agent1001"\nEXEC System "touch /tmp/pwned',  # a second AGI command
        "PJSIP/agent1002",                                   # another agent's phone
        "PJSIP/supervisor1",
    ]
    agent = ("agent1001", "test-agent")
    for device in crafted:
        status, body = acd.api("POST", "/api/agents/1001/login", {"device": device}, user=agent)
        assert status == 403, (device, body)
    assert acd.agent("1001")["state"] == "logged-out"
    # The same from a supervisor, who may move agents between phones but only to phones.
    sup = ("supervisor", "test-sup")
    assert acd.api("POST", "/api/agents/1001/login", {"device": crafted[0]}, user=sup)[0] == 403
    # A proper login, then a call: only the caller and agent 1001's phone are up.
    assert acd.api("POST", "/api/agents/1001/login", {}, user=agent)[0] == 200
    with SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones") as ph:
        caller = SippCaller("13300000099", did="4008000001", hangup_after=6, timeout=30,
                            workdir=tmp_path / "caller")
        with caller:
            [ring] = await ph.wait_for_calls(1, timeout=15)
            channels = await asyncio.to_thread(asterisk.channels)
            await asyncio.to_thread(caller.wait, 30)
    assert ring.agent == "agent1001"
    assert not [c for c in channels if not c.startswith(("PJSIP/anonymous-",
                                                         "PJSIP/agent1001-"))], channels
    assert not Path("/tmp/pwned").exists()
    assert acd.api("POST", "/api/agents/1001/logout", {}, user=agent)[0] == 200
