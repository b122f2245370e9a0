"""acd's sign of life to the dialplan: the global ACD_ALIVE_AT (Unix seconds), set over
AMI twice a second by each acd that serves calls.

When a caller hangs up during a conversation, the h extension of [acd-inbound] looks at
it (asterisk/extensions.conf): a fresh one means an acd is there to record the hang-up,
and the dialplan writes nothing; one older than 1 s (EPOCH's whole seconds: no sign
for 1-2 s) means none is, and the dialplan
writes its account of the call into AstDB (acd-lost), from which the record is completed
when acd is back (acd.adapters.asterisk.lost_calls). So a live acd costs AstDB nothing,
and Asterisk two AMI actions a second. A sign that comes late (acd's event loop held up
for a second) makes the dialplan write an entry acd did not need: acd deletes it within
30 s, as its call's record is closed (acd.unseen_calls).

The two clocks are compared (acd's, Asterisk's EPOCH): keep them in step (NTP), as the
call records already need. The sign says that *an* acd is alive, not the one holding the
call: in an active cluster, a dead acd's caller who hangs up mid-conversation while
another acd lives is not accounted for (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from acd.adapters.asterisk.ami import AmiActionFailed, AmiUnavailable, Response
from acd.adapters.asterisk.syntax import global_variable

log = logging.getLogger(__name__)

ALIVE_VARIABLE = "ACD_ALIVE_AT"
#: how often the sign is renewed; the dialplan deems acd gone after 1-2 s without one
PERIOD_SECONDS = 0.5


class AmiSender(Protocol):
    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response: ...


async def keep_signing(ami: AmiSender, now: Callable[[], float],
                       period: float = PERIOD_SECONDS) -> None:
    """Until cancelled. AMI away: tried again the next period (the dialplan then writes
    its accounts, which acd reads once AMI is back)."""
    while True:
        with contextlib.suppress(AmiUnavailable, AmiActionFailed):
            await ami.send(global_variable(ALIVE_VARIABLE, str(int(now()))))
        await asyncio.sleep(period)
