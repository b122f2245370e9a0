"""The integrators' events (pure): masking per consumer, whose event is whose, type
filters, the webhook signature a receiver checks, the retry delays."""

from __future__ import annotations

from acd.core.commands import AgentStateChanged
from acd.core.model import AgentState
from acd.integration.events import (
    agent_state_event,
    call_event,
    concerns_agent,
    masked,
    retry_delay,
    signature,
    signature_valid,
    wanted,
)


def test_a_call_event_is_masked_for_a_consumer_without_the_right_to_numbers():
    event = {"id": "1-0", **call_event("call.ended", "c1", "1001", 5.0, {
        "caller": "13800138000", "variables": {"order": "98765432", "lang": "zh"},
        "sensitive_variables": ["order"], "transfer": "extension:13912345678"})}
    out = masked(event, full_numbers=False)["data"]
    assert out["caller"] == "13******000" and out["variables"] == {"order": "98****32",
                                                                     "lang": "zh"}
    assert out["transfer"] == "extension:13******678"
    assert masked(event, full_numbers=True) is event
    assert event["data"]["caller"] == "13800138000"  # the feed's copy stays whole


def test_a_transfer_target_number_is_masked_too():
    event = call_event("call.transferred", "c1", "1001", 5.0,
                       {"kind": "extension", "target": "13912345678"})
    assert masked(event, full_numbers=False)["data"]["target"] == "13******678"


def test_an_agents_state_event_says_state_reason_and_since():
    event = agent_state_event(AgentStateChanged("1001", AgentState.PAUSED, "lunch", 9.0))
    assert event == {"type": "agent.state", "time": 9.0, "call_id": "", "agent_id": "1001",
                     "data": {"state": "paused", "reason": "lunch", "since": 9.0}}
    assert concerns_agent(event, "1001") and not concerns_agent(event, "1002")
    assert not concerns_agent(event, "")


def test_filters_take_exact_types_families_and_everything():
    assert wanted("call.held", ["call.*"]) and wanted("agent.state", ["*"])
    assert wanted("call.ended", ["call.ended"]) and not wanted("call.held", ["call.ended"])
    assert not wanted("agent.state", ["call.*"])


def test_a_receiver_accepts_a_fresh_signed_body_and_refuses_a_changed_or_old_one():
    body = b'{"id":"1-0"}'
    header = signature("k", "1000", body)
    assert header.startswith("sha256=")
    assert signature_valid("k", "1000", body, header, now=1010)
    assert not signature_valid("k", "1000", body + b" ", header, now=1010)
    assert not signature_valid("other", "1000", body, header, now=1010)
    assert not signature_valid("k", "1000", body, header, now=1000 + 301)  # a replay
    assert not signature_valid("k", "soon", body, header, now=1000)


def test_retries_wait_twice_as_long_each_time_up_to_the_cap():
    assert [retry_delay(n, 1.0, 300.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(20, 1.0, 300.0) == 300.0 and retry_delay(10_000, 1.0, 60.0) == 60.0
