"""The call records as the call path writes them, with each survey answer told to the
wallboard on the way (the record is the one place a survey answer is written; the
routing core's statistics have no survey).

The answer counts for the last queue the call was in; a call resumed after a restart
whose queue this process never saw counts for no queue. The split is kept in memory:
after a restart it starts again from zero (the call records keep every answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from acd.callflow.ports import CallStore
from acd.callflow.record import CallRecord
from acd.console.wallboard import SURVEY_ANSWERS


class SurveyTally:
    def __init__(self, store: CallStore, answered: Callable[[str, str], None]) -> None:
        self.store = store
        self.answered = answered
        self._queue: dict[str, str] = {}  # call id -> the last queue it was in
        self._counted: set[str] = set()

    def _note(self, call_id: str, changes: Mapping[str, object]) -> None:
        queues = changes.get("queues")
        if isinstance(queues, list) and queues:
            self._queue[call_id] = str(queues[-1])
        survey = changes.get("survey")
        if not isinstance(survey, str) or call_id in self._counted:
            return
        first = survey.split(",")[0]  # several questions: the first is the satisfaction
        queue = self._queue.get(call_id, "")
        if first in SURVEY_ANSWERS and queue:
            self._counted.add(call_id)
            self.answered(queue, first)

    def _forget(self, call_id: str) -> None:
        self._queue.pop(call_id, None)
        self._counted.discard(call_id)

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        self._note(call_id, fields)
        await self.store.open_call(call_id, fields)

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self._note(call_id, changes)
        await self.store.save_call(call_id, changes)

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        self._note(call_id, changes)
        self._forget(call_id)
        await self.store.close_call(call_id, changes)

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self.store.record_call(call_id, fields)

    async def get_call(self, call_id: str) -> CallRecord | None:
        return await self.store.get_call(call_id)

    async def active_call_ids(self) -> set[str]:
        return await self.store.active_call_ids()
