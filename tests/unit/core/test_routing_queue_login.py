"""Per-queue login and logout: an agent takes calls from a subset of their queues."""

from __future__ import annotations

import json

import pytest
from routing_harness import Harness, queue

from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.errors import IllegalTransition, UnknownQueue


def two_queues() -> Harness:
    h = Harness([queue("sales", members=["1001", "1002"]),
                 queue("support", members=["1001"])])
    h.login("1001")
    return h


def test_an_agent_logged_out_of_a_queue_gets_no_calls_from_it_but_does_from_the_others():
    h = two_queues()
    h.send(ev.AgentQueueLogout("1001", "sales"))
    assert h.engine.agent_view("1001")["serving"] == ["support"]
    h.call("c1", "sales")
    assert h.rung("c1") == []
    h.call("c2", "support")
    assert h.rung("c2") == ["1001"]


def test_logging_back_in_to_a_queue_offers_its_waiting_caller_at_once():
    h = two_queues()
    h.send(ev.AgentQueueLogout("1001", "sales"))
    h.call("c1", "sales")
    h.send(ev.AgentQueueLogin("1001", "sales"))
    assert h.rung("c1") == ["1001"]


def test_queue_counters_follow_per_queue_logins():
    h = two_queues()
    assert h.engine.queue_view("sales")["logged_in"] == 1
    h.send(ev.AgentQueueLogout("1001", "sales"))
    assert h.engine.queue_view("sales")["logged_in"] == 0
    assert h.engine.queue_view("support")["logged_in"] == 1
    h.send(ev.AgentQueueLogout("1001", "sales"))  # twice: no change
    assert h.engine.queue_view("sales")["logged_in"] == 0
    h.send(ev.AgentPaused("1001", "break"))
    h.send(ev.AgentQueueLogin("1001", "sales"))
    assert h.engine.queue_view("sales")["logged_in"] == 1
    assert h.engine.queue_view("sales")["staffed"] == 0  # paused


def test_a_full_logout_forgets_the_per_queue_choice():
    h = two_queues()
    h.send(ev.AgentQueueLogout("1001", "sales"))
    h.send(ev.AgentLoggedOut("1001"))
    assert h.engine.queue_view("support")["logged_in"] == 0
    h.login("1001")
    assert h.engine.agent_view("1001")["serving"] == ["sales", "support"]
    assert h.engine.queue_view("sales")["logged_in"] == 1


def test_the_choice_survives_a_restart():
    h = two_queues()
    h.send(ev.AgentQueueLogout("1001", "sales"))
    data = json.loads(json.dumps(h.engine.snapshot()))
    engine = RoutingEngine.restore(h.queues, h.agents, data, h.now,
                                   period_key=h.engine._st.period_key, settings=h.settings)
    assert engine.agent_view("1001")["serving"] == ["support"]
    assert engine.queue_view("sales")["logged_in"] == 0


def test_queues_not_theirs_and_logged_out_agents_are_refused():
    h = two_queues()
    with pytest.raises(IllegalTransition, match="not a member"):
        h.send(ev.AgentQueueLogout("1002", "support"))
    with pytest.raises(UnknownQueue):
        h.send(ev.AgentQueueLogout("1001", "nope"))
    with pytest.raises(IllegalTransition, match="log in first"):
        h.send(ev.AgentQueueLogout("1002", "sales"))
