"""The users page in a real browser against a real `acd serve`: an admin adds a user
who can then log in, and a supervisor is refused the page."""

from __future__ import annotations

import urllib.error

import pytest
from served_acd import ServedAcd
from test_wallboard_page import log_in


def test_an_admin_adds_a_supervisor_who_then_logs_in(page, acd: ServedAcd):
    page.goto(acd.url + "/console/users.html")
    log_in(page, "boss")
    page.wait_for_selector("#users [data-user=boss]")
    new = page.locator("#users [data-user='']")
    new.locator("input[name=name]").fill("lee")
    new.locator("select[name=role]").select_option("supervisor")
    new.locator("input[name=password]").fill("lee-secret-1")
    new.locator("button.save").click()
    page.wait_for_selector("#users [data-user=lee]")
    assert acd.api("POST", "/api/login", {"username": "lee", "password": "lee-secret-1"})
    page.locator("#users [data-user=boss] button.remove").click()  # the last admin
    page.wait_for_selector("#users-status.error")
    assert "last admin" in page.locator("#users-status").inner_text()
    page.locator("#users [data-user=lee] button.remove").click()
    page.wait_for_function("!document.querySelector('#users [data-user=lee]')")
    with pytest.raises(urllib.error.HTTPError):
        acd.api("POST", "/api/login", {"username": "lee", "password": "lee-secret-1"})


def test_a_supervisor_is_refused_the_users_page(page, acd: ServedAcd):
    page.goto(acd.url + "/console/users.html")
    log_in(page, "sup")
    page.wait_for_selector("#refused:not([hidden])")
