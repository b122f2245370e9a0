"""Session-wide fixtures shared by every test layer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

#: ACD_TEST_REDIS_PORT lets parallel runs (several worktrees) each have their own Redis
REDIS_TEST_PORT = int(os.environ.get("ACD_TEST_REDIS_PORT", "6391"))


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on loopback, started once per test session.

    Tests must use their own database number or flush what they write.
    """
    host, port = "127.0.0.1", REDIS_TEST_PORT
    if _port_open(host, port):
        yield RedisServer(host, port)
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run scripts/setup.sh first")
    workdir = tempfile.mkdtemp(prefix="acd-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", host, "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _port_open(host, port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"redis-server did not start on {host}:{port}")
        time.sleep(0.05)
    yield RedisServer(host, port)
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL (Debian's package) in a throw-away cluster, once per session:
    a SQLAlchemy async URL. Tests use their own schema objects or clean up what they
    write."""
    from tests.pg_process import PostgresProcess

    server = PostgresProcess()
    try:
        server.start()
    except RuntimeError as error:
        server.remove()
        pytest.fail(str(error))
    yield server.url
    server.remove()
