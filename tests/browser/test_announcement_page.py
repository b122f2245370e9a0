"""The announcement page in a real browser against a real `acd serve`: an admin
switches the announcement on with an expiry, sees it, and switches it off."""

from __future__ import annotations

from datetime import datetime, timedelta

from served_acd import ServedAcd
from test_wallboard_page import log_in


def test_an_admin_switches_the_announcement_on_with_an_expiry_and_off(page, acd: ServedAcd):
    page.goto(acd.url + "/console/announcement.html")
    log_in(page, "boss")
    page.wait_for_selector("#current:not(:empty)")
    assert page.locator("#current").inner_text() == "未开启"
    page.fill("#announce textarea[name=text]", "系统维护中")
    soon = datetime.now() + timedelta(days=30)  # at most a year ahead
    page.fill("#announce input[name=expires]", soon.strftime("%Y-%m-%dT09:00"))
    page.click("#announce button[type=submit]")
    page.wait_for_function("document.querySelector('#current').textContent === '系统维护中'")
    assert str(soon.year) in page.locator("#current-expiry").inner_text()
    state = acd.api("GET", "/api/announcement", token=acd.login("sup"))
    assert state["announcement"] == [{"text": "系统维护中", "lang": "zh"}]
    assert abs(state["expires_at"] - soon.timestamp()) < 86400
    page.click("#clear")
    page.wait_for_function("document.querySelector('#current').textContent === '未开启'")
