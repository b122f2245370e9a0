"""What the metrics take from each source: AGI command names without their arguments,
survey answers counted once per answer and question, the routing core's orders counted
once each, and the metrics section of config.yaml checked with its position."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from acd.adapters.asterisk.agi_observer import command_name
from acd.adapters.prometheus.counters import EventMetrics
from acd.adapters.prometheus.surveys import SurveyCountingStore, answer_label
from acd.callflow.record import CallRecord
from acd.config.settings import ConfigError, load_config
from acd.core import commands as cmd


@pytest.mark.parametrize(("command", "name"), [
    ("ANSWER", "ANSWER"),
    ('SET VARIABLE ACD_FALLBACK "1"', "SET VARIABLE"),
    ('GET FULL VARIABLE "${DIALSTATUS}"', "GET FULL"),
    ('EXEC MixMonitor "/rec/13800138000.wav,b"', "EXEC MixMonitor"),
    ('SAY DIGITS 13800138000 ""', "SAY DIGITS"),
    ("13800138000", "?"),
])
def test_an_agi_command_is_named_by_its_words_never_its_arguments(command, name):
    assert command_name(command) == name


def test_a_survey_value_that_is_not_a_key_never_becomes_a_label():
    assert [answer_label(v) for v in ("1", "#", "no-answer", "13800138000", "")] == [
        "1", "#", "no-answer", "other", "other"]


class Memory:
    """The call store under the counting one (pure bookkeeping for this test)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, object]]] = []

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self.writes.append(("open", dict(fields)))

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self.writes.append(("save", dict(changes)))

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self.writes.append(("close", dict(changes)))

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self.writes.append(("record", dict(fields)))

    async def get_call(self, call_id: str) -> CallRecord | None:
        return None

    async def active_call_ids(self) -> set[str]:
        return set()


class Answers:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def survey_answered(self, queue: str, question: str, answer: str) -> None:
        self.seen.append((queue, question, answer))


QUESTIONS = {"support": ["satisfaction"], "vip": ["agent", "solved"]}


async def test_each_survey_answer_is_counted_once_for_the_queue_the_caller_was_in():
    memory, answers = Memory(), Answers()
    store = SurveyCountingStore(memory, [answers], lambda q: QUESTIONS.get(q, []))
    await store.open_call("c1", {"caller": "13800138000", "queues": [], "survey": ""})
    await store.save_call("c1", {"queues": ["support"]})
    await store.save_call("c1", {"survey": "not-surveyed", "agent": "1001"})
    await store.save_call("c1", {"survey": "3"})
    await store.close_call("c1", {"outcome": "answered"})
    await store.open_call("c2", {"queues": ["support", "vip"]})
    await store.close_call("c2", {"survey": "1,no-answer"})
    await store.record_call("c3", {"queues": [], "survey": "2"})  # no queue on record
    assert answers.seen == [("support", "satisfaction", "3"), ("vip", "agent", "1"),
                            ("vip", "solved", "no-answer"), ("unknown", "q1", "2")]
    assert [kind for kind, _ in memory.writes] == [
        "open", "save", "save", "save", "close", "open", "close", "record"]


def test_each_routing_order_is_counted_once_for_its_queue():
    metrics = EventMetrics(CollectorRegistry())
    metrics.start_queues(["support"])
    target = cmd.RingTarget("1001", "PJSIP/agent1001")
    for command in [cmd.RingAgents("c1", "support", (target, target), 15.0),
                    cmd.CallRouted("c1", "support", "1001", 12.0),
                    cmd.CallCompleted("c1", "support", "answered", "1001", 12.0, 60.0),
                    cmd.CallCompleted("c2", "support", "abandoned", "", 40.0, 0.0),
                    cmd.AnnouncePosition("c3", 1, 30)]:
        metrics.on_routing(command)
    assert metrics.offered.labels("support")._value.get() == 2
    assert metrics.completed.labels("support", "answered")._value.get() == 1
    assert metrics.completed.labels("support", "exited")._value.get() == 0
    assert metrics.rings.labels("support")._value.get() == 2
    assert metrics.answer_wait.labels("support")._sum.get() == 12.0


def test_a_short_metrics_token_is_refused_at_its_line(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ACD_TEST_SHORT_TOKEN", "abc")
    path = tmp_path / "config.yaml"
    path.write_text("metrics:\n  token_env: ACD_TEST_SHORT_TOKEN\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [str(e) for e in info.value.errors] == [
        f"{path}:2:3: metrics.token_env: $ACD_TEST_SHORT_TOKEN holds 3 characters; a "
        "token needs 16 or more (e.g. the output of `openssl rand -hex 24`)"]
    path.write_text("metrics:\n  token_env: not a name\n  allow_loopback: true\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "is not an environment variable name" in str(info.value.errors[0])
