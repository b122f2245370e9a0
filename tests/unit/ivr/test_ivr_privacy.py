"""The number firewall, IVR side: what is sensitive is named, and the IVR's log never shows it."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from acd.adapters.http.lookup import HttpLookupClient
from acd.ivr import QueueHandoff
from acd.ivr.actions import FetchLookup, PutThrough
from acd.privacy import set_log_full_numbers

from .fakes import errors_of, flows_from
from .walk import Walk, walk

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


def run(flow: str) -> Walk:
    return walk(flows_from({"main": flow}), [CARD], variables={"caller": CALLER})


def test_the_flowset_names_the_caller_sensitive_digits_and_their_copies():
    result = run(FLOW.replace("PORT", "1"))
    assert isinstance(result.outcome, QueueHandoff)
    assert result.interpreter.sensitive == {"caller", "card", "last", "again", "bad"}
    assert result.variables["again"] == CARD  # the call path masks it; the IVR keeps it


def test_without_sensitive_collects_only_the_caller_is_sensitive():
    result = run(FLOW.replace("PORT", "1").replace("    sensitive: true\n", ""))
    assert result.interpreter.sensitive == {"caller"}


def test_sensitive_must_be_true_or_false():
    errors = errors_of(FLOW.replace("sensitive: true", "sensitive: sometimes"))
    assert errors[0] == ("5:5: collect node 'ask': 'sensitive' must be true or false, "
                         "not 'sometimes'")


def test_the_interpreters_log_lines_and_shown_arguments_never_hold_sensitive_values(
    caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="acd")
    result = run(FLOW.replace("PORT", "1"))
    assert PutThrough(CARD, "acd-transfer", 30, "${again}") in result.connections()
    logged = caplog.text
    assert CALLER not in logged and CARD not in logged
    assert "transfer target '${bad}' at main:wrong is not a number" in logged


async def test_a_failed_lookup_is_logged_with_the_url_the_flow_may_show(
    client: HttpLookupClient, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="acd")
    [request] = [a.request for a in run(FLOW.replace("PORT", str(free_port()))).actions
                 if isinstance(a, FetchLookup)]
    assert CALLER in request.url and CARD in request.url  # what is sent: the real values
    await client.fetch(request)
    logged = caplog.text
    assert CALLER not in logged and CARD not in logged
    assert "/customers/${caller}/cards/${last} failed" in logged
