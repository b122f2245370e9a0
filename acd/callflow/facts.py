"""Inputs of a CallSession: facts, in the past tense, fed with `now` to `handle()`.

Each fact has exactly one source:

- replies to channel orders (`Played`, `Collected`, `DialEnded`, `ChannelDone`): the
  driver, one per order, after the channel did it;
- `CallerHungUp`: the driver, once, when the caller's channel is gone;
- `RuleDecided` and the IVR's replies (`AnnouncementFetched`, `LookupAnswered`,
  `ScheduleDecided`): the driver, answering the session's own question;
- `RoutingAnswered`: the driver, after the routing core took (or refused) an event;
- `Routed`, `StopRingingOrdered`, `WrapUpFinished`, `QueueOverflowed`: the routing
  core, through the dispatcher;
- `LegRinging`, `AgentAnswered`, `CallerBridged`, `KeyPressed`, `ChannelGone`:
  Asterisk's AMI events, through the translator;
- `TransferAsked`, `SpyAsked`, `CallControlAsked`: the HTTP API;
- `ConsultEnded`: AMI AttendedTransfer, through the translator;
- `RecordingFinished`: the recordings adapter, after post-processing;
- `TimerFired`: the driver's one timer, at the session's `next_deadline()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.core import commands as routing
from acd.core.model import OverflowMode
from acd.ivr.actions import AnnouncementFetched, LookupAnswered, ScheduleDecided
from acd.rules.callers import RuleDecision

__all__ = [
    "AgentAnswered", "AnnouncementFetched", "CallerBridged", "CallerHungUp",
    "ChannelDone",
    "ChannelGone", "Collected", "DialEnded", "DialStatus", "Fact", "KeyPressed",
    "LegRinging", "LookupAnswered", "LostCallAccount", "Played", "RecordingFinished", "Routed",
    "RoutingAnswered", "RoutingOrder", "RuleDecided", "ScheduleDecided", "SpyAsked",
    "AgentLegGone", "CallControl", "CallControlAsked", "ConsultEnded", "ConsultReserved",
    "ControlFailed",
    "StopRingingOrdered", "TimerFired", "TransferAsked", "WrapUpFinished", "QueueOverflowed",
]

# -- replies to channel orders ------------------------------------------------------


@dataclass(frozen=True)
class ChannelDone:
    """A channel order without a result of its own is done (answer, music, record...)."""


@dataclass(frozen=True)
class Played:
    """Prompts played; `digit` is the key that interrupted them, or ''."""

    digit: str = ""


@dataclass(frozen=True)
class Collected:
    """Digits the caller entered (without the terminator); '' on a time-out."""

    digits: str = ""


class DialStatus(StrEnum):
    """How a Dial ended, in acd's words (the adapter translates Asterisk's DIALSTATUS)."""

    ANSWERED = "answered"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class DialEnded:
    """The Dial returned.

    `peer` is the channel that answered (or '') and `peer_device` its device
    (PJSIP/agent1001); `transferred_to` the number the agent's phone blind-transferred
    the caller to (SIP REFER), or ''. `left_early`: the Dial gave up with the caller
    still there after an answer (the agent hung up during the 报工号, before the
    bridge). `caller_gone`: the caller's channel hung up (during the Dial or as it
    ended).
    """

    status: DialStatus
    peer: str = ""
    peer_device: str = ""
    transferred_to: str = ""
    left_early: bool = False
    caller_gone: bool = False
    #: Asterisk's ANSWEREDTIME_MS in seconds, if known: how long the calling channel was
    #: up since *its* answer. The conversation's length only where the Dial answered it
    #: (an agent's own call); a 400 caller's channel was answered before the IVR
    answered_seconds: float | None = None
    #: the agent on `peer_device` (filled in for ReadLastDial, when one is logged in there)
    peer_agent: str = ""
    #: when acd's previous FastAGI session of this call ended (the dialplan's
    #: ACD_AGI_ENDED), if known: for a call that comes back after acd went away during
    #: a conversation, when the conversation ended (filled in for ReadLastDial)
    session_ended_at: float | None = None
    #: when the call's last agent Dial bridged the caller, after the 报工号 (the
    #: dialplan's ACD_BRIDGED_AT), if known (filled in for ReadLastDial)
    bridged_at: float | None = None
    #: the dialplan says the last agent Dial bridged nobody: the agent answered and hung
    #: up during the 报工号, and talked to nobody (filled in for ReadLastDial)
    unbridged: bool = False

    @property
    def conversed(self) -> bool:
        """The Dial's answer led to a conversation."""
        return self.status is DialStatus.ANSWERED and not self.unbridged


@dataclass(frozen=True)
class CallerHungUp:
    """The caller's channel is gone (or has left acd's session)."""


# -- answers to the session's questions ----------------------------------------------


@dataclass(frozen=True)
class RuleDecided:
    """The caller lists' decision for this caller (None: no list applies, or the lists
    could not be read)."""

    decision: RuleDecision | None


@dataclass(frozen=True)
class RoutingAnswered:
    """The routing core handled the event the session submitted; `error` if refused."""

    error: str = ""


# -- from the routing core ---------------------------------------------------------


RoutingOrder = routing.RingAgents | routing.AnnouncePosition | routing.ExitQueue
"""What the routing core orders for one caller."""


@dataclass(frozen=True)
class Routed:
    """The routing core's order for this caller: ring agents, announce, leave."""

    order: RoutingOrder


@dataclass(frozen=True)
class StopRingingOrdered:
    """The routing core stops these agents' ring (paused, logged out, time-out)."""

    agent_ids: tuple[str, ...]


@dataclass(frozen=True)
class WrapUpFinished:
    """The agent of this call finished wrap-up after `seconds`."""

    agent_id: str
    seconds: float


@dataclass(frozen=True)
class QueueOverflowed:
    """An overflow rule of the caller's queue fired: `move`, the caller now waits in
    `to_queue` instead; `also`, it waits in `to_queue` too (see acd.callflow.overflow)."""

    from_queue: str
    to_queue: str
    mode: OverflowMode


# -- from Asterisk's events ----------------------------------------------------------


@dataclass(frozen=True)
class LegRinging:
    """A channel of the caller's Dial rings (AMI DialBegin): its name and device."""

    channel: str
    device: str


@dataclass(frozen=True)
class AgentAnswered:
    """A channel of the caller's Dial answered (AMI DialEnd ANSWER); the 报工号 plays
    next, then the caller is bridged to it."""

    channel: str
    device: str


@dataclass(frozen=True)
class CallerBridged:
    """The caller's channel entered a bridge (AMI BridgeEnter): the conversation with
    the agent who answered starts now."""


@dataclass(frozen=True)
class HoldChanged:
    """A party of the conversation put it on hold (the other side hears music) or took
    it off hold (AMI Hold / Unhold: a softphone's hold key sends a re-INVITE)."""

    held: bool
    #: whose phone pressed hold: "agent" or "caller"
    by: str


@dataclass(frozen=True)
class KeyPressed:
    """The caller pressed a key while acd was not reading keys (AMI DTMFEnd)."""

    digit: str


@dataclass(frozen=True)
class LostCallAccount:
    """What the dialplan recorded of a call while acd was away (AstDB, written by the h
    extension of [acd-inbound] on its failure paths).

    `path`: "talked" (the conversation ended while no acd was there: the agent hung up
    and the caller heard goodbye, or the caller hung up) or "fallback" (Asterisk's own
    queue served the caller, or not). Times are epoch seconds (whole seconds but
    `session_ended_at`: the dialplan's clock), None when not reached.
    """

    path: str
    queued_at: float | None = None
    held_seconds: float | None = None
    #: the agent who answered in the fallback queue (its member name: acd's agent id)
    agent: str = ""
    ended_at: float | None = None
    hung_up_by: str = ""  # caller | agent
    queue_status: str = ""
    #: ANSWEREDTIME_MS of the call's last Dial in seconds: the caller's channel's time
    #: since its own answer (the IVR and the wait included), not the conversation's
    answered_seconds: float | None = None
    #: a "talked" path: when the conversation ended (acd's session with its Dial, or the
    #: caller's hang-up), to the millisecond
    session_ended_at: float | None = None
    #: the call itself, for one no acd ever saw: the number called (the DID), when it
    #: arrived, and the caller's number ('' and None from an older dialplan)
    called: str = ""
    arrived_at: float | None = None
    caller: str = ""
    #: when the call's last agent Dial bridged the caller (after the 报工号), if it did
    bridged_at: float | None = None

    @property
    def talk_seconds(self) -> float | None:
        """The fallback queue's conversation, as well as the dialplan can tell (a
        "talked" conversation started with acd: acd.callflow.ending.talk_until)."""
        if self.path == "talked":
            return None
        if self.agent and self.queued_at is not None and self.ended_at is not None:
            connected = self.queued_at + (self.held_seconds or 0.0)
            return max(0.0, self.ended_at - connected)
        return None


@dataclass(frozen=True)
class ChannelGone:
    """The caller's channel was destroyed (AMI Hangup), with Asterisk's cause, and for a
    call acd had lost track of, what the dialplan recorded of it meanwhile."""

    cause: str
    account: LostCallAccount | None = None
    #: the channel ended while acd was away (found gone after a restart): when it ended
    #: is not known
    while_away: bool = False


# -- from the HTTP API -------------------------------------------------------------


@dataclass(frozen=True)
class TransferAsked:
    """Blind transfer of the connected caller to a queue or an extension, or a
    supervisor taking the call over (intercept: the target is their phone)."""

    kind: str  # "queue" | "extension" | "intercept"
    target: str


@dataclass(frozen=True)
class SpyAsked:
    """A supervisor's phone joins the call: listen, whisper (agent only) or barge."""

    mode: str
    device: str


class CallControl(StrEnum):
    """What an agent does to their connected call from the desk (the same as the keys
    of asterisk/features.conf on the phone)."""

    HOLD = "hold"
    RESUME = "resume"
    CONSULT = "consult"                    # call a colleague while the caller holds
    CONSULT_COMPLETE = "consult-complete"  # the caller goes to the colleague
    CONSULT_CANCEL = "consult-cancel"      # back to the caller
    CONFERENCE = "conference"              # the three of them together


@dataclass(frozen=True)
class CallControlAsked:
    """The agent (or a supervisor) asks for a call control; `target` is the number a
    consultation rings."""

    control: CallControl
    target: str = ""


@dataclass(frozen=True)
class ControlFailed:
    """Asterisk refused a call control the session asked for (an AMI error, or AMI
    away): nothing of it happened. `target`: the consultation it concerned."""

    control: CallControl
    target: str = ""


@dataclass(frozen=True)
class ConsultEnded:
    """The agent's consultation became a transfer (the agent left, the caller talks to
    the colleague) or a three-way call (AMI AttendedTransfer, DestType Threeway). A
    consultation taken back (*1) ends in an Unhold instead: nothing to tell."""

    conference: bool
    #: the number the consultation rang (from the consultation's Local channel)
    target: str
    #: the agent's channel that consulted
    agent_channel: str


@dataclass(frozen=True)
class ConsultReserved:
    """The agent consults a queue: acd took this colleague from it for the consultation
    (acd.agents.consult); the session gives them back when it ends."""

    agent_id: str
    queue: str


@dataclass(frozen=True)
class AgentLegGone:
    """The agent's own channel hung up (AMI Hangup in the agents' context): only a
    three-way call, which the caller and the colleague may go on with, needs it."""

    channel: str


# -- from the recordings adapter, and the timer ---------------------------------------


@dataclass(frozen=True)
class RecordingFinished:
    """The recording is final: its path ('' when there is none, e.g. too short)."""

    path: str


@dataclass(frozen=True)
class TimerFired:
    """The session's deadline (`next_deadline()`) passed."""


Fact = (
    ChannelDone | Played | Collected | DialEnded | CallerHungUp | RuleDecided
    | AnnouncementFetched | LookupAnswered | ScheduleDecided | RoutingAnswered | Routed
    | StopRingingOrdered | WrapUpFinished | LegRinging | AgentAnswered | CallerBridged
    | KeyPressed | HoldChanged | QueueOverflowed
    | ChannelGone | TransferAsked | SpyAsked | RecordingFinished | TimerFired
    | CallControlAsked | ControlFailed | ConsultEnded | AgentLegGone | ConsultReserved
)
