"""What the pure interpreter asks its driver to do, what comes back, and how a flow ends.

Actions are orders (`Play`, `ReadDigits`...), replies are facts (`Pressed`...),
outcomes say where the call goes next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.ivr.lookup import LookupRequest, LookupResult
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable

# -- outcomes -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueHandoff:
    """Queue the caller; the call path does the queuing and keeps the channel."""

    queue: str
    priority: int = 0
    skills: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hangup:
    reason: str = "flow"  # 'flow' (a hangup node), 'max_steps', 'bad_target'


@dataclass(frozen=True)
class Transferred:
    """The call was put through to `target`; `result` is what Dial returned to AGI."""

    target: str
    result: str


@dataclass(frozen=True)
class Voicemail:
    mailbox: str


@dataclass(frozen=True)
class CallerHangup:
    """The caller hung up during the flow."""

    node: str  # 'flow:node' where it happened


Outcome = QueueHandoff | Hangup | Transferred | Voicemail | CallerHangup

# -- actions ------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play prompts; reply `Pressed` with the interrupting digit or ''."""

    prompts: tuple[Playable, ...]
    escape_digits: str = ""


@dataclass(frozen=True)
class ReadDigits:
    """Play prompts (interruptible) and read digits; reply `Pressed`."""

    prompts: tuple[Playable, ...]
    timeout: float
    max_digits: int
    terminator: str = "#"


@dataclass(frozen=True)
class FetchAnnouncement:
    """Ask for the global announcement; reply `AnnouncementFetched`."""


@dataclass(frozen=True)
class FetchLookup:
    request: LookupRequest


@dataclass(frozen=True)
class CheckSchedule:
    schedule: str


@dataclass(frozen=True)
class RunApp:
    """Run a dialplan application on the channel; reply `AppReturned`."""

    app: str
    #: one item per argument: the adapter checks and joins them, so a value can never
    #: add an argument of its own
    args: tuple[str | int, ...]
    shown: str = ""  # the arguments as log lines may show them (no sensitive values)


@dataclass(frozen=True)
class Finish:
    outcome: Outcome


Action = Play | ReadDigits | FetchAnnouncement | FetchLookup | CheckSchedule | RunApp | Finish

# -- replies ------------------------------------------------------------------


@dataclass(frozen=True)
class Pressed:
    digits: str


@dataclass(frozen=True)
class AnnouncementFetched:
    prompts: tuple[Playable, ...]


@dataclass(frozen=True)
class LookupAnswered:
    result: LookupResult


@dataclass(frozen=True)
class ScheduleDecided:
    decision: ScheduleDecision


@dataclass(frozen=True)
class AppReturned:
    result: str


Reply = Pressed | AnnouncementFetched | LookupAnswered | ScheduleDecided | AppReturned
