"""The frame every console page shares (shell.js) in a real browser: the same header
with links to the other pages on each, one login that holds from page to page, the
language chosen on one page kept on the next, and signing out anywhere ends it."""

from __future__ import annotations

from served_acd import ServedAcd
from test_wallboard_page import log_in

PAGES = ["/console/", "/console/desk.html", "/console/recordings.html", "/console/flows.html",
         "/console/users.html", "/console/lists.html", "/console/dates.html",
         "/console/settings.html",
         "/console/announcement.html", "/console/audit.html"]


def test_every_page_has_the_same_header_and_one_login_holds_across_them(page,
                                                                         acd: ServedAcd):
    log_in(page, "boss")
    page.wait_for_selector("#logout:not([hidden])")
    for path in PAGES:
        page.goto(acd.url + path)
        page.wait_for_selector("#logout:not([hidden])")  # no second login
        assert page.locator("#who").inner_text() == "boss"
        links = page.locator("header nav a").evaluate_all("as => as.map(a => a.pathname)")
        assert sorted(links) == sorted(p for p in PAGES if p != path), path
        assert page.locator("#login").is_hidden()
        # the desk is an agent's: an admin with no agent number is told so, the others
        # are the admin's
        assert page.locator("#refused").is_hidden() != (path == "/console/desk.html")
    page.click("#lang")  # English on the last page...
    page.goto(acd.url + "/console/users.html")
    assert page.locator("#logout").inner_text() == "Log out"  # ...and on the next
    page.click("#lang")
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    page.goto(acd.url + "/console/")
    page.wait_for_selector("#login:not([hidden])")
    assert page.locator("#board").is_hidden()
