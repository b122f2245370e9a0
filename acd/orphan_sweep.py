"""The leader of an active cluster closes what a dead acd left (cluster.mode: active).

When an acd dies, its calls in the IVR or waiting come back to another acd through the
dialplan, which takes them over. The others do not come back: a conversation that ended
while it was dead (the caller heard goodbye), a caller who hung up meanwhile, a caller
Asterisk's fallback queue took. Their records would stay open for ever, and a waiting
one would stay in the routing core as a ghost. A single acd finds such calls when it
starts (CallRegistry.resync after its AMI login); in an active cluster the acd that
died may never start again, so the leader looks every SWEEP_SECONDS:

- a call open in Redis that no acd held at two looks in a row
  (acd.adapters.redis.held_calls) and that Asterisk no longer has: closed, with what
  the dialplan wrote (acd-lost in AstDB). (Two looks: an acd closes its own call
  moments after its channel goes.)
- one Asterisk still has in its fallback queue (app_queue's `Queue`): taken over, as a
  single acd does after a restart: the caller leaves the routing core (no agent is
  offered a ghost), the record closes when the call hangs up. Any other live call is
  left alone: it is in a conversation, a goodbye or the dialplan's retry loop, and
  comes back to an acd or ends (then it is closed as above). So a follower that is
  alive but cut off from Redis never has a call it serves taken from it.
- an adopted call another acd holds since (it came back after all): let go. Every acd
  looks for these, not only the leader (an acd's AMI login adopts calls too).
- a booked callback has no session and no channel until the core calls back: never
  touched (CallRegistry.resync).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

SWEEP_SECONDS = 3.0
#: the application of a channel waiting in Asterisk's fallback queue (app_queue)
IN_FALLBACK_QUEUE = "Queue"

Channel = Mapping[str, str]


class Calls(Protocol):
    """The call registry, as the sweep reaches it."""

    def held(self) -> set[str]: ...

    def orphans(self) -> set[str]: ...

    def let_go(self, call_ids: set[str]) -> None: ...

    async def resync(self, live: Mapping[str, str], only: set[str] | None = None
                     ) -> None: ...


class OrphanSweep:
    def __init__(self, calls: Calls, open_calls: Callable[[], Awaitable[set[str]]],
                 held_elsewhere: Callable[[], Awaitable[set[str]]],
                 channels: Callable[[], Awaitable[list[Channel]]],
                 leading: Callable[[], bool]) -> None:
        self.calls = calls
        self._open_calls = open_calls
        self._held_elsewhere = held_elsewhere
        self._channels = channels
        self._leading = leading
        self._unheld_gone: set[str] = set()  # ended and held by nobody at the last look

    async def run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                if self._leading():
                    await self.look()
                elif self.calls.orphans():  # (adopted at this acd's AMI login)
                    self._let_go(await self._held_elsewhere())
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("calls left by a stopped acd not looked at (%s); "
                                "trying again every %.0f s", exc, SWEEP_SECONDS)
                failing = True

    async def look(self) -> None:
        """One look (see the module's docstring)."""
        unheld = await self._open_calls() - self.calls.held()
        orphans = self.calls.orphans()
        if not unheld and not orphans:
            self._unheld_gone = set()
            return
        elsewhere = await self._held_elsewhere()
        self._let_go(elsewhere)
        unheld -= elsewhere
        if not unheld:
            self._unheld_gone = set()
            return
        channels = await self._channels()
        live = {c.get("Uniqueid", ""): c.get("Channel", "") for c in channels}
        queued = {call_id for c in channels
                  if c.get("Application") == IN_FALLBACK_QUEUE
                  and (call_id := c.get("Uniqueid", "")) in unheld}
        gone = {call_id for call_id in unheld if call_id not in live}
        ended = gone & self._unheld_gone
        self._unheld_gone = gone
        if ended or queued:
            log.warning("%d call(s) no acd holds (left by an acd that stopped): %d ended, "
                        "%d in Asterisk's fallback queue; this acd takes them over",
                        len(ended | queued), len(ended), len(queued))
            await self.calls.resync(live, only=ended | queued)

    def _let_go(self, elsewhere: set[str]) -> None:
        if taken := self.calls.orphans() & elsewhere:
            self.calls.let_go(taken)
