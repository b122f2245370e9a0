"""Collect patterns: the regular-expression subset over phone keys, matched without backtracking."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.ivr import QueueHandoff
from acd.ivr.keypattern import MAX_STATES, PatternError, compile_pattern

from .fakes import errors_of, flows_from
from .walk import walk


@pytest.mark.parametrize(("pattern", "keys", "matches"), [
    ("[0-9]{6,12}", "123456", True),  # ivr_flows/main.yaml
    ("[0-9]{6,12}", "12345", False),
    ("[0-9]{6,12}", "1234567890123", False),
    ("[0-9]+", "42", True),  # tests/unit/ivr/test_ivr_flows.py
    ("[0-9]+", "4*2", False),
    ("1[3-9][0-9]{9}", "13800138000", True),  # docs/ivr.md
    ("1[3-9][0-9]{9}", "12800138000", False),
    ("^(0|8[0-9])\\*[1-5]?$", "85*3", True),
    ("\\d{2,}#?", "12#", True),
    ("[^0].", "0*", False),
    ("(?:12|3){2}", "312", True),
])
def test_patterns_keep_the_meaning_they_have_as_regular_expressions(
    pattern: str, keys: str, matches: bool
):
    assert compile_pattern(pattern).fullmatch(keys) is matches
    assert (re.fullmatch(pattern, keys) is not None) is matches


# Patterns from the supported grammar, written out as text.
keys = st.sampled_from(["0", "5", "9", "#", "\\*", ".", "\\d", "[0-4]", "[^5]", "[1*]"])
repeats = st.sampled_from(["", "", "?", "*", "+", "{2}", "{0,2}", "{1,}"])
patterns = st.recursive(
    st.builds(lambda k, r: k + r, keys, repeats),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map("".join),
        st.builds(lambda a, b, r: f"({a}|{b}){r}", inner, inner, repeats),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(patterns, st.text(alphabet="0123456789*#", max_size=8))
def test_a_pattern_matches_exactly_what_the_same_regular_expression_matches(
    pattern: str, typed: str
):
    assert compile_pattern(pattern).fullmatch(typed) == (re.fullmatch(pattern, typed) is not None)


@pytest.mark.parametrize("pattern", [
    "(0|00)*1",  # exponential for re: 2**64 ways to split 64 zeros
    "([0-9]*)*#",
    "[0-9]*" * 30 + "#",  # 64**30 for re
])
def test_patterns_that_make_re_backtrack_are_matched_in_one_pass_over_the_keys(pattern: str):
    # fullmatch moves a set of at most `states` states once per key: this test
    # finishes on 64 keys where re.fullmatch would not finish at all.
    compiled = compile_pattern(pattern)
    assert compiled.states <= MAX_STATES
    assert compiled.fullmatch("0" * 64) is False
    assert compiled.fullmatch("0" * 63 + "1") is (pattern == "(0|00)*1")


@pytest.mark.parametrize(("pattern", "index", "message"), [
    ("(\\d)\\1", 4, "uses a backreference, which is not supported"),
    ("(?=1)[0-9]", 1, "uses '(?', which is not supported (no lookarounds, named groups or "
                      "flags): write a plain group ( )"),
    ("[0-9]+?", 6, "repeats a repeat (lazy and possessive forms are not supported): put the "
                   "inner part in a group"),
    ("\\w+", 0, "uses '\\w', which is not a phone key (only \\*, \\# and \\d are)"),
    ("12a", 2, "'a' is not a phone key"),
    ("*1", 0, "has nothing to repeat before it: write \\* for the star key"),
    ("1{65}", 1, "repeats more than 64 times, more keys than a caller can type"),
    ("([0-9]{64}){64}", 0, f"is too complex (its repeats multiply to more than {MAX_STATES} "
                           "steps): write it more simply"),
    ("(" * 17 + "1" + ")" * 17, 16, "nests groups more than 16 deep"),
    ("1$2", 1, "'$' is only allowed at the very start or end"),
])
def test_syntax_outside_the_subset_is_refused_with_where_and_why(
    pattern: str, index: int, message: str
):
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert (caught.value.index, str(caught.value)) == (index, message)


COLLECT = """
nodes:
  ask:
    type: collect
    variable: card
    max_length: 8
    pattern: "{pattern}"
    prompt: {{text: 请输入}}
    next: done
    exhausted: done
  done: {{type: queue, queue: support}}
"""


def test_a_flow_with_a_backtracking_free_subset_pattern_loads_and_a_lookaround_is_refused():
    assert errors_of(COLLECT.format(pattern="(0|00)*1")) == []
    assert errors_of(COLLECT.format(pattern="(?!0)[0-9]+")) == [
        "6:5: collect node 'ask': 'pattern' uses '(?', which is not supported (no lookarounds, "
        "named groups or flags): write a plain group ( ) (character 2); a pattern may use keys "
        "0-9, # and \\*, '.' for any key, classes such as [0-9], groups (1|2) and the repeats "
        "? * + {m,n}"]


def test_a_collect_retries_until_the_keys_match_its_pattern():
    flows = flows_from({"main": COLLECT.format(pattern="8[0-9]{3}")})
    result = walk(flows, ["1234", "8123"])
    assert isinstance(result.outcome, QueueHandoff)
    assert result.variables["card"] == "8123"
