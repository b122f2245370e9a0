"""Callers at run time: where they wait, what rings for them, their deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CallState(StrEnum):
    #: in the waiting structures of every queue in `queues` (a live caller, or a callback)
    WAITING = "waiting"
    #: agents are ringing for this caller
    RINGING = "ringing"
    #: an agent was reserved and the customer is being called back
    CALLBACK_DIALING = "callback-dialing"
    #: the last callback attempt failed; waiting for the retry time (out of the queues)
    CALLBACK_RETRY = "callback-retry"
    CONNECTED = "connected"


@dataclass
class CallRuntime:
    call_id: str
    caller: str
    priority: int
    skills: frozenset[str]
    #: global arrival order: with priority, the caller's place in every queue
    seq: int
    #: the queue whose rules (overflow, max wait, statistics) apply
    home: str
    arrived_at: float
    entered_home_at: float
    #: queues the caller waits in: home first, then overflow targets
    queues: list[str] = field(default_factory=list)
    state: CallState = CallState.WAITING
    #: the queue whose agents ring now, and who is ringing until when
    offer_queue: str = ""
    ringing: list[str] = field(default_factory=list)
    ring_deadline: float = 0.0
    agent_id: str = ""
    answered_at: float = 0.0
    #: set while the caller is a callback (hung up, keeping their place)
    callback_number: str = ""
    callback_attempts: int = 0
    retry_at: float = 0.0
    next_announce_at: float = 0.0
    #: index of the next overflow rule of the home queue, and when it applies
    overflow_index: int = 0
    overflow_at: float = 0.0
    max_wait_at: float = 0.0
    #: max wait passed while agents were ringing: exit if the ring fails
    expired: bool = False

    @property
    def is_callback(self) -> bool:
        return bool(self.callback_number)

    def waited(self, now: float) -> float:
        return max(0.0, now - self.arrived_at)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _FIELDS}
        data["skills"] = sorted(self.skills)
        data["queues"] = list(self.queues)
        data["ringing"] = list(self.ringing)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallRuntime:
        values = {name: data[name] for name in _FIELDS if name in data}
        values["skills"] = frozenset(data.get("skills", ()))
        values["queues"] = list(data.get("queues", ()))
        values["ringing"] = list(data.get("ringing", ()))
        values["state"] = CallState(data["state"])
        return cls(**values)


_FIELDS = (
    "call_id", "caller", "priority", "skills", "seq", "home", "arrived_at",
    "entered_home_at", "queues", "state", "offer_queue", "ringing", "ring_deadline",
    "agent_id", "answered_at", "callback_number", "callback_attempts", "retry_at",
    "next_announce_at", "overflow_index", "overflow_at", "max_wait_at", "expired",
)
