"""Consulting a queue: an agent's *2<queue code># (or the desk's consult to a queue's
code) rings a free colleague of that queue.

[acd-consult] asks this FastAGI route (`consult`, on the consultation's own channel)
what to ring. A queue's transfer code becomes a colleague: the longest idle agent
available in that queue, taken in the routing core as on a consultation (reason
`consult`: no caller is offered to them meanwhile, no wrap-up after). Any other number
rings as dialled ([acd-transfer]). The caller's session, found by the consultation's
Linkedid (the caller's channel), is told whom it took, to give them back when the
consultation ends. Nobody free: the consultation fails and the agent is back with the
caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from acd.adapters.asterisk.agi import AgiChannel, AgiServer
from acd.callflow import facts as f
from acd.callflow.controls import consult_id
from acd.core import events as ev
from acd.core.errors import RoutingError
from acd.core.model import CONSULT_REASON
from acd.core.views import AgentView

log = logging.getLogger(__name__)


class Agents(Protocol):
    def agent_ids(self) -> list[str]: ...

    def agent_view(self, agent_id: str) -> AgentView: ...


class Routing(Protocol):
    @property
    def engine(self) -> Agents: ...

    async def submit(self, event: ev.Event) -> object: ...


class QueueConsultation:
    def __init__(self, queue_of_code: Callable[[str], str | None], routing: Routing,
                 tell_call: Callable[[str, f.Fact], None]) -> None:
        self.queue_of_code = queue_of_code
        self.routing = routing
        self.tell_call = tell_call

    def register(self, agi: AgiServer) -> None:
        agi.route("consult", self.consult)

    async def consult(self, channel: AgiChannel) -> None:
        number = channel.params.get("to", "")
        queue = self.queue_of_code(number)
        if not queue:
            return  # a number to ring as dialled
        call_id = await channel.get_full_variable("${CHANNEL(linkedid)}")
        taken = await self.take_colleague(queue, call_id)
        if taken is None:
            log.info("call %s: consultation of queue %s: no colleague is free", call_id, queue)
            await channel.set_variable("ACD_CONSULT_REFUSED", "1")
            return
        agent_id, device = taken
        self.tell_call(call_id, f.ConsultReserved(agent_id, queue))
        await channel.set_variable("ACD_CONSULT_DEVICE", device)
        log.info("call %s: consultation of queue %s rings agent %s", call_id, queue, agent_id)

    async def take_colleague(self, queue: str, call_id: str) -> tuple[str, str] | None:
        """The longest idle agent available in `queue`, taken for the consultation."""
        engine = self.routing.engine
        free = [view for agent_id in engine.agent_ids()
                if (view := engine.agent_view(agent_id))["state"] == "available"
                and queue in view["serving"]]
        for view in sorted(free, key=lambda v: v["since"]):
            try:
                await self.routing.submit(ev.OutboundStarted(
                    view["agent_id"], consult_id(call_id), CONSULT_REASON))
            except RoutingError:
                continue  # rung for a caller meanwhile: the next one
            return view["agent_id"], view["device"]
        return None
