"""The audit log page in a real browser against a real `acd serve`: a supervisor's
forced pause and a refused one are listed for the admin, newest first, with who did it,
on which agent and how acd answered; a supervisor is refused the page."""

from __future__ import annotations

import urllib.error

import pytest
from served_acd import ServedAcd
from test_wallboard_page import log_in


def test_an_admin_reads_who_did_what_in_the_audit_log(page, acd: ServedAcd):
    sup = acd.login("sup")
    acd.api("POST", "/api/agents/1002/login", token=sup)
    acd.api("POST", "/api/agents/1002/pause", {"reason": "meeting"}, token=sup)
    with pytest.raises(urllib.error.HTTPError):  # refused, and audited all the same
        acd.api("POST", "/api/agents/1002/pause", {"reason": "no-such-reason"}, token=sup)
    page.goto(acd.url + "/console/audit.html")
    log_in(page, "boss")
    page.wait_for_selector("#audit .rows .row[data-action='agent.pause']")
    rows = page.locator("#audit .rows .row[data-action='agent.pause']")
    newest, older = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "sup (supervisor)" in newest and "agent=1002" in newest
    assert "reason=no-such-reason" in newest and ("409" in newest or "400" in newest)
    assert "reason=meeting" in older and "200" in older
    assert page.locator("#audit .rows .row.refused").count() >= 1
    acd.api("POST", "/api/agents/1002/logout", token=sup)


def test_a_supervisor_is_refused_the_audit_log(page, acd: ServedAcd):
    page.goto(acd.url + "/console/audit.html")
    log_in(page, "sup")
    page.wait_for_selector("#refused:not([hidden])")
    assert page.locator("#page").is_hidden()
