"""SIGHUP's reload of the report thresholds on the whole acd App (real Redis, real aiohttp
server, a real SQLite history, a scripted AMI peer; no Asterisk): after config.yaml's
thresholds change and `App.reload()` (what SIGHUP runs) takes them, the next report
counts with the new ones, without a restart."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import asyncio_redis
import pytest

from acd.app import App
from acd.config.settings import load_config
from acd.history.store import HistoryDatabase
from acd.reports.database import history_url
from tests import reports_reference as reference
from tests.history_month import Month, generate, insert
from tests.protocol.metrics_peers import AmiPeer

DB = 9  # this module's own Redis database
ZONE = "Asia/Shanghai"
RANGE = "from=2026-11-02&to=2026-11-03"
PASSWORD = "boss-password-for-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, ports: dict[str, int], *, sales_level: int, short: int,
                 within: int) -> Path:
    (folder / "flows").mkdir(exist_ok=True)
    (folder / "flows" / "direct.yaml").write_text(
        "start: q\nnodes:\n  q: {type: queue, queue: support}\n")
    config = folder / "config.yaml"
    config.write_text(f"""
timezone: {ZONE}
ami: {{host: 127.0.0.1, port: {ports["ami"]}, username: acd, secret: scripted}}
agi: {{host: 127.0.0.1, port: {ports["agi"]}}}
redis: {{host: 127.0.0.1, port: {ports["redis"]}, db: {DB}, prefix: "reload:"}}
http: {{host: 127.0.0.1, port: {ports["http"]}}}
paths: {{ivr_flows: {folder}/flows, prompts: {folder}/prompts,
         prompt_cache: {folder}/cache, recordings: {folder}/recordings}}
recording: {{enabled: false}}
numbers: {{"4008001234": {{flow: direct}}}}
queues:
  sales: {{members: ["1001"], service_level_seconds: {sales_level}}}
  support: {{members: ["1001"]}}
  vip: {{members: ["1001"]}}
agents: {{"1001": {{pin: "1"}}}}
users:
  boss: {{role: supervisor, password: "{PASSWORD}"}}
reports: {{short_abandon_seconds: {short}, answer_within_seconds: {within}}}
""")
    return config


class Acd:
    """The running App, its config file and a logged-in supervisor's HTTP session."""

    def __init__(self, app: App, folder: Path, ports: dict[str, int],
                 http: aiohttp.ClientSession, token: str) -> None:
        self.app, self.folder, self.ports, self.http = app, folder, ports, http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def report(self, kind: str, entity: str) -> dict[str, object]:
        """The day's figures (interval total) of one queue or agent."""
        url = (f"http://127.0.0.1:{self.ports['http']}/api/reports/{kind}?{RANGE}"
               f"&interval=total")
        async with self.http.get(url, headers=self.headers) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        names = [c["name"] for c in body["columns"]]
        [row] = [r for r in body["rows"] if r[1] == entity]
        return dict(zip(names, row, strict=True))


@pytest.fixture
def month() -> Month:
    return generate(date(2026, 11, 2), 1, 150, ZONE, seed=6, agent_events=False,
                    queues=("sales", "support", "vip"))


@pytest.fixture
async def acd(redis_server, tmp_path: Path, month: Month) -> AsyncIterator[Acd]:
    redis = await asyncio_redis.Connection.create(redis_server.host, redis_server.port,
                                                  db=DB)
    await redis.flushdb()
    redis.close()
    ami = AmiPeer()
    await ami.start()
    ports = {"ami": ami.port, "agi": _free_port(), "http": _free_port(),
             "redis": redis_server.port}
    config = load_config(write_config(tmp_path, ports, sales_level=5, short=5, within=15))
    history = HistoryDatabase(history_url(config))  # the day's calls, already written
    await history.open()
    await insert(history.engine, month)
    await history.close()
    app = App(config)
    await app.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{ports['http']}/api/login",
                                 json={"username": "boss", "password": PASSWORD}) as resp:
                token = str((await resp.json())["token"])
            yield Acd(app, tmp_path, ports, http, token)
    finally:
        await app.stop()
        await ami.close()


async def test_after_a_reload_the_reports_count_with_the_new_thresholds(
        acd: Acd, month: Month) -> None:
    span = (month, "total", ZONE, *_day())
    before = await acd.report("queues", "sales")
    agent_before = await acd.report("agents", "1001")
    write_config(acd.folder, acd.ports, sales_level=60, short=10, within=7)
    assert await acd.app.reload()  # what SIGHUP runs
    after = await acd.report("queues", "sales")
    agent_after = await acd.report("agents", "1001")

    for figures, level, short in ((before, 5, 5), (after, 60, 10)):
        want = reference.queues(*span, short=short, levels={"sales": level},
                                default_level=15)[(figures["bucket"], "sales")]
        for name in ("answered_in_service_level", "service_level", "short_abandoned",
                     "abandon_rate"):
            assert figures[name] == pytest.approx(want[name], abs=1e-4), (level, name)
    assert after["service_level"] > before["service_level"]
    assert after["offered"] == before["offered"]
    for figures, within in ((agent_before, 15), (agent_after, 7)):
        want = reference.agents(*span, within=within)[(figures["bucket"], "1001")]
        assert figures["answered_within_rings"] == want["answered_within_rings"]
    assert agent_after["answered_within_rings"] < agent_before["answered_within_rings"]


async def test_a_reload_with_a_broken_threshold_keeps_the_reports_as_they_were(
        acd: Acd) -> None:
    before = await acd.report("queues", "sales")
    config = acd.folder / "config.yaml"
    config.write_text(config.read_text().replace("short_abandon_seconds: 5",
                                                 "short_abandon_seconds: -1"))
    assert not await acd.app.reload()
    assert await acd.report("queues", "sales") == before


def _day() -> tuple[float, float]:
    from acd.reports.buckets import parse_range

    span = parse_range("2026-11-02", "2026-11-03", "total", ZONE, 93)
    return span.start, span.end
