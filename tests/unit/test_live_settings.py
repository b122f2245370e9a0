"""Queue and agent settings changed while acd runs, over config.yaml's: what the routing
core then gets, and the clear words for a bad value (acd.config.live_settings)."""

from __future__ import annotations

import pytest

from acd.config.live_settings import (
    SettingsEdits,
    SettingsError,
    apply_edits,
    check_agent_edit,
    check_queue_edit,
    memberships_of,
)
from acd.core.model import AgentConfig, QueueConfig, QueueMember, Strategy

SUPPORT = QueueConfig("support", members=(QueueMember("1001"), QueueMember("1002", 1)))
VIP = QueueConfig("vip", members=(QueueMember("1001"),), max_wait_target="voicemail")
AGENTS = [AgentConfig("1001", "张伟", skills=frozenset({"hardware"})),
          AgentConfig("1002", "李娜"), AgentConfig("1003", "王芳", queues=("vip",))]


def test_a_queue_edit_changes_only_its_fields_and_config_keeps_the_rest():
    edit = check_queue_edit({"strategy": "ring-all", "wrap_up_seconds": 12,
                             "service_level_seconds": 30}, SUPPORT)
    queues, agents = apply_edits([SUPPORT, VIP], AGENTS, SettingsEdits({"support": edit}))
    support = queues[0]
    assert (support.strategy, support.wrap_up_seconds, support.service_level_seconds) == \
        (Strategy.RING_ALL, 12.0, 30.0)
    assert support.members == SUPPORT.members and support.ring_timeout_seconds == 15.0
    assert queues[1] == VIP and agents == AGENTS


def test_an_agents_queues_edit_is_their_whole_membership_with_penalties():
    edit = check_agent_edit({"queues": {"vip": 2}, "name": "张伟伟", "skills": ["billing"]},
                            ["support", "vip"])
    queues, agents = apply_edits([SUPPORT, VIP], AGENTS, SettingsEdits(agents={"1001": edit}))
    assert [m.agent_id for m in queues[0].members] == ["1002"]  # left support
    assert queues[1].members == (QueueMember("1001", 2),)
    assert (agents[0].name, agents[0].skills) == ("张伟伟", frozenset({"billing"}))
    assert memberships_of(agents[0], queues) == {"vip": 2}


def test_an_agent_who_joined_through_their_own_queues_list_can_leave_it():
    edit = check_agent_edit({"queues": {}}, ["support", "vip"])
    queues, agents = apply_edits([SUPPORT, VIP], AGENTS, SettingsEdits(agents={"1003": edit}))
    assert memberships_of(agents[2], queues) == {}


def test_edits_of_a_queue_or_agent_config_no_longer_has_are_left_out():
    edits = SettingsEdits({"gone": {"wrap_up_seconds": 1.0}},
                          {"9999": {"queues": {"support": 0}}})
    queues, agents = apply_edits([SUPPORT], AGENTS, edits)
    assert queues == [SUPPORT] and agents == AGENTS


@pytest.mark.parametrize(("body", "words"), [
    ({}, "nothing to change"),
    ({"transfer_code": "601"}, "not changeable here"),
    ({"strategy": "random"}, "strategy is one of"),
    ({"wrap_up_seconds": -1}, "wrap_up_seconds is a number of seconds from 0 to 3600"),
    ({"ring_timeout_seconds": "15"}, "ring_timeout_seconds is a number"),
    ({"service_level_seconds": True}, "service_level_seconds is a number"),
    ({"max_wait_seconds": 60}, "has no max_wait_target"),
])
def test_a_bad_queue_value_is_refused_with_what_to_write(body, words):
    with pytest.raises(SettingsError, match=words):
        check_queue_edit(body, SUPPORT)


def test_a_longest_wait_goes_with_a_queue_that_has_somewhere_to_send_callers():
    assert check_queue_edit({"max_wait_seconds": 120}, VIP) == {"max_wait_seconds": 120.0}
    assert check_queue_edit({"max_wait_seconds": None}, VIP) == {"max_wait_seconds": None}


@pytest.mark.parametrize(("body", "words"), [
    ({}, "nothing to change"),
    ({"pin": "1234"}, "not changeable here"),
    ({"name": ""}, "name is 1 to 40"),
    ({"skills": "hardware"}, "skills is a list"),
    ({"skills": ["has space"]}, "skills is a list"),
    ({"queues": ["support"]}, "queues maps each queue"),
    ({"queues": {"nope": 0}}, "no queue 'nope'"),
    ({"queues": {"support": 101}}, "whole number from 0"),
])
def test_a_bad_agent_value_is_refused_with_what_to_write(body, words):
    with pytest.raises(SettingsError, match=words):
        check_agent_edit(body, ["support", "vip"])
