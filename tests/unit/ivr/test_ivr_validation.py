"""Each kind of mistake in a flow file gives `file:line:column: message` with a way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.ivr import build_flowset
from acd.media.prompts import PromptLibrary

from .fakes import errors_of

MENU = """
nodes:
  menu:
    type: menu
    prompt: {text: 请选择}
    choices:
      1: operator
    exhausted: operator
  operator: {type: queue, queue: support}
"""


def test_a_correct_flow_has_no_errors():
    assert errors_of(MENU) == []


def test_unknown_node_type_suggests_the_closest():
    assert errors_of("""
        nodes:
          menu:
            type: meun
    """) == ["3:5: node 'menu': unknown node type 'meun' (did you mean 'menu'?); types: play, "
             "announcement, menu, collect, say, lookup, branch, schedule, queue, voicemail, "
             "transfer, goto, set, hangup"]


def test_unknown_field_suggests_the_closest_and_lists_the_allowed():
    errors = errors_of(MENU.replace("    exhausted:", "    timout: 5\n    exhausted:"))
    assert errors == ["7:5: menu node 'menu': unknown field 'timout' (did you mean 'timeout'?); "
                      "allowed: choices, description, exhausted, invalid, no_input, prompt, "
                      "retries, timeout, type"]


@pytest.mark.parametrize(("line", "error"), [
    ("    timeout: soon", "7:5: menu node 'menu': 'timeout' must be a number of seconds, "
                          "not 'soon'"),
    ("    retries: two", "7:5: menu node 'menu': 'retries' must be a whole number, not 'two'"),
    ("    retries: 11", "7:5: menu node 'menu': 'retries' must be between 0 and 10, not 11"),
    ("    invalid: [{text: 错误, lang: fr}]",
     "7:26: menu node 'menu': unknown language 'fr'; configured: zh, en"),
])
def test_wrong_types_and_ranges_point_at_the_field(line: str, error: str):
    assert errors_of(MENU.replace("    exhausted:", line + "\n    exhausted:")) == [error]


def test_missing_required_field_points_at_the_node():
    assert errors_of("""
        nodes:
          menu:
            type: menu
            prompt: {text: 请选择}
            exhausted: menu
    """) == ["2:3: menu node 'menu': missing field 'choices' (digit: node id lines)"]


def test_reference_to_a_missing_node_suggests_the_closest():
    assert errors_of(MENU.replace("exhausted: operator", "exhausted: operater")) == [
        "7:5: menu node 'menu': exhausted goes to node 'operater', which flow 'bad' does not "
        "have (did you mean 'operator'?)"]


def test_goto_to_a_missing_flow_or_node():
    text = """
        nodes:
          a: {type: goto, flow: mian}
          b: {type: goto, flow: bad, node: nope}
    """
    assert errors_of(text) == [
        "2:19: goto node 'a': no flow named 'mian'; flows are the files in the flows folder: bad",
        "3:3: goto node 'b' is never reached from the start ('a'): lead to it from a menu "
        "choice or 'next', or delete it",
        "3:30: goto node 'b': flow 'bad' has no node 'nope'",
    ]


def test_unknown_queue_and_schedule_suggest_the_configured_ones():
    assert errors_of("""
        nodes:
          hours: {type: schedule, schedule: suport, open: q, closed: q}
          q: {type: queue, queue: complaint}
    """) == [
        "2:27: schedule node 'hours': unknown schedule 'suport' (did you mean 'support'?); "
        "configured schedules: support",
        "3:20: queue node 'q': unknown queue 'complaint' (did you mean 'complaints'?); "
        "configured queues: complaints, support, vip",
    ]


def test_unreachable_node_is_reported_at_its_id():
    assert errors_of(MENU + "  orphan: {type: hangup}\n") == [
        "9:3: hangup node 'orphan' is never reached from the start ('menu'): lead to it from a "
        "menu choice or 'next', or delete it"]


def test_duplicate_menu_digit_is_reported_at_the_second_one():
    assert errors_of(MENU.replace("      1: operator\n", "      1: operator\n      1: menu\n")) \
        == ["7:7: duplicate key '1'; each menu digit, node id and field may appear only once"]


def test_menu_choice_must_be_a_phone_key():
    assert errors_of(MENU.replace("      1: operator", "      12: operator")) == [
        "6:7: menu node 'menu': choice '12' is not a key of the phone pad: use one of 0-9, * or # "
        "(quote * and #)"]


def test_loop_that_never_waits_for_the_caller_is_refused():
    assert errors_of("""
        nodes:
          count: {type: set, values: {n: "1"}, next: check}
          check:
            type: branch
            cases: [{variable: n, equals: "2", next: done}]
            default: count
          done: {type: hangup}
    """) == ["2:3: set node 'count': these nodes loop without waiting for the caller or playing "
             "anything: bad:count -> bad:check -> bad:count; put a play, menu or collect node in "
             "the loop, or end it"]


def test_collect_pattern_outside_the_phone_key_syntax_points_at_the_field():
    assert errors_of("""
        nodes:
          order:
            type: collect
            variable: order
            max_length: 8
            pattern: "[0-9"
            prompt: {text: 请输入}
            next: bye
            exhausted: bye
          bye: {type: hangup}
    """) == ["6:5: collect node 'order': 'pattern' has a '[' without its ']' (character 1); "
             "a pattern may use keys 0-9, # and \\*, '.' for any key, classes such as [0-9], "
             "groups (1|2) and the repeats ? * + {m,n}"]


def test_placeholders_must_be_well_formed_and_variables_set_somewhere():
    assert errors_of("""
        nodes:
          a: {type: play, prompt: {text: "订单 ${ order}"}, next: b}
          b: {type: say, digits: "${ordr}", next: c}
          c: {type: hangup}
    """) == [
        "2:28: play node 'a': 'text': bad placeholder '${ order}': write ${name} with letters, "
        "digits and '_' only",
        "3:18: say node 'b': variable 'ordr' is never set; set it with a collect, set or "
        "lookup node (built in: call_id, called, caller, lang)",
    ]


def test_yaml_syntax_error_has_its_position():
    assert errors_of("nodes:\n  a: {type: hangup\n") == [
        "3:1: YAML syntax error: expected ',' or '}', but got '<stream end>'"]


def test_every_error_of_every_file_is_returned_in_file_order(tmp_path: Path):
    good = tmp_path / "a.yaml"
    good.write_text("nodes:\n  x: {type: goto, flow: c}\n")
    bad = tmp_path / "b.yaml"
    bad.write_text("nodes:\n  y: {type: queue, queue: nope}\n  z: {type: hangup, colour: red}\n")
    flows, errors = build_flowset({good: good.read_text(), bad: bad.read_text()},
                                  known_queues={"support"}, schedule_names=set(), library=None)
    assert flows is None
    assert [str(e).removeprefix(str(tmp_path) + "/") for e in errors] == [
        "a.yaml:2:19: goto node 'x': no flow named 'c'; flows are the files in the flows "
        "folder: a, b",
        "b.yaml:2:20: queue node 'y': unknown queue 'nope'; configured queues: support",
        "b.yaml:3:21: hangup node 'z': unknown field 'colour'; allowed: description, prompt, type",
    ]


class TestPromptFiles:
    @pytest.fixture
    def library(self, tmp_path: Path) -> PromptLibrary:
        (tmp_path / "zh").mkdir()
        (tmp_path / "zh" / "welcome.wav").write_bytes(b"RIFF")
        return PromptLibrary(tmp_path, tmp_path / "cache")

    def test_missing_recording_without_text_is_an_error(self, library: PromptLibrary):
        errors = errors_of("""
            nodes:
              a: {type: play, prompt: [welcome, menu_intro], next: b}
              b: {type: hangup}
        """, library=library)
        assert errors == [f"2:37: play node 'a': no recording 'menu_intro' in "
                          f"{library.prompts_dir}/zh/: record zh/menu_intro.wav, or give its "
                          "words with {file: menu_intro, text: ...} to have it spoken"]

    def test_missing_recording_with_text_is_fine(self, library: PromptLibrary):
        assert errors_of("""
            nodes:
              a: {type: hangup, prompt: {file: menu_intro, text: 欢迎}}
        """, library=library) == []
