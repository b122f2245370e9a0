"""Outputs of the routing core: orders for the adapters and notifications for supervisors.

Claims (see acd/adapters/redis/routing_store.py): every agent in `RingAgents.targets`
and in `PlaceCallback` is claimed for the call before it rings; `ReleaseAgent`
says the agent is done with that call (ring failed or stopped, or wrap-up over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from acd.core.model import AgentState, OverflowMode
from acd.core.stats import PeriodStats

ExitReason = Literal["max-wait", "no-agents", "leave-empty", "queue-removed", "fallback"]
Outcome = Literal["answered", "abandoned", "exited", "callback-failed"]


@dataclass(frozen=True)
class RingTarget:
    agent_id: str
    device: str


@dataclass(frozen=True)
class RingAgents:
    """Ring these agents for the caller (several only for ring-all); the first to answer wins."""

    call_id: str
    queue: str
    targets: tuple[RingTarget, ...]
    timeout: float
    #: when the core gives up on this ring (epoch s): the ring's identity, so that an
    #: order re-sent by the next leader is not rung twice (acd.adapters.redis.routing_relay);
    #: 0 for rings of no engine. Not compared: it says which ring, not what to do.
    deadline: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class StopRinging:
    """Stop ringing (or hang up the late answer of) these agents for this call."""

    call_id: str
    agent_ids: tuple[str, ...]


@dataclass(frozen=True)
class AnnouncePosition:
    call_id: str
    position: int | None
    estimated_wait_seconds: int | None


@dataclass(frozen=True)
class ExitQueue:
    """The caller leaves the queue for `target` (a flow, voicemail, callback offer...)."""

    call_id: str
    target: str
    reason: ExitReason


@dataclass(frozen=True)
class CallOverflowed:
    """The caller's queue handed it on by an overflow rule: `move`, it now waits in
    `to_queue` instead of `from_queue`, and to_queue's rules and statistics apply;
    `also`, it waits in both and stays from_queue's call unless an agent of to_queue
    answers it (routing.answered_in). For the call's record (its `queues`) and the
    integrators' `call.overflowed`: delivered to the call's session like a ring."""

    call_id: str
    from_queue: str
    to_queue: str
    mode: OverflowMode


@dataclass(frozen=True)
class PlaceCallback:
    """Call the customer back on `number`, then connect them to the reserved agent.

    Report CallbackFailed if the customer cannot be reached, then RingAnswered or
    RingFailed for the agent as for a normal ring.
    """

    call_id: str
    number: str
    agent_id: str
    device: str
    timeout: float


@dataclass(frozen=True)
class AgentStateChanged:
    """For persistence, supervisors and the agent's own screen."""

    agent_id: str
    state: AgentState
    reason: str
    since: float


@dataclass(frozen=True)
class AgentServingChanged:
    """The agent logged into (`serving`) or out of one of their queues; their state is
    unchanged (Asterisk's fallback queues follow it)."""

    agent_id: str
    queue: str
    serving: bool


@dataclass(frozen=True)
class AgentAutoPaused:
    """Supervisor notification: the agent missed `missed` calls in a row and was paused."""

    agent_id: str
    reason: str
    missed: int


@dataclass(frozen=True)
class WrapUpDone:
    """The agent finished wrap-up after the call `call_id` (for that call's record)."""

    agent_id: str
    call_id: str
    seconds: float


@dataclass(frozen=True)
class ReleaseAgent:
    """The agent's claim for this call ends (release it in Redis)."""

    agent_id: str
    call_id: str


@dataclass(frozen=True)
class CallRouted:
    """Notification: an agent answered the caller after `waited_seconds` in queue."""

    call_id: str
    queue: str
    agent_id: str
    waited_seconds: float


@dataclass(frozen=True)
class CallCompleted:
    """Notification: the caller's stay in the ACD is over (exactly once per queued call)."""

    call_id: str
    queue: str
    outcome: Outcome
    agent_id: str
    waited_seconds: float
    talk_seconds: float


@dataclass(frozen=True)
class PeriodClosed:
    """The statistics period (day or shift) `period` ended; `stats` are its final figures."""

    period: str
    stats: PeriodStats


Command = (
    RingAgents | StopRinging | AnnouncePosition | ExitQueue | PlaceCallback
    | AgentStateChanged | AgentAutoPaused | ReleaseAgent | CallRouted | CallCompleted
    | PeriodClosed | WrapUpDone | CallOverflowed | AgentServingChanged
)
