"""Agents at run time: the state machine, the time each state began, and counters.

Fairness of the count-based strategies. Least calls and shortest talk time
rank agents by *answered* calls and talk seconds in the current period, so a
ring that was not answered never counts, and a transferred call counts once,
with talk time only up to the transfer. An agent who logs in late (or comes
back from a long absence) would have the lowest count and take every call
until they caught up. So at each login the agent's ranking metrics are raised,
never lowered, to the queue's current level: the metrics of the agent offered
a call last in that queue, who was the least loaded available agent then
(lowest over the agent's count-based queues). This is O(1), keeps the real
statistics untouched (the seed lives in `calls_offset`/`talk_offset`), and puts
the newcomer level with the front of the rotation rather than ahead of it.
Seeding with the average instead would starve the newcomer until every
below-average agent caught up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from acd.core.errors import IllegalTransition
from acd.core.model import AgentConfig, AgentState
from acd.core.stats import AgentStats, AgentStatsRecord

S = AgentState

#: the legal moves; anything else is refused with IllegalTransition
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.AVAILABLE}),
    # AVAILABLE, PAUSED, WRAP_UP -> ON_CALL only for the agent's own call (OutboundStarted)
    S.AVAILABLE: frozenset({S.RINGING, S.PAUSED, S.LOGGED_OUT, S.ON_CALL}),
    S.RINGING: frozenset({S.ON_CALL, S.AVAILABLE, S.PAUSED, S.LOGGED_OUT}),
    # ON_CALL -> PAUSED / LOGGED_OUT only for a pause or logout requested during the call,
    # when there is no wrap-up
    S.ON_CALL: frozenset({S.WRAP_UP, S.AVAILABLE, S.PAUSED, S.LOGGED_OUT}),
    S.WRAP_UP: frozenset({S.AVAILABLE, S.PAUSED, S.LOGGED_OUT, S.ON_CALL}),
    S.PAUSED: frozenset({S.AVAILABLE, S.PAUSED, S.LOGGED_OUT, S.ON_CALL}),
}

HINTS: dict[tuple[AgentState, AgentState], str] = {
    (S.ON_CALL, S.LOGGED_OUT): "end the call first",
    (S.LOGGED_OUT, S.PAUSED): "log in first",
    (S.LOGGED_OUT, S.LOGGED_OUT): "already logged out",
    (S.AVAILABLE, S.AVAILABLE): "already available",
}


class AgentRecord(TypedDict):
    """An agent's run-time state as JSON (the routing snapshot); the state is its value."""

    state: str
    since: float
    reason: str
    device: str
    call_id: str
    pending_pause: str
    pending_logout: bool
    reachable: bool
    hold_until: float
    hold_reason: str
    missed_in_row: int
    logged_in_at: float
    last_call_end: float
    wrap_until: float
    calls_offset: float
    talk_offset: float
    stats: AgentStatsRecord
    answer_speeds: list[float]
    left_queues: list[str]


@dataclass
class AgentRuntime:
    config: AgentConfig
    #: rank of the agent number in natural order: the final, deterministic tie-break
    number_rank: int = 0
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    reason: str = ""
    device: str = ""
    #: the call the agent is ringing for, talking on or wrapping up
    call_id: str = ""
    #: a pause asked for during a call, applied when the call (and wrap-up) ends
    pending_pause: str = ""
    #: a logout asked for during a call, applied when the call (and wrap-up) ends
    pending_logout: bool = False
    reachable: bool = True
    #: not offered calls before this time (after a failed ring, or held by another process)
    hold_until: float = 0.0
    hold_reason: str = ""
    missed_in_row: int = 0
    logged_in_at: float = 0.0
    last_call_end: float = 0.0
    wrap_until: float = 0.0
    calls_offset: float = 0.0
    talk_offset: float = 0.0
    stats: AgentStats = field(default_factory=AgentStats)
    #: queues of theirs the agent logged out of (per-queue logout; cleared at logout)
    left_queues: set[str] = field(default_factory=set)
    #: seconds from ringing to answering (or to giving up) of the latest offers, oldest
    #: first (fastest-answer); kept across periods: a speed is a habit, not a quota
    answer_speeds: list[float] = field(default_factory=list)

    @property
    def agent_id(self) -> str:
        return self.config.agent_id

    @property
    def eligible(self) -> bool:
        """Whether the agent may be offered a call right now."""
        return (self.state is AgentState.AVAILABLE and self.reachable
                and not self.hold_until)

    @property
    def rank_calls(self) -> float:
        return self.stats.answered + self.calls_offset

    @property
    def rank_talk(self) -> float:
        return self.stats.talk_seconds + self.talk_offset

    def rank_speed(self, prior: float) -> float:
        """The average answer speed, smoothed by `prior` worth two offers."""
        return (sum(self.answer_speeds) + 2 * prior) / (len(self.answer_speeds) + 2)

    def rang_for(self, seconds: float, window: int) -> None:
        """An offer ended after `seconds` of ringing (answered, or let time out)."""
        self.answer_speeds.append(round(max(0.0, seconds), 3))
        del self.answer_speeds[:-window]

    @property
    def idle_since(self) -> float:
        """Longest idle counts from the last call's end, or from login if later."""
        return max(self.last_call_end, self.logged_in_at)

    def check(self, target: AgentState) -> None:
        if target not in TRANSITIONS[self.state]:
            raise IllegalTransition(self.agent_id, self.state.value, target.value,
                                    HINTS.get((self.state, target), ""))

    def enter(self, target: AgentState, reason: str, now: float) -> None:
        """Move to `target` (checked), closing the time spent in the current state."""
        self.check(target)
        elapsed = max(0.0, now - self.since)
        if self.state is not AgentState.LOGGED_OUT:
            self.stats.spent(self.label(), elapsed)
        if self.state is AgentState.WRAP_UP:
            self.stats.wrap_up_seconds += elapsed
        self.state, self.reason, self.since = target, reason, now

    def label(self) -> str:
        if self.state is AgentState.PAUSED:
            return f"paused:{self.reason}"
        return self.state.value

    def seed(self, floor_calls: float, floor_talk: float) -> None:
        """Raise the ranking metrics to the queue's current level (see module docstring)."""
        self.calls_offset = max(self.calls_offset, floor_calls - self.stats.answered)
        self.talk_offset = max(self.talk_offset, floor_talk - self.stats.talk_seconds)

    def new_period(self) -> None:
        self.stats = AgentStats()
        self.calls_offset = self.talk_offset = 0.0

    def to_dict(self) -> AgentRecord:
        return {
            "state": self.state.value, "since": self.since, "reason": self.reason,
            "device": self.device, "call_id": self.call_id,
            "pending_pause": self.pending_pause, "pending_logout": self.pending_logout,
            "reachable": self.reachable,
            "hold_until": self.hold_until, "hold_reason": self.hold_reason,
            "missed_in_row": self.missed_in_row, "logged_in_at": self.logged_in_at,
            "last_call_end": self.last_call_end, "wrap_until": self.wrap_until,
            "calls_offset": self.calls_offset, "talk_offset": self.talk_offset,
            "stats": self.stats.to_dict(), "answer_speeds": list(self.answer_speeds),
            "left_queues": sorted(self.left_queues),
        }

    def load(self, data: AgentRecord) -> None:
        """Continue from a stored record; a field an older record lacks keeps its value."""
        self.state = AgentState(data["state"])
        self.since = data.get("since", self.since)
        self.reason = data.get("reason", self.reason)
        self.device = data.get("device", self.device)
        self.call_id = data.get("call_id", self.call_id)
        self.pending_pause = data.get("pending_pause", self.pending_pause)
        self.pending_logout = data.get("pending_logout", self.pending_logout)
        self.reachable = data.get("reachable", self.reachable)
        self.hold_until = data.get("hold_until", self.hold_until)
        self.hold_reason = data.get("hold_reason", self.hold_reason)
        self.missed_in_row = data.get("missed_in_row", self.missed_in_row)
        self.logged_in_at = data.get("logged_in_at", self.logged_in_at)
        self.last_call_end = data.get("last_call_end", self.last_call_end)
        self.wrap_until = data.get("wrap_until", self.wrap_until)
        self.calls_offset = data.get("calls_offset", self.calls_offset)
        self.talk_offset = data.get("talk_offset", self.talk_offset)
        self.stats = AgentStats.from_dict(data.get("stats", {}))
        self.answer_speeds = list(data.get("answer_speeds", self.answer_speeds))
        self.left_queues = set(data.get("left_queues", self.left_queues))


def presence(state: AgentState) -> tuple[int, int]:
    """(logged in, staffed) as 0/1 flags for the queue counters; staffed = not paused."""
    logged_in = state is not AgentState.LOGGED_OUT
    return int(logged_in), int(logged_in and state is not AgentState.PAUSED)


def natural_key(agent_id: str) -> tuple[int, int, str]:
    """Agent numbers sort numerically when they are numbers (9 before 10), else by text."""
    return (0, int(agent_id), "") if agent_id.isdigit() else (1, 0, agent_id)
