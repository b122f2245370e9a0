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
    """The call was put through to `target` (`answered`: someone picked up)."""

    target: str
    answered: bool


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
class PutThrough:
    """Connect the caller to `number` through the dialplan's `context` (a transfer node);
    the caller stays there until that call ends. Reply `PutThroughEnded`."""

    number: str  # checked by the interpreter: digits, letters and * # + _ . -
    context: str  # a dialplan context name (checked when the flow was loaded)
    ring_seconds: int
    shown: str = ""  # the number as log lines may show it (no sensitive values)


@dataclass(frozen=True)
class LeaveVoicemail:
    """Let the caller leave a message in `mailbox`. Reply `VoicemailLeft`."""

    mailbox: str  # checked by the interpreter: box[@context]
    options: str  # the voicemail options of the node ('u': the unavailable greeting)
    shown: str = ""  # the mailbox as log lines may show it


@dataclass(frozen=True)
class Finish:
    outcome: Outcome


Action = (Play | ReadDigits | FetchAnnouncement | FetchLookup | CheckSchedule | PutThrough
          | LeaveVoicemail | Finish)

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
class PutThroughEnded:
    answered: bool  # someone picked up (the caller talked to them)


@dataclass(frozen=True)
class VoicemailLeft:
    """The voicemail application returned (message left, or the caller gave up)."""


Reply = (Pressed | AnnouncementFetched | LookupAnswered | ScheduleDecided | PutThroughEnded
         | VoicemailLeft)
