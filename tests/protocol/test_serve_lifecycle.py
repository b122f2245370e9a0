"""`acd serve` as a real process: it stops within 5 s of SIGTERM, also while calls and
events keep arriving, and refuses a Redis that will not have it with what to do."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, redis_port: int, agi_port: int, http_port: int,
                 redis_extra: str = "") -> Path:
    config = folder / "config.yaml"
    config.write_text(f"""
ami: {{host: 127.0.0.1, port: {_free_port()}, username: acd, secret: nothing-listens}}
agi: {{host: 127.0.0.1, port: {agi_port}}}
redis: {{host: 127.0.0.1, port: {redis_port}, db: 9, prefix: "lifecycle:"{redis_extra}}}
http: {{host: 127.0.0.1, port: {http_port}}}
paths: {{ivr_flows: {REPO}/ivr_flows, prompts: {REPO}/prompts, prompt_cache: {folder}/cache,
         recordings: {folder}/recordings}}
numbers: {{"4008001234": {{flow: main}}}}
schedules: {{support: {{hours: {{mon-sun: ["00:00-24:00"]}}}}}}
queues: {{support: {{members: ["1001"]}}, complaints: {{members: ["1001"]}},
          vip: {{members: ["1001"]}}}}
agents: {{"1001": {{pin: "1"}}}}
""")
    return config


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "acd", "serve", "--config", str(config)],
                            cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while "acd ready" not in log.read_text(errors="replace"):
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        assert time.monotonic() < deadline, "acd serve was not ready in time"
        time.sleep(0.05)


async def fastagi_call(port: int, n: int, served: list[int]) -> None:
    """A caller arriving over FastAGI that never answers a command (a busy Asterisk);
    in `served` once acd has sent it its first command, connected until acd closes."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"agi_network_script: call\nagi_uniqueid: 9.{n}\n"
                     f"agi_callerid: 1380013{n:04d}\nagi_extension: 4008001234\n\n".encode())
        await writer.drain()
        if await reader.readline():
            served.append(n)
        await reader.read()
    except OSError:
        pass


async def test_acd_serve_stops_within_5_seconds_of_sigterm_while_calls_keep_arriving(
        redis_server, tmp_path):
    agi_port, http_port = _free_port(), _free_port()
    log = tmp_path / "acd.log"
    proc = start(write_config(tmp_path, redis_server.port, agi_port, http_port), log)
    try:
        await asyncio.to_thread(wait_ready, proc, log)
        served: list[int] = []
        callers = [asyncio.create_task(fastagi_call(agi_port, n, served)) for n in range(20)]
        async with asyncio.timeout(10):  # the first wave's calls are all in progress
            while len(served) < 20:
                await asyncio.sleep(0.01)
        more = [asyncio.create_task(fastagi_call(agi_port, n, served)) for n in range(20, 40)]
        proc.send_signal(signal.SIGTERM)  # while the second wave is still connecting
        started = time.monotonic()
        await asyncio.to_thread(proc.wait, 10)
        took = time.monotonic() - started
        assert took < 5, f"acd took {took:.1f} s to stop"
        for task in callers + more:
            task.cancel()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "acd stopping" in log.read_text(errors="replace")


@pytest.mark.parametrize("extra", [', password: "not-the-password"'])
async def test_a_redis_that_refuses_acd_stops_serve_with_what_to_do(redis_server, tmp_path,
                                                                     extra):
    # the test Redis has no password: AUTH with one is refused ("without any password
    # configured"), which is as final as a wrong password
    log = tmp_path / "acd.log"
    proc = start(write_config(tmp_path, redis_server.port, _free_port(), _free_port(), extra),
                 log)
    try:
        code = await asyncio.to_thread(proc.wait, 30)
    finally:  # an acd that does not stop must not outlive the test
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert code == 2, text[-2000:]
    assert "redis.password" in text and "Traceback" not in text
