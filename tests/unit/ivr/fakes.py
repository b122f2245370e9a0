"""Scripted stand-ins for the channel, prompt library, lookup client and schedules."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.channel import CallerHungUp
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FlowSet
from acd.ivr.registry import build_flowset
from acd.ivr.schedule import ScheduleDecision
from acd.media.prompts import Playable, Recording, Sound, Speech

QUEUES = frozenset({"support", "complaints", "vip"})


@dataclass(frozen=True)
class Interrupt:
    """The caller presses `digit` while an interruptible prompt plays."""

    digit: str


HANGUP = object()  # the caller hangs up at the next point where the flow waits


@dataclass
class FakeChannel:
    """Answers each wait from a script: a str for get_digits, Interrupt for a play.

    Plays that cannot be interrupted consume nothing; an interruptible play
    consumes the next item only if it is an Interrupt. Running out of script
    fails the test, so a flow that waits more than expected is noticed.
    """

    script: list[Any] = field(default_factory=list)
    call_id: str = "call-1"
    caller: str = "13800138000"
    called: str = "4008001234"
    app_results: Mapping[str, str] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    hung_up: bool = False

    def _next(self) -> Any:
        if not self.script:
            raise AssertionError(f"script exhausted; events so far: {self.events}")
        item = self.script.pop(0)
        if item is HANGUP:
            raise CallerHungUp()
        return item

    def played(self) -> list[str]:
        """Every prompt path handed to play or get_digits, in order."""
        return [p for e in self.events if e[0] in ("play", "get_digits") for p in e[1]]

    async def answer(self) -> None:
        self.events.append(("answer",))

    async def play(self, prompts: list[str], escape_digits: str = "") -> str:
        self.events.append(("play", list(prompts), escape_digits))
        if self.script and self.script[0] is HANGUP:
            self._next()
        if escape_digits and self.script and isinstance(self.script[0], Interrupt):
            return str(self._next().digit)
        return ""

    async def get_digits(
        self, prompts: list[str], timeout: float, max_digits: int, terminator: str = "#"
    ) -> str:
        self.events.append(("get_digits", list(prompts), timeout, max_digits, terminator))
        item = self._next()
        assert isinstance(item, str), f"get_digits got {item!r} from the script"
        return item[:max_digits]

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        self.events.append(("say_digits", digits))
        return ""

    async def set_variable(self, name: str, value: str) -> None:
        self.events.append(("set", name, value))

    async def exec_app(self, app: str, *args: str | int) -> str:
        self.events.append(("exec", app, ",".join(str(a) for a in args)))
        if self.script and self.script[0] is HANGUP:
            self._next()
        return self.app_results.get(app, "0")

    async def hangup(self) -> None:
        self.events.append(("hangup",))
        self.hung_up = True


class LabelPrompts:
    """Resolves prompts to readable labels instead of files: 'tts:zh:欢迎', 'rec:welcome:en'."""

    async def paths(self, prompts: Iterable[Playable]) -> list[str]:
        return [label(p) for p in prompts]


def label(prompt: Playable) -> str:
    if isinstance(prompt, Sound):
        return f"sound:{prompt.name}"
    if isinstance(prompt, Speech):
        return f"tts:{prompt.lang}:{prompt.text}"
    if isinstance(prompt, Recording) and prompt.fallback is not None:
        return label(prompt.fallback)
    return f"rec:{prompt.name}:{prompt.lang}"


class FakeSchedules:
    def __init__(self, state: str = "open", **special: str | None) -> None:
        self.decision = ScheduleDecision(state, **special)  # type: ignore[arg-type]
        self.asked: list[tuple[str, float]] = []

    def decide(self, schedule_name: str, now: float) -> ScheduleDecision:
        self.asked.append((schedule_name, now))
        return self.decision

    def names(self) -> set[str]:
        return {"support"}


class FakeLookups:
    """Answers every lookup with one result and remembers the requests."""

    def __init__(self, result: LookupResult | None = None) -> None:
        self.result = result or LookupResult(LookupStatus.ERROR, detail="no answer set")
        self.requests: list[LookupRequest] = []

    async def fetch(self, request: LookupRequest) -> LookupResult:
        self.requests.append(request)
        return self.result


def flows_from(files: Mapping[str, str], **kwargs: Any) -> FlowSet:
    """A FlowSet from flow texts by name; fails the test with every error."""
    texts = {Path(f"/flows/{name}.yaml"): textwrap.dedent(text) for name, text in files.items()}
    kwargs.setdefault("known_queues", QUEUES)
    kwargs.setdefault("schedule_names", {"support"})
    kwargs.setdefault("library", None)
    flows, errors = build_flowset(texts, **kwargs)
    assert flows is not None, "\n".join(map(str, errors))
    return flows


def errors_of(text: str, name: str = "bad", **kwargs: Any) -> list[str]:
    """Validation errors of one flow text, as 'line:column: message'."""
    path = Path(f"/flows/{name}.yaml")
    kwargs.setdefault("known_queues", QUEUES)
    kwargs.setdefault("schedule_names", {"support"})
    kwargs.setdefault("library", None)
    flows, errors = build_flowset({path: textwrap.dedent(text).lstrip("\n")}, **kwargs)
    assert flows is None or not errors
    return [str(e).removeprefix(f"{path}:") for e in errors]
