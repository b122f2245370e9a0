"""Fixtures for the integration layer: the sandbox Asterisk, AMI, sipp phones.

The sandbox is started once per session through scripts/sandbox.sh (which
never builds anything: scripts/setup.sh does) and stopped at the end by the
last session using it, unless someone started it by hand. Redis comes from
the ``redis_server`` fixture in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from panoramisk import Manager
from sandbox import REPO, SANDBOX_SH, Sandbox, read_env_file
from service_fixtures import acd_factory, call_records, caller_lists  # noqa: F401 - fixtures
from sipp import PhoneBehaviour, SippAgentPhones

USERS_LOCK = REPO / "var" / "sandbox.users.lock"
OWNER_FILE = REPO / "var" / "sandbox" / "started-by-tests"
CHROOT = Path(os.environ.get("ACD_CHROOT", "/var/cache/acd/chroot"))


def _sandbox(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SANDBOX_SH), action], capture_output=True, text=True,
                          timeout=180)


def _check_prerequisites() -> None:
    if os.geteuid() != 0:
        pytest.fail("integration tests need root (chroot and mounts)")
    missing = [tool for tool in ("sipp", "redis-server") if shutil.which(tool) is None]
    if missing or not (CHROOT / "usr" / "sbin" / "asterisk").exists():
        pytest.fail(f"the sandbox is not set up ({', '.join(missing) or CHROOT}): "
                    "run 'bash scripts/setup.sh' first")


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Iterator[Sandbox]:
    """The sandbox Asterisk, started once per session (or reused if running)."""
    _check_prerequisites()
    USERS_LOCK.parent.mkdir(parents=True, exist_ok=True)
    users = open(USERS_LOCK, "w")  # noqa: SIM115 - held for the whole session
    # Sessions share the sandbox; the last one out stops it (see teardown).
    fcntl.flock(users, fcntl.LOCK_SH)
    if _sandbox("status").returncode != 0:
        started = _sandbox("start")
        if started.returncode != 0:
            fcntl.flock(users, fcntl.LOCK_UN)
            pytest.fail(f"scripts/sandbox.sh start failed:\n{started.stdout}{started.stderr}")
        OWNER_FILE.write_text(f"{os.getpid()}\n")
    env = read_env_file()
    sandbox = Sandbox(ami_host=env["ACD_AMI_HOST"], ami_port=int(env["ACD_AMI_PORT"]),
                      ami_user=env["ACD_AMI_USER"], ami_secret=env["ACD_AMI_SECRET"],
                      sip_password=env["ACD_SIP_PASSWORD"], agi_key=env["ACD_AGI_KEY"])
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # config.yaml reads ${ACD_AMI_SECRET}; sipp.py the SIP password
    try:
        yield sandbox
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another session still uses it
        else:
            if OWNER_FILE.exists():  # started by tests, not by hand
                _sandbox("stop")
                OWNER_FILE.unlink(missing_ok=True)
        users.close()


@pytest.fixture
def asterisk(asterisk_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with no channel left over before or after the test."""
    asterisk_sandbox.hang_up_everything()
    yield asterisk_sandbox
    asterisk_sandbox.hang_up_everything()


@pytest.fixture
async def ami(asterisk: Sandbox) -> AsyncIterator[Manager]:
    """A logged-in AMI connection as the acd user."""
    manager = asterisk.manager()
    manager.loop = asyncio.get_running_loop()
    await manager.connect()
    future = manager.authenticated_future
    if future is not None:
        await asyncio.wait_for(future, timeout=5)
    if not manager.authenticated:
        manager.close()
        pytest.fail("AMI login as acd failed: is var/sandbox.env from this sandbox?")
    yield manager
    manager.close()


@pytest.fixture
def agent_phones(asterisk: Sandbox, tmp_path: Path) -> Iterator[SippAgentPhones]:
    """Every agent's phone on 5071: rings 1 s, answers, waits for the BYE."""
    with SippAgentPhones(PhoneBehaviour(answer_after=1.0), workdir=tmp_path / "phones") as phones:
        yield phones

