"""The dispatcher: one task feeding the real routing core, commands to the right place."""

from __future__ import annotations

import asyncio

from acd.clock import FixedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

T0 = 1_795_000_000.0


def make() -> tuple[Dispatcher, FixedClock]:
    engine = RoutingEngine([QueueConfig("q", members=(QueueMember("1"), QueueMember("2")))],
                           [AgentConfig("1"), AgentConfig("2")])
    clock = FixedClock(T0)
    return Dispatcher(engine, clock), clock


async def test_a_ring_reaches_the_callers_mailbox_even_when_it_opens_late():
    dispatcher, _ = make()
    dispatcher.start()
    try:
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        await dispatcher.submit(ev.CallQueued("c1", "q", "138"))  # nobody listens yet
        box = dispatcher.open_mailbox("c1")  # e.g. the call came back after a restart
        ring = await asyncio.wait_for(box.get(), 1)
        assert isinstance(ring, cmd.RingAgents) and ring.targets[0].agent_id == "1"
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
    dispatcher.start()
    try:
        box = dispatcher.open_mailbox("c1")
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        await dispatcher.submit(ev.AgentLoggedIn("2", "PJSIP/agent2"))
        await dispatcher.submit(ev.CallQueued("c1", "q", "138"))
        ring = await asyncio.wait_for(box.get(), 1)
        assert [t.agent_id for t in ring.targets] == ["2"]
    finally:
        await dispatcher.stop()


async def test_a_refused_request_is_raised_to_its_sender_and_the_loop_goes_on():
    dispatcher, _ = make()
    dispatcher.start()
    try:
        try:
            await dispatcher.submit(ev.AgentPaused("1", "break"))  # not logged in
        except Exception as exc:
            assert "1" in str(exc)
        else:
            raise AssertionError("pausing a logged-out agent must be refused")
        await dispatcher.submit(ev.AgentLoggedIn("1", "PJSIP/agent1"))
        assert dispatcher.engine.agent_view("1")["state"] == "available"
    finally:
        await dispatcher.stop()
