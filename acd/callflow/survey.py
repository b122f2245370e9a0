"""Where the survey is decided: after the agent hangs up, the caller rates the call.

Default: one question, 1 satisfied (满意) / 2 average (一般) / 3 unsatisfied (不满意).
An invalid or missing key is asked again `retries` times, then recorded as
'no-answer'. A queue may have its own questions (several, each with its prompt and
valid keys). The answer is on the record as soon as the last question is answered,
so a caller who hangs up during the thanks keeps it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.callflow import notices
from acd.callflow import orders as o
from acd.callflow.state import Script, reply_to
from acd.media import phrases

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

ANSWER_LABELS = {"1": "satisfied", "2": "average", "3": "unsatisfied"}

#: a prompt as config.yaml writes it: text, or text by language ({zh: ..., en: ...})
Prompt = str | dict[str, str]


@dataclass(frozen=True)
class SurveyQuestion:
    name: str = "satisfaction"
    prompt: Prompt = field(default_factory=lambda: {
        "zh": "请对本次服务进行评价，满意请按1，一般请按2，不满意请按3。",
        "en": "Please rate our service: press 1 if satisfied, 2 for average, "
              "3 if unsatisfied."})
    digits: str = "123"


@dataclass(frozen=True)
class SurveyConfig:
    enabled: bool = True
    questions: tuple[SurveyQuestion, ...] = (SurveyQuestion(),)
    timeout: float = 5.0
    retries: int = 1
    invalid_prompt: Prompt = field(default_factory=lambda: {
        "zh": "输入无效。", "en": "That is not a valid choice."})
    thanks_prompt: Prompt = field(default_factory=lambda: {
        "zh": "感谢您的评价，再见。", "en": "Thank you for your feedback. Goodbye."})


def ask(s: CallSession, queue: str) -> Script[None]:
    config = s.settings.survey(queue)
    if not config.enabled:
        s.change(survey="not-surveyed")
        return
    languages = s.settings.languages
    s.change(survey="not-surveyed")  # until the caller answers (they may hang up)
    answers: dict[str, str] = {}
    answered: list[dict[str, object]] = []
    for question in config.questions:
        answer = "no-answer"
        prompts = phrases.spoken(question.prompt, s.lang, languages)
        for attempt in range(config.retries + 1):
            got = yield from reply_to(o.CollectDigits(prompts, config.timeout, 1))
            if got.digits and got.digits in question.digits:
                answer = got.digits
                answered.append({"question": question.name, "answer": answer, "queue": queue,
                                 "agent": s.record.agent, "answered_at": s.now})
                break
            if attempt < config.retries:
                yield o.PlayPrompts(phrases.spoken(config.invalid_prompt, s.lang, languages))
        answers[question.name] = answer
    s.change(survey=",".join(answers.values()) if len(answers) > 1
             else next(iter(answers.values()), "not-surveyed"), survey_answers=answered)
    notices.survey_answered(s, s.record.survey, answered)
    log.info("%s: survey %s", s.describe(), answers)
    yield o.PlayPrompts(phrases.spoken(config.thanks_prompt, s.lang, languages))
    yield o.HangUp()
