"""Admission: whether a call arriving at the 400 number is taken on or shed, once acd is
past what the box carries. Pure: an arrival and `now` in, a verdict out.

Two caps, each 0 for none. `max_sessions`: calls in acd at once (in the IVR, waiting,
talking; each holds an Asterisk channel and its media for the whole call). The rate at
which new calls are taken on: a token bucket that refills at `max_calls_per_second` and
holds `burst` tokens, so a quiet line takes a sudden burst and a flood is cut to the rate.

Only a first arrival is ever shed. A call the dialplan hands back after an acd restart,
a customer called back and a phone transfer are callers acd has already taken on: they
are never shed, and hold a session like any other call.

A shed caller hears a short "lines busy" prompt and is hung up, or goes to the
dialplan's fallback (Asterisk's own queue). The prompt holds a channel and its media too,
for a few seconds: past `max_busy_prompts` at once, a shed caller is hung up unanswered,
so that a flood far beyond the caps cannot exhaust Asterisk's media ports with prompts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from acd.callflow.record import CallRecord


class ShedTo(StrEnum):
    """What config.yaml's `admission.shed_to` sends a shed caller to."""

    BUSY = "busy"  # the "lines busy" prompt, then a hang-up
    FALLBACK = "fallback"  # the dialplan's fallback: Asterisk's own queue


class Over(StrEnum):
    """The cap a shed call was over."""

    SESSIONS = "sessions"
    RATE = "rate"


class Course(StrEnum):
    """What a shed caller gets."""

    BUSY_PROMPT = "busy"
    FALLBACK = "fallback"
    #: unanswered: `max_busy_prompts` callers hear the prompt already
    HANG_UP = "hangup"


@dataclass(frozen=True)
class Shed:
    """A call not taken on: which cap it was over, and what the caller gets."""

    over: Over
    course: Course


@dataclass(frozen=True)
class AdmissionConfig:
    """config.yaml's `admission:` section; every cap 0 (or left out): none."""

    #: calls in acd at once (IVR, waiting, talking); a new call beyond it is shed
    max_sessions: int = 0
    #: new calls taken on per second, on average
    max_calls_per_second: float = 0.0
    #: new calls taken on at once after a quiet spell; 0: one second's worth
    burst: int = 0
    #: busy: the "lines busy" prompt and a hang-up; fallback: Asterisk's own queue
    shed_to: ShedTo = ShedTo.BUSY
    #: shed callers hearing the prompt at once; beyond, they are hung up unanswered
    max_busy_prompts: int = 0

    @property
    def limited(self) -> bool:
        """Some call may be shed."""
        return bool(self.max_sessions or self.max_calls_per_second)

    @property
    def bucket_size(self) -> float:
        return float(self.burst) if self.burst else max(1.0, math.ceil(
            self.max_calls_per_second))

    def problems(self) -> list[tuple[str, str]]:
        """(key, what is wrong) for each value acd cannot run on."""
        found = [(key, "must be 0 (no cap) or more")
                 for key in ("max_sessions", "max_calls_per_second", "burst",
                             "max_busy_prompts") if getattr(self, key) < 0]
        if not math.isfinite(self.max_calls_per_second):
            found.append(("max_calls_per_second", "must be a number of calls (0: no cap)"))
        if self.burst > 0 and not self.max_calls_per_second:
            found.append(("burst", "has no effect without max_calls_per_second (the rate "
                                   "the burst refills at)"))
        return found


class Admission:
    """The caps, the calls in acd and the token bucket; driven by the call registry."""

    def __init__(self, config: AdmissionConfig | None = None) -> None:
        self.config = config or AdmissionConfig()
        #: calls in acd now (first arrivals taken on, and calls never shed)
        self.sessions = 0
        #: shed callers hearing the busy prompt now
        self.busy_prompts = 0
        self._tokens = self.config.bucket_size
        self._filled_at: float | None = None

    def reconfigure(self, config: AdmissionConfig) -> None:
        """New caps (a reload); the calls in acd stay counted, the bucket keeps what it
        holds up to its new size."""
        self.config = config
        self._tokens = min(self._tokens, config.bucket_size)

    def admit(self, now: float) -> Shed | None:
        """A first arrival: None when it is taken on (it holds a session until
        `release`), else how it is shed (a busy prompt holds a prompt until `shed_over`)."""
        config = self.config
        if config.max_sessions and self.sessions >= config.max_sessions:
            return self._shed(Over.SESSIONS)
        if config.max_calls_per_second:
            self._refill(now)
            if self._tokens < 1:
                return self._shed(Over.RATE)
            self._tokens -= 1
        self.sessions += 1
        return None

    def hold(self) -> None:
        """A call that is never shed (back after a restart, called back, transferred)
        holds a session all the same."""
        self.sessions += 1

    def release(self) -> None:
        """A call's session ended: its place is free for the next caller."""
        self.sessions -= 1

    def shed_over(self, shed: Shed) -> None:
        """acd is done with a shed caller."""
        if shed.course is Course.BUSY_PROMPT:
            self.busy_prompts -= 1

    def _shed(self, over: Over) -> Shed:
        config = self.config
        if config.shed_to is ShedTo.FALLBACK:
            return Shed(over, Course.FALLBACK)
        if config.max_busy_prompts and self.busy_prompts >= config.max_busy_prompts:
            return Shed(over, Course.HANG_UP)
        self.busy_prompts += 1
        return Shed(over, Course.BUSY_PROMPT)

    def _refill(self, now: float) -> None:
        if self._filled_at is not None:
            elapsed = max(0.0, now - self._filled_at)  # a clock set back refills nothing
            self._tokens = min(self.config.bucket_size,
                               self._tokens + elapsed * self.config.max_calls_per_second)
        self._filled_at = now


def shed_record(call_id: str, caller: str, called: str, lang: str, now: float,
                shed: Shed) -> CallRecord:
    """The record of a shed call: one line in the books (a 400 center counts the callers
    it turned away, and may call them back), closed at once, with no IVR or queue. The
    path says why and how: `admission:rate:busy`, `admission:sessions:fallback`..."""
    return CallRecord(call_id=call_id, caller=caller, called=called, arrived_at=now,
                      ended_at=now, variables={"lang": lang},
                      ivr_path=[f"admission:{shed.over}:{shed.course}"], outcome="shed",
                      hung_up_by="" if shed.course is Course.FALLBACK else "system")
