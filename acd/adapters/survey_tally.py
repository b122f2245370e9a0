"""The wallboard's satisfaction split: each queue's answers to its survey's first
question (1 satisfied, 2 average, 3 unsatisfied), as the call records are written.

A counter of acd.adapters.prometheus.surveys.SurveyCountingStore, which sees each answer
once on its way to the record (the record is the one place a survey answer is written;
the routing core's statistics have no survey). A call resumed after a restart whose
queue this process never saw counts for no queue. `KeptSplit` also counts each answer
in Redis per day (acd.adapters.redis.survey_split_store), so that a restarted acd shows
today's split as it was, not zeros.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from acd.console.wallboard import SURVEY_ANSWERS

log = logging.getLogger(__name__)


class SatisfactionSplit:
    def __init__(self, answered: Callable[[str, str], None],
                 questions: Callable[[str], list[str]]) -> None:
        #: (queue, answer) -> the wallboard
        self.answered = answered
        #: a queue -> its survey's questions, in order
        self.questions = questions

    def survey_answered(self, queue: str, question: str, answer: str) -> None:
        if queue == "unknown" or answer not in SURVEY_ANSWERS:
            return
        names = self.questions(queue)
        if question == (names[0] if names else "q1"):
            self.answered(queue, answer)


class SplitStore(Protocol):
    """acd.adapters.redis.survey_split_store.SurveySplitStore."""

    async def count(self, period: str, queue: str, answer: str) -> None: ...

    async def load(self, period: str) -> dict[str, dict[str, int]]: ...


class SplitBoard(Protocol):
    """What of the wallboard's stream (acd.adapters.http.live.LiveStream) the split
    needs."""

    def survey_answered(self, queue: str, answer: str) -> None: ...

    def restore_surveys(self, surveys: dict[str, dict[str, int]], period: str) -> None: ...


class KeptSplit:
    """The split shown on the wallboard at once and counted in Redis for the day (off
    the call's path: a slow or absent Redis never delays a caller's survey)."""

    def __init__(self, board: SplitBoard, store: SplitStore,
                 period: Callable[[], str]) -> None:
        self.board = board
        self.store = store
        #: today's period key (the routing core's day, in the configured time zone)
        self.period = period
        self._saving: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        """Today's split as counted before a restart (nothing when Redis is away: the
        split then starts from zero, as it used to)."""
        period = self.period()
        try:
            split = await self.store.load(period)
        except Exception as exc:
            log.warning("today's satisfaction split not read back (%s): it starts from "
                        "zero", exc)
            return
        self.board.restore_surveys(split, period)

    def answered(self, queue: str, answer: str) -> None:
        self.board.survey_answered(queue, answer)
        task = asyncio.create_task(self._save(self.period(), queue, answer))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _save(self, period: str, queue: str, answer: str) -> None:
        try:
            await self.store.count(period, queue, answer)
        except Exception as exc:  # the wallboard has it; only a restart would lose it
            log.warning("survey answer %s of queue %s not counted in Redis (%s): a restart "
                        "today would show the split without it", answer, queue, exc)
