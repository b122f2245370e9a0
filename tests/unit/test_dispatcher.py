"""The dispatcher: one task feeding the real routing core, commands to the right place."""

from __future__ import annotations

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
