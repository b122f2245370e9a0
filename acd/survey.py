"""The satisfaction survey played after the agent hangs up.

Default: one question, 1 satisfied (满意) / 2 average (一般) / 3 unsatisfied
(不满意). Invalid or no digit: one retry, then thanks and goodbye. A queue may
configure its own questions (several, each with its prompt and valid digits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acd.channel import Channel

ANSWER_LABELS = {"1": "satisfied", "2": "average", "3": "unsatisfied"}


@dataclass(frozen=True)
class SurveyQuestion:
    name: str = "satisfaction"
    prompt: Any = field(default_factory=lambda: {
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
    invalid_prompt: Any = field(default_factory=lambda: {
        "zh": "输入无效。", "en": "That is not a valid choice."})
    thanks_prompt: Any = field(default_factory=lambda: {
        "zh": "感谢您的评价，再见。", "en": "Thank you for your feedback. Goodbye."})


async def run_survey(channel: Channel, config: SurveyConfig, resolve: Any) -> dict[str, str]:
    """Ask every question; return {question name: digit, or 'no-answer'}.

    `resolve` turns a prompt spec into file paths (the prompt library).
    """
    answers: dict[str, str] = {}
    for question in config.questions:
        answer = "no-answer"
        prompts = await resolve(question.prompt)
        for attempt in range(config.retries + 1):
            digit = await channel.get_digits(prompts, config.timeout, 1)
            if digit and digit in question.digits:
                answer = digit
                break
            if attempt < config.retries:
                await channel.play(await resolve(config.invalid_prompt))
        answers[question.name] = answer
    await channel.play(await resolve(config.thanks_prompt))
    return answers
