"""The console's pure rules: the recording search's query, cursor and masked caller
match; users from config.yaml and the console combined; the last admin kept."""

from __future__ import annotations

import math

import pytest

from acd.adapters.http.auth import Role, User
from acd.adapters.http.user_rules import (
    UserRefused,
    changed_user,
    check_admins_remain,
    effective_users,
)
from acd.console.recording_search import QueryError, matches, next_cursor, parse_query

NOW = 1_795_000_000.0
ENTRY = {"agent": "1001", "queue": "support", "caller": "13800138000", "duration": "42.5"}


def test_a_first_page_pins_the_top_of_its_range_and_the_cursor_keeps_it():
    first = parse_query({"limit": "10"}, NOW)
    assert first.until == NOW and first.offset == 0
    later = parse_query({"cursor": next_cursor(first, 10)}, NOW + 500)
    assert (later.until, later.offset) == (NOW, 10)
    assert parse_query({"to": str(NOW - 5)}, NOW).until == NOW - 5
    assert parse_query({"limit": "100000"}, NOW).limit == 200


@pytest.mark.parametrize("params", [{"from": "x"}, {"to": "nan"}, {"from": "-1"},
                                    {"survey": "9"}, {"cursor": "1:"}, {"cursor": "inf:1"},
                                    {"agent": "a" * 65}, {"min_seconds": "5",
                                                          "max_seconds": "1"}])
def test_a_query_acd_cannot_use_says_which_parameter(params):
    with pytest.raises(QueryError) as error:
        parse_query(params, NOW)
    assert any(name.split("_")[0] in str(error.value) for name in params) or \
        "cursor" in str(error.value)


def test_a_masked_role_matches_only_the_digits_it_can_see():
    query = parse_query({"caller": "8000"}, NOW)
    assert matches(query, ENTRY, sees_numbers=True)
    assert not matches(query, ENTRY, sees_numbers=False)
    assert matches(parse_query({"caller": "000"}, NOW), ENTRY, sees_numbers=False)


def test_length_agent_and_queue_filters_all_apply():
    assert matches(parse_query({"min_seconds": "40", "max_seconds": "45"}, NOW), ENTRY, True)
    assert not matches(parse_query({"min_seconds": "43"}, NOW), ENTRY, True)
    assert not matches(parse_query({"queue": "sales"}, NOW), ENTRY, True)
    assert parse_query({}, NOW).max_seconds == math.inf


CONFIGURED = {"root": User("root", Role.ADMIN, password_hash="h1"),
              "sam": User("sam", Role.SUPERVISOR, password_hash="h2")}


def test_console_users_sit_on_top_of_config_users_and_a_removal_is_remembered():
    lee = User("lee", Role.SUPERVISOR, password_hash="h3")
    sam = User("sam", Role.ADMIN, password_hash="h4")
    users = effective_users(CONFIGURED, {"lee": lee, "sam": sam, "root": None})
    assert users == {"lee": lee, "sam": sam}


def test_the_last_admin_may_be_neither_removed_nor_demoted():
    with pytest.raises(UserRefused):
        check_admins_remain(CONFIGURED, "root", None)
    with pytest.raises(UserRefused):
        check_admins_remain(CONFIGURED, "root", User("root", Role.SUPERVISOR))
    check_admins_remain(CONFIGURED, "sam", None)  # not an admin
    check_admins_remain({**CONFIGURED, "sam": User("sam", Role.ADMIN)}, "root", None)


def test_a_changed_user_keeps_what_the_change_does_not_name():
    before = User("sam", Role.SUPERVISOR, password_hash="h2", device="PJSIP/sup1")
    after, password = changed_user("sam", {"role": "admin"}, before, {"1001"})
    assert (after.role, after.device, after.password_hash, password) == \
        (Role.ADMIN, "PJSIP/sup1", "h2", "")
    with pytest.raises(UserRefused, match="password"):
        changed_user("new", {"role": "supervisor"}, None, {"1001"})
