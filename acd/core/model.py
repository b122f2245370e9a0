"""Routing configuration: queues, agents and engine settings as typed, frozen values.

The config loader builds these from YAML; the engine never mutates them.
Membership may be declared on either side (``QueueConfig.members`` and
``AgentConfig.queues``); the engine uses the union, taking a member's penalty
from ``QueueConfig.members`` (0 when the agent only lists the queue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Strategy(StrEnum):
    """How a queue picks among its available agents."""

    #: fewest answered calls in the current period (day or shift)
    LEAST_CALLS = "least-calls"
    #: least total talk time in the current period
    SHORTEST_TALK_TIME = "shortest-talk-time"
    #: longest since the end of the agent's last call (or since login)
    LONGEST_IDLE = "longest-idle"
    #: member order, continuing after the last agent offered a call (app_queue rrmemory)
    ROUND_ROBIN = "round-robin"
    #: every available agent of the best penalty level rings at once
    RING_ALL = "ring-all"
    #: the shortest average ring-to-answer time over the agent's last offers
    #: (平均应答速度); a ring they let time out counts its whole length
    FASTEST_ANSWER = "fastest-answer"


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


class OverflowMode(StrEnum):
    #: the caller keeps waiting in its queue and is offered to the target queue too
    ALSO = "also"
    #: the caller leaves its queue for the target queue (keeping its arrival time)
    MOVE = "move"


#: pause reasons accepted when the configuration does not list its own
DEFAULT_PAUSE_REASONS = frozenset(
    {"break", "away", "busy", "meeting", "lunch", "training", "no-answer"})

#: the reason the engine itself uses when it pauses an agent who keeps missing calls
NO_ANSWER_REASON = "no-answer"
#: the reason of an agent on a call of their own (OutboundStarted)
OUTBOUND_REASON = "outbound"
#: a colleague taken from a queue for an agent's consultation (attended transfer)
CONSULT_REASON = "consult"
#: on a call that is not a queue's: offered no caller, no wrap-up after it
OWN_CALL_REASONS = (OUTBOUND_REASON, CONSULT_REASON)


@dataclass(frozen=True)
class QueueMember:
    """An agent in a queue; lower penalty levels are tried first (app_queue penalties)."""

    agent_id: str
    penalty: int = 0


@dataclass(frozen=True)
class OverflowRule:
    """After `after_seconds` in the queue, the caller is also offered to (or moved to) `target`."""

    after_seconds: float
    target: str
    mode: OverflowMode = OverflowMode.ALSO


@dataclass(frozen=True)
class QueueConfig:
    """One ACD queue. Times are in seconds."""

    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    #: members in round-robin order, each with a penalty level
    members: tuple[QueueMember, ...] = ()
    #: time after each call before the agent is offered the next one (0: none)
    wrap_up_seconds: float = 0.0
    #: how long one agent rings before the caller is offered to the next
    ring_timeout_seconds: float = 15.0
    #: longest a caller waits before leaving for `max_wait_target` (None: no limit)
    max_wait_seconds: float | None = None
    #: where a caller goes after max wait: a flow, voicemail box, callback offer...
    max_wait_target: str = ""
    #: whether callers may join while no member is logged in
    join_empty: bool = True
    #: whether waiting callers leave when the last member logs out
    leave_when_empty: bool = False
    #: where callers go when the queue is (or becomes) empty
    empty_target: str = ""
    #: overflow rules, in order of `after_seconds`
    overflow: tuple[OverflowRule, ...] = ()
    #: how often waiting callers hear their position / wait (0: never)
    announce_period_seconds: float = 0.0
    announce_position: bool = True
    announce_wait_time: bool = True
    #: answered within this many seconds counts toward the service level
    service_level_seconds: float = 15.0
    #: an agent in several queues serves the queue with the highest weight first
    weight: int = 0
    #: consecutive unanswered rings before the agent is paused with reason "no-answer" (0: never)
    auto_pause_after: int = 3
    #: how often the engine tries to reach a callback customer before giving up
    callback_attempts: int = 3
    callback_retry_seconds: float = 120.0
    #: time allowed to reach the customer and connect the agent on one callback attempt
    callback_timeout_seconds: float = 60.0
    #: handle time assumed for wait estimates until real calls have been measured
    default_handle_seconds: float = 180.0


@dataclass(frozen=True)
class AgentConfig:
    """A person who takes calls."""

    #: the agent number (工号); also the id in events and the final tie-break
    agent_id: str
    name: str = ""
    pin: str = ""
    skills: frozenset[str] = frozenset()
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingSettings:
    """Engine-wide knobs."""

    pause_reasons: frozenset[str] = field(default=DEFAULT_PAUSE_REASONS)
    #: after an unanswered, rejected or failed ring the agent rests this long before the
    #: next offer, so one absent agent is not rung again and again (mod_callcenter's
    #: no-answer-delay-time); 0 disables
    ring_failure_delay_seconds: float = 5.0
    #: an agent another acd process holds is retried after this long at the latest
    claim_retry_seconds: float = 10.0
    #: safety margin added to the ring timeout before the engine gives up on a ring
    #: whose outcome was never reported
    ring_grace_seconds: float = 5.0
    #: weight of the newest call in the exponential average of handle times
    handle_time_smoothing: float = 0.1
    #: fastest-answer: how many of an agent's latest offers their average covers, and
    #: the prior it starts from (worth two offers), so that one lucky quick answer does
    #: not win every call and a newcomer is neither first nor last
    answer_speed_window: int = 20
    answer_speed_prior_seconds: float = 6.0
