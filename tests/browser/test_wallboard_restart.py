"""The wallboard after an acd restart, in a real browser against a real `acd serve`:
today's satisfaction split per queue is read back from Redis, not started from zero."""

from __future__ import annotations

import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

from served_acd import ServedAcd
from test_wallboard_page import log_in


def test_a_restarted_acd_shows_the_satisfaction_split_counted_before(page, acd: ServedAcd):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for field, count in (("support|1", 3), ("support|3", 1)):  # as acd counts an answer
        subprocess.run(["redis-cli", "-p", str(acd.redis_port), "-n", "14", "HINCRBY",
                        f"console:wallboard:survey:{today}", field, str(count)],
                       check=True, capture_output=True)
    acd.restart()
    page.goto(acd.url + "/console/")
    log_in(page, "sup")
    page.wait_for_selector(".tile[data-queue=support]")
    survey = page.locator(".tile[data-queue=support] dd").nth(12)
    page.wait_for_function(
        "document.querySelectorAll('.tile[data-queue=support] dd')[12].textContent === '3/0/1'")
    assert survey.inner_text() == "3/0/1"
