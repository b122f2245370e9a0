"""The agent desk on the sandbox, in headless chromium: agent 1001 logs in at the desk, a
sipp caller keys in an order number in the shipped IVR and asks for an operator; the
screen pop shows the collected order number within a second of the agent's phone
ringing (the INVITE sipp's phone received), then hold and resume from the desk's buttons
(the call.held / call.resumed events on the pop; the routes are the lead's call
controls). Playwright's sync API runs on a thread of its own: it refuses a thread with a
running asyncio loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sipp import Dtmf, PhoneBehaviour, SippAgentPhones, SippCaller

from tests.browser.served_acd import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration

MAIN = "4008001234"  # ivr_flows/main.yaml: 2 -> order number -> lookup -> 0 -> operator
CALLER = "13812340014"
ORDER = "123456"


@pytest.fixture(scope="module")
def acd_open(acd_factory):
    """Tuesday 2026-11-24 10:00 Beijing time: the support line is open."""
    return acd_factory(ACD_TEST_START_AT="2026-11-24T10:00:00", ACD_TEST_SECOND_FLOW="hot")


def desk_scenario(base: str, workdir: Path) -> float:
    """The call, worked from the desk; seconds from the phone's INVITE to the pop."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(base + "/console/desk.html")
        page.fill("input[name=username]", "agent1001")
        page.fill("input[name=password]", "test-agent")
        page.click("button[type=submit]")
        page.wait_for_selector("#status[data-state=live]")
        page.click("#go-available")
        page.wait_for_selector("#state[data-state=available]")
        phones = SippAgentPhones(PhoneBehaviour(answer_after=2.0, talk_time=20.0),
                                 workdir=workdir / "phones")
        caller = SippCaller(CALLER, did=MAIN, timeout=90, hangup_after=40.0,
                            dtmf=[Dtmf(2.0, "2"), *Dtmf.sequence(f"{ORDER}#", start=5.0),
                                  Dtmf(14.0, "0"), Dtmf(18.0, "0"), Dtmf(22.0, "0")],
                            workdir=workdir / "caller")
        with phones, caller:
            page.wait_for_selector("#pop:not([hidden])", timeout=40_000)
            shown_ms = page.evaluate("window.acdDesk.popShownEpochMs")
            assert page.locator("#pop [data-variable=order]").inner_text() == ORDER
            assert page.locator("#pop [data-variable=status]").inner_text() == "shipped"
            assert CALLER not in page.content()  # an agent sees 13******014 at most
            deadline = time.monotonic() + 10
            while not [c for c in phones.calls() if c.agent == "agent1001"]:
                assert time.monotonic() < deadline, "agent1001's phone never rang"
                time.sleep(0.05)
            rang = min(c.invited_at for c in phones.calls() if c.agent == "agent1001")
            page.wait_for_selector("#pop[data-state='call.answered']")
            page.click("[data-control=hold]")
            page.wait_for_selector("#pop[data-state='call.held']", timeout=3000)
            page.click("[data-control=unhold]")
            page.wait_for_selector("#pop[data-state='call.resumed']", timeout=3000)
            caller.wait(90)
        browser.close()
    return shown_ms / 1000 - rang


async def test_the_screen_pop_shows_the_order_number_within_a_second_of_the_ring_then_hold(
        acd_open, call_records, asterisk, tmp_path):
    for agent in ("1002", "1003", "1004", "1005", "1006"):  # only 1001 takes the call
        acd_open.agent_do(agent, "logout")
    after_ring = await asyncio.to_thread(desk_scenario, acd_open.http, tmp_path)
    assert after_ring < 1.0, f"the pop showed {after_ring:.3f} s after the phone rang"
    record = await call_records.wait_call_of(CALLER)
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1001" and record.hold_seconds > 0
