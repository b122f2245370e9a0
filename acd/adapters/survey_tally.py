"""The wallboard's satisfaction split: each queue's answers to its survey's first
question (1 satisfied, 2 average, 3 unsatisfied), as the call records are written.

A counter of acd.adapters.prometheus.surveys.SurveyCountingStore, which sees each answer
once on its way to the record (the record is the one place a survey answer is written;
the routing core's statistics have no survey). A call resumed after a restart whose
queue this process never saw counts for no queue. The split is kept in memory: after a
restart it starts again from zero (the call records keep every answer).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.console.wallboard import SURVEY_ANSWERS


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
