"""`acd serve` as a real process with the history: it creates the SQLite database under
var/ on first start, /api/health reports the writer, and an agent's login through the
API is in the history by the time acd has stopped."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import urllib.request
from pathlib import Path

from test_serve_lifecycle import _free_port, start, wait_ready, write_config

from acd.history.migrations import MIGRATIONS


def get(url: str, token: str = "", body: dict[str, object] | None = None) -> object:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


async def test_acd_serve_creates_the_history_database_reports_it_and_records_agent_logins(
        redis_server, tmp_path: Path) -> None:
    http_port = _free_port()
    config = write_config(tmp_path, redis_server.port, _free_port(), http_port)
    config.write_text(config.read_text() + """
users: {admin: {role: admin, password: "test-admin"}}
history: {redis_records_days: 2}
""")
    log = tmp_path / "acd.log"
    proc = start(config, log)
    base = f"http://127.0.0.1:{http_port}"
    try:
        await asyncio.to_thread(wait_ready, proc, log)
        assert (tmp_path / "var" / "history.db").is_file()  # the default: var/history.db
        health = await asyncio.to_thread(get, f"{base}/api/health")
        assert isinstance(health, dict)
        assert health["history"] == {"status": "ok", "backlog": 0}
        login = await asyncio.to_thread(get, f"{base}/api/login", "",
                                        {"username": "admin", "password": "test-admin"})
        assert isinstance(login, dict)
        await asyncio.to_thread(get, f"{base}/api/agents/1001/login", login["token"],
                                {"device": "PJSIP/agent1001"})
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert "history database" in text and "Traceback" not in text, text[-3000:]
    with sqlite3.connect(tmp_path / "var" / "history.db") as db:
        states = [row[0] for row in db.execute(
            "SELECT state FROM agent_events WHERE agent = '1001' ORDER BY at")]
        version = db.execute("SELECT version FROM schema_version").fetchone()[0]
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert version == len(MIGRATIONS) and journal == "wal"
    assert "available" in states  # written to the stream, then to SQL, before acd stopped
