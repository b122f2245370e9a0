"""Domain errors of the routing core: plain exceptions with messages a user can read."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class: a request the routing core refuses; its state is unchanged."""


class UnknownAgent(RoutingError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent {agent_id} is not configured")
        self.agent_id = agent_id


class UnknownQueue(RoutingError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"queue {queue!r} is not configured")
        self.queue = queue


class UnknownCall(RoutingError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} is not waiting in any queue")
        self.call_id = call_id


class DuplicateCall(RoutingError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} is already in a queue")
        self.call_id = call_id


class UnknownPauseReason(RoutingError):
    def __init__(self, reason: str, allowed: frozenset[str]) -> None:
        super().__init__(
            f"pause reason {reason!r} is not configured (allowed: {', '.join(sorted(allowed))})")
        self.reason = reason


class IllegalTransition(RoutingError):
    """An agent cannot go from one state to another (e.g. log out while on a call)."""

    def __init__(self, agent_id: str, current: str, requested: str, hint: str = "") -> None:
        message = f"agent {agent_id} cannot go from {current} to {requested}"
        super().__init__(f"{message}: {hint}" if hint else message)
        self.agent_id = agent_id
        self.current = current
        self.requested = requested


class CallbackNotPossible(RoutingError):
    def __init__(self, call_id: str, why: str) -> None:
        super().__init__(f"call {call_id} cannot switch to a callback: {why}")
        self.call_id = call_id
