"""An agent's own call (click-to-call, a 回访): busy meanwhile, back to work or to their
pause afterwards, refused while ringing or talking, gone after a restart."""

from __future__ import annotations

import json

import pytest
from routing_harness import Harness, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.errors import IllegalTransition


def harness() -> Harness:
    h = Harness([queue(members=["1001", "1002"], wrap_up_seconds=30)])
    h.login("1001")
    return h


def test_an_agent_on_their_own_call_is_offered_no_caller_and_is_free_after():
    h = harness()
    h.send(ev.OutboundStarted("1001", "out-1"))
    assert h.state("1001") == "on-call"
    assert h.engine.agent_view("1001")["reason"] == "outbound"
    h.call("c1")
    assert h.rung("c1") == []  # the caller waits: the only agent is on their own call
    h.advance(60)
    h.send(ev.OutboundEnded("1001", "out-1"))
    assert h.rung("c1") == ["1001"]  # free at once: no wrap-up after an own call


def test_an_agent_who_calls_out_from_a_pause_goes_back_to_that_pause():
    h = harness()
    h.send(ev.AgentPaused("1001", "break"))
    h.send(ev.OutboundStarted("1001", "out-1"))
    h.send(ev.OutboundEnded("1001", "out-1"))
    assert h.state("1001") == "paused" and h.engine.agent_view("1001")["reason"] == "break"


def test_calling_out_in_wrap_up_ends_the_wrap_up():
    h = harness()
    h.serve("c1")
    assert h.state("1001") == "wrap-up"
    h.send(ev.OutboundStarted("1001", "out-1"))
    assert h.state("1001") == "on-call"
    assert any(isinstance(c, cmd.WrapUpDone) for c in h.log)


@pytest.mark.parametrize("state", ["logged-out", "ringing", "on-call"])
def test_an_agent_ringing_talking_or_logged_out_cannot_call_out(state):
    h = Harness([queue(members=["1001"])])
    if state != "logged-out":
        h.login("1001")
        h.call("c1")
    if state == "on-call":
        h.answer("c1", "1001")
    with pytest.raises(IllegalTransition):
        h.send(ev.OutboundStarted("1001", "out-1"))
    assert h.state("1001") == state


def test_a_late_or_foreign_end_of_an_own_call_changes_nothing():
    h = harness()
    h.send(ev.OutboundStarted("1001", "out-1"))
    h.send(ev.OutboundEnded("1001", "out-2"))
    assert h.state("1001") == "on-call"
    h.send(ev.OutboundEnded("1001", "out-1"))
    h.send(ev.OutboundEnded("1001", "out-1"))  # repeated
    assert h.state("1001") == "available"


def test_a_reload_keeps_an_own_call_and_a_restart_ends_it():
    h = harness()
    h.send(ev.AgentPaused("1001", "break"))
    h.send(ev.OutboundStarted("1001", "out-1"))
    h.engine.reconfigure(h.queues, h.agents, h.now)
    assert h.state("1001") == "on-call"
    data = json.loads(json.dumps(h.engine.snapshot()))
    # acd's FastAGI session was the call's only application: Asterisk hung it up
    engine = RoutingEngine.restore(h.queues, h.agents, data, h.now,
                                   period_key=h.engine._st.period_key, settings=h.settings)
    view = engine.agent_view("1001")
    assert (view["state"], view["reason"]) == ("paused", "break")
