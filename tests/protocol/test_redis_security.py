"""Redis AUTH and TLS: acd talks to a Redis that asks for a password, over TLS, and
says what to do when it is refused (real redis-server processes)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acd.adapters.redis.store import RedisRefused, connect_redis
from acd.config.settings import RedisConfig

PASSWORD = "a-long-test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"redis-server did not listen on {port}")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    return key, cert


@pytest.fixture(scope="module")
def secure_redis(certificate, tmp_path_factory) -> Iterator[tuple[int, int]]:
    """(plain port, TLS port) of one redis-server with requirepass."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run scripts/setup.sh")
    key, cert = certificate
    plain, tls = _free_port(), _free_port()
    proc = subprocess.Popen(
        ["redis-server", "-", "--bind", "127.0.0.1", "--port", str(plain),
         "--tls-port", str(tls), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stdin is not None
    proc.stdin.write(f"requirepass {PASSWORD}\n".encode())
    proc.stdin.close()
    _wait_port(plain, proc)
    _wait_port(tls, proc)
    yield plain, tls
    proc.terminate()
    proc.wait(timeout=10)


async def test_acd_talks_to_a_redis_that_asks_for_a_password(secure_redis):
    pool = await connect_redis(RedisConfig(port=secure_redis[0], password=PASSWORD),
                               poolsize=2, retry_forever=False)
    try:
        await pool.set("acd-auth-test", "ok")
        assert await pool.get("acd-auth-test") == "ok"
    finally:
        pool.close()


@pytest.mark.parametrize("password", ["", "not-the-password"])
async def test_a_refused_redis_password_says_what_to_do(secure_redis, password):
    with pytest.raises(RedisRefused, match="redis.password"):
        await connect_redis(RedisConfig(port=secure_redis[0], password=password),
                            poolsize=1, retry_forever=True)  # a refusal is not retried


async def test_acd_talks_to_redis_over_tls_verifying_the_server(secure_redis, certificate):
    config = RedisConfig(port=secure_redis[1], password=PASSWORD, tls=True,
                         tls_ca_file=str(certificate[1]))
    pool = await connect_redis(config, poolsize=2, retry_forever=False)
    try:
        await pool.set("acd-tls-test", "ok")
        assert await pool.get("acd-tls-test") == "ok"
    finally:
        pool.close()


async def test_a_tls_server_acd_cannot_verify_is_refused_with_what_to_do(secure_redis):
    config = RedisConfig(port=secure_redis[1], password=PASSWORD, tls=True)  # system CAs
    with pytest.raises(RedisRefused, match="tls_ca_file"):
        await connect_redis(config, poolsize=1, retry_forever=True)
