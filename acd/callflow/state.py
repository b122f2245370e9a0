"""The small shared vocabulary of a call's session and its scripts."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar, overload

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.core.commands import RingTarget


class Gone(Exception):  # noqa: N818 - thrown into the script: the caller is gone
    """The caller's channel is gone."""


class NotConnected(LookupError):
    """An API request about a call that is not connected to an agent."""


class ControlRefused(ValueError):
    """A call control that does not fit where the call stands (e.g. resume when the
    caller is not on hold); the message says what would."""


@dataclass(frozen=True)
class Wait:
    """The script waits for the routing core's next order for this caller (and, with
    `keys`, for one of these keys pressed while music plays)."""

    keys: str = ""


Request = o.ChannelOrder | o.Question
"""A step that gets exactly one reply (REPLIES): a channel order or a question."""
Step = Request | Wait
Reply = f.Fact | f.RoutingOrder
"""What a script is sent back: the reply to its Request, or, after `Wait`, the routing
core's order or the key the caller pressed (KeyPressed)."""

R = TypeVar("R")
Script = Generator[Step, Reply, R]
"""A call's course, or a part of it that returns an R (`yield from` it)."""


class Phase(StrEnum):
    """Where the call stands, for supervisors and for the API's questions."""

    ARRIVING = "arriving"     # caller lists, IVR
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTED = "connected"
    AFTER = "after"           # survey, a transfer being followed, goodbye
    LEFT = "left"             # the channel went on elsewhere (callback, phone transfer)
    ENDING = "ending"         # the channel is gone; the recording is being finished
    CLOSED = "closed"         # the record is closed; late facts may still amend it


@dataclass
class Ring:
    """The Dial the caller is in right now."""

    targets: tuple[RingTarget, ...]
    queue: str
    #: agent -> the channel ringing them (AMI DialBegin), to stop it on the core's word
    legs: dict[str, str] = field(default_factory=dict)
    #: the device whose channel answered (AMI DialEnd), before the bridge
    answering_device: str = ""
    answered_by: str = ""
    answered_at: float | None = None
    agent_channel: str = ""
    #: ("queue" | "extension", target): an API transfer ends the agent's leg
    transfer: tuple[str, str] | None = None
    #: since when the conversation is on hold (None: it is not), and its seconds on
    #: hold so far (the record's hold_seconds sums every conversation of the call)
    held_since: float | None = None
    held_seconds: float = 0.0
    #: the number the agent is consulting (the caller holds), "" when none
    consulting: str = ""
    #: the colleague acd took from a queue for the consultation (given back at its end)
    consult_agent: str = ""
    #: the number the consultation became a three-way call with
    conference: str = ""
    #: the agent left after a consultation (transfer, or left the three-way call): the
    #: caller talks on with this number in the same Dial; the agent's part is over
    handed_to: str = ""
    over: bool = False


#: the reply each step waits for
REPLIES: dict[type[Request], type[f.Fact]] = {
    o.Answer: f.ChannelDone, o.StartMusic: f.ChannelDone, o.StopMusic: f.ChannelDone,
    o.StartRecording: f.ChannelDone, o.HangUp: f.ChannelDone, o.RecordVoicemail: f.ChannelDone,
    o.MarkQueued: f.ChannelDone,
    o.PlayPrompts: f.Played, o.CollectDigits: f.Collected,
    o.DialAgents: f.DialEnded, o.DialNumber: f.DialEnded, o.ReadLastDial: f.DialEnded,
    o.CheckRules: f.RuleDecided,
    o.FetchAnnouncement: f.AnnouncementFetched, o.FetchLookup: f.LookupAnswered,
    o.CheckSchedule: f.ScheduleDecided, o.SubmitToRouting: f.RoutingAnswered,
}


# The reply's type depends on the Request yielded, which a Generator's one send type
# cannot say: a script asks through reply_to(), whose overloads pair each Request with
# its reply, and whose check is the session's own (it sends nothing else).
@overload
def reply_to(step: o.PlayPrompts) -> Script[f.Played]: ...
@overload
def reply_to(step: o.CollectDigits) -> Script[f.Collected]: ...
@overload
def reply_to(step: o.DialAgents | o.DialNumber | o.ReadLastDial) -> Script[f.DialEnded]: ...
@overload
def reply_to(step: o.CheckRules) -> Script[f.RuleDecided]: ...
@overload
def reply_to(step: o.FetchAnnouncement) -> Script[f.AnnouncementFetched]: ...
@overload
def reply_to(step: o.FetchLookup) -> Script[f.LookupAnswered]: ...
@overload
def reply_to(step: o.CheckSchedule) -> Script[f.ScheduleDecided]: ...
@overload
def reply_to(step: o.SubmitToRouting) -> Script[f.RoutingAnswered]: ...
def reply_to(step: Request) -> Script[f.Fact]:
    """Yield `step` and return its reply."""
    reply = yield step
    expected = REPLIES[type(step)]
    if not isinstance(reply, expected):
        raise TypeError(f"{type(step).__name__} expects {expected.__name__}, not {reply!r}")
    return reply
