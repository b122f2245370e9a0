"""Runs one caller through a flow: the thin async adapter around the pure interpreter.

It performs each action on the channel (prompts resolved by the PromptLibrary),
the lookup client, the schedule oracle and the announcement provider, and
feeds the results back. Outcome handling:
  QueueHandoff          returned; the channel stays up for the call path to queue it
  Hangup / Voicemail / Transferred   the runner hangs the channel up, then returns
  CallerHangup          the caller left; nothing more to do
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from acd.channel import CallerHungUp, Channel
from acd.ivr.actions import (
    Action,
    AnnouncementFetched,
    AppReturned,
    CallerHangup,
    CheckSchedule,
    FetchAnnouncement,
    FetchLookup,
    Finish,
    Hangup,
    LookupAnswered,
    Outcome,
    Play,
    Pressed,
    QueueHandoff,
    ReadDigits,
    Reply,
    RunApp,
    ScheduleDecided,
    Voicemail,
)
from acd.ivr.interpreter import DEFAULT_MAX_STEPS, Interpreter
from acd.ivr.lookup import LookupClient, LookupResult, LookupStatus
from acd.ivr.model import FlowSet, resolve_entry
from acd.ivr.schedule import ScheduleDecision, ScheduleOracle
from acd.media.prompts import Playable
from acd.privacy import logged

log = logging.getLogger(__name__)

AnnouncementPrompts = Sequence[Playable] | None
# The current global announcement, or None when it is off. May be async (Redis).
AnnouncementProvider = Callable[[], AnnouncementPrompts | Awaitable[AnnouncementPrompts]]


class PromptResolver(Protocol):
    """What the runner needs of acd.media.prompts.PromptLibrary."""

    async def paths(self, prompts: Iterable[Playable]) -> list[str]: ...


@dataclass
class FlowResult:
    outcome: Outcome
    path: list[str]  # visited nodes as 'flow:node'
    variables: dict[str, str]
    version: int = 0  # the FlowSet version the call ran on
    # Variables that views must mask for roles that may not see numbers: always
    # 'caller', plus sensitive collects and what set nodes copy from them.
    sensitive: frozenset[str] = frozenset({"caller"})
    steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.steps = len(self.path)


@dataclass
class _Services:
    channel: Channel
    now: Callable[[], float]
    schedules: ScheduleOracle
    lookup_client: LookupClient
    announcement: AnnouncementProvider
    prompt_library: PromptResolver


async def run_flow(
    channel: Channel,
    flows: FlowSet,
    entry: str,
    *,
    now: Callable[[], float],
    schedules: ScheduleOracle,
    lookup_client: LookupClient,
    announcement: AnnouncementProvider,
    prompt_library: PromptResolver,
    variables: Mapping[str, str] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> FlowResult:
    """Walk the caller through `entry` ('flow' or 'flow:node') of this FlowSet version.

    The channel must already be answered. Errors other than the caller hanging
    up propagate to the FastAGI session wrapper.
    """
    start = resolve_entry(flows, entry)
    initial = {"caller": channel.caller, "called": channel.called, "call_id": channel.call_id}
    initial.update(variables or {})
    interp = Interpreter(flows, start, initial, max_steps=max_steps, call_id=channel.call_id)
    services = _Services(channel, now, schedules, lookup_client, announcement, prompt_library)
    log.info("call %s: IVR %s (flows v%d) for %s", channel.call_id, start, flows.version,
             logged(channel.caller))
    outcome: Outcome
    try:
        action = interp.start()
        while not isinstance(action, Finish):
            action = interp.send(await _perform(services, action))
        outcome = action.outcome
    except CallerHungUp:
        outcome = CallerHangup(interp.path[-1] if interp.path else str(start))
    if not isinstance(outcome, QueueHandoff | CallerHangup):
        with contextlib.suppress(CallerHungUp):  # gone already: that is what we wanted
            await channel.hangup()
    if isinstance(outcome, Hangup) and outcome.reason != "flow":
        log.error("call %s: IVR hung up (%s) after %s", channel.call_id, outcome.reason,
                  " > ".join(interp.path[-5:]))
    else:
        log.info("call %s: IVR ended with %s after %d nodes", channel.call_id,
                 _summary(outcome), len(interp.path))
    return FlowResult(outcome, list(interp.path), dict(interp.variables), flows.version,
                      flows.sensitive)


def _summary(outcome: Outcome) -> str:
    """The outcome for the log: never the variables, nor a number that was dialled."""
    if isinstance(outcome, QueueHandoff):
        return f"queue {outcome.queue} (priority {outcome.priority})"
    if isinstance(outcome, Hangup):
        return f"hangup ({outcome.reason})"
    if isinstance(outcome, CallerHangup):
        return f"the caller hanging up at {outcome.node}"
    if isinstance(outcome, Voicemail):
        return "voicemail"
    return f"a transfer (Dial returned {outcome.result!r})"


async def _perform(s: _Services, action: Action) -> Reply:
    channel = s.channel
    if isinstance(action, Play):
        paths = await s.prompt_library.paths(action.prompts)
        return Pressed(await channel.play(paths, action.escape_digits) if paths else "")
    if isinstance(action, ReadDigits):
        paths = await s.prompt_library.paths(action.prompts)
        return Pressed(await channel.get_digits(paths, action.timeout, action.max_digits,
                                                action.terminator))
    if isinstance(action, FetchAnnouncement):
        return AnnouncementFetched(await _announcement(s))
    if isinstance(action, FetchLookup):
        try:
            return LookupAnswered(await s.lookup_client.fetch(action.request))
        except Exception as exc:  # the client should not raise; the call must not die
            log.exception("call %s: lookup client raised", channel.call_id)
            return LookupAnswered(LookupResult(LookupStatus.ERROR, detail=str(exc)))
    if isinstance(action, CheckSchedule):
        return ScheduleDecided(_decide(s, action.schedule))
    if isinstance(action, RunApp):
        log.info("call %s: %s(%s)", channel.call_id, action.app,
                 action.shown or ",".join(str(a) for a in action.args))
        return AppReturned(await channel.exec_app(action.app, *action.args))
    raise TypeError(f"unknown action {action!r}")


async def _announcement(s: _Services) -> tuple[Playable, ...]:
    try:
        current = s.announcement()
        if inspect.isawaitable(current):
            current = await current
    except Exception:  # Redis down: callers go on without the announcement
        log.exception("call %s: cannot read the announcement", s.channel.call_id)
        return ()
    return tuple(current or ())


def _decide(s: _Services, schedule: str) -> ScheduleDecision:
    try:
        return s.schedules.decide(schedule, s.now())
    except Exception:
        # Better to let callers reach an agent than to turn them away on a bug.
        log.exception("call %s: schedule %r failed; treating as open", s.channel.call_id,
                      schedule)
        return ScheduleDecision("open")
