"""The small shared vocabulary of a call's session and its scripts."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.core.commands import RingTarget


class Gone(Exception):  # noqa: N818 - thrown into the script: the caller is gone
    """The caller's channel is gone."""


class NotConnected(LookupError):
    """An API request about a call that is not connected to an agent."""


@dataclass(frozen=True)
class Wait:
    """The script waits for the routing core's next order for this caller (and, with
    `keys`, for one of these keys pressed while music plays)."""

    keys: str = ""


Step = (o.ChannelOrder | o.CheckRules | o.FetchAnnouncement | o.FetchLookup
        | o.CheckSchedule | o.SubmitToRouting | Wait)
Script = Generator[Step, Any, Any]


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
    over: bool = False


#: the reply each step waits for
REPLIES: dict[type, type] = {
    o.Answer: f.ChannelDone, o.StartMusic: f.ChannelDone, o.StopMusic: f.ChannelDone,
    o.StartRecording: f.ChannelDone, o.HangUp: f.ChannelDone,
    o.PlayPrompts: f.Played, o.CollectDigits: f.Collected,
    o.DialAgents: f.DialEnded, o.DialNumber: f.DialEnded,
    o.RunApplication: f.AppReturned, o.CheckRules: f.RuleDecided,
    o.FetchAnnouncement: f.AnnouncementFetched, o.FetchLookup: f.LookupAnswered,
    o.CheckSchedule: f.ScheduleDecided, o.SubmitToRouting: f.RoutingAnswered,
}
