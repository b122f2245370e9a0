"""Outputs of a CallSession: orders in acd's own words, executed by the driver.

Channel orders act on the caller's channel, one at a time: the session issues the
next only after the reply to the previous (a fact in acd.callflow.facts). The rest
(questions, the routing core, Asterisk actions on other channels, the record) may
be executed at once, in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.core import events as routing
from acd.core.commands import RingTarget
from acd.ivr.lookup import LookupRequest
from acd.media.playables import Playable

# -- on the caller's channel (one at a time; each gets one reply) ----------------------


@dataclass(frozen=True)
class Answer:
    """Answer the channel. Reply: ChannelDone."""


@dataclass(frozen=True)
class PlayPrompts:
    """Play prompts, stopped by one of `escape_digits`. Reply: Played."""

    prompts: tuple[Playable, ...]
    escape_digits: str = ""


@dataclass(frozen=True)
class CollectDigits:
    """Play prompts (interruptible), then read up to `max_digits` keys. Reply: Collected."""

    prompts: tuple[Playable, ...]
    timeout: float
    max_digits: int
    terminator: str = "#"


@dataclass(frozen=True)
class StartMusic:
    """Music on hold until the next order. Reply: ChannelDone."""


@dataclass(frozen=True)
class StopMusic:
    """Reply: ChannelDone."""


@dataclass(frozen=True)
class StartRecording:
    """Record the bridged conversation into `path`. Reply: ChannelDone."""

    path: str


@dataclass(frozen=True)
class DialAgents:
    """Ring the agents' phones (music for the caller meanwhile); on answer the agent hears
    `whisper` while the caller hears `announce` (报工号), then they talk. The Dial lasts
    the whole conversation. Reply: DialEnded."""

    targets: tuple[RingTarget, ...]
    ring_seconds: int
    whisper: Playable | None = None
    announce: Playable | None = None


@dataclass(frozen=True)
class DialNumber:
    """Put the caller through to an extension or outside number (checked digits).
    Reply: DialEnded."""

    number: str
    ring_seconds: int
    context: str = "acd-transfer"  # the dialplan context that places the call
    #: the called party's identity is not passed back to this channel (an agent's own
    #: call: their phone never learns the customer's number)
    private: bool = False


@dataclass(frozen=True)
class ReadLastDial:
    """How the caller's last Dial ended, read from the channel (a call that comes back
    after acd was away: its conversation ended without us). Reply: DialEnded."""


@dataclass(frozen=True)
class RecordVoicemail:
    """Let the caller leave a message in `mailbox` (box[@context]). Reply: ChannelDone."""

    mailbox: str
    options: str = "u"


@dataclass(frozen=True)
class MarkQueued:
    """Leave on the channel where the caller waits (their queue and priority), for the
    dialplan's fallback should acd go away: Asterisk's own twin of that queue then
    rings its agents, VIPs first. Reply: ChannelDone."""

    queue: str
    priority: int = 0


@dataclass(frozen=True)
class HangUp:
    """Hang the caller up: acd is done with the call (the dialplan does not take it
    back). Reply: ChannelDone (or CallerHungUp)."""


ChannelOrder = (
    Answer | PlayPrompts | CollectDigits | StartMusic | StopMusic | StartRecording
    | DialAgents | DialNumber | ReadLastDial | RecordVoicemail | HangUp | MarkQueued
)

# -- questions (each gets one reply) ----------------------------------------------------


@dataclass(frozen=True)
class CheckRules:
    """Which caller list entry applies. Reply: RuleDecided."""

    caller: str


@dataclass(frozen=True)
class FetchAnnouncement:
    """The admin's global announcement. Reply: AnnouncementFetched."""


@dataclass(frozen=True)
class FetchLookup:
    """An IVR lookup. Reply: LookupAnswered."""

    request: LookupRequest


@dataclass(frozen=True)
class CheckSchedule:
    """Reply: ScheduleDecided."""

    schedule: str


@dataclass(frozen=True)
class SubmitToRouting:
    """Hand the routing core an event that it may refuse. Reply: RoutingAnswered."""

    event: routing.CallQueued | routing.CallbackRequested


Question = CheckRules | FetchAnnouncement | FetchLookup | CheckSchedule | SubmitToRouting


# -- no reply ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostToRouting:
    """Tell the routing core what happened (a ring's outcome, a hang-up)."""

    event: (routing.RingAnswered | routing.RingFailed | routing.CallEnded
            | routing.CallAbandoned | routing.CallTransferred | routing.CallLeftForFallback
            | routing.OutboundEnded)


@dataclass(frozen=True)
class HangUpLeg:
    """Hang up another channel of this call (an agent's ringing or connected leg)."""

    channel: str


@dataclass(frozen=True)
class Spy:
    """Ring `device` (a supervisor's phone) into the agent's `channel`: listen, whisper
    or barge."""

    device: str
    channel: str
    mode: str


@dataclass(frozen=True)
class ControlAgentLeg:
    """A call control on the agent's `channel`: hold or resume the caller, consult
    `target`, complete, cancel or join the consultation (asterisk/features.conf)."""

    channel: str
    control: str
    target: str = ""


@dataclass(frozen=True)
class SaveRecord:
    """Write these fields of the call record (only those that changed)."""

    call_id: str
    changes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenRecord:
    """A new call record: write all of it and list the call as active."""

    call_id: str
    fields: dict[str, object]


@dataclass(frozen=True)
class CloseRecord:
    """The call is over: write the last changes and take it off the active list; a
    record never `opened` before is written whole (`changes` are all its fields)."""

    call_id: str
    changes: dict[str, object]
    opened: bool = True


@dataclass(frozen=True)
class FinishRecording:
    """Wait for the recording file to be final, measure (or convert) it and index it.
    Reply: RecordingFinished."""

    path: str
    answered: bool
    index: dict[str, object]


@dataclass(frozen=True)
class HandOver:
    """The caller's channel goes on in another FastAGI session (a phone transfer): keep
    the session for it."""

    call_id: str


@dataclass(frozen=True)
class TellIntegrators:
    """A fact about the call for integrators (webhooks, /api/live events): `kind` is
    the event's type (acd.integration.events), `at` the session's time of the fact."""

    kind: str
    call_id: str
    agent_id: str
    at: float
    data: dict[str, object] = field(default_factory=dict)


Order = (
    ChannelOrder | Question | PostToRouting | HangUpLeg | Spy | ControlAgentLeg | SaveRecord
    | OpenRecord | CloseRecord | FinishRecording | HandOver | TellIntegrators
)
CHANNEL_ORDERS = (Answer, PlayPrompts, CollectDigits, StartMusic, StopMusic, StartRecording,
                  DialAgents, DialNumber, ReadLastDial, RecordVoicemail, HangUp, MarkQueued)
