"""The sandbox Asterisk as tests see it: where it is, its CLI, an AMI manager.

Used by the fixtures in conftest.py and by tests that name its type.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from panoramisk import Manager

REPO = Path(__file__).resolve().parents[2]
SANDBOX_SH = REPO / "scripts" / "sandbox.sh"
ENV_FILE = REPO / "var" / "sandbox.env"


@dataclass(frozen=True)
class Sandbox:
    """The running sandbox Asterisk and how to reach it."""

    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str
    sip_password: str
    agi_key: str = ""
    repo: Path = REPO

    @property
    def recordings(self) -> Path:
        """Same absolute path inside the chroot and on the host."""
        return self.repo / "recordings"

    def cli(self, command: str) -> str:
        """Run an Asterisk CLI command, e.g. ``core show channels concise``."""
        done = subprocess.run(["bash", str(SANDBOX_SH), "cli", command], capture_output=True,
                              text=True, timeout=20, check=True)
        return done.stdout

    def channels(self) -> list[str]:
        """Names of the live channels."""
        out = self.cli("core show channels concise")
        return [line.split("!", 1)[0] for line in out.splitlines() if "!" in line]

    def hang_up_everything(self, timeout: float = 10.0) -> None:
        """Reset between tests: no channel survives into the next one."""
        deadline = time.monotonic() + timeout
        while self.channels():
            if time.monotonic() > deadline:
                raise AssertionError(f"channels still up: {self.channels()}")
            self.cli("channel request hangup all")
            time.sleep(0.1)

    def manager(self) -> Manager:
        """A panoramisk Manager for the acd AMI user (not connected yet)."""
        return _ClosableManager(host=self.ami_host, port=self.ami_port,
                                username=self.ami_user, secret=self.ami_secret,
                                ping_delay=3600, reconnect_timeout=1)


class _ClosableManager(Manager):
    # panoramisk reconnects in connection_lost even after close(); a test's
    # manager must stay closed once the test is over.
    _closing = False

    def close(self) -> None:
        self._closing = True
        super().close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closing:
            super().connection_lost(exc)


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=value lines of var/sandbox.env (comments skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values
