"""A PostgreSQL server of the tests' own: Debian's postgresql 15 binaries, a fresh cluster
in a temporary folder, on a loopback port, trusted local logins (nothing secret).

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
user that Debian's package creates. Stopped and started again at will (an outage).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh first "
                           "(apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresProcess:
    """`url` is a SQLAlchemy async URL (postgresql+asyncpg://...) to database `acd`."""

    def __init__(self, port: int | None = None) -> None:
        self.bin = _bin_dir()
        self.port = port or _free_port()
        self.folder = tempfile.mkdtemp(prefix="acd-test-pg-")
        self.data = os.path.join(self.folder, "data")
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None
        self._run([f"{self.bin}/initdb", "-D", self.data, "-U", "acd", "--auth=trust",
                   "-E", "UTF8", "--no-sync"])

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://acd@127.0.0.1:{self.port}/acd"

    def _as_owner(self) -> dict[str, str]:
        """Popen's arguments that run a binary as the cluster's owner (itself, not through
        runuser: a signal to the server must reach the server)."""
        return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}

    def _run(self, argv: Sequence[str]) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, check=False,
                              cwd=self.folder, **self._as_owner())
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()[-400:]}")

    def start(self) -> float:
        """Start it (creating database `acd` the first time); returns when it answers."""
        self.proc = subprocess.Popen(
            [f"{self.bin}/postgres", "-D", self.data, "-p", str(self.port), "-h", "127.0.0.1",
             "-k", self.folder, "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder,
            **self._as_owner())
        deadline = time.monotonic() + 20
        while True:
            ready = subprocess.run(
                [f"{self.bin}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True, check=False)
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"postgres did not start on port {self.port}")
            time.sleep(0.05)
        exists = subprocess.run(
            [f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "acd", "-d",
             "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'acd'"],
            capture_output=True, text=True, check=False)
        if exists.stdout.strip() != "1":
            self._run([f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", "acd", "acd"])
        return time.monotonic()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """A fast shutdown (SIGINT): connections are cut, the data stays."""
        if self.proc is not None:
            self.proc.send_signal(2)
            self.proc.wait(timeout=20)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
