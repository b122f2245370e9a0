"""The agent desk's rules (pure): who may ask about a call, what an earlier call shows to
a role without the right to see numbers, today's figures, and when today began."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from acd.console.desk import day_start, offered_to, previous_call, rung_agents, today_figures
from acd.core.stats import AgentStatsRecord


@pytest.mark.parametrize(("current", "answered_by", "rung", "offered"), [
    ("c1", "", set(), True),            # ringing them (or on their phone) now
    ("", "1001", set(), True),          # they answered it
    ("", "1002", {"1001", "1002"}, True),  # rung earlier, answered by a colleague
    ("", "1002", {"1002"}, False),      # a colleague's call
    ("c2", "", set(), False),           # they are on another call
])
def test_an_agent_may_ask_only_about_a_call_offered_to_them(
        current: str, answered_by: str, rung: set[str], offered: bool) -> None:
    assert offered_to("1001", "c1", current_call=current, record_agent=answered_by,
                      rung_agents=rung) is offered


def test_a_user_without_an_agent_is_offered_nothing() -> None:
    assert not offered_to("", "c1", current_call="c1", record_agent="", rung_agents={""})


def test_the_agents_of_a_records_rings_are_read_from_its_entries() -> None:
    assert rung_agents([{"agent": "1001"}, {"agent": ""}, {"device": "x"}]) == {"1001"}


def test_an_earlier_call_shows_no_number_and_masks_the_numbers_in_its_note() -> None:
    row = {"call_id": "c0", "arrived_at": 1.0, "agent": "1001", "caller": "13800138000",
           "called": "4008001234", "outcome": "answered",
           "disposition_note": "rang back 13800138000"}
    shown = previous_call(row, sees_numbers=False)
    assert "caller" not in shown and "called" not in shown
    assert shown["disposition_note"] == "rang back 13******000"
    assert previous_call(row, sees_numbers=True)["disposition_note"] == \
        "rang back 13800138000"


def stats(answered: int, talk: float, wrap: float) -> AgentStatsRecord:
    return {"offered": answered, "answered": answered, "missed": 0, "failed": 0,
            "abandoned_while_ringing": 0, "transferred": 0, "talk_seconds": talk,
            "wrap_up_seconds": wrap, "state_seconds": {}}


def test_todays_figures_count_wrap_up_in_the_average_handle_time() -> None:
    assert today_figures(stats(4, 400.04, 60.0), {"1": 3, "3": 1, "no-answer": 2}) == {
        "answered": 4, "talk_seconds": 400.0, "aht_seconds": 115.0,
        "survey": {"1": 3, "2": 0, "3": 1}}


def test_before_the_first_call_there_is_no_average_and_without_history_no_split() -> None:
    assert today_figures(stats(0, 0.0, 0.0), None) == {
        "answered": 0, "talk_seconds": 0.0, "aht_seconds": None, "survey": None}


def test_today_begins_at_local_midnight() -> None:
    now = datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert day_start(now, "Asia/Shanghai") == datetime(
        2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert day_start(now, "UTC") == datetime(2026, 11, 30, tzinfo=ZoneInfo("UTC")).timestamp()
