"""Survey answers counted on their way to the call record: the call path's CallStore
port (acd.callflow.ports) with a look at each write.

The session puts the answers on the record once, in the write after the last
question (its writes carry only what changed), so each answer is counted once. The
record holds them in question order, comma-joined when a queue asks several.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from acd.callflow.ports import CallStore
from acd.callflow.record import CallRecord

#: records remembered at most: a call that goes on elsewhere (a callback booked, a phone
#: transfer) is never closed here, and must not be remembered for ever
MAX_REMEMBERED = 50_000
#: what a caller can press, and the survey's word for no valid key
_KEYS = frozenset("0123456789*#")
_NOT_ANSWERS = ("", "not-surveyed")


class SurveyCounter(Protocol):
    def survey_answered(self, queue: str, question: str, answer: str) -> None: ...


def answer_label(value: str) -> str:
    """A key or 'no-answer'; anything else (never expected) is 'other', so that no value
    from a record can become a label."""
    return value if value in _KEYS or value == "no-answer" else "other"


class SurveyCountingStore:
    """A CallStore that tells `counters` of each survey answer it writes (the metrics,
    the wallboard's satisfaction split)."""

    def __init__(self, store: CallStore, counters: Sequence[SurveyCounter],
                 questions: Callable[[str], list[str]]) -> None:
        self._store = store
        self._counters = tuple(counters)
        #: a queue -> its questions' names, in order (the call settings' survey)
        self._questions = questions
        #: the last queue of each open record: the one whose survey the caller hears
        self._queue: dict[str, str] = {}

    def _look(self, call_id: str, fields: Mapping[str, object], *, closing: bool) -> None:
        queues = fields.get("queues")
        if isinstance(queues, list) and queues:
            self._queue[call_id] = str(queues[-1])
            if len(self._queue) > MAX_REMEMBERED:
                del self._queue[next(iter(self._queue))]  # the oldest
        survey = fields.get("survey")
        queue = self._queue.pop(call_id, "") if closing else self._queue.get(call_id, "")
        if not isinstance(survey, str) or survey in _NOT_ANSWERS:
            return
        queue = queue or "unknown"  # a call resumed after a restart, its queue unchanged
        names = self._questions(queue) if queue != "unknown" else []
        values = survey.split(",") if len(names) > 1 else [survey]
        for index, value in enumerate(values):
            question = names[index] if index < len(names) else f"q{index + 1}"
            for counter in self._counters:
                counter.survey_answered(queue, question, answer_label(value))

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self._look(call_id, fields, closing=False)
        await self._store.open_call(call_id, fields)

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self._look(call_id, changes, closing=False)
        await self._store.save_call(call_id, changes)

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self._look(call_id, changes, closing=True)
        await self._store.close_call(call_id, changes)

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self._look(call_id, fields, closing=True)
        await self._store.record_call(call_id, fields)

    async def get_call(self, call_id: str) -> CallRecord | None:
        return await self._store.get_call(call_id)

    async def active_call_ids(self) -> set[str]:
        return await self._store.active_call_ids()
