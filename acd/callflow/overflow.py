"""What the routing core's overflow rules mean for the call's record: which queue a
call counts in.

The record's `queues` lists the queues the call waited in, in order; the last is where
it ended (the history's `calls.queue`, the queue reports' answered and abandoned), and
each one before it is a queue the call left for another (its `overflowed_out`, counted
as offered there too: acd.history.departures).

- `move`: the caller leaves its queue for the target, whose rules and statistics now
  apply (the routing core counts it overflowed out of the first and offered in the
  target). The target is appended now: [A, B].
  A move while an agent of A rings, answered by that agent: [A, B, A] (the routing
  core counts it the same way: offered twice in A, once overflowed out of each).
- `also`: the caller waits in both but stays its first queue's call (the routing
  core keeps its statistics, max wait and announcements there). Nothing changes now:
  an abandoned or exited caller counts in A, like in the routing core. If an agent of
  the added queue answers, that queue is appended when the agent answers
  (acd.callflow.ringing `connect`): the answering queue is always the last, so the
  report says B answered it and A saw it leave.

Integrators hear of both as `call.overflowed` (from, to, mode).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import notices
from acd.callflow.state import Phase
from acd.core.model import OverflowMode

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)


def overflowed(s: CallSession, fact: f.QueueOverflowed) -> None:
    """An overflow rule of the caller's queue fired. A closed record stays as it was
    closed (the caller was gone before the routing core moved it)."""
    if s.phase is Phase.CLOSED:
        return
    log.info("%s: overflows from %s to %s (%s)", s.describe(), fact.from_queue,
             fact.to_queue, fact.mode)
    notices.overflowed(s, fact.from_queue, fact.to_queue, str(fact.mode))
    if fact.mode is OverflowMode.MOVE:
        now_in(s, fact.to_queue)
        ring = s.ring
        if ring is not None and ring.answered_by and s.phase is not Phase.QUEUED:
            # moved while the agent's phone rang, told after the answer: the routing
            # core then took the answer and made it the answering queue's call again
            # (acd.core.routing answered_in), [A, B, A], so both count it alike
            now_in(s, ring.queue)
        s.checkpoint()  # a restarted acd resumes the call in the queue it is in


def now_in(s: CallSession, queue: str) -> None:
    """The call is now `queue`'s (moved there, or answered by its agent): it becomes the
    record's last queue."""
    if queue and s.record.queues[-1:] != [queue]:
        s.add_to("queues", queue)
