"""The recordings page in a real browser against a real `acd serve`: a supervisor
searches, plays a recording in the <audio> element and seeks, which the browser does
with Range requests that acd answers 206; an agent is refused (not allowed by config)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

from served_acd import ServedAcd
from test_wallboard_page import log_in, save_screenshot

START = 1_795_000_000.0
#: long enough that the browser does not read it all before the test seeks
SECONDS = 1800


def index_recording(acd: ServedAcd, call_id: str, agent: str, caller: str,
                    start: float) -> Path:
    """A recording as the call path leaves it: the file, and its entry in acd's index."""
    folder = acd.log.parent / "recordings" / "2026" / "11" / "18"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{call_id}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * (8000 * 2 * SECONDS // 256))
    commands = [["HSET", f"console:rec:{call_id}", "path", str(path), "agent", agent,
                 "queue", "support", "caller", caller, "start", str(start),
                 "duration", str(SECONDS), "size", str(path.stat().st_size)]]
    for key in ("rec:by_time", f"rec:by_agent:{agent}", "rec:by_queue:support",
                f"rec:by_caller:{caller}"):
        commands.append(["ZADD", f"console:{key}", str(start), call_id])
    port = acd.redis_port
    for command in commands:
        subprocess.run(["redis-cli", "-p", str(port), "-n", "14", *command], check=True,
                       capture_output=True)
    return path


def test_a_supervisor_finds_plays_and_seeks_a_recording(page, acd: ServedAcd):
    index_recording(acd, "1795000000.1", "1001", "13800138000", START)
    index_recording(acd, "1795000100.2", "1002", "13900139000", START + 100)
    audio_requests: list[tuple[str, int]] = []
    page.on("response", lambda r: audio_requests.append(
        (r.request.headers.get("range", ""), r.status)) if "/audio?" in r.url else None)
    page.goto(acd.url + "/console/recordings.html")
    log_in(page, "sup")
    page.wait_for_selector("#results [data-call='1795000100.2']")
    assert page.locator("#results .rows > .row").count() == 2
    row = page.locator("#results [data-call='1795000000.1']")
    assert "13******000" in row.inner_text()  # the supervisor sees masked numbers
    page.fill("#search input[name=agent]", "1001")
    page.click("#search button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#results .rows > .row').length === 1")
    page.click("#results [data-call='1795000000.1'] button.play")
    page.wait_for_function("document.querySelector('#player').readyState >= 1")
    page.evaluate("document.querySelector('#player').currentTime = 1500")
    page.wait_for_function("Math.abs(document.querySelector('#player').currentTime - 1500)"
                           " < 5 && document.querySelector('#player').readyState >= 2")
    assert audio_requests and all(status == 206 for _, status in audio_requests)
    assert audio_requests[0][0].startswith("bytes=0-")
    # the seek was fetched from where it lands, not read from the start
    offsets = [int(r.removeprefix("bytes=").split("-")[0]) for r, _ in audio_requests[1:]]
    assert any(offset > 8000 * 2 * 1000 for offset in offsets), audio_requests
    save_screenshot(page, "recordings.png")


def test_an_agent_is_refused_recordings_unless_the_admin_allows_it(page, acd: ServedAcd):
    page.goto(acd.url + "/console/recordings.html")
    log_in(page, "agent1001")
    page.wait_for_selector("#search-error:not(:empty)")
    assert "agents_replay_own" in page.locator("#search-error").inner_text()
    assert page.locator("#results .rows > .row").count() == 0
