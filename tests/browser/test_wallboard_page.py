"""The wallboard in a real browser: a supervisor logs in and watches changes made through
the real service (agents over the API, callers over FastAGI) show within a second."""

from __future__ import annotations

import time

from served_acd import REPO, Caller, ServedAcd

#: a change must be on the page within this long of the API answering
WITHIN_MS = 1000
SCREENSHOTS = REPO / "var" / "screenshots"


def save_screenshot(page, name: str) -> None:  # noqa: ANN001
    """For the README (var/screenshots/): in English, as this machine's chromium has no
    Chinese font."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.click("#lang")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(SCREENSHOTS / name))
    page.click("#lang")


def log_in(page, user: str) -> None:  # noqa: ANN001 (a Playwright page)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "browser-test-pw")
    page.click("button[type=submit]")


def on_the_wallboard(page) -> None:  # noqa: ANN001
    page.wait_for_selector("#status[data-state=live]")
    page.wait_for_selector("[data-agent='1001']")
    assert page.locator("#login").is_hidden()


def test_a_supervisor_sees_the_queues_and_every_agent_in_chinese(page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    assert page.locator("#agents .rows > .row").count() == 3
    assert page.locator(".tile[data-queue=support] h3").inner_text() == "support"
    assert page.locator("header h1").inner_text() == "acd 监控墙"
    assert page.locator("[data-agent='1001'] .state").inner_text() == "未登录"


def test_a_pause_shows_within_a_second_with_its_reason_then_turns_red_when_too_long(
        page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    token = acd.login("sup")
    acd.api("POST", "/api/agents/1002/login", token=token)
    acd.api("POST", "/api/agents/1002/pause", {"reason": "meeting"}, token=token)
    started = time.monotonic()
    page.wait_for_function(
        "document.querySelector(\"[data-agent='1002'] .state\").textContent === '示忙'",
        timeout=WITHIN_MS)
    assert time.monotonic() - started < WITHIN_MS / 1000
    row = page.locator("[data-agent='1002']")
    assert "meeting" in row.inner_text()
    # meeting may last 1 s (console.pause_alert_by_reason): the row is coloured after it
    page.wait_for_selector("[data-agent='1002'].alert", timeout=3000)
    acd.api("POST", "/api/agents/1002/resume", token=token)
    page.wait_for_selector("[data-agent='1002']:not(.alert) .state-available",
                           timeout=WITHIN_MS)


def test_a_waiting_caller_appears_masked_turns_late_and_leaves_when_they_hang_up(
        page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    token = acd.login("sup")
    for agent, reason in (("1002", "meeting"), ("1003", "lunch")):  # (for the screenshot)
        acd.api("POST", f"/api/agents/{agent}/login", token=token)
        acd.api("POST", f"/api/agents/{agent}/pause", {"reason": reason}, token=token)
    caller = Caller(acd.agi_port, "1795000000.1", "13800138000")
    try:
        caller.wait_in_queue()
        started = time.monotonic()
        row = page.wait_for_selector("[data-caller='support/1795000000.1']",
                                     timeout=WITHIN_MS)
        assert time.monotonic() - started < WITHIN_MS / 1000
        assert "13******000" in row.inner_text()  # supervisors see numbers masked here
        assert "13800138000" not in page.content()
        # the queue's service level is 3 s: the caller, then the tile, turn red
        page.wait_for_selector("[data-caller='support/1795000000.1'].late", timeout=5000)
        page.wait_for_selector(".tile[data-queue=support].late", timeout=WITHIN_MS)
        save_screenshot(page, "wallboard.png")
    finally:
        caller.hang_up()
    page.wait_for_selector("[data-caller='support/1795000000.1']", state="detached",
                           timeout=WITHIN_MS * 2)
    for agent in ("1002", "1003"):
        acd.api("POST", f"/api/agents/{agent}/logout", token=token)


def test_a_reload_and_a_dropped_socket_each_start_again_from_a_full_snapshot(
        page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    token = acd.login("sup")
    acd.api("POST", "/api/agents/1003/login", token=token)
    acd.api("POST", "/api/agents/1003/pause", {"reason": "lunch"}, token=token)
    page.wait_for_selector("[data-agent='1003'] .state-paused")
    page.reload()  # the session survives a reload (sessionStorage); the stream restarts
    on_the_wallboard(page)
    assert page.evaluate("window.acdConsole.snapshots") == 1
    assert "lunch" in page.locator("[data-agent='1003']").inner_text()
    page.evaluate("window.acdConsole.drop()")
    page.wait_for_function("window.acdConsole.snapshots === 2")
    page.wait_for_selector("#status[data-state=live]")
    assert page.locator("#agents .rows > .row").count() == 3
    acd.api("POST", "/api/agents/1003/resume", token=token)


def test_an_agent_login_is_refused_the_wallboard(page, acd: ServedAcd):
    log_in(page, "agent1001")
    page.wait_for_selector("#refused:not([hidden])")
    assert page.locator("#board").is_hidden()
    assert page.locator("#agents .rows > .row").count() == 0


def test_the_english_switch_translates_the_page_and_is_remembered(page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    page.click("#lang")
    assert page.locator("header h1").inner_text() == "acd wallboard"
    assert page.locator("[data-agent='1001'] .state").inner_text() == "Logged out"
    assert page.locator(".tile[data-queue=support] dt").first.inner_text() == "Waiting"
    page.reload()
    on_the_wallboard(page)
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#lang")
    assert page.locator("header h1").inner_text() == "acd 监控墙"


def test_a_supervisor_forces_a_pause_and_a_return_from_the_wallboard_and_both_are_audited(
        page, acd: ServedAcd):
    log_in(page, "sup")
    on_the_wallboard(page)
    acd.api("POST", "/api/agents/1001/login", token=acd.login("sup"))
    page.wait_for_selector("[data-agent='1001'] .state-available")
    page.click("[data-agent='1001']")
    page.fill("#actions-reason", "lunch")
    page.click("#actions [data-action=pause]")
    page.wait_for_selector("[data-agent='1001'] .state-paused", timeout=WITHIN_MS)
    assert "lunch" in page.locator("[data-agent='1001']").inner_text()
    assert page.locator("#actions-result").inner_text() == "已执行"
    page.click("#actions [data-action=resume]")
    page.wait_for_selector("[data-agent='1001'] .state-available", timeout=WITHIN_MS)
    page.fill("#actions-reason", "no-such-reason")
    page.click("#actions [data-action=pause]")
    page.wait_for_selector("#actions-result.error")  # the API's refusal, shown as is
    entries = acd.api("GET", "/api/audit?limit=10", token=acd.login("boss"))
    mine = [(e["action"], e.get("reason"), e["status"]) for e in entries
            if e["user"] == "sup" and e.get("agent") == "1001"]
    assert mine[:3] == [("agent.pause", "no-such-reason", mine[0][2]), ("agent.resume", None, 200),
                        ("agent.pause", "lunch", 200)]
    assert mine[0][2] >= 400
    acd.api("POST", "/api/agents/1001/logout", token=acd.login("sup"))
