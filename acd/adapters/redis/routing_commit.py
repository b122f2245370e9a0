"""The routing store as the dispatcher's gate: each batch of events' claims and state
changes in one round trip before its commands run; what Redis did not take, later.

The dispatcher handles the events waiting in its inbox as one batch, then calls
`gate()` once: the claims of every ring in the batch (in order) and the engine's
changes go to Redis in one script (`RoutingStore.gate`). Only then are the commands
executed. So a decision is saved before the ring goes out: a crash loses at most
events that were not yet decided, and a batch is saved whole or not at all. The save
is never later than the ring it goes with: one batch, i.e. its events' handling plus
one round trip (measured in docs/benchmarks.md, section 6).

When Redis is away the dispatcher rings without claims; the state and the releases the
store could not write are owed and go with the next round trip, or with a retry
`retry_seconds` later if no event comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from acd.adapters.redis.link import unreachable
from acd.adapters.redis.routing_store import RoutingStore
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.snapshot import Changes

log = logging.getLogger(__name__)


class RoutingCommit:
    def __init__(self, store: RoutingStore, take_changes: Callable[[], Changes],
                 retry_seconds: float = 0.5) -> None:
        self.store = store
        self._take = take_changes
        self.retry_seconds = retry_seconds
        self._timer: asyncio.TimerHandle | None = None
        self._retrying: asyncio.Task[None] | None = None
        self._failing = False  # the last retry failed: the next failure is not logged again

    async def gate(self, commands: list[cmd.Command]
                   ) -> tuple[list[cmd.Command], list[ev.Event]]:
        """The dispatcher's gate: the batch's claims and the engine's changes, one trip."""
        return await self.store.gate(commands, self._take())

    async def after_batch(self, _commands: list[cmd.Command]) -> None:
        """The dispatcher's hook: if Redis did not take the batch, try again a moment later."""
        if self.store.owes() and self._timer is None and (
                self._retrying is None or self._retrying.done()):
            self._timer = asyncio.get_running_loop().call_later(self.retry_seconds, self._due)

    def _due(self) -> None:
        self._timer = None
        self._retrying = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        try:
            await self.store.flush()
        except Exception as exc:
            if not self._failing and not unreachable(exc):  # an outage: its link says so
                log.exception("routing state not saved; retrying every %.1f s",
                              self.retry_seconds)
            self._failing = True
            self._timer = asyncio.get_running_loop().call_later(self.retry_seconds, self._due)
            return
        if self._failing:
            log.debug("routing state saved again")
        self._failing = False

    async def close(self) -> None:
        """Shutdown: what is owed is written now."""
        if self._retrying is not None:
            await asyncio.gather(self._retrying, return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.store.gate([], self._take())
