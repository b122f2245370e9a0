"""The caller lists page in a real browser against a real `acd serve`: an admin adds
an entry, imports a CSV (a bad one is refused row by row) and removes an entry."""

from __future__ import annotations

from served_acd import ServedAcd
from test_wallboard_page import log_in


def test_an_admin_adds_imports_and_removes_caller_list_entries(page, acd: ServedAcd,
                                                               tmp_path):
    page.goto(acd.url + "/console/lists.html")
    log_in(page, "boss")
    page.wait_for_selector("#page:not([hidden])")
    form = page.locator("#add-entry")
    form.locator("input[name=value]").fill("13800138000")
    form.locator("input[name=note]").fill("abusive")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#entries [data-entry='black|exact|13800138000']")
    bad = tmp_path / "bad.csv"
    bad.write_text("list,match,value,action,target,priority,expires,note\n"
                   "white,exact,nonsense,vip,,5,,\n")
    page.set_input_files("#csv-file", str(bad))
    page.wait_for_selector("#csv-errors li")
    assert "row 2" in page.locator("#csv-errors li").inner_text()
    good = tmp_path / "good.csv"
    good.write_text("list,match,value,action,target,priority,expires,note\n"
                    "white,exact,13800000888,vip,,50,,gold\n")
    page.set_input_files("#csv-file", str(good))
    page.wait_for_selector("#entries [data-entry='white|exact|13800000888']")
    page.locator("#entries [data-entry='black|exact|13800138000'] button.remove").click()
    page.wait_for_function(
        "!document.querySelector(\"#entries [data-entry='black|exact|13800138000']\")")
    entries = acd.api("GET", "/api/lists", token=acd.login("boss"))["entries"]
    assert [(e["list"], e["value"]) for e in entries] == [("white", "13800000888")]
