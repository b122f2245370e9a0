"""Inputs of the routing core: facts, in the past tense, fed to `RoutingEngine.handle`.

Agent-driven events (login, pause, ...) are requests that may be refused with a
domain error. Telephony facts (answers, failures, hang-ups) are never refused:
one that no longer matches the engine's state (a race with a timeout, a late
answer after another agent took the call) is ignored or answered with a
corrective command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RingFailure = Literal["no-answer", "rejected", "busy", "unavailable"]


@dataclass(frozen=True)
class AgentLoggedIn:
    agent_id: str
    device: str


@dataclass(frozen=True)
class AgentLoggedOut:
    agent_id: str


@dataclass(frozen=True)
class AgentPaused:
    """The agent asks for a pause; during a call it takes effect when the call ends."""

    agent_id: str
    reason: str


@dataclass(frozen=True)
class AgentResumed:
    agent_id: str


@dataclass(frozen=True)
class AgentDeviceReachability:
    """The agent's phone registered (True) or became unreachable (False)."""

    agent_id: str
    reachable: bool


@dataclass(frozen=True)
class CallQueued:
    """A caller entered a queue. Higher `priority` is served first (VIP, whitelist)."""

    call_id: str
    queue: str
    caller: str
    priority: int = 0
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CallAbandoned:
    """The caller hung up before being connected (after connection it means CallEnded)."""

    call_id: str


@dataclass(frozen=True)
class CallLeftForFallback:
    """While acd was away the caller went to Asterisk's own fallback queue: they are no
    longer acd's to serve (counted as exited, not abandoned)."""

    call_id: str


@dataclass(frozen=True)
class RingAnswered:
    call_id: str
    agent_id: str


@dataclass(frozen=True)
class RingFailed:
    call_id: str
    agent_id: str
    reason: RingFailure = "no-answer"


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    agent_id: str


@dataclass(frozen=True)
class CallTransferred:
    """The agent transferred the call away; their part of it ends now."""

    call_id: str
    agent_id: str
    target: str


@dataclass(frozen=True)
class WrapUpEnded:
    """The agent ends wrap-up early (the timer ends it otherwise)."""

    agent_id: str


@dataclass(frozen=True)
class CallbackRequested:
    """A waiting caller keeps their place and hangs up; call them back on `number`."""

    call_id: str
    number: str


@dataclass(frozen=True)
class CallbackFailed:
    """The callback customer could not be reached (no answer, busy, ...)."""

    call_id: str


@dataclass(frozen=True)
class CallbackCancelled:
    """A pending callback is no longer wanted (the customer called again, an operator...)."""

    call_id: str


@dataclass(frozen=True)
class AgentClaimLost:
    """Another acd process holds this agent: the offer did not happen."""

    agent_id: str
    call_id: str


@dataclass(frozen=True)
class AgentClaimReleased:
    """Another acd process released this agent; they may be offered calls again."""

    agent_id: str


@dataclass(frozen=True)
class AgentQueueLogin:
    """A logged-in agent takes calls from this queue of theirs again (the default)."""

    agent_id: str
    queue: str


@dataclass(frozen=True)
class AgentQueueLogout:
    """A logged-in agent stops taking calls from this queue of theirs; their other
    queues go on. Undone by AgentQueueLogin, or by logging out altogether."""

    agent_id: str
    queue: str


@dataclass(frozen=True)
class CallPickedUp:
    """An agent takes a call that rings a colleague in one of their queues (抢接): the
    colleague's ring stops (no fault of theirs) and the call rings the agent at once,
    whose phone then announces their own number to the caller. Refused when the call
    does not ring, or the agent is not free to take it."""

    call_id: str
    agent_id: str


@dataclass(frozen=True)
class OutboundStarted:
    """The agent places a call of their own (click-to-call, a 回访, an internal call):
    on that call until OutboundEnded, and offered no caller meanwhile. Refused while
    they ring or talk, or are logged out."""

    agent_id: str
    call_id: str
    #: "outbound" (their own call), or "consult" (taken from a queue to be consulted)
    reason: str = "outbound"


@dataclass(frozen=True)
class OutboundEnded:
    """The agent's own call is over (or never reached them): back to work, or to the
    pause they were in."""

    agent_id: str
    call_id: str


Event = (
    AgentLoggedIn | AgentLoggedOut | AgentPaused | AgentResumed | AgentDeviceReachability
    | CallQueued | CallAbandoned | CallLeftForFallback | RingAnswered | RingFailed | CallEnded
    | CallTransferred    | WrapUpEnded | CallbackRequested | CallbackFailed | CallbackCancelled
    | AgentClaimLost | AgentClaimReleased | OutboundStarted | OutboundEnded
    | AgentQueueLogin | AgentQueueLogout | CallPickedUp
)
