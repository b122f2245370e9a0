"""The survey's words and keys in config.yaml are checked when the config is read, as the
announcement and the whispers are: never first heard of by a caller."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.sections import load_sections
from acd.config.settings import ConfigError, load_config

BASE = 'queues:\n  support: {members: ["1001"]}\nagents:\n  "1001": {pin: "1"}\n'


def sections_of(tmp_path: Path, survey: str):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + "survey:\n" + survey, encoding="utf-8")
    return load_sections(load_config(path))


def test_a_survey_in_the_configured_languages_is_taken(tmp_path):
    sections = sections_of(tmp_path, (
        "  default:\n"
        "    questions:\n"
        "      - {prompt: {zh: 满意请按1, en: Press 1 if satisfied}, digits: '12'}\n"
        "    thanks_prompt: 谢谢\n"))
    assert sections.surveys["support"].questions[0].digits == "12"


@pytest.mark.parametrize(("survey", "expected"), [
    ("  default: {thanks_prompt: {fr: merci}}\n",
     "config.yaml:6:3: survey.default.thanks_prompt: the language must be one of zh, en"),
    (f"  default: {{invalid_prompt: {'长' * 501}}}\n",
     "survey.default.invalid_prompt: the text has 501 characters; at most 500"),
    ('  default: {thanks_prompt: "bye\\u0007"}\n',
     "survey.default.thanks_prompt: the text may not contain control characters"),
    ("  default:\n    questions: [{digits: '1a'}]\n",
     "survey.default.questions[0].digits: keys a caller can press (0-9, * and #), not '1a'"),
])
def test_a_survey_prompt_or_key_that_cannot_be_spoken_or_pressed_is_refused(
    tmp_path, survey, expected
):
    with pytest.raises(ConfigError) as info:
        sections_of(tmp_path, survey)
    assert any(expected in str(e) for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(("section", "expected"), [
    ("survey: [thanks]\n",
     "config.yaml:5:9: survey: expected a mapping of queue (or default) to its survey"),
    ("pause_reasons: [lunch, away]\n",
     "config.yaml:5:16: pause_reasons: expected a mapping of code to reason"),
])
def test_a_section_written_as_a_list_is_refused_not_ignored(tmp_path, section, expected):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + section, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sections(load_config(path))
    assert any(expected in str(e) for e in info.value.errors), info.value.errors
