"""The dispatcher: one task feeding the real routing core, commands to the right place."""

from __future__ import annotations

import asyncio

import pytest

from acd.clock import FixedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.errors import IllegalTransition
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

T0 = 1_795_000_000.0


def make() -> tuple[Dispatcher, FixedClock]:
    engine = RoutingEngine([QueueConfig("q", members=(QueueMember("1"), QueueMember("2")))],
                           [AgentConfig("1"), AgentConfig("2")])
    clock = FixedClock(T0)
    return Dispatcher(engine, clock), clock


async def test_every_command_reaches_the_sinks_in_order_before_the_sender_resumes():
    dispatcher, _ = make()
    seen: list[object] = []
    dispatcher.add_sink(seen.append)
    dispatcher.start()
    try:
        logged_in = await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        assert seen == logged_in  # delivered before submit() returned
        queued = await dispatcher.submit(ev.CallQueued("c1", "q", "138"))
        assert seen == logged_in + queued  # in the order the core gave them
        rings = [c for c in seen if isinstance(c, cmd.RingAgents)]
        assert [r.targets[0].agent_id for r in rings] == ["1"]
    finally:
        await dispatcher.stop()


async def test_an_agent_another_process_holds_is_skipped_and_the_next_one_rung():
    dispatcher, _ = make()

    async def gate(commands):  # agent 1 is held elsewhere (the Redis claim failed)
        lost = [ev.AgentClaimLost("1", c.call_id) for c in commands
                if isinstance(c, cmd.RingAgents) and c.targets[0].agent_id == "1"]
        kept = [c for c in commands
                if not (isinstance(c, cmd.RingAgents) and c.targets[0].agent_id == "1")]
        return kept, lost

    dispatcher.set_gate(gate)
    rings: list[cmd.RingAgents] = []
    dispatcher.add_sink(lambda c: rings.append(c) if isinstance(c, cmd.RingAgents) else None)
    dispatcher.start()
    try:
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        await dispatcher.submit(ev.AgentLoggedIn("2", "PJSIP/agent2"))
        await dispatcher.submit(ev.CallQueued("c1", "q", "138"))
        assert [[t.agent_id for t in r.targets] for r in rings] == [["2"]]
    finally:
        await dispatcher.stop()


async def test_a_refused_request_is_raised_to_its_sender_and_the_loop_goes_on():
    dispatcher, _ = make()
    dispatcher.start()
    try:
        with pytest.raises(IllegalTransition) as refused:
            await dispatcher.submit(ev.AgentPaused("1", "break"))  # not logged in
        assert (refused.value.agent_id, refused.value.current, refused.value.requested) == \
            ("1", "logged-out", "paused")
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        assert dispatcher.engine.agent_view("1")["state"] == "available"
    finally:
        await dispatcher.stop()


async def test_events_that_wait_together_are_decided_in_one_gate_round_in_their_order():
    dispatcher, _ = make()
    rounds: list[list[object]] = []

    async def gate(commands):  # one call per round trip to Redis
        rounds.append(list(commands))
        return commands, []

    dispatcher.set_gate(gate)
    seen: list[object] = []
    dispatcher.add_sink(seen.append)
    dispatcher.start()
    try:
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        rounds.clear()
        for call in ("c1", "c2", "c3"):  # queued before the loop runs: one batch
            dispatcher.post(ev.CallQueued(call, "q", "138"))
        await dispatcher.submit(ev.AgentLoggedIn("2", "PJSIP/agent2"))
        assert len(rounds) == 1
        assert rounds[0] == seen[-len(rounds[0]):]  # executed as the gate let them through
        rings = [(c.call_id, c.targets[0].agent_id) for c in rounds[0]
                 if isinstance(c, cmd.RingAgents)]
        assert rings == [("c1", "1"), ("c2", "2")]  # c1 came first, so agent 1 is c1's
    finally:
        await dispatcher.stop()


async def test_a_refused_request_in_a_batch_fails_its_sender_only():
    dispatcher, _ = make()
    dispatcher.start()
    try:
        refused, accepted = await asyncio.gather(
            dispatcher.submit(ev.AgentPaused("1", "break")),  # not logged in
            dispatcher.submit(ev.AgentLoggedIn("2", "PJSIP/agent2")),
            return_exceptions=True)
        assert isinstance(refused, IllegalTransition)
        assert not isinstance(accepted, BaseException)
        assert dispatcher.engine.agent_view("2")["state"] == "available"
    finally:
        await dispatcher.stop()


async def test_a_ring_that_timed_out_is_withdrawn_before_a_burst_of_events_is_handled():
    dispatcher, clock = make()
    rounds: list[list[object]] = []

    async def gate(commands):
        rounds.append(list(commands))
        return commands, []

    dispatcher.set_gate(gate)
    dispatcher.start()
    try:
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        await dispatcher.submit(ev.CallQueued("c1", "q", "138"))  # agent 1 rings, 15 s
        rounds.clear()
        clock.advance(60)  # past the ring timeout and its grace
        for n in range(200):  # a steady stream: the inbox is never empty between events
            dispatcher.post(ev.CallQueued(f"burst{n}", "q", "139"))
        await dispatcher.submit(ev.AgentLoggedIn("2", "PJSIP/agent2"))
        assert len(rounds) > 1  # the burst took several batches...
        assert cmd.StopRinging("c1", ("1",)) in rounds[0]  # ...and the timer came first
    finally:
        await dispatcher.stop()
