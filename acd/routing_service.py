"""The routing core as the rest of acd reaches it: events in through the dispatcher's
one task, read-only views out (acd.callflow's RoutingPort, the HTTP API's views)."""

from __future__ import annotations

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.census import Census
from acd.core.engine import RoutingEngine
from acd.core.views import AgentView, QueueView
from acd.dispatcher import Dispatcher


class RoutingService:
    def __init__(self, dispatcher: Dispatcher[ev.Event, cmd.Command],
                 engine: RoutingEngine) -> None:
        self.dispatcher = dispatcher
        self.engine = engine

    def post(self, event: ev.Event) -> None:
        self.dispatcher.post(event)

    async def submit(self, event: ev.Event) -> list[cmd.Command]:
        return await self.dispatcher.submit(event)

    def has_call(self, call_id: str) -> bool:
        return self.engine.has_call(call_id)

    def queue_names(self) -> list[str]:
        return list(self.engine.queue_names())

    def agents(self) -> list[AgentView]:
        return [self.engine.agent_view(a) for a in self.engine.agent_ids()]

    def queues(self) -> list[QueueView]:
        return [self.engine.queue_view(q) for q in self.engine.queue_names()]

    def census(self) -> Census:
        """Head counts of queues and agents (the metrics)."""
        return self.engine.census()
