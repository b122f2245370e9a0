"""One acd of an active cluster (cluster.mode: active): it serves calls from the start,
forwards its routing events to the leader, shows the routing state as last saved in
Redis, and leads the routing core itself while it holds the lease.

What changes against a single acd (acd.app wires it; docs/operations.md):

- the routing port of the calls, the agents' desk and their own calls is a
  ForwardedRouting, on the leader too: events go through Redis, so that gaining the
  lead changes nothing under a call, until the leader has taken everything it had
  sent that way; then its own go straight to its core (it routes them while Redis is
  away);
- on taking the lead, the rings under way are sent again (the last leader may have
  saved one and died before sending it; the acd holding the call ignores a copy);
- the dispatcher (engine, routing commit, and the sinks that act on Asterisk for
  everyone: callback dialer, fallback queue) runs only on the lease holder; its orders
  about a call go to the node holding the call (LeaderRelay);
- views (/api/agents, the desk's checks, /metrics) come from an engine restored from the
  saved state every REFRESH_SECONDS while following: they lag the leader by that much.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from acd.adapters.http.live import LiveViews
from acd.adapters.redis.lease import Leadership
from acd.adapters.redis.routing_relay import FollowerRouting, LeaderRelay
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.snapshot import VERSION, Changes
from acd.dispatcher import Dispatcher
from acd.routing_service import RoutingService

log = logging.getLogger(__name__)

#: how often a follower re-reads the saved routing state for its views, at most
REFRESH_SECONDS = 0.5
#: ...and at least this many times its own CPU cost apart: a refresh is a whole read and
#: restore (bench/bench_follower_refresh.py: ~85 ms at 1,000 agents, ~1.6 s at 10,000),
#: so a big center's follower spends at most a fifth of a core on it, and its views lag
#: more (docs/operations.md)
COST_FACTOR = 5.0


class LeadingCore(Protocol):
    """What the node needs of the composition root (acd.app.App)."""

    async def saved_engine(self) -> RoutingEngine:
        """An engine restored from the routing state as last saved in Redis."""
        ...

    def adopt(self, engine: RoutingEngine) -> None:
        """Views, and the dispatcher once it leads, use this engine from now on."""
        ...

    async def lead(self) -> None:
        """Start the dispatcher and the leader's own duties (claims left over...)."""
        ...

    def rings_under_way(self) -> list[cmd.RingAgents]:
        """The adopted engine's rings under way, as orders again (RoutingEngine)."""
        ...

    async def reload_shared(self) -> None:
        """Re-read what other acds change in Redis and this one caches (agents' phones)."""
        ...


class ActiveNode:
    def __init__(self, leadership: Leadership, forward: FollowerRouting, relay: LeaderRelay,
                 core: LeadingCore) -> None:
        self.leadership = leadership
        self.forward = forward
        self.relay = relay
        self.core = core
        self.tasks: list[asyncio.Task[None]] = []
        self._taking_lead = False  # from then on, no copy of the saved state is adopted
        self.leader = ""  # the lease holder as last read ('' : none)
        self.last_leader = ""  # the last acd seen holding it (a new leader's predecessor)
        self.refresh_cost = 0.0  # CPU seconds of the last refresh (process-wide)

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    @property
    def led_elsewhere(self) -> bool:
        """Another acd leads the routing core (as last read): this one's events are
        decided there (health: routing is down while no acd leads, as in a takeover)."""
        return not self.leading and bool(self.leader)

    def start(self, stopping: asyncio.Event) -> list[asyncio.Task[None]]:
        self.tasks = [*self.forward.start(),
                      asyncio.get_running_loop().create_task(self._run(stopping),
                                                             name="cluster-node")]
        return self.tasks

    async def _run(self, stopping: asyncio.Event) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(self._refresh(),
                                                                 name="cluster-refresh"))
        if not await self.leadership.acquire(stopping):
            return
        self._taking_lead = True
        started = time.monotonic()
        self.core.adopt(await self.core.saved_engine())
        # before the core decides anything: who holds which call, then the rings the
        # last leader may have saved and died before sending
        await self.relay.load()
        predecessor = self.last_leader if self.last_leader != self.leadership.lease.node else ""
        self.relay.resend(self.core.rings_under_way(), dead=predecessor)
        await self.core.lead()
        self.tasks += await self.relay.start()
        log.warning("acd %s leads the routing core now (%.2f s after it took the lease); "
                    "calls on every acd go on", self.leadership.lease.node,
                    time.monotonic() - started)
        await self.leadership.keep()

    async def _refresh(self) -> None:
        failing = False
        while True:
            began = time.process_time()
            try:
                if not self._taking_lead:
                    self.leader = await self.leadership.lease.holder() or ""
                    self.last_leader = self.leader or self.last_leader
                    engine = await self.core.saved_engine()
                    if not self._taking_lead:  # (the lead may have come meanwhile)
                        self.core.adopt(engine)
                await self.core.reload_shared()
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("routing state not readable for this acd's views (%s); "
                                "they show the last one read", exc)
                failing = True
            self.refresh_cost = time.process_time() - began
            await asyncio.sleep(max(REFRESH_SECONDS, COST_FACTOR * self.refresh_cost))


class ForwardedRouting(RoutingService):
    """The routing port and views of an acd in an active cluster: events go to the
    leader through the relay; views read the engine last adopted (ActiveNode).

    The leader's own events go through Redis too until everything it had sent that way
    is in its dispatcher's queue (its outbox written, then the inbox found empty after
    that), and straight to its dispatcher from then on: a leader routes its own calls
    from memory while Redis is away, as a single acd does, and an event never overtakes
    an earlier one of the same acd."""

    def __init__(self, dispatcher: Dispatcher[ev.Event, cmd.Command], engine: RoutingEngine,
                 forward: FollowerRouting, relay: LeaderRelay | None = None,
                 leading: Callable[[], bool] = lambda: False) -> None:
        super().__init__(dispatcher, engine)
        self.forward = forward
        self._relay = relay
        self._leading = leading
        self.direct = False  # this acd leads and its events no longer go through Redis

    def post(self, event: ev.Event) -> None:
        if self.leads_directly():
            self._owned(event)
            super().post(event)
        else:
            self.forward.post(event)

    async def submit(self, event: ev.Event) -> list[cmd.Command]:
        if self.leads_directly():
            self._owned(event)
            return await super().submit(event)
        return await self.forward.submit(event)

    def _owned(self, event: ev.Event) -> None:
        if isinstance(event, ev.CallQueued) and self._relay is not None:
            self._relay.own_here(event.call_id)  # (what the inbox path records)

    def leads_directly(self) -> bool:
        if self.direct or self._relay is None or not self._leading():
            return self.direct
        idle, last_written = self.forward.sent
        if idle and self._relay.drained_since > last_written:
            self.direct = True
            log.info("this acd leads: its own routing events go straight to its routing "
                     "core from now on (not through Redis)")
        return self.direct

    def has_call(self, call_id: str) -> bool:
        """Asked when a call comes back to this acd: one queued here, or one the routing
        core holds for an acd that died since, whose orders then come here."""
        if self.forward.has_call(call_id):
            return True
        if self.engine.has_call(call_id):
            self.forward.take_over(call_id)
            return True
        return False


def moved_agents(before: LiveViews, after: LiveViews) -> Changes:
    """The agents whose view differs between two copies of the routing state, in the
    shape of the engine's changes (what the wallboard re-reads after a batch)."""
    moved = {view["agent_id"]: None for view in after.agents()
             if before.agent(view["agent_id"]) != view}
    return {"version": VERSION, "period": "", "seq": 0, "agents": dict(moved), "calls": {},
            "queues": {}}
