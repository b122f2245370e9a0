"""A redis-server of a test's own on a free loopback port, stopped and started again on
the same port at will (tests/conftest.py's `redis_server` is shared: never stop that one).

With `persist`, a stop saves the data (SIGTERM, as an operator's restart) and the start
reads it back; without, Redis comes back empty, like one that lost its data.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class RedisProcess:
    def __init__(self, *, password: str = "", persist: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/setup.sh first")
        self.binary = binary
        self.password = password
        self.persist = persist
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.folder = tempfile.mkdtemp(prefix="acd-test-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it; returns the moment (time.monotonic()) it accepted a connection."""
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder,
                   "--appendonly", "no", "--save", "3600 1" if self.persist else ""]
        if self.password:
            options += ["--requirepass", self.password]
        self.proc = subprocess.Popen([self.binary, *options], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return time.monotonic()
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.005)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM and wait: Redis saves its data first when `persist` is on."""
        if self.proc is not None:
            self.resume()
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the connections stay open, nothing is answered."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGCONT)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
