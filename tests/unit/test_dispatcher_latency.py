"""The routing latency the metrics observe: each event's time from its post to its
batch's orders handed out, the gate's Redis round trip included; and the backlog."""

from __future__ import annotations

import asyncio

from acd.clock import FixedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher


async def test_each_event_is_timed_once_from_its_post_to_its_orders_handed_out():
    engine = RoutingEngine([QueueConfig("q", members=(QueueMember("1"),))], [AgentConfig("1")])
    dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(engine, FixedClock(0.0))
    release = asyncio.Event()

    async def slow_gate(commands: list[cmd.Command]
                        ) -> tuple[list[cmd.Command], list[ev.Event]]:
        await release.wait()  # Redis answers when the test says so
        return commands, []

    seconds: list[float] = []
    handed_out: list[float] = []
    dispatcher.set_gate(slow_gate)
    dispatcher.observe_latency(seconds.append)
    dispatcher.add_sink(lambda c: handed_out.append(asyncio.get_running_loop().time())
                        if isinstance(c, cmd.RingAgents) else None)
    dispatcher.post(ev.AgentLoggedIn("1", "PJSIP/agent1"))
    dispatcher.post(ev.CallQueued("c1", "q", "138"))
    assert dispatcher.backlog == 2  # not started: both wait in the inbox
    dispatcher.start()
    try:
        await asyncio.sleep(0.05)
        assert dispatcher.backlog == 0 and seconds == []  # taken, held at the gate
        release.set()
        async with asyncio.timeout(2):
            while len(seconds) < 2:
                await asyncio.sleep(0.001)
        assert len(seconds) == 2 and all(s >= 0.05 for s in seconds)  # the gate's wait
        assert len(handed_out) == 1
    finally:
        await dispatcher.stop()
