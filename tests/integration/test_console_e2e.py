"""The supervisors' and admins' console on the sandbox, in headless chromium, with sipp
phones: a waiting caller shows on the wallboard within a second of Asterisk's event;
"listen" rings the supervisor's phone into ChanSpy on the agent's call; a forced pause
shows; the call's recording plays; an admin's broken flow edit is marked at its line,
the fixed one serves the next call; an agent is refused the supervisors' pages.
Playwright's sync API runs on a thread of its own (it refuses a running asyncio loop)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

from tests.browser.served_acd import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # flow "direct": straight to the support queue
SUPERVISOR = ("supervisor", "test-sup")
ADMIN = ("admin", "test-admin")


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")


def browser_page(p, base: str, path: str, user: tuple[str, str]):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    page.set_default_timeout(15_000)
    page.goto(base + path)
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    return browser, page


def supervisor_shift(acd, workdir: Path) -> dict[str, object]:
    """The supervisor's side of test_a_supervisor_runs_the_call_from_the_wallboard."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, object] = {}
    with sync_playwright() as p:
        browser, page = browser_page(p, acd.http, "/console/", SUPERVISOR)
        page.wait_for_selector("#status[data-state=live]")
        phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=workdir / "phones")
        supervisor = SippAgentPhones(PhoneBehaviour(answer_after=0.5), port=5073,
                                     workdir=workdir / "supervisor")
        caller = SippCaller("13812345201", did=DIRECT, hangup_after=30.0, timeout=50,
                            workdir=workdir / "caller")
        with phones, supervisor, caller:
            row = page.wait_for_selector("[data-caller^='support/']")
            seen["row"] = time.time()
            call_id = (row.get_attribute("data-caller") or "").split("/", 1)[1]
            seen["call_id"] = call_id
            # an agent logs in: the call rings them and is answered
            assert acd.agent_do("1001", "login")[0] == 200
            page.wait_for_selector("[data-agent='1001'] .state-on-call")
            page.click("[data-agent='1001']")
            page.click("#actions [data-spy=listen]")
            deadline = time.monotonic() + 10
            while not supervisor.calls() or supervisor.calls()[0].answered_at is None:
                assert time.monotonic() < deadline, "the supervisor's phone never joined"
                time.sleep(0.1)
            time.sleep(1.0)
            seen["chanspy"] = "ChanSpy" in sandbox_cli("core show channels concise")
            caller.wait(50)
        # after the call: a forced pause, with a reason, shows on the board
        page.click("[data-agent='1001']")
        page.fill("#actions-reason", "meeting")
        page.click("#actions [data-action=pause]")
        page.wait_for_selector("[data-agent='1001'] .state-paused", timeout=3000)
        seen["paused"] = True
        # the call's recording plays in the recordings page
        page.goto(acd.http + "/console/recordings.html")
        page.click("#search button[type=submit]")
        page.click(f"#results [data-call='{call_id}'] button.play")
        page.wait_for_function("document.querySelector('#player').readyState >= 1")
        seen["played"] = page.evaluate("document.querySelector('#player').duration")
        browser.close()
    return seen


def sandbox_cli(command: str) -> str:
    import subprocess

    from sandbox import SANDBOX_SH

    return subprocess.run(["bash", str(SANDBOX_SH), "cli", command], capture_output=True,
                          text=True, timeout=20, check=True).stdout


async def test_a_supervisor_runs_the_call_from_the_wallboard(acd, call_records, ami, asterisk,
                                                            tmp_path):
    newchannel_at: dict[str, float] = {}
    ami.register_event("Newchannel", lambda _m, e: newchannel_at.setdefault(
        e.get("Uniqueid", ""), time.time()))
    try:
        seen = await asyncio.to_thread(supervisor_shift, acd, tmp_path)
        paused = acd.agent("1001")
    finally:
        acd.agent_do("1001", "logout")
    call_id = str(seen["call_id"])
    # Asterisk's event (the caller's channel) -> the row on the supervisor's page, the
    # IVR's answer and the queueing included
    shown_after = float(seen["row"]) - newchannel_at[call_id]  # type: ignore[arg-type]
    print(f"the waiting caller showed {shown_after * 1000:.0f} ms after Asterisk's Newchannel")
    assert shown_after < 1.0, f"the waiting caller showed {shown_after:.3f} s after Asterisk"
    assert seen["chanspy"]  # the supervisor's phone is in ChanSpy on the agent's call
    assert seen["paused"] and (paused["state"], paused["reason"]) == ("paused", "meeting")
    assert float(seen["played"]) > 5.0  # type: ignore[arg-type]  # the recording loaded
    record = await call_records.wait_closed_call(call_id)
    assert record.agent == "1001" and record.outcome == "answered"


BROKEN = "start: q\nnodes:\n  q: {type: queue, queue: nowhere}\n"
FIXED = "start: q\nnodes:\n  q: {type: queue, queue: complaints}\n"


def admin_edits_the_flow(acd) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    seen: dict[str, object] = {}
    with sync_playwright() as p:
        browser, page = browser_page(p, acd.http, "/console/flows.html", ADMIN)
        page.click("#flow-list li[data-flow=direct]")
        page.wait_for_selector("#flow-list li.open[data-flow=direct]")
        page.wait_for_function("document.querySelector('#flow-text').value.includes('support')")
        page.fill("#flow-text", BROKEN)
        page.click("#save")
        marked = page.wait_for_selector("#gutter div.bad")
        seen["bad_line"] = marked.get_attribute("data-line")
        seen["error"] = page.locator("#flow-errors li").first.inner_text()
        page.fill("#flow-text", FIXED)
        page.click("#save")
        # saved: the marks go (versions kept from earlier runs may already be listed)
        page.wait_for_selector("#gutter div.bad", state="detached")
        seen["marks_after_fix"] = page.locator("#gutter div.bad").count()
        browser.close()
    return seen


def agent_opens_the_wallboard(acd) -> bool:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page = browser_page(p, acd.http, "/console/", ("agent1001", "test-agent"))
        page.wait_for_selector("#refused:not([hidden])")
        shown = page.locator("#board").is_visible()
        browser.close()
    return not shown


async def test_an_admin_fixes_a_flow_in_the_browser_and_the_next_call_follows_it(
        acd, call_records, asterisk, tmp_path):
    file = acd.flows_dir / "direct.yaml"
    original = file.read_text()
    before = acd.api("GET", "/api/health")[1]["flows_version"]
    try:
        seen = await asyncio.to_thread(admin_edits_the_flow, acd)
        assert seen["bad_line"] == "3" and "direct.yaml:3:" in str(seen["error"]), seen
        assert seen["marks_after_fix"] == 0
        deadline = time.monotonic() + 10
        while file.read_text() != FIXED:
            assert time.monotonic() < deadline, "the fixed flow was not written"
            await asyncio.sleep(0.1)
        while acd.api("GET", "/api/health")[1]["flows_version"] <= before:
            assert time.monotonic() < deadline, "the saved flow was not loaded"
            await asyncio.sleep(0.1)
        caller = SippCaller("13812345202", did=DIRECT, hangup_after=3.0, timeout=20,
                            workdir=tmp_path / "caller")
        with caller:
            await asyncio.to_thread(caller.wait, 20)
        record = await call_records.wait_call_of("13812345202")
        record = await call_records.wait_closed_call(record.call_id)
        assert record.queues == ["complaints"]  # the new version served the call
    finally:
        file.write_text(original)


async def test_an_agent_is_refused_the_supervisors_wallboard(acd, asterisk):
    assert await asyncio.to_thread(agent_opens_the_wallboard, acd)
