"""The flow editor in a real browser against a real `acd serve`: a broken edit is marked
at its line and the file on disk is unchanged; a good edit is saved, the running acd
reloads it, and the replaced version is restored from the page."""

from __future__ import annotations

import time

from served_acd import ServedAcd
from test_wallboard_page import log_in, save_screenshot

ORIGINAL = "start: q\nnodes:\n  q: {type: queue, queue: support}\n"
BROKEN = "start: q\nnodes:\n  q: {type: queue, queue: nowhere}\n"
FIXED = "start: q\nnodes:\n  q: {type: queue, queue: sales}\n"


def flows_version(acd: ServedAcd) -> int:
    return int(acd.api("GET", "/api/health")["flows_version"])


def wait_for_version(acd: ServedAcd, version: int, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while flows_version(acd) < version:
        assert time.monotonic() < deadline, "acd did not reload the saved flow"
        time.sleep(0.05)


def test_a_broken_edit_is_marked_at_its_line_and_a_good_one_saved_then_restored(
        page, acd: ServedAcd):
    file = acd.log.parent / "flows" / "direct.yaml"
    assert file.read_text() == ORIGINAL
    page.goto(acd.url + "/console/flows.html")
    log_in(page, "boss")
    page.wait_for_selector("#flow-list li.open[data-flow=direct]")
    assert page.locator("#flow-text").input_value() == ORIGINAL
    page.fill("#flow-text", BROKEN)
    page.click("#save")
    marked = page.wait_for_selector("#gutter div.bad")
    assert marked.get_attribute("data-line") == "3"
    assert "nowhere" in (marked.get_attribute("title") or "")
    assert "direct.yaml:3:" in page.locator("#flow-errors li").first.inner_text()
    assert file.read_text() == ORIGINAL  # nothing written
    save_screenshot(page, "flow-editor.png")

    before = flows_version(acd)
    page.fill("#flow-text", FIXED)
    page.click("#save")
    page.wait_for_selector("#version-list li")
    assert page.locator("#gutter div.bad").count() == 0
    assert file.read_text() == FIXED
    wait_for_version(acd, before + 1)  # the running acd serves the new flow

    page.click("#version-list li button.restore")
    page.wait_for_function("document.querySelectorAll('#version-list li').length === 2")
    assert file.read_text() == ORIGINAL
    # (the restored text is fetched after the list: wait for it, do not race it)
    page.wait_for_function("text => document.querySelector('#flow-text').value === text",
                           arg=ORIGINAL)
    wait_for_version(acd, before + 2)
    entries = acd.api("GET", "/api/audit", token=acd.login("boss"))
    assert [e["action"] for e in entries][:3] == ["flow.restore", "flow.save", "flow.save"]


def test_a_supervisor_is_refused_the_flow_editor(page, acd: ServedAcd):
    page.goto(acd.url + "/console/flows.html")
    log_in(page, "sup")
    page.wait_for_selector("#refused:not([hidden])")
    assert page.locator("#page").is_hidden()
