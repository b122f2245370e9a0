"""`GET /metrics` on the whole acd App: real Redis, real aiohttp server, FastAGI calls
from a scripted caller and AMI events from a scripted Asterisk manager (no Asterisk).
What a Prometheus scrape shows after calls, logins and pauses, and who may read it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncio_redis
import pytest
from polling import eventually
from prometheus_client.parser import text_string_to_metric_families

from acd.app import App
from acd.config.settings import load_config
from tests.protocol.metrics_peers import AmiPeer, Caller

CALLER = "13800138000"
OTHER_CALLER = "13900139000"
DID = "4008001234"
AGENT_LEG = "PJSIP/agent1001-0000002a"
TOKEN = "prometheus-scrapes-with-this-token"
BOSS_PASSWORD = "boss-password-for-tests"
AGENT_PASSWORD = "agent-password-for-tests"
DB = 13


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    app: App
    ami: AmiPeer
    http: aiohttp.ClientSession
    base: str
    agi_port: int

    async def scrape(self, token: str = TOKEN) -> str:
        async with self.http.get(f"{self.base}/metrics",
                                 headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return await response.text()

    async def login(self, user: str, password: str) -> str:
        async with self.http.post(f"{self.base}/api/login",
                                  json={"username": user, "password": password}) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["token"])

    async def agent(self, action: str, **body: str) -> None:
        token = await self.login("boss", BOSS_PASSWORD)
        async with self.http.post(f"{self.base}/api/agents/1001/{action}", json=body,
                                  headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()


def write_config(folder: Path, redis_port: int, ami_port: int, agi_port: int,
                 http_port: int) -> Path:
    (folder / "flows").mkdir()
    (folder / "flows" / "direct.yaml").write_text(
        "start: q\nnodes:\n  q: {type: queue, queue: support}\n")
    config = folder / "config.yaml"
    config.write_text(f"""
ami: {{host: 127.0.0.1, port: {ami_port}, username: acd, secret: scripted}}
agi: {{host: 127.0.0.1, port: {agi_port}}}
redis: {{host: 127.0.0.1, port: {redis_port}, db: {DB}, prefix: "metrics:"}}
http: {{host: 127.0.0.1, port: {http_port}}}
paths: {{ivr_flows: {folder}/flows, prompts: {folder}/prompts,
         prompt_cache: {folder}/cache, recordings: {folder}/recordings}}
recording: {{enabled: false}}
numbers: {{"{DID}": {{flow: direct}}}}
queues: {{support: {{members: ["1001"]}}, sales: {{members: ["1001"]}}}}
agents: {{"1001": {{pin: "1"}}}}
survey: {{default: {{timeout: 3, retries: 0}}}}
users:
  boss: {{role: supervisor, password: "${{ACD_TEST_BOSS_PASSWORD}}"}}
  a1001: {{role: agent, agent: "1001", password: "${{ACD_TEST_AGENT_PASSWORD}}"}}
metrics: {{token_env: ACD_TEST_METRICS_TOKEN}}
""")
    return config


@pytest.fixture
async def acd(redis_server, tmp_path, monkeypatch) -> AsyncIterator[Running]:
    monkeypatch.setenv("ACD_TEST_BOSS_PASSWORD", BOSS_PASSWORD)
    monkeypatch.setenv("ACD_TEST_AGENT_PASSWORD", AGENT_PASSWORD)
    monkeypatch.setenv("ACD_TEST_METRICS_TOKEN", TOKEN)
    redis = await asyncio_redis.Connection.create(redis_server.host, redis_server.port,
                                                  db=DB)
    await redis.flushdb()
    redis.close()
    ami = AmiPeer()
    await ami.start()
    agi_port, http_port = _free_port(), _free_port()
    app = App(load_config(write_config(tmp_path, redis_server.port, ami.port, agi_port,
                                       http_port)))
    await app.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Running(app, ami, http, f"http://127.0.0.1:{http_port}", agi_port)
    finally:
        await app.stop()
        await ami.close()


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`, by its labels."""
    return {tuple(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


async def answered_call_with_survey(acd: Running, uniqueid: str, key: str) -> None:
    """A caller the free agent answers, who rates the call with `key` afterwards."""
    caller = await Caller.call(acd.agi_port, uniqueid, CALLER, DID)
    await caller.until("EXEC Dial")
    acd.ami.fire("DialBegin", Uniqueid=uniqueid, DestChannel=AGENT_LEG)
    acd.ami.fire("DialEnd", Uniqueid=uniqueid, DestChannel=AGENT_LEG, DialStatus="ANSWER")
    acd.ami.fire("BridgeEnter", Uniqueid=uniqueid)
    await eventually(lambda: acd.app.engine.agent_view("1001")["state"] == "on-call", 5)
    await caller.reply("0")  # the agent hung up: Dial returns, the caller is still there
    assert (await caller.command()).startswith("GET FULL VARIABLE")
    await caller.reply("1", f"ANSWER|{AGENT_LEG}||{DID}")
    question = await caller.command()
    assert question.startswith("STREAM FILE")
    await caller.reply(str(ord(key)), "endpos=8000")
    await caller.until("HANGUP")
    await caller.reply("1")
    assert await caller.command() == ""
    acd.ami.fire("Hangup", Uniqueid=uniqueid, **{"Cause-txt": "Normal Clearing"})


async def test_after_an_answered_and_an_abandoned_call_the_queue_counts_and_survey_show(
        acd: Running):
    await acd.agent("login")
    await answered_call_with_survey(acd, "1795000000.17", "1")
    text = ""

    async def answered_counted() -> bool:
        nonlocal text
        text = await acd.scrape()
        return value(text, "acd_queue_calls_total", queue="support", outcome="answered") == 1

    await eventually_async(answered_counted)
    await acd.agent("pause", reason="lunch")  # nobody to take the next call: it waits
    caller = await Caller.call(acd.agi_port, "1795000000.18", OTHER_CALLER, DID)
    assert (await caller.until("SET MUSIC")).startswith("SET MUSIC ON")
    await caller.reply()

    async def waiting_shown() -> bool:
        nonlocal text
        text = await acd.scrape()
        return value(text, "acd_queue_callers_waiting", queue="support") == 1

    await eventually_async(waiting_shown)
    assert value(text, "acd_queue_longest_wait_seconds", queue="support") >= 0
    assert value(text, "acd_queue_callers_waiting", queue="sales") == 0
    assert value(text, "acd_fastagi_sessions_open") == 1
    await caller.hang_up()
    assert await caller.command() == ""

    async def abandoned_counted() -> bool:
        nonlocal text
        text = await acd.scrape()
        return value(text, "acd_queue_calls_total", queue="support", outcome="abandoned") == 1

    await eventually_async(abandoned_counted)
    assert value(text, "acd_queue_calls_offered_total", queue="support") == 2
    assert value(text, "acd_queue_calls_offered_total", queue="sales") == 0
    assert value(text, "acd_queue_callers_waiting", queue="support") == 0
    assert value(text, "acd_survey_answers_total", queue="support", question="satisfaction",
                 answer="1") == 1
    assert value(text, "acd_queue_answer_wait_seconds_count", queue="support") == 1
    assert value(text, "acd_queue_answer_wait_seconds_bucket", queue="support",
                 le="5.0") == 1  # the agent was free: answered at once
    assert value(text, "acd_queue_rings_total", queue="support") == 1
    assert value(text, "acd_fastagi_sessions_total") == 2
    assert value(text, "acd_agents", state="paused") == 1
    assert value(text, "acd_queue_agents", queue="support", state="paused") == 1
    # the histograms were fed: routing decisions, and Asterisk's answers to ANSWER...
    assert value(text, "acd_routing_decision_seconds_count") >= 4
    assert value(text, "acd_fastagi_command_seconds_count", command="ANSWER") == 2
    assert CALLER not in text and OTHER_CALLER not in text


async def eventually_async(condition, within: float = 5.0) -> None:
    """`eventually` for a condition that awaits (a scrape)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        assert loop.time() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.02)


async def test_agents_by_state_follow_login_and_pause(acd: Running):
    text = await acd.scrape()
    assert value(text, "acd_agents", state="logged-out") == 1
    assert value(text, "acd_agents", state="available") == 0
    await acd.agent("login")
    text = await acd.scrape()
    assert (value(text, "acd_agents", state="available"),
            value(text, "acd_agents", state="logged-out")) == (1, 0)
    assert value(text, "acd_queue_agents", queue="sales", state="available") == 1
    assert value(text, "acd_queue_agents_available", queue="support") == 1
    await acd.agent("pause", reason="lunch")
    text = await acd.scrape()
    assert (value(text, "acd_agents", state="paused"),
            value(text, "acd_agents", state="available")) == (1, 0)
    assert value(text, "acd_queue_agents_available", queue="support") == 0


async def test_links_and_process_are_shown_and_an_ami_reconnect_is_counted(acd: Running):
    text = await acd.scrape()
    assert value(text, "acd_ami_connected") == 1
    assert value(text, "acd_redis_up") == 1
    assert value(text, "acd_routing_up") == 1
    assert value(text, "acd_ami_reconnects_total") == 0
    assert value(text, "process_resident_memory_bytes") > 0
    assert samples(text, "acd_build_info")
    acd.ami.drop()  # Asterisk restarts: acd logs in again by itself
    await eventually(lambda: acd.app.ami.logins == 2, 10)
    text = await acd.scrape()
    assert value(text, "acd_ami_reconnects_total") == 1
    assert value(text, "acd_ami_connected") == 1


async def test_metrics_are_refused_without_the_token_or_a_supervisor(acd: Running):
    url = f"{acd.base}/metrics"
    async with acd.http.get(url) as response:
        assert response.status == 401
        assert "metrics token" in (await response.json())["message"]
    async with acd.http.get(url, headers={"Authorization": "Bearer wrong-token"}) as response:
        assert response.status == 401
    agent = await acd.login("a1001", AGENT_PASSWORD)
    async with acd.http.get(url, headers={"Authorization": f"Bearer {agent}"}) as response:
        assert response.status == 403
    boss = await acd.login("boss", BOSS_PASSWORD)
    text = await acd.scrape(boss)
    assert "acd_queue_callers_waiting" in text
    assert await acd.scrape(TOKEN)


async def test_every_metric_has_help_text_and_parses(acd: Running):
    families = list(text_string_to_metric_families(await acd.scrape()))
    ours = [f for f in families if f.name.startswith("acd_")]
    assert len(ours) >= 20
    assert all(f.documentation for f in ours)
    assert all(f.name.endswith("_seconds") for f in ours if f.type == "histogram")
