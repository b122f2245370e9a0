"""The number firewall, IVR side: what is sensitive is named, and the IVR's log never shows it."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from acd.ivr import FlowResult, HttpLookupClient, LookupClient, QueueHandoff, run_flow
from acd.privacy import mask_number, set_log_full_numbers

from .fakes import FakeChannel, FakeLookups, FakeSchedules, LabelPrompts, errors_of, flows_from

CALLER = "13800138000"
CARD = "9753"  # short: masking by shape alone would leave it whole

FLOW = """
nodes:
  ask:
    type: collect
    variable: card
    sensitive: true
    max_length: 8
    prompt: {text: 请输入卡号}
    next: copy
    exhausted: done
  copy:
    type: set
    values: {last: "${card}", plain: "x${lang}"}
    next: copy_again
  copy_again:
    type: set
    values: {again: "${last}", bad: "${card},1"}
    next: find
  find:
    type: lookup
    url: http://127.0.0.1:PORT/customers/${caller}/cards/${last}
    timeout: 1
    ok: wrong
    error: wrong
  wrong:
    type: transfer
    to: "${bad}"
    failed: send
  send:
    type: transfer
    to: "${again}"
    failed: done
  done: {type: queue, queue: support}
"""


@pytest.fixture(autouse=True)
def masked_log() -> Iterator[None]:
    set_log_full_numbers(False)
    yield
    set_log_full_numbers(False)


@pytest.fixture
async def client() -> AsyncIterator[HttpLookupClient]:
    client = HttpLookupClient()
    yield client
    await client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def run(flow: str, client: LookupClient | None = None) -> tuple[FakeChannel, FlowResult]:
    channel = FakeChannel([CARD], caller=CALLER, app_results={"Dial": "0"})
    result = await run_flow(
        channel, flows_from({"main": flow}), "main", now=lambda: 0.0,
        schedules=FakeSchedules(), lookup_client=client or FakeLookups(),
        announcement=lambda: None, prompt_library=LabelPrompts())
    return channel, result


async def test_the_flow_result_names_the_caller_sensitive_digits_and_their_copies():
    _, result = await run(FLOW.replace("PORT", "1"))
    assert isinstance(result.outcome, QueueHandoff)
    assert result.sensitive == {"caller", "card", "last", "again", "bad"}
    assert result.variables["again"] == CARD  # the call path masks it; the IVR keeps it


async def test_without_sensitive_collects_only_the_caller_is_sensitive():
    _, result = await run(FLOW.replace("PORT", "1").replace("    sensitive: true\n", ""))
    assert result.sensitive == {"caller"}


def test_sensitive_must_be_true_or_false():
    errors = errors_of(FLOW.replace("sensitive: true", "sensitive: sometimes"))
    assert errors[0] == ("5:5: collect node 'ask': 'sensitive' must be true or false, "
                         "not 'sometimes'")


async def test_ivr_log_lines_never_show_the_callers_number_or_sensitive_digits(
    client: HttpLookupClient, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="acd")
    channel, _ = await run(FLOW.replace("PORT", str(free_port())), client)
    assert ("exec", "Dial", f"Local/{CARD}@acd-transfer,30") in channel.events
    logged = caplog.text
    assert CALLER not in logged and CARD not in logged
    assert mask_number(CALLER) in logged  # the run's first line: masked, not left out
    assert "/customers/${caller}/cards/${last} failed" in logged  # the failed lookup
    assert "transfer target '${bad}' at main:wrong is not a number" in logged
    assert "Dial(Local/${again}@acd-transfer,30)" in logged
