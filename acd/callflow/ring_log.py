"""Each agent rung for a call, as the history keeps it: who, on which phone, from when
until when, and how it ended (the record's `rings`, one entry per agent per Dial).

A Dial to several agents at once is one entry per agent: the one who answered is
`answered`, the others `stopped`. An entry is never changed in place: the record
hands snapshots of its lists to the store, so a change makes a new list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from acd.callflow import facts as f
from acd.core.commands import RingTarget

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

#: how a ring ended (acd.history.schema ring_attempts.result)
RingResult = Literal["answered", "no-answer", "busy", "rejected", "failed", "stopped",
                     "caller-gone"]

#: the Dial's status for the agents it rang, when nobody answered
DIAL_RESULTS: dict[f.DialStatus, RingResult] = {
    f.DialStatus.NO_ANSWER: "no-answer", f.DialStatus.BUSY: "busy",
    f.DialStatus.UNAVAILABLE: "failed", f.DialStatus.REJECTED: "rejected",
    f.DialStatus.CANCELLED: "no-answer",
}


def started(s: CallSession, queue: str, targets: Iterable[RingTarget]) -> None:
    """The Dial to these agents begins now."""
    new = [{"queue": queue, "agent": t.agent_id, "device": t.device, "started_at": s.now,
            "ended_at": None, "result": ""} for t in targets]
    s.change(rings=[*s.record.rings, *new])


def ended(s: CallSession, result: RingResult, agents: Iterable[str] | None = None) -> None:
    """The rings still going (of these agents; None: all) ended now with `result`."""
    wanted = None if agents is None else set(agents)
    changed = False
    rings: list[dict[str, object]] = []
    for entry in s.record.rings:
        if not entry.get("result") and (wanted is None or entry.get("agent") in wanted):
            entry = {**entry, "ended_at": s.now, "result": result}
            changed = True
        rings.append(entry)
    if changed:
        s.change(rings=rings)


def answered(s: CallSession, agent: str) -> None:
    """`agent` answered: the others rung with them are stopped."""
    ended(s, "answered", (agent,))
    ended(s, "stopped")
