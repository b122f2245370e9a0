"""A blacklist `announce` entry must name a recording its callers will hear: in each
language a caller can be in when the lists are consulted (the numbers' languages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.announce_prompts import AnnouncePrompts, caller_languages
from acd.config.settings import load_config
from acd.media.prompts import PromptLibrary
from acd.rules.caller_csv import CsvError, parse_csv
from acd.rules.caller_entries import CallerEntry, make_entry


def prompts(tmp_path: Path, *recorded: str, languages: tuple[str, ...] = ("zh",)
            ) -> AnnouncePrompts:
    for path in recorded:
        (tmp_path / "prompts" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "prompts" / path).write_bytes(b"RIFF")
    library = PromptLibrary(tmp_path / "prompts", tmp_path / "cache", ("zh", "en"))
    return AnnouncePrompts(library, languages)


def announce(target: str) -> CallerEntry:
    return make_entry("black", "prefix", "170", "announce", target)


def test_an_announce_prompt_with_no_recording_is_refused_naming_where_acd_looked(tmp_path):
    problem = prompts(tmp_path).problem(announce("no_virtual"))
    assert problem.startswith("announce prompt 'no_virtual' does not exist: acd looked for "
                              f"{tmp_path / 'prompts' / 'zh' / 'no_virtual.wav'} (or .sln")
    assert "the built-in 'blocked' message instead" in problem


def test_a_recording_in_any_format_asterisk_plays_is_enough(tmp_path):
    checked = prompts(tmp_path, "zh/no_virtual.wav", "zh/closed_range.ulaw")
    assert checked.problem(announce("no_virtual")) == ""
    assert checked.problem(announce("closed_range")) == ""


def test_callers_of_an_english_number_need_the_english_recording_too(tmp_path):
    checked = prompts(tmp_path, "zh/no_virtual.wav", languages=("zh", "en"))
    problem = checked.problem(announce("no_virtual"))
    assert str(tmp_path / "prompts" / "en" / "no_virtual.wav") in problem
    assert str(tmp_path / "prompts" / "zh" / "no_virtual.wav") not in problem


def test_the_built_in_blocked_message_and_other_actions_need_no_recording(tmp_path):
    checked = prompts(tmp_path)
    assert checked.problem(announce("blocked")) == ""
    assert checked.problem(make_entry("black", "exact", "13800138000", "hangup")) == ""


def test_the_languages_checked_are_the_numbers_and_the_first_configured(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("languages: [zh, en]\nnumbers:\n"
                      "  '4008001234': {flow: main, language: en}\n"
                      "  '4008000001': {flow: main, language: fr}\n")
    assert caller_languages(load_config(config)) == ("zh", "en")


def test_a_csv_row_whose_announce_prompt_is_missing_is_reported_by_row(tmp_path):
    text = ("list,match,value,action,target,priority,expires,note\n"
            "black,exact,13800138000,announce,blocked,,,\n"
            "black,prefix,170,announce,no_virtual,,,\n")
    with pytest.raises(CsvError) as caught:
        parse_csv(text, prompts(tmp_path).problem)
    [(row, message)] = caught.value.problems
    assert row == 3 and message.startswith("announce prompt 'no_virtual' does not exist")
