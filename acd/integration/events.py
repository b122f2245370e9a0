"""The integrators' events in acd's words, and what each consumer may see of them.

An event is a JSON object: `id` (the event feed's stream id, e.g. "1764563100123-0":
unique, increasing, the same on every delivery and on the WebSocket, so a receiver
drops a repeat by it), `type`, `time` (epoch seconds of the fact), `call_id`,
`agent_id` ('' when none) and `data`. docs/integration.md shows each type's data.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from acd.core.commands import AgentStateChanged
from acd.privacy import mask_call, mask_numbers_in

#: every type an event can have, in the order of a call's life
EVENT_TYPES = ("call.overflowed", "call.offered", "call.answered", "call.held",
               "call.resumed", "call.transferred", "call.ended", "survey.answered",
               "agent.state")

Event = dict[str, Any]


def call_event(kind: str, call_id: str, agent_id: str, at: float,
               data: Mapping[str, object]) -> Event:
    """A call's event, before the feed gives it its id."""
    return {"type": kind, "time": at, "call_id": call_id, "agent_id": agent_id,
            "data": dict(data)}


def agent_state_event(change: AgentStateChanged) -> Event:
    """The routing core's word on an agent's state (available, ringing, on-call,
    wrap-up, paused with a reason, logged-out)."""
    return {"type": "agent.state", "time": change.since, "call_id": "",
            "agent_id": change.agent_id,
            "data": {"state": str(change.state), "reason": change.reason,
                     "since": change.since}}


def masked(event: Event, full_numbers: bool) -> Event:
    """The event for a consumer without the right to see callers' numbers: the caller,
    sensitive IVR values and numbers in a transfer target or the record's free text
    masked the way the API masks them (acd.privacy)."""
    data = event.get("data")
    if full_numbers or not isinstance(data, Mapping):
        return event
    out = mask_call(data) if "caller" in data else dict(data)
    if isinstance(out.get("target"), str):
        out["target"] = mask_numbers_in(out["target"])
    return {**event, "data": out}


def concerns_agent(event: Event, agent_id: str) -> bool:
    """An agent's own event: their state, or a call they were rung for or talked on."""
    return bool(agent_id) and event.get("agent_id") == agent_id


def wanted(kind: str, patterns: Iterable[str]) -> bool:
    """Whether a type matches a consumer's filter: exact types, a family ("call.*") or
    everything ("*")."""
    for pattern in patterns:
        if pattern == "*" or pattern == kind or \
                (pattern.endswith(".*") and kind.startswith(pattern[:-1])):
            return True
    return False


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """Filter entries that match no type (a typo would silently deliver nothing)."""
    return [p for p in patterns if not any(wanted(kind, [p]) for kind in EVENT_TYPES)]


# -- webhook signatures ------------------------------------------------------------------

SIGNATURE_PREFIX = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Acd-Signature header: HMAC-SHA256 of "<timestamp>." + body, in hex."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, header: str, now: float,
                    tolerance: float = 300.0) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (a
    replayed old delivery is refused; a repeat within the window is dropped by id)."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def retry_delay(failures: int, base: float, cap: float) -> float:
    """Seconds before the next attempt after `failures` failed ones in a row: doubling
    from `base`, never more than `cap`."""
    return float(min(cap, base * 2 ** max(0, min(failures - 1, 30))))
