"""Browser tests: the console in Debian's chromium (driven by Playwright, which cannot
download its own browser here) against a real `acd serve` and the test Redis."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served_acd import CHROMIUM, CHROMIUM_ARGS, ServedAcd, start_acd  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def acd(redis_server, tmp_path_factory) -> Iterator[ServedAcd]:
    served = start_acd(tmp_path_factory.mktemp("console"), redis_server.port)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives every run a fresh, throw-away profile (user-data dir)
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, acd):
    # bypass_csp: the page forbids eval, which Playwright's wait_for_function uses
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(5000)
    page.goto(acd.url + "/console/")
    yield page
    context.close()
