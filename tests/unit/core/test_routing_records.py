"""The JSON records of the routing core: every field is written, and old or newer records load.

The records are typed (TypedDict) and written field by field, so mypy checks each
key; these tests catch the one thing it cannot: a field added to a run-time class
but not to its record, which would silently not be persisted.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from acd.core.agents import AgentRuntime
from acd.core.calls import CallRuntime, CallState
from acd.core.model import AgentConfig, AgentState
from acd.core.stats import AgentStats, QueueStats


def field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def a_call() -> CallRuntime:
    return CallRuntime("c1", "13800138000", 2, frozenset({"en"}), 7, "sales", 10.0, 12.0,
                       ["sales", "support"], CallState.RINGING, ringing=["1001"])


def test_every_statistics_counter_is_in_its_record():
    assert set(QueueStats().to_dict()) == field_names(QueueStats)
    assert set(AgentStats().to_dict()) == field_names(AgentStats)


def test_every_field_of_a_caller_is_in_its_record():
    assert set(a_call().to_dict()) == field_names(CallRuntime)


def test_every_run_time_field_of_an_agent_is_in_its_record():
    configured = {"config", "number_rank"}  # rebuilt from the configuration, not stored
    record = AgentRuntime(AgentConfig("1001")).to_dict()
    assert set(record) == field_names(AgentRuntime) - configured


def test_a_caller_survives_its_record():
    call = a_call()
    assert CallRuntime.from_dict(call.to_dict()) == call


def test_statistics_survive_their_records():
    stats = AgentStats(answered=3, talk_seconds=90.5, state_seconds={"available": 12.0})
    assert AgentStats.from_dict(stats.to_dict()) == stats
    queue = QueueStats(offered=4, answered=3, longest_wait_seconds=31.0)
    assert QueueStats.from_dict(queue.to_dict()) == queue


def test_a_record_from_another_version_loads_what_this_version_knows():
    older: Any = {"answered": 2}  # counters added later start at zero
    newer: Any = {**QueueStats(answered=2).to_dict(), "counted_by_a_newer_acd": 1}
    assert QueueStats.from_dict(older) == QueueStats(answered=2)
    assert QueueStats.from_dict(newer) == QueueStats(answered=2)
    call = {k: v for k, v in a_call().to_dict().items() if k != "expired"}
    assert CallRuntime.from_dict({**call, "unknown": 1}) == a_call()


def test_an_agent_record_lacking_newer_fields_keeps_the_agent_s_values():
    agent = AgentRuntime(AgentConfig("1001"), device="PJSIP/1001", missed_in_row=1)
    older: Any = {"state": "paused", "reason": "lunch", "stats": {"answered": 5}}
    agent.load(older)
    assert (agent.state, agent.reason, agent.device, agent.missed_in_row) == (
        AgentState.PAUSED, "lunch", "PJSIP/1001", 1)
    assert agent.stats.answered == 5 and agent.stats.state_seconds == {}
