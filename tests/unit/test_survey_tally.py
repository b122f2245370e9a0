"""The survey answers the wallboard counts (its satisfaction split), as the call path
writes them to the record: the first question's answer, once, for the last queue."""

from __future__ import annotations

from collections.abc import Mapping

from acd.adapters.prometheus.surveys import SurveyCountingStore
from acd.adapters.survey_tally import SatisfactionSplit

QUESTIONS = {"support": ["satisfaction"], "vip": ["agent", "solved"]}


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, object]] = {}

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self.records[call_id] = dict(fields)

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self.records[call_id].update(changes)

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self.records[call_id].update(changes)

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self.records[call_id] = dict(fields)

    async def get_call(self, call_id: str) -> None:
        return None

    async def active_call_ids(self) -> set[str]:
        return set(self.records)


def tally(store: MemoryStore, counted: list[tuple[str, str]]) -> SurveyCountingStore:
    def questions(queue: str) -> list[str]:
        return QUESTIONS.get(queue, [])

    split = SatisfactionSplit(lambda queue, answer: counted.append((queue, answer)),
                              questions)
    return SurveyCountingStore(store, [split], questions)  # type: ignore[arg-type]


async def test_an_answer_counts_once_for_the_last_queue_and_the_record_still_gets_it():
    store, counted = MemoryStore(), []
    counting = tally(store, counted)
    await counting.open_call("c1", {"queues": ["support"]})
    await counting.save_call("c1", {"queues": ["support", "vip"], "survey": "not-surveyed"})
    await counting.save_call("c1", {"survey": "1,2"})
    await counting.close_call("c1", {"outcome": "answered"})
    assert counted == [("vip", "1")]
    assert store.records["c1"]["survey"] == "1,2"


async def test_several_questions_count_the_first_and_no_answer_counts_nothing():
    store, counted = MemoryStore(), []
    counting = tally(store, counted)
    await counting.open_call("c1", {"queues": ["vip"]})
    await counting.close_call("c1", {"survey": "3,1"})
    await counting.open_call("c2", {"queues": ["support"]})
    await counting.close_call("c2", {"survey": "no-answer"})
    await counting.open_call("c3", {})  # (resumed: its queue is not known here)
    await counting.close_call("c3", {"survey": "2"})
    assert counted == [("vip", "3")]
