"""Two `acd serve` processes in cluster.mode active on one real Redis: the follower
takes calls over FastAGI, the leader's engine queues them and sees the agent logged in
through the follower's API; the leader killed with SIGKILL, the follower leads within
5 s, and the waiting callers (also the dead leader's, which the dialplan brings back)
keep their places and are served, one at a time."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from test_history_serve import get
from test_serve_lifecycle import _free_port, start, wait_ready, write_config

DIRECT_FLOW = "start: q\nnodes:\n  q: {type: queue, queue: support}\n"


def cluster_config(folder: Path, redis_port: int, node: str, prefix: str
                   ) -> tuple[Path, int, int]:
    folder.mkdir()
    (folder / "flows").mkdir()
    (folder / "flows" / "main.yaml").write_text(DIRECT_FLOW)
    agi_port, http_port = _free_port(), _free_port()
    config = write_config(folder, redis_port, agi_port, http_port)
    text = config.read_text().replace('prefix: "lifecycle:"', f'prefix: "{prefix}"')
    text = re.sub(r"ivr_flows: \S+,", f"ivr_flows: {folder}/flows,", text)
    config.write_text(text + f"""
users: {{admin: {{role: admin, password: "test-admin"}}}}
cluster: {{mode: active, node: {node}, lease_seconds: 2}}
""")
    return config, agi_port, http_port


class Caller:
    """One caller's FastAGI channel as Asterisk speaks it: every command answered as a
    quiet channel would, each one kept."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.commands: list[str] = []

    @classmethod
    async def call(cls, port: int, n: int, tries: int = 0) -> Caller:
        """`tries`: 1 for a call the dialplan brings back after its acd did not answer."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        headers = {"agi_network": "yes", "agi_network_script": f"call?tries={tries}",
                   "agi_channel": f"PJSIP/trunk-{n:08x}", "agi_uniqueid": f"1795000000.{n}",
                   "agi_callerid": f"138001380{n:02d}", "agi_dnid": "4008001234",
                   "agi_context": "acd-inbound", "agi_extension": "4008001234",
                   "agi_version": "22.0.0"}
        writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
        await writer.drain()
        return cls(reader, writer)

    async def until(self, prefix: str, seconds: float = 10) -> str:
        """Answer each command with 200 result=0 until one starting with `prefix`."""
        async with asyncio.timeout(seconds):
            while True:
                line = (await self.reader.readline()).decode().rstrip("\n")
                assert line, f"acd closed the session before {prefix!r}: {self.commands}"
                self.commands.append(line)
                if line.startswith(prefix):
                    return line
                self.writer.write(b"200 result=0\n")
                await self.writer.drain()


def api(base: str, path: str, token: str = "", body: dict[str, Any] | None = None) -> Any:
    return get(f"{base}{path}", token, body)


def logged_at(log: Path, text: str) -> float | None:
    """When the log line saying `text` was written (the logging's own timestamp)."""
    for line in log.read_text(errors="replace").splitlines():
        if text in line:
            stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+)", line)
            return datetime.strptime(stamp.group(1).replace(",", "."),
                                     "%Y-%m-%d %H:%M:%S.%f").timestamp() if stamp else 0.0
    return None


async def until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


def agent(base: str, token: str) -> dict[str, Any]:
    agents = api(base, "/api/agents", token)["agents"]
    return next(a for a in agents if a["agent_id"] == "1001")  # type: ignore[no-any-return]


async def test_the_follower_serves_calls_routed_by_the_leader_and_leads_within_5_s_of_its_kill(
        redis_server: Any, tmp_path: Path) -> None:
    prefix = f"active-{uuid.uuid4().hex[:8]}:"  # (a run of its own in Redis)
    config_a, agi_a, http_a = cluster_config(tmp_path / "a", redis_server.port, "node-a", prefix)
    config_b, agi_b, http_b = cluster_config(tmp_path / "b", redis_server.port, "node-b",
                                             prefix)
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a, b = start(config_a, log_a), start(config_b, log_b)  # either may lead: both start
    callers: list[Caller] = []
    try:
        await asyncio.gather(asyncio.to_thread(wait_ready, a, log_a),
                             asyncio.to_thread(wait_ready, b, log_b))
        await until(lambda: any(logged_at(log, "leads the routing core") is not None
                                for log in (log_a, log_b)))
        if logged_at(log_b, "leads the routing core") is not None:  # b leads: swap
            (a, log_a, http_a, agi_a), (b, log_b, http_b, agi_b) = \
                (b, log_b, http_b, agi_b), (a, log_a, http_a, agi_a)
        base_a, base_b = f"http://127.0.0.1:{http_a}", f"http://127.0.0.1:{http_b}"
        admin = {"username": "admin", "password": "test-admin"}
        token_a = api(base_a, "/api/login", "", admin)["token"]
        token_b = api(base_b, "/api/login", "", admin)["token"]

        # the agent logs in through the follower: the leader's engine has them; paused
        # through the leader, the follower's views and wallboard show it within a second
        api(base_b, "/api/agents/1001/login", token_b, {"device": "PJSIP/agent1001"})
        assert agent(base_a, token_a)["state"] == "available"
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{base_b}/api/live") as ws:
            await ws.send_str(json.dumps({"type": "auth", "token": token_b}))
            assert json.loads((await ws.receive(timeout=2)).data)["type"] == "snapshot"
            api(base_a, "/api/agents/1001/pause", token_a, {"reason": "busy"})
            async with asyncio.timeout(1.5):
                while json.loads((await ws.receive()).data).get("agents", {}).get(
                        "1001", {}).get("state") != "paused":
                    pass
        assert agent(base_b, token_b)["state"] == "paused"

        # a caller reaches the leader, two more the follower: all wait in the leader's queue
        for n, port in ((0, agi_a), (1, agi_b), (2, agi_b)):
            callers.append(await Caller.call(port, n))
            assert await callers[-1].until("SET MUSIC") == "SET MUSIC ON default"
            callers[-1].writer.write(b"200 result=0\n")
        await until(lambda: api(base_a, "/api/health")["waiting"] == 3)
        assert api(base_b, "/api/health")["dependencies"]["routing"] == "up"  # (led by a)

        killed = time.time()
        a.send_signal(signal.SIGKILL)
        a.wait()
        await until(lambda: logged_at(log_b, "leads the routing core") is not None, 8)
        took_over = logged_at(log_b, "leads the routing core")
        assert took_over is not None and took_over - killed < 5.0, took_over - killed

        # the dead leader's caller comes back to the other acd (the dialplan's retry)
        callers[0] = await Caller.call(agi_b, 0, tries=1)
        assert (await callers[0].until("SET MUSIC")).startswith("SET MUSIC ON")
        callers[0].writer.write(b"200 result=0\n")

        # the agent comes back: the first caller is rung, the others still wait
        api(base_b, "/api/agents/1001/resume", token_b, {"agent": "1001"})  # (a POST)
        dial = await callers[0].until("EXEC Dial")
        assert "PJSIP/agent1001" in dial
        assert api(base_b, "/api/health")["waiting"] == 2
        assert agent(base_b, token_b)["call_id"] == "1795000000.0"
        await asyncio.sleep(0.3)
        for later in callers[1:]:
            assert not any(c.startswith("EXEC Dial") for c in later.commands)
        print(json.dumps({"takeover_seconds": round(took_over - killed, 2)}))
    finally:
        for caller in callers:
            caller.writer.close()
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log_b.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
