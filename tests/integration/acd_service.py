"""Runs `acd serve` as a real subprocess for integration tests, and talks to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = Path(__file__).with_name("config.yaml")
HTTP = "http://127.0.0.1:8080"
PASSWORDS = {"ACD_ADMIN_PASSWORD": "test-admin", "ACD_SUPERVISOR_PASSWORD": "test-sup",
             "ACD_AGENT1001_PASSWORD": "test-agent"}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
             interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class AcdService:
    def __init__(self, env: dict[str, str], log_path: Path,
                 config: Path = TEST_CONFIG, http: str = HTTP) -> None:
        self.env = {**os.environ, **env, **PASSWORDS}
        self.log_path = log_path
        self.config = config
        self.http = http
        self.proc: subprocess.Popen[bytes] | None = None
        self._token: str | None = None

    def start(self, timeout: float = 30, ready: str = "acd ready") -> None:
        """Start `acd serve`; return when its log says `ready` (a standby: "standing by")."""
        log = self.log_path.open("ab")
        mark = self.log_text().count(ready)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "acd", "serve", "--config", str(self.config)],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.log_text().count(ready) > mark or self._died(), timeout,
                 f"acd serve to log {ready!r}")
        if self._died():
            raise AssertionError(f"acd serve exited:\n{self.log_text()[-3000:]}")

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._token = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- HTTP ------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, *, auth: bool = True,
            user: tuple[str, str] = ("admin", "test-admin")) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.http + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def token(self, user: tuple[str, str] = ("admin", "test-admin")) -> str:
        if user[0] != "admin" or self._token is None:
            status, body = self.api("POST", "/api/login",
                                    {"username": user[0], "password": user[1]}, auth=False)
            assert status == 200, body
            if user[0] != "admin":
                return str(body["token"])
            self._token = body["token"]
        return self._token

    def agent(self, agent_id: str) -> dict[str, Any]:
        status, body = self.api("GET", "/api/agents")
        assert status == 200, body
        return next(a for a in body["agents"] if str(a.get("agent_id")) == agent_id)

    def agent_do(self, agent_id: str, action: str, **body: Any) -> tuple[int, Any]:
        return self.api("POST", f"/api/agents/{agent_id}/{action}", body)
