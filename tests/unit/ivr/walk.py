"""Walk a caller through a flow on the pure Interpreter, its actions answered from a script.

No event loop and no channel: the script says what the caller does (digits typed
at each read, a key pressed during an interruptible prompt), fakes say what the
lookups and schedules answer, and the Walk keeps every action the flow asked for.
What a hang-up does, and what the call's record says after, are the session's
(tests/unit/callflow).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from acd.ivr.actions import (
    Action,
    AnnouncementFetched,
    CheckSchedule,
    FetchAnnouncement,
    FetchLookup,
    Finish,
    LeaveVoicemail,
    LookupAnswered,
    Outcome,
    Play,
    Pressed,
    PutThrough,
    PutThroughEnded,
    ReadDigits,
    Reply,
    ScheduleDecided,
    VoicemailLeft,
)
from acd.ivr.interpreter import DEFAULT_MAX_STEPS, Interpreter
from acd.ivr.model import FlowSet, resolve_entry
from acd.media.playables import Playable

from .fakes import FakeLookups, FakeSchedules, label

CALLER = "13800138000"
CALLED = "4008001234"
NOW = 1_700_000_000.0

T = TypeVar("T")


@dataclass(frozen=True)
class Interrupt:
    """The caller presses `digit` while an interruptible prompt plays."""

    digit: str


@dataclass
class Replies:
    """Answers each action as the world would: the caller from `script`, the rest from fakes.

    A read takes the script's next item (a str of keys, cut to the read's length);
    an interruptible play takes it only if it is an Interrupt. Running out of script
    at a read fails the test, so a flow that waits more than expected is noticed.
    """

    script: list[str | Interrupt] = field(default_factory=list)
    lookups: FakeLookups = field(default_factory=FakeLookups)
    schedules: FakeSchedules = field(default_factory=FakeSchedules)
    announcement: Sequence[Playable] = ()
    answered: bool = False  # whoever a transfer puts the caller through to picks up
    now: float = NOW

    def reply(self, action: Action) -> Reply:
        if isinstance(action, Play):
            pressed = (action.escape_digits and self.script
                       and isinstance(self.script[0], Interrupt))
            return Pressed(self._next(Interrupt).digit if pressed else "")
        if isinstance(action, ReadDigits):
            return Pressed(self._next(str)[:action.max_digits])
        if isinstance(action, FetchAnnouncement):
            return AnnouncementFetched(tuple(self.announcement))
        if isinstance(action, FetchLookup):
            return LookupAnswered(self.lookups.answer(action.request))
        if isinstance(action, CheckSchedule):
            return ScheduleDecided(self.schedules.decide(action.schedule, self.now))
        if isinstance(action, PutThrough):
            return PutThroughEnded(self.answered)
        if isinstance(action, LeaveVoicemail):
            return VoicemailLeft()
        raise AssertionError(f"nothing to reply to {action!r}")

    def _next(self, kind: type[T]) -> T:
        assert self.script, "the script ran out: the flow waits for more than expected"
        item = self.script.pop(0)
        assert isinstance(item, kind), f"the flow wants {kind.__name__}, the script has {item!r}"
        return item


@dataclass
class Walk:
    """One caller's walk: the interpreter as it ended and every action it asked for."""

    interpreter: Interpreter
    actions: list[Action]
    outcome: Outcome

    @property
    def path(self) -> list[str]:
        return self.interpreter.path

    @property
    def variables(self) -> dict[str, str]:
        return self.interpreter.variables

    def played(self) -> list[str]:
        """Every prompt of every play and read, as labels, in order."""
        return [label(p) for a in self.actions if isinstance(a, Play | ReadDigits)
                for p in a.prompts]

    def reads(self) -> list[ReadDigits]:
        return [a for a in self.actions if isinstance(a, ReadDigits)]

    def connections(self) -> list[PutThrough | LeaveVoicemail]:
        """Where the flow sent the caller: transfers and voicemails, in order."""
        return [a for a in self.actions if isinstance(a, PutThrough | LeaveVoicemail)]


def walk(flows: FlowSet, script: Iterable[str | Interrupt] = (), entry: str = "main", *,
         variables: Mapping[str, str] | None = None, lookups: FakeLookups | None = None,
         schedules: FakeSchedules | None = None, announcement: Sequence[Playable] = (),
         answered: bool = False,
         max_steps: int = DEFAULT_MAX_STEPS) -> Walk:
    """Walk `entry` ('flow' or 'flow:node') to its end, the caller doing what `script` says.

    The call starts with the variables its session gives it (caller, called, call_id),
    then `variables`.
    """
    replies = Replies(list(script), lookups or FakeLookups(), schedules or FakeSchedules(),
                      announcement, answered)
    initial = {"caller": CALLER, "called": CALLED, "call_id": "call-1", **(variables or {})}
    interpreter = Interpreter(flows, resolve_entry(flows, entry), initial, max_steps=max_steps,
                              call_id="call-1")
    actions = [interpreter.start()]
    while not isinstance(actions[-1], Finish):
        actions.append(interpreter.send(replies.reply(actions[-1])))
    finish = actions[-1]
    assert isinstance(finish, Finish)
    return Walk(interpreter, actions, finish.outcome)
