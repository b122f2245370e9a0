"""Callers at run time: where they wait, what rings for them, their deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypedDict


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


class CallRecord(TypedDict):
    """A caller's run-time state as JSON (the routing snapshot): sets and tuples as
    lists, the state as its value."""

    call_id: str
    caller: str
    priority: int
    skills: list[str]
    seq: int
    home: str
    arrived_at: float
    entered_home_at: float
    queues: list[str]
    state: str
    offer_queue: str
    ringing: list[str]
    ring_deadline: float
    agent_id: str
    answered_at: float
    callback_number: str
    callback_attempts: int
    retry_at: float
    next_announce_at: float
    overflow_index: int
    overflow_at: float
    max_wait_at: float
    expired: bool


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

    def to_dict(self) -> CallRecord:
        return {
            "call_id": self.call_id, "caller": self.caller, "priority": self.priority,
            "skills": sorted(self.skills), "seq": self.seq, "home": self.home,
            "arrived_at": self.arrived_at, "entered_home_at": self.entered_home_at,
            "queues": list(self.queues), "state": self.state.value,
            "offer_queue": self.offer_queue, "ringing": list(self.ringing),
            "ring_deadline": self.ring_deadline, "agent_id": self.agent_id,
            "answered_at": self.answered_at, "callback_number": self.callback_number,
            "callback_attempts": self.callback_attempts, "retry_at": self.retry_at,
            "next_announce_at": self.next_announce_at,
            "overflow_index": self.overflow_index, "overflow_at": self.overflow_at,
            "max_wait_at": self.max_wait_at, "expired": self.expired,
        }

    @classmethod
    def from_dict(cls, data: CallRecord) -> CallRuntime:
        """A caller from a stored record; fields an older record lacks take their defaults."""
        known = {f.name for f in fields(cls)}
        # JSON as stored: the record's type says what the values are
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        values["skills"] = frozenset(data.get("skills", ()))
        values["queues"] = list(data.get("queues", ()))
        values["ringing"] = list(data.get("ringing", ()))
        values["state"] = CallState(data["state"])
        return cls(**values)
