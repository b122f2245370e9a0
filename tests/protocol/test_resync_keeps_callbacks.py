"""After an AMI login (an acd's start) or in an active cluster's sweep, calls Redis still
has open that no session holds are adopted or closed: but a booked callback is open
with no session and no channel on purpose, until the routing core calls the customer
back, and must be left as it is (it was closed as abandoned, and the callback given up)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polling import eventually
from test_call_over_fastagi import (
    T0,
    AlwaysOpen,
    NoLookups,
    NoOtherChannels,
    Prompts,
    Store,
    call_settings,
    no_announcement,
)

from acd.callflow.driver import CallPorts
from acd.callflow.record import CallRecord
from acd.callflow.registry import CallRegistry
from acd.clock import FixedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher
from acd.routing_service import RoutingService


class KeptStore(Store):
    """The fake store, reading back what it keeps."""

    async def get_call(self, call_id: str) -> CallRecord | None:  # type: ignore[override]
        fields: dict[str, Any] = self.records.get(call_id, {})
        return CallRecord.from_hash(CallRecord.encode(fields)) if fields else None

    async def active_call_ids(self) -> set[str]:
        return set(self.records) - self.closed


async def test_a_booked_callback_is_left_open_and_an_abandoned_caller_is_closed() -> None:
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")])
    clock = FixedClock(T0)
    dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(engine, clock)
    store = KeptStore()
    registry = CallRegistry(CallPorts(
        store=store, routing=RoutingService(dispatcher, engine), actions=NoOtherChannels(),
        prompts=Prompts(), lookups=NoLookups(), schedules=AlwaysOpen(),
        announcement=no_announcement, clock=clock), call_settings)
    dispatcher.start()
    waiting: Mapping[str, object] = {"call_id": "waited", "caller": "13800000001",
                                      "called": "4008001234", "arrived_at": T0 - 60,
                                      "queues": ["support"], "enqueued_at": T0 - 50}
    booked = {**waiting, "call_id": "booked", "callback": "requested",
              "left_queue_at": T0 - 40}
    await store.open_call("waited", waiting)
    await store.open_call("booked", booked)
    try:
        await registry.resync({})  # neither is up in Asterisk
        await eventually(lambda: "waited" in store.closed)
        assert store.records["waited"]["outcome"] == "abandoned"
        assert "booked" not in store.closed and "booked" not in registry.drivers
        assert "outcome" not in store.records["booked"]
    finally:
        registry.stop()
        await dispatcher.stop()
        await registry.drain()
