"""What the driver of a call needs from the outside, one Protocol per port.

Implemented by the adapters: the caller's FastAGI channel and AMI
(acd.adapters.asterisk), Redis (acd.adapters.redis), the prompt library
(acd.media.prompts), the HTTP lookup client (acd.adapters.http.lookup), and by the
composition root (acd.app) for the routing core and the caller lists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Protocol

from acd.callflow.facts import DialEnded, LostCallAccount
from acd.callflow.orders import TellIntegrators
from acd.callflow.record import CallRecord
from acd.core import commands as routing_orders
from acd.core import events as routing
from acd.ivr.lookup import LookupRequest, LookupResult
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable
from acd.rules.callers import RuleDecision


class Telephony(Protocol):
    """The caller's channel (one FastAGI session): orders are run one at a time."""

    call_id: str
    caller: str
    called: str

    @property
    def gone(self) -> bool:
        """The caller's channel hung up (or left the session)."""
        ...

    def on_gone(self, callback: Callable[[], None]) -> None:
        """Call `callback` once, as soon as the channel is gone."""
        ...

    async def answer(self) -> None: ...

    async def play(self, files: Sequence[str], escape_digits: str = "") -> str: ...

    async def get_digits(self, files: Sequence[str], timeout: float, max_digits: int,
                         terminator: str = "#") -> str: ...

    async def music_on_hold(self, on: bool) -> None: ...

    async def start_recording(self, path: str) -> None: ...

    async def dial_agents(self, devices: Sequence[str], ring_seconds: int,
                          whisper_file: str | None, announce_file: str | None) -> DialEnded:
        """Ring the agents; returns when the Dial ends (the whole conversation)."""
        ...

    async def dial_number(self, number: str, ring_seconds: int,
                          context: str = "acd-transfer", *, private: bool = False) -> DialEnded:
        """Put the caller through to `number` via the dialplan's `context`; returns when
        that call ends. `private`: no word of the called party's identity comes back
        to this channel (connected line)."""
        ...

    async def last_dial(self) -> DialEnded:
        """How the channel's last Dial ended (status, peer, bridged time)."""
        ...

    async def voicemail(self, mailbox: str, options: str) -> None:
        """Let the caller leave a message; returns when they are done, also when they
        end it by hanging up (the usual way)."""
        ...

    async def hangup(self) -> None: ...

    async def mark_queued(self, queue: str, priority: int) -> None:
        """Leave the caller's queue and priority on the channel for the dialplan's
        fallback (Asterisk's twin of the queue, while acd is away)."""
        ...

    async def request_fallback(self) -> None:
        """Ask the dialplan to take the call over (acd failed inside it)."""
        ...

    async def pass_to_next_acd(self) -> None:
        """Ask the dialplan to offer this new call to the next acd (ACD_AGI_2)."""
        ...


class CallActions(Protocol):
    """Asterisk actions on other channels of a call (AMI)."""

    async def hang_up_channel(self, channel: str) -> None: ...

    async def spy(self, device: str, channel: str, mode: str, call_id: str) -> None: ...

    async def control_agent_leg(self, channel: str, control: str, target: str) -> None:
        """Hold, resume, consult `target`, complete, cancel or join the consultation."""
        ...


class CallStore(Protocol):
    """Call records (Redis)."""

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None: ...

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None: ...

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None: ...

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        """A call whose record was never opened, written whole and closed at once."""
        ...

    async def get_call(self, call_id: str) -> CallRecord | None: ...

    async def active_call_ids(self) -> set[str]: ...


class CallEvents(Protocol):
    """The event feed for integrators (webhooks, /api/live): takes a call's fact at
    once, never waits (acd.adapters.redis.event_stream)."""

    def call_event(self, notice: TellIntegrators) -> None: ...


class RoutingPort(Protocol):
    """The routing core, through the dispatcher."""

    def post(self, event: routing.Event) -> None: ...

    async def submit(self, event: routing.Event) -> list[routing_orders.Command]:
        """Raises the core's domain error when it refuses the event."""
        ...

    def has_call(self, call_id: str) -> bool: ...


class PromptFiles(Protocol):
    """Playables -> file paths Asterisk can play (recordings, cached speech)."""

    async def paths(self, prompts: Iterable[Playable]) -> list[str]: ...


class RecordingFiles(Protocol):
    """A call's recording after the call: final once the channel is gone."""

    async def finish(self, call_id: str, path: str, answered: bool,
                     index: Mapping[str, object]) -> str:
        """The final path ('' when the recording is dropped: none, too short)."""
        ...


class ChannelVanished(Exception):
    """The channel asked about no longer exists (it hung up meanwhile)."""


class LostCalls(Protocol):
    """Calls acd lost track of (it was away): where a live one is, and what the dialplan
    recorded of one that ended meanwhile."""

    async def path_of(self, channel: str) -> str:
        """The dialplan path a live call took without acd: "fallback", "talked", or ""
        (none: it comes back to acd). ChannelVanished if it hung up meanwhile."""
        ...

    async def account(self, call_id: str) -> LostCallAccount | None:
        """What the dialplan recorded (None: nothing), forgotten once read."""
        ...

    async def accounts(self) -> dict[str, LostCallAccount | None]:
        """Every account the dialplan holds, by call id (None: an entry that is not
        one); read, not forgotten."""
        ...

    async def forget(self, call_id: str) -> None: ...


class CallerLists(Protocol):
    async def decide(self, caller: str, now: float) -> RuleDecision | None: ...


class Lookups(Protocol):
    async def fetch(self, request: LookupRequest) -> LookupResult: ...


class Schedules(Protocol):
    def decide(self, schedule_name: str, now: float) -> ScheduleDecision: ...


Announcement = Callable[[], Awaitable[tuple[Playable, ...]]]
