"""The company dates page in a real browser against a real `acd serve`: an admin sees a
schedule's state and its dates from config.yaml, adds a company holiday for today and
sees the schedule turn to holiday at once (the API says so too), then removes it; a
supervisor and an agent are refused the page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from served_acd import ServedAcd
from test_wallboard_page import log_in, save_screenshot


def state_now(acd: ServedAcd) -> str:
    view = acd.api("GET", "/api/schedules/support", token=acd.login("sup"))
    return str(view["now"]["state"])


def test_an_admin_adds_a_company_holiday_that_applies_at_once_then_removes_it(
        page, acd: ServedAcd):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    page.goto(acd.url + "/console/dates.html")
    log_in(page, "boss")
    page.wait_for_selector("#dates [data-date='2026-10-01']")
    assert "配置文件" in page.locator("#dates [data-date='2026-10-01']").inner_text()
    assert page.locator("#now-state").inner_text() == "营业"  # open around the clock
    assert state_now(acd) == "open"

    page.fill("#add-date input[name=date]", today)
    page.select_option("#add-date select[name=state]", "holiday")
    page.fill("#add-date input[name=label]", "Annual meeting")
    page.click("#add-date button[type=submit]")
    page.wait_for_selector(f"#dates [data-date='{today}']")
    page.wait_for_function("document.querySelector('#now-state').textContent === '假日'")
    assert "控制台" in page.locator(f"#dates [data-date='{today}']").inner_text()
    assert "Annual meeting" in page.locator("#day").inner_text()
    assert state_now(acd) == "holiday"  # the running service decides with it
    save_screenshot(page, "company-dates.png")

    page.locator(f"#dates [data-date='{today}'] button.remove").click()
    page.wait_for_function("document.querySelector('#now-state').textContent === '营业'")
    assert state_now(acd) == "open"
    audit = acd.api("GET", "/api/audit", token=acd.login("boss"))
    assert [e["action"] for e in audit[:2]] == ["schedule.date.remove", "schedule.date.set"]


def test_a_wrong_opening_time_is_shown_and_nothing_is_added(page, acd: ServedAcd):
    page.goto(acd.url + "/console/dates.html")
    log_in(page, "boss")
    page.wait_for_selector("#dates [data-date='2026-10-01']")
    page.fill("#add-date input[name=date]", "2026-12-26")
    page.select_option("#add-date select[name=state]", "open")
    page.fill("#add-date input[name=hours]", "18:00-09:00")
    page.click("#add-date button[type=submit]")
    page.wait_for_selector("#dates-status.error")
    assert "ends before it starts" in page.locator("#dates-status").inner_text()
    assert page.locator("#dates [data-date='2026-12-26']").count() == 0


def test_supervisors_and_agents_are_refused_the_company_dates_page(page, acd: ServedAcd):
    for user in ("sup", "agent1001"):
        page.goto(acd.url + "/console/dates.html")
        log_in(page, user)
        page.wait_for_selector("#refused:not([hidden])")
        assert page.locator("#page").is_hidden()
        page.click("#logout")
        page.wait_for_selector("#login:not([hidden])")
