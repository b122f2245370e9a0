"""The leader of an active cluster closes what a dead acd left (cluster.mode: active).

When an acd dies, its calls in the IVR or waiting come back to another acd through the
dialplan, which takes them over. The others do not come back: a conversation that ended
while it was dead (the caller heard goodbye), a caller who hung up meanwhile, a caller
Asterisk's fallback queue took. Their records would stay open for ever, and a waiting
one would stay in the routing core as a ghost. A single acd finds such calls when it
starts (CallRegistry.resync after its AMI login); in an active cluster the acd that
died may never start again, so the leader looks every SWEEP_SECONDS:

- a call open in Redis that no acd holds (acd.adapters.redis.held_calls) and that
  Asterisk no longer has: closed now, with what the dialplan wrote (acd-lost in AstDB);
- one Asterisk still has: adopted once no acd held it at two looks in a row (in
  between, a call in the dialplan's retry loop comes back to an acd and is held
  again), then handled as a single acd does after a restart (a caller in the fallback
  queue leaves the routing core; the record closes when the call hangs up);
- an adopted call another acd holds since (it came back after all): let go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

SWEEP_SECONDS = 3.0

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
        self._unheld_live: set[str] = set()  # live and held by nobody at the last look

    async def run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            if not self._leading():
                continue
            try:
                await self.look()
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
            self._unheld_live = set()
            return
        elsewhere = await self._held_elsewhere()
        if orphans & elsewhere:
            self.calls.let_go(orphans & elsewhere)
        unheld -= elsewhere
        if not unheld:
            self._unheld_live = set()
            return
        live = {c.get("Uniqueid", ""): c.get("Channel", "") for c in await self._channels()}
        gone = {call_id for call_id in unheld if call_id not in live}
        steady = {call_id for call_id in unheld & self._unheld_live if call_id in live}
        self._unheld_live = {call_id for call_id in unheld if call_id in live}
        if gone or steady:
            log.warning("%d call(s) no acd holds (left by an acd that stopped): %d ended, "
                        "%d still up in Asterisk; this acd takes them over",
                        len(gone | steady), len(gone), len(steady))
            await self.calls.resync(live, only=gone | steady)
