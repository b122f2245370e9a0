"""Blacklist/whitelist matching: normalisation, match kinds, expiry, precedence."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.rules.caller_entries import Action, EntryError, ListKind, make_entry
from acd.rules.callers import CallerRules
from acd.rules.numbers import compile_pattern, normalise_number

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


@pytest.mark.parametrize(("raw", "normal"), [
    ("13800138000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("013800138000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"),
    ("01012345678", "01012345678"),
    ("+861012345678", "01012345678"),
    ("+86 (0)10 1234 5678", "01012345678"),
    ("0086755 8888 9999", "075588889999"),
    ("4008123456", "4008123456"),
    ("+864008123456", "4008123456"),
    ("+14155550100", "0014155550100"),
    ("0014155550100", "0014155550100"),
    ("95555", "95555"),
    ("", None), ("anonymous", None), ("Anonymous", None), ("unknown", None),
    ("restricted", None), ("PRIVATE", None), ("unavailable", None), ("  ", None),
])
def test_numbers_normalise_to_the_domestic_form(raw: str, normal: str | None) -> None:
    assert normalise_number(raw) == normal


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       st.sampled_from(["", "+86", "0086", "86", "0", "+86 "]))
def test_every_written_form_of_a_mobile_is_the_same_number(mobile: str, lead: str) -> None:
    assert normalise_number(lead + mobile) == mobile


def entry(list_: str, match: str, value: str, action: str, target: str = "",
          priority: str = "", expires: str = "") -> object:
    return make_entry(list_, match, value, action, target, priority, expires)


RULES = CallerRules([
    make_entry("black", "exact", "13800138000", "hangup"),
    make_entry("black", "prefix", "170", "announce", "no_virtual_carriers"),
    make_entry("white", "exact", "17012345678", "vip", priority="10"),
    make_entry("white", "prefix", "010", "queue", "queue:beijing"),
    make_entry("black", "exact", "01099998888", "route", "flow:complaints"),
    make_entry("black", "prefix", "0109", "hangup"),
    make_entry("white", "prefix", "01099", "skip_menu", "node:agents"),
    make_entry("black", "pattern", "1[3-9]?????0000", "announce", "suspicious"),
    make_entry("white", "pattern", "1[3-9]?????00??", "queue", "group:retention"),
    make_entry("black", "pattern", "165*", "hangup"),
    make_entry("black", "anonymous", "", "announce", "please_show_number"),
    make_entry("white", "exact", "13900139000", "vip", priority="5", expires="2026-11-01"),
    make_entry("black", "exact", "13900139000", "hangup"),
    make_entry("white", "exact", "13700137000", "vip", priority="7"),
    make_entry("black", "exact", "13700137000", "hangup"),
])


@pytest.mark.parametrize(("caller", "action", "reason"), [
    ("13800138000", Action.HANGUP, "blacklist exact 13800138000"),
    ("+8613800138000", Action.HANGUP, "blacklist exact 13800138000"),
    ("008613800138000", Action.HANGUP, "blacklist exact 13800138000"),
    ("17000000001", Action.ANNOUNCE, "blacklist prefix 170"),
    # a whitelisted exact number escapes a blacklisted prefix
    ("17012345678", Action.VIP, "whitelist exact 17012345678"),
    ("+8617012345678", Action.VIP, "whitelist exact 17012345678"),
    # the longest prefix wins, whichever list it is on
    ("01012345678", Action.QUEUE, "whitelist prefix 010"),
    ("01091234567", Action.HANGUP, "blacklist prefix 0109"),
    ("01099123456", Action.SKIP_MENU, "whitelist prefix 01099"),
    # a blacklisted exact number beats a whitelisted prefix
    ("+861099998888", Action.ROUTE, "blacklist exact 01099998888"),
    # patterns: more literal digits first
    ("13512340000", Action.ANNOUNCE, "blacklist pattern 1[3-9]?????0000"),
    ("13512340012", Action.QUEUE, "whitelist pattern 1[3-9]?????00??"),
    ("16512345678", Action.HANGUP, "blacklist pattern 165*"),
    # withheld numbers match only the anonymous entry
    ("", Action.ANNOUNCE, "blacklist anonymous"),
    ("anonymous", Action.ANNOUNCE, "blacklist anonymous"),
    ("Restricted", Action.ANNOUNCE, "blacklist anonymous"),
    # an expired whitelist entry no longer shields the number
    ("13900139000", Action.HANGUP, "blacklist exact 13900139000"),
    # the same number on both lists: the whitelist wins
    ("13700137000", Action.VIP, "whitelist exact 13700137000"),
])
def test_the_most_specific_active_entry_decides(caller: str, action: Action,
                                                reason: str) -> None:
    decision = RULES.evaluate(caller, NOW)
    assert decision is not None
    assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize("caller", ["13600136000", "02112345678", "4008123456", "+14155550100"])
def test_callers_no_entry_matches_get_no_decision(caller: str) -> None:
    assert RULES.evaluate(caller, NOW) is None


def test_decision_carries_target_and_priority() -> None:
    route = RULES.evaluate("01099998888", NOW)
    assert route is not None
    assert (route.list, route.target, route.target_kind, route.target_name) == (
        ListKind.BLACK, "flow:complaints", "flow", "complaints")
    vip = RULES.evaluate("17012345678", NOW)
    assert vip is not None and vip.priority == 10 and vip.target is None
    announce = RULES.evaluate("", NOW)
    assert announce is not None
    assert (announce.target_kind, announce.target_name) == ("prompt", "please_show_number")


def test_an_entry_stops_matching_at_its_expiry() -> None:
    expires = NOW + 60
    rules = CallerRules([make_entry("black", "exact", "13800138000", "hangup",
                                    expires=str(expires))])
    assert rules.evaluate("13800138000", NOW + 59.9) is not None
    assert rules.evaluate("13800138000", NOW + 60) is None


def test_an_expired_longer_prefix_falls_back_to_the_shorter_one() -> None:
    rules = CallerRules([
        make_entry("black", "prefix", "170", "hangup"),
        make_entry("white", "prefix", "1701", "vip", priority="3", expires="2026-01-01"),
    ])
    decision = rules.evaluate("17012345678", NOW)
    assert decision is not None and decision.reason == "blacklist prefix 170"


def test_a_later_entry_with_the_same_key_replaces_the_earlier() -> None:
    rules = CallerRules([make_entry("black", "exact", "13800138000", "hangup"),
                         make_entry("black", "exact", "+8613800138000", "announce", "bye")])
    assert len(rules) == 1
    decision = rules.evaluate("13800138000", NOW)
    assert decision is not None and decision.action is Action.ANNOUNCE


@pytest.mark.parametrize(("args", "message"), [
    (("grey", "exact", "138", "hangup"), "unknown list 'grey'"),
    (("black", "regex", "138", "hangup"), "unknown match 'regex'"),
    (("black", "exact", "138", "vip"), "action 'vip' is not for the blacklist"),
    (("white", "exact", "138", "hangup"), "action 'hangup' is not for the whitelist"),
    (("black", "exact", "anonymous", "hangup"), "not a phone number; for withheld"),
    (("black", "exact", "", "hangup"), "a exact entry needs a number"),
    (("black", "anonymous", "138", "hangup"), "an anonymous entry takes no number"),
    (("black", "prefix", "+86138", "hangup"), "write Chinese prefixes in domestic form"),
    (("black", "prefix", "13x", "hangup"), "must be digits"),
    (("black", "pattern", "138.*", "hangup"), "bad pattern '138.*'"),
    (("black", "pattern", "*", "hangup"), "matches every number"),
    (("black", "pattern", "+86138*", "hangup"), "write it in domestic form"),
    (("black", "exact", "138", "hangup", "flow:x"), "action hangup takes no target"),
    (("black", "exact", "138", "announce"), "action announce needs a target"),
    (("black", "exact", "138", "route", "complaints"), "bad target 'complaints' for route"),
    (("black", "exact", "138", "route", "exten:abc"), "bad exten name 'abc'"),
    (("white", "exact", "138", "vip"), "action vip needs a priority"),
    (("white", "exact", "138", "vip", "", "0"), "priority must be a whole number 1-1000"),
    (("white", "exact", "138", "vip", "", "high"), "priority must be a whole number"),
    (("black", "exact", "138", "hangup", "", "5"), "action hangup takes no priority"),
    (("white", "exact", "138", "queue", "node:x"), "bad target 'node:x' for queue"),
    (("black", "exact", "138", "hangup", "", "", "next week"), "bad expiry 'next week'"),
])
def test_bad_entries_are_refused_with_a_reason(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(EntryError, match=message.replace("(", r"\(").replace("*", r"\*")
                       .replace("+", r"\+").replace(".", r"\.")):
        entry(*args)


@pytest.mark.parametrize(("text", "epoch"), [
    ("1798992000", 1798992000.0),
    ("2027-01-01", datetime(2027, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()),
    ("2027-01-01T18:30", datetime(2027, 1, 1, 18, 30,
                                  tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()),
    ("2027-01-01T18:30:00+00:00", datetime(2027, 1, 1, 18, 30,
                                           tzinfo=ZoneInfo("UTC")).timestamp()),
])
def test_expiry_accepts_epoch_and_iso_dates(text: str, epoch: float) -> None:
    made = make_entry("black", "exact", "138", "hangup", expires=text)
    assert made.expires == epoch


@pytest.mark.parametrize(("pattern", "number", "matches"), [
    ("138????8000", "13800138000", True),
    ("138????8000", "13800138001", False),
    ("1380013*", "13800138000", True),
    ("1380013*", "1380013", True),
    ("1[3-5]8*", "14800000000", True),
    ("1[3-5]8*", "16800000000", False),
    ("1[357]8*", "15800000000", True),
    ("00852*", "0085212345678", True),
])
def test_digit_globs_match_the_whole_number(pattern: str, number: str, matches: bool) -> None:
    assert bool(compile_pattern(pattern).fullmatch(number)) is matches


@given(st.text(max_size=40))
def test_any_caller_id_string_is_evaluated_without_error(caller: str) -> None:
    decision = RULES.evaluate(caller, NOW)
    assert decision is None or decision.entry in RULES.entries


def test_a_caller_list_pattern_with_many_stars_is_refused_so_matching_stays_cheap():
    import pytest

    from acd.rules.numbers import compile_pattern

    assert compile_pattern("138*8*").fullmatch("13800138000")
    with pytest.raises(ValueError, match="at most 2"):
        compile_pattern("1*3*8*0*0*")
