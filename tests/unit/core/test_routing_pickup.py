"""抢接: an agent takes a call that rings a colleague in one of their queues. The
colleague's ring stops with no missed call counted against them, the call rings the
agent who picked it up, and everything else is as for any answered call."""

from __future__ import annotations

import pytest
from routing_harness import Harness, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.errors import IllegalTransition, UnknownAgent


def ringing_1001() -> Harness:
    h = Harness([queue(members=["1001", "1002"]), queue("vip", members=["1003"])])
    h.login("1001")
    h.call("c1")
    assert h.rung("c1") == ["1001"]
    h.login("1002", "1003")
    return h


def test_a_colleague_picks_up_the_ringing_call_and_it_rings_them_now():
    h = ringing_1001()
    out = h.send(ev.CallPickedUp("c1", "1002"))
    assert [c.agent_ids for c in h.of(cmd.StopRinging)] == [("1001",)]
    assert h.rung("c1") == ["1002"] and h.state("1002") == "ringing"
    assert h.state("1001") == "available"
    assert h.engine.agent_view("1001")["missed_in_row"] == 0  # not their fault
    assert any(isinstance(c, cmd.ReleaseAgent) and c.agent_id == "1001" for c in out)
    h.answer("c1", "1002")
    assert h.state("1002") == "on-call"


def test_a_paused_agent_who_picks_up_goes_back_to_the_pause_after_the_call():
    h = ringing_1001()
    h.send(ev.AgentPaused("1002", "break"))
    h.send(ev.CallPickedUp("c1", "1002"))
    h.answer("c1", "1002")
    h.advance(30)
    h.hang_up("c1", "1002")
    h.advance(3600)
    assert h.state("1002") == "paused"


@pytest.mark.parametrize("who, why", [
    ("1003", "does not serve sales"),    # not in the queue
    ("1001", "rings this agent"),        # their own ring: answer it
])
def test_pickup_is_refused_outside_the_queue_and_for_ones_own_ring(who, why):
    h = ringing_1001()
    with pytest.raises(IllegalTransition, match=why):
        h.send(ev.CallPickedUp("c1", who))
    assert h.state("1001") == "ringing"


def test_pickup_is_refused_for_a_busy_or_logged_out_agent_or_a_call_not_ringing():
    h = ringing_1001()
    h.answer("c1", "1001")
    h.call("c2")  # 1002 rings for it
    with pytest.raises(IllegalTransition, match="not ringing"):
        h.send(ev.CallPickedUp("c1", "1002"))
    with pytest.raises(IllegalTransition, match="busy"):
        h.send(ev.CallPickedUp("c2", "1001"))  # on c1
    with pytest.raises(UnknownAgent):
        h.send(ev.CallPickedUp("c2", "9999"))
