"""A real `acd serve` for the console's browser tests and benchmark: its own Redis
database, a flow that queues every caller, users with passwords from the environment,
no Asterisk (AMI points nowhere; callers come over FastAGI from the test)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "browser-test-pw"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: the agent desk's line: the IVR collects an order number, looks it up in the demo CRM
#: (acd's own /api/demo/orders) and queues the caller for sales (agent 1001, wrap-up)
ORDER_FLOW = """start: ask
nodes:
  ask: {{type: collect, variable: order, max_length: 12, prompt: {{text: 订单号}},
        next: look, exhausted: q}}
  look: {{type: lookup, url: "http://127.0.0.1:{http_port}/api/demo/orders/${{order}}",
         timeout: 2, store: {{order_status: status}}, ok: q, not_found: q, error: q}}
  q: {{type: queue, queue: sales}}
"""
ORDER_LINE = "4008000002"


def write_config(folder: Path, redis_port: int, agents: int = 3, queue_sl: float = 3,
                 redis_db: int = 14, ami_port: int = 0) -> tuple[Path, int, int]:
    """`ami_port`: a scripted AMI peer's (0: nothing listens)."""
    agi_port, http_port = free_port(), free_port()
    flows = folder / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "direct.yaml").write_text("start: q\nnodes:\n  q: {type: queue, queue: support}\n")
    (flows / "order.yaml").write_text(ORDER_FLOW.format(http_port=http_port))
    ids = [str(1001 + n) for n in range(agents)]
    config = folder / "config.yaml"
    config.write_text(f"""
ami: {{host: 127.0.0.1, port: {ami_port or free_port()}, username: acd, secret: scripted}}
agi: {{host: 127.0.0.1, port: {agi_port}, max_sessions: 2000}}
redis: {{host: 127.0.0.1, port: {redis_port}, db: {redis_db}, prefix: "console:"}}
http: {{host: 127.0.0.1, port: {http_port}}}
paths: {{ivr_flows: {flows}, prompts: {REPO}/prompts, prompt_cache: {folder}/cache,
         recordings: {folder}/recordings}}
numbers: {{"4008001234": {{flow: direct}}, "{ORDER_LINE}": {{flow: order}}}}
queues:
  support: {{members: {json.dumps(ids)}, service_level_seconds: {queue_sl}}}
  sales: {{members: {json.dumps(ids[:1])}, wrap_up_seconds: 300}}
dispositions: {{order: 订单查询, complaint: 投诉}}
agents: {{{", ".join(f'"{a}": {{name: "Agent {a}"}}' for a in ids)}}}
users:
  sup: {{role: supervisor, password: "${{ACD_CONSOLE_PW}}"}}
  boss: {{role: admin, password: "${{ACD_CONSOLE_PW}}"}}
  agent1001: {{role: agent, agent: "1001", password: "${{ACD_CONSOLE_PW}}"}}
privacy: {{full_numbers_for: [admin]}}
recording: {{enabled: false}}
schedules:
  support: {{hours: {{mon-sun: ["00:00-24:00"]}}, holidays: none,
             company_dates: [{{date: 2026-10-01, state: holiday, name: National Day}}]}}
console: {{pause_alert_seconds: 600, pause_alert_by_reason: {{meeting: 1}}, flush_ms: 200}}
""")
    return config, agi_port, http_port


@dataclass
class ServedAcd:
    proc: subprocess.Popen[bytes]
    log: Path
    agi_port: int
    http_port: int
    #: the test Redis it uses (database 14 unless told)
    redis_port: int = 0
    config: Path = Path()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def api(self, method: str, path: str, body: dict[str, Any] | None = None,
            token: str = "") -> Any:
        request = urllib.request.Request(
            self.url + path, method=method,
            data=json.dumps(body or {}).encode() if method in ("POST", "PATCH") else None,
            headers={"Content-Type": "application/json",
                     **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def login(self, user: str) -> str:
        return str(self.api("POST", "/api/login", {"username": user,
                                                   "password": PASSWORD})["token"])

    def restart(self) -> None:
        """Stop acd and start it again on the same configuration and Redis (not
        flushed): what an operator's restart does."""
        self.stop()
        self.proc = _serve(self.config, self.agi_port, self.http_port, self.redis_port).proc

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_acd(folder: Path, redis_port: int, **config: Any) -> ServedAcd:
    """`acd serve` on a flushed Redis database, once its HTTP API answers."""
    db = config.get("redis_db", 14)
    subprocess.run(["redis-cli", "-p", str(redis_port), "-n", str(db), "FLUSHDB"],
                   check=True, capture_output=True)
    path, agi_port, http_port = write_config(folder, redis_port, **config)
    return _serve(path, agi_port, http_port, redis_port)


def _serve(path: Path, agi_port: int, http_port: int, redis_port: int) -> ServedAcd:
    log = path.parent / "acd.log"
    proc = subprocess.Popen([sys.executable, "-m", "acd", "serve", "--config", str(path)],
                            cwd=REPO, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO),
                                 "ACD_CONSOLE_PW": PASSWORD})
    served = ServedAcd(proc, log, agi_port, http_port, redis_port, path)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(served.url + "/api/health", timeout=1).close()
            return served
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None or time.monotonic() > deadline:
                served.stop()
                raise RuntimeError("acd serve did not answer: "
                                   + log.read_text(errors="replace")[-2000:]) from None
            time.sleep(0.05)


class Caller:
    """One caller's channel over FastAGI, as Asterisk speaks it: answers every command
    with '200 result=0' until acd puts it on hold music (it waits in the queue)."""

    def __init__(self, port: int, uniqueid: str, number: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        headers = {"agi_network": "yes", "agi_network_script": "call?tries=0",
                   "agi_channel": f"PJSIP/trunk-{uniqueid}", "agi_uniqueid": uniqueid,
                   "agi_callerid": number, "agi_dnid": "4008001234",
                   "agi_extension": "4008001234", "agi_context": "acd-inbound"}
        self.sock.sendall("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")

    def wait_in_queue(self) -> None:
        while True:
            line = self.file.readline().decode()
            assert line, "acd closed the call before it queued"
            self.sock.sendall(b"200 result=0\n")
            if line.startswith("SET MUSIC"):
                return

    def hang_up(self) -> None:
        self.sock.sendall(b"HANGUP\n")
        self.sock.close()
