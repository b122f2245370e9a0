"""Calls no acd ever saw, put in the books.

A call that arrives while no acd answers hears music for a few seconds, then the
dialplan queues it in Asterisk's own fallback queue; when it ends, the h extension writes
its account into AstDB (asterisk/extensions.conf, acd.adapters.asterisk.lost_calls). No
acd has a record of it, so nothing else would ever read that account: the call would be
missing from the reports, and the entry left in AstDB for ever. The acd that leads looks
every UNSEEN_SECONDS (the first look soon after it starts) and records each such call
from its account (CallRegistry.record_unseen): outcome answered-by-fallback with the
agent and times, or abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

UNSEEN_SECONDS = 30.0
#: the first look, once acd has started (and its AMI has logged in)
FIRST_LOOK_SECONDS = 5.0


class Calls(Protocol):
    async def record_unseen(self) -> int: ...


async def keep_recording(calls: Calls, leading: Callable[[], bool], *,
                         period: float = UNSEEN_SECONDS,
                         first: float = FIRST_LOOK_SECONDS) -> None:
    """Until cancelled; a look that fails (AMI away) is tried again the next period."""
    failing = False
    await asyncio.sleep(first)
    while True:
        try:
            if leading():
                await calls.record_unseen()
            failing = False
        except Exception as exc:
            if not failing:
                log.warning("calls that came and went while no acd was there not looked "
                            "for (%s); trying again every %.0f s", exc, period)
            failing = True
        await asyncio.sleep(period)
