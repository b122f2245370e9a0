"""The queues and agents page in a real browser against a real `acd serve`: an admin
changes a queue's strategy and wrap-up and an agent's name and queues; the running
service uses them at once (the supervisors' API shows them), keeps them across a
restart, and a reset brings config.yaml's back; a bad value is shown, not saved."""

from __future__ import annotations

import signal
import time

from served_acd import ServedAcd
from test_wallboard_page import log_in, save_screenshot


def as_supervisor(acd: ServedAcd, what: str) -> list[dict[str, object]]:
    return list(acd.api("GET", f"/api/{what}", token=acd.login("sup"))[what])


def agent(acd: ServedAcd, agent_id: str) -> dict[str, object]:
    return next(a for a in as_supervisor(acd, "agents") if a["agent_id"] == agent_id)


def queue(acd: ServedAcd, name: str) -> dict[str, object]:
    return next(q for q in as_supervisor(acd, "queues") if q["queue"] == name)


def open_page(page, acd: ServedAcd) -> None:  # noqa: ANN001
    page.goto(acd.url + "/console/settings.html")
    log_in(page, "boss")
    page.wait_for_selector("#agent-settings [data-agent='1003']")


def test_an_admin_changes_a_queue_and_an_agent_at_once_and_they_survive_a_restart(
        page, acd: ServedAcd):
    open_page(page, acd)
    support = page.locator("#queue-settings [data-queue=support]")
    support.locator("select[name=strategy]").select_option("ring-all")
    support.locator("input[name=wrap_up_seconds]").fill("7")
    support.locator("button.save").click()
    page.wait_for_selector("#queue-settings [data-queue=support] select.changed")
    assert queue(acd, "support")["strategy"] == "ring-all"

    three = page.locator("#agent-settings [data-agent='1003']")
    three.locator("input[name=name]").fill("Agent Three")
    three.locator("input[name=queues]").fill("support:0, sales:2")
    three.locator("button.save").click()
    page.wait_for_selector("#agent-settings [data-agent='1003'] input[name=name].changed")
    changed = agent(acd, "1003")
    assert (changed["name"], sorted(changed["queues"])) == ("Agent Three",  # type: ignore[arg-type]
                                                           ["sales", "support"])
    assert queue(acd, "sales")["members"]["1003"]["penalty"] == 2  # type: ignore[index]
    save_screenshot(page, "queue-agent-settings.png")

    acd.restart()
    assert agent(acd, "1003")["name"] == "Agent Three"
    assert queue(acd, "support")["strategy"] == "ring-all"
    open_page(page, acd)
    page.locator("#agent-settings [data-agent='1003'] button.reset").click()
    page.wait_for_selector("#agent-settings [data-agent='1003'] button.reset", state="detached")
    assert agent(acd, "1003")["name"] == "Agent 1003"
    page.locator("#queue-settings [data-queue=support] button.reset").click()
    page.wait_for_selector("#queue-settings [data-queue=support] button.reset",
                           state="detached")
    assert queue(acd, "support")["strategy"] == "longest-idle"
    audit = acd.api("GET", "/api/audit", token=acd.login("boss"))
    assert [e["action"] for e in audit[:4]] == ["settings.queue.reset",
                                                "settings.agent.reset", "settings.agent",
                                                "settings.queue"]


def test_a_bad_value_is_shown_and_nothing_changes(page, acd: ServedAcd):
    open_page(page, acd)
    support = page.locator("#queue-settings [data-queue=support]")
    support.locator("input[name=ring_timeout_seconds]").fill("2")
    support.locator("button.save").click()
    page.wait_for_selector("#settings-status.error")
    assert "ring_timeout_seconds is a number of seconds from 5 to 600" in \
        page.locator("#settings-status").inner_text()
    assert page.locator("#queue-settings select.changed").count() == 0


def test_supervisors_are_refused_the_queues_and_agents_page(page, acd: ServedAcd):
    page.goto(acd.url + "/console/settings.html")
    log_in(page, "sup")
    page.wait_for_selector("#refused:not([hidden])")
    assert page.locator("#page").is_hidden()


def test_a_sighup_reload_keeps_the_consoles_changes_over_the_new_config(acd: ServedAcd):
    boss = acd.login("boss")
    acd.api("PATCH", "/api/settings/queues/support", {"wrap_up_seconds": 7}, token=boss)
    acd.api("PATCH", "/api/settings/agents/1003", {"name": "Agent Three"}, token=boss)
    acd.api("POST", "/api/schedules/support/dates",
            {"date": "2026-12-24", "state": "closed"}, token=boss)
    original = acd.config.read_text()
    acd.config.write_text(original.replace(
        '"1001": {name: "Agent 1001"}', '"1001": {name: "Agent One"}').replace(
        "  support: {members:", "  support: {wrap_up_seconds: 2, ring_timeout_seconds: 20, "
        "members:"))
    try:
        reloads = acd.log.read_text().count("configuration reloaded")
        acd.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while acd.log.read_text().count("configuration reloaded") == reloads:
            assert time.monotonic() < deadline, "no reload: " + acd.log.read_text()[-1000:]
            time.sleep(0.05)
        now = acd.api("GET", "/api/settings", token=boss)
        support = next(q for q in now["queues"] if q["name"] == "support")
        assert (support["wrap_up_seconds"], support["ring_timeout_seconds"]) == (7.0, 20.0)
        names = {a["id"]: a["name"] for a in now["agents"]}
        assert (names["1001"], names["1003"]) == ("Agent One", "Agent Three")
        assert agent(acd, "1001")["name"] == "Agent One"  # the routing core has both
        assert agent(acd, "1003")["name"] == "Agent Three"
        day = acd.api("GET", "/api/schedules/support?date=2026-12-24", token=boss)
        assert day["day"][0]["state"] == "closed"  # the console's date stays too
    finally:
        acd.config.write_text(original)
        acd.proc.send_signal(signal.SIGHUP)
        for path in ("/api/settings/queues/support", "/api/settings/agents/1003",
                     "/api/schedules/support/dates/2026-12-24"):
            acd.api("DELETE", path, token=boss)
