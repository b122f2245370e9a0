"""Overflow leaves the routing core: each rule that fires tells the caller's session
(CallOverflowed) which queue the caller now waits in, with a hand-set clock."""

from __future__ import annotations

import json

from routing_harness import Harness, queue

from acd.core import commands as cmd
from acd.core.engine import RoutingEngine
from acd.core.model import OverflowMode, OverflowRule

MOVE, ALSO = OverflowMode.MOVE, OverflowMode.ALSO


def two_queues(*rules: OverflowRule) -> Harness:
    return Harness([queue(members=["1001"], overflow=rules),
                    queue("backup", members=["2001"])])


def test_a_move_rule_tells_the_move_when_it_fires_and_before_the_target_rings():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=MOVE))
    h.login("2001")
    h.call("c1")
    assert h.advance(29) == []
    out = h.advance(1)
    assert out[0] == cmd.CallOverflowed("c1", "sales", "backup", MOVE)
    assert [type(c) for c in out].index(cmd.CallOverflowed) < \
        [type(c) for c in out].index(cmd.RingAgents)
    assert h.of(cmd.RingAgents)[0].queue == "backup"


def test_an_also_rule_tells_the_added_queue_and_the_caller_stays_in_the_first():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=ALSO))
    h.call("c1")
    assert h.advance(30) == [cmd.CallOverflowed("c1", "sales", "backup", ALSO)]
    h.login("1001")
    assert h.rung("c1") == ["1001"]
    assert h.engine.stats()["queues"]["sales"]["overflowed"] == 0  # still sales' call


def test_an_also_rule_to_a_queue_the_caller_already_waits_in_tells_nothing():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=ALSO),
                   OverflowRule(after_seconds=60, target="backup", mode=ALSO))
    h.call("c1")
    h.advance(30)
    assert h.advance(30) == []


def test_a_caller_answered_before_the_rule_is_due_never_overflows():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=MOVE))
    h.login("1001")
    h.call("c1")
    h.answer("c1", "1001")
    h.advance(120)
    assert h.of(cmd.CallOverflowed, log=True) == []


def test_each_move_of_a_chain_is_told_from_the_queue_the_caller_was_in():
    h = Harness([queue(members=["1001"], overflow=(OverflowRule(10, "backup", MOVE),)),
                 queue("backup", members=["2001"], overflow=(OverflowRule(20, "night", MOVE),)),
                 queue("night", members=["3001"])])
    h.call("c1")
    h.advance(40)
    assert h.of(cmd.CallOverflowed, log=True) == [
        cmd.CallOverflowed("c1", "sales", "backup", MOVE),
        cmd.CallOverflowed("c1", "backup", "night", MOVE)]


def test_an_engine_restored_from_its_snapshot_tells_the_same_overflow_at_the_same_time():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=MOVE))
    h.call("c1")
    h.advance(10)
    data = json.loads(json.dumps(h.engine.snapshot()))
    twin = Harness(h.queues, h.agents, now=h.now)
    twin.engine = RoutingEngine.restore(h.queues, h.agents, data, h.now,
                                        period_key=h.engine._st.period_key,
                                        settings=h.settings)
    assert twin.advance(20) == h.advance(20) == [
        cmd.CallOverflowed("c1", "sales", "backup", MOVE)]
    assert twin.engine.snapshot() == h.engine.snapshot()


def test_an_also_caller_answered_by_the_added_queues_agent_counts_as_that_queues_call():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=ALSO))
    h.call("c1")
    h.advance(30)
    h.login("2001")
    assert h.rung("c1") == ["2001"]
    h.answer("c1", "2001")
    h.advance(60)
    h.hang_up("c1", "2001")
    stats = h.engine.stats()["queues"]
    assert (stats["sales"]["offered"], stats["sales"]["overflowed"],
            stats["sales"]["answered"]) == (1, 1, 0)
    assert (stats["backup"]["offered"], stats["backup"]["answered"]) == (1, 1)
    assert h.of(cmd.CallCompleted)[0].queue == "backup"


def test_an_also_caller_answered_in_its_first_queue_stays_that_queues_call():
    h = two_queues(OverflowRule(after_seconds=30, target="backup", mode=ALSO))
    h.call("c1")
    h.advance(30)
    h.login("1001")
    h.answer("c1", "1001")
    stats = h.engine.stats()["queues"]
    assert (stats["sales"]["offered"], stats["sales"]["overflowed"],
            stats["sales"]["answered"]) == (1, 0, 1)
    assert stats["backup"]["offered"] == 0


def test_a_caller_moved_while_its_first_queues_agent_rang_is_counted_back_there_on_answer():
    h = Harness([queue(members=["1001"], ring_timeout_seconds=60,
                       overflow=(OverflowRule(30, "backup", MOVE),)),
                 queue("backup", members=["2001"])])
    h.login("1001")
    h.call("c1")
    assert h.rung("c1") == ["1001"]  # still ringing when the rule is due
    h.advance(30)
    assert h.of(cmd.CallOverflowed) == [cmd.CallOverflowed("c1", "sales", "backup", MOVE)]
    h.answer("c1", "1001")
    stats = h.engine.stats()["queues"]
    assert (stats["sales"]["offered"], stats["sales"]["overflowed"],
            stats["sales"]["answered"]) == (2, 1, 1)
    assert (stats["backup"]["offered"], stats["backup"]["overflowed"],
            stats["backup"]["answered"]) == (1, 1, 0)
