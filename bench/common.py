"""What the benches share: the machine they ran on, and a throw-away Redis."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def machine() -> str:
    """CPU model and count, Python, kernel: the line a bench's table is read with."""
    model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{model or platform.processor()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the bench dies, so a bench
    killed by a signal (no `finally`) leaves no redis-server behind."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def throwaway_redis() -> Iterator[int]:
    """A redis-server of its own on a free loopback port (no persistence), stopped and its
    folder removed on exit; yields the port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("no redis-server to start (apt install redis-server), or give "
                         "the bench a running Redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="acd-bench-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
