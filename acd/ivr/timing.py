"""How long a caller who presses nothing takes from a flow's start to a queue.

A silent caller hears every prompt to its end and waits out each menu's and
collect's timeout on every try, hearing the `no_input` prompt before each retry,
then goes the `exhausted` way, as the interpreter runs them. Where the way is not
the caller's to choose, every branch is followed and the slowest way to a queue is
the answer: a schedule (open, closed, holiday), a branch (every case), a lookup
(ok, not_found, error; each counts its whole timeout, the worst a CRM can take). A
transfer counts its prompt and ring time and goes on to `failed`; voicemail and
hang-up nodes end a way without a queue. The announcement counts 0: it is switched
on at run time and usually off. A `set` of `lang` speaks the rest in that language.
A way never visits a node twice: a loop only makes a way longer than the ways out.

How long a prompt lasts comes through a port (acd.media.durations measures the
recording or the synthesised speech, or estimates from the words); each way says
how many of its prompts were estimated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from acd.ivr.model import (
    AnnouncementNode,
    BranchNode,
    CollectNode,
    FlowSet,
    GotoNode,
    LookupNode,
    MenuNode,
    Node,
    NodeId,
    PlayNode,
    Prompts,
    QueueNode,
    SayNode,
    ScheduleNode,
    SetNode,
    TransferNode,
)
from acd.ivr.prompting import render
from acd.media.playables import Playable

#: node visits at most per walk: a flow with very many branches is cut short, not hung
MAX_VISITS = 200_000


@dataclass(frozen=True)
class Duration:
    """How long a prompt plays; `estimated` when no audio could be measured."""

    seconds: float
    estimated: bool = False


class PromptDurations(Protocol):
    """How long prompts last: what timing a flow needs of the prompt library."""

    def duration(self, prompt: Playable) -> Duration: ...


@dataclass(frozen=True)
class Leg:
    """One node of a way, and the seconds a silent caller spends there."""

    node: NodeId
    seconds: float
    detail: str = ""  # e.g. "2 tries", "lookup timeout"
    estimated: int = 0  # prompts whose duration is an estimate


@dataclass(frozen=True)
class WayToQueue:
    """The slowest way from `entry` to a queue node, for a caller in `lang`."""

    entry: NodeId
    lang: str
    legs: tuple[Leg, ...]  # the last one is the queue node
    complete: bool = True  # False: the flow has too many ways to try them all

    @property
    def seconds(self) -> float:
        return sum(leg.seconds for leg in self.legs)

    @property
    def queue(self) -> NodeId:
        return self.legs[-1].node

    @property
    def estimated(self) -> int:
        return sum(leg.estimated for leg in self.legs)

    def describe(self) -> str:
        """The way as `hours > vip_check 1.5 s (lookup timeout) > welcome 14.2 s > ...`
        (nodes in another flow as flow:node; a node that takes no time, its name only)."""
        parts = []
        for leg in self.legs:
            name = leg.node.node if leg.node.flow == self.entry.flow else str(leg.node)
            if leg.seconds or leg.detail:
                name += f" {leg.seconds:.1f} s" + (f" ({leg.detail})" if leg.detail else "")
            parts.append(name)
        return " > ".join(parts)


def slowest_way_to_queue(flows: FlowSet, entry: NodeId, lang: str,
                         durations: PromptDurations) -> WayToQueue | None:
    """The slowest way a silent caller in `lang` takes from `entry` to a queue node,
    or None when no way reaches a queue (e.g. the flow always ends in voicemail)."""
    walker = _Walker(flows, durations)
    legs = walker.slowest(entry, lang, frozenset())
    if legs is None:
        return None
    return WayToQueue(entry, lang, tuple(legs), complete=walker.visits <= MAX_VISITS)


@dataclass(frozen=True)
class _Stop:
    """What a silent caller spends at a node, and where they can go from it."""

    seconds: float
    detail: str
    estimated: int
    next: tuple[NodeId, ...]
    lang: str


class _Walker:
    def __init__(self, flows: FlowSet, durations: PromptDurations) -> None:
        self.flows = flows
        self.durations = durations
        self.visits = 0

    def slowest(self, at: NodeId, lang: str, seen: frozenset[NodeId]) -> list[Leg] | None:
        self.visits += 1
        if self.visits > MAX_VISITS or at in seen:
            return None
        node = self.flows.node(at)
        stop = self._stop(at, node, lang)
        leg = Leg(at, stop.seconds, stop.detail, stop.estimated)
        if isinstance(node, QueueNode):
            return [leg]
        best: list[Leg] | None = None
        for after in stop.next:
            rest = self.slowest(after, stop.lang, seen | {at})
            if rest is not None and (best is None or _total(rest) > _total(best)):
                best = rest
        return None if best is None else [leg, *best]

    def _stop(self, at: NodeId, node: Node, lang: str) -> _Stop:
        here = at.flow
        match node:
            case PlayNode() | SayNode():
                return self._heard(node.prompts(), lang, "", _refs(here, node))
            case MenuNode() | CollectNode():
                return self._silence(node, lang, here)
            case QueueNode():
                return self._heard(node.prompt, lang, "", ())
            case LookupNode():
                return _Stop(node.timeout, "lookup timeout", 0, _refs(here, node), lang)
            case TransferNode():
                seconds, estimated = self._prompts(node.prompt, lang)
                return _Stop(seconds + node.timeout, f"{node.timeout} s ringing", estimated,
                             _refs(here, node), lang)
            case GotoNode():
                target = self.flows.entry(node.flow)
                goes = NodeId(target.flow, node.node) if node.node else target
                return _Stop(0.0, "", 0, (goes,), lang)
            case SetNode():
                return _Stop(0.0, "", 0, _refs(here, node), self._lang_set(node, lang))
            case AnnouncementNode() | BranchNode() | ScheduleNode():
                return _Stop(0.0, "", 0, _refs(here, node), lang)
        return _Stop(0.0, "", 0, (), lang)  # voicemail, hang-up: the way ends here

    def _heard(self, prompts: Prompts, lang: str, detail: str,
               after: tuple[NodeId, ...]) -> _Stop:
        seconds, estimated = self._prompts(prompts, lang)
        return _Stop(seconds, detail, estimated, after, lang)

    def _silence(self, node: MenuNode | CollectNode, lang: str, here: str) -> _Stop:
        prompt, estimated = self._prompts(node.prompt, lang)
        retry, retry_estimated = self._prompts(node.no_input, lang)
        tries = node.retries + 1
        seconds = tries * (prompt + node.timeout) + node.retries * retry
        detail = f"{tries} tries of {node.timeout:g} s" if tries > 1 \
            else f"{node.timeout:g} s of silence"
        return _Stop(seconds, detail, estimated * tries + retry_estimated * node.retries,
                     (NodeId(here, node.exhausted.node),), lang)

    def _prompts(self, prompts: Prompts, lang: str) -> tuple[float, int]:
        seconds, estimated = 0.0, 0
        for playable in render(prompts, {}, lang, self.flows.default_lang):
            duration = self.durations.duration(playable)
            seconds += duration.seconds
            estimated += duration.estimated
        return seconds, estimated

    def _lang_set(self, node: SetNode, lang: str) -> str:
        value = node.values.get("lang")
        if value is not None and value.is_literal and value.raw in self.flows.languages:
            return value.raw
        return lang


def _refs(flow: str, node: Node) -> tuple[NodeId, ...]:
    return tuple(dict.fromkeys(NodeId(flow, ref.node) for _, ref in node.edges()))


def _total(legs: list[Leg]) -> float:
    return sum(leg.seconds for leg in legs)


def ways_to_queue(flows: FlowSet, durations: PromptDurations) -> Iterator[WayToQueue]:
    """For each flow that leads to a queue, its slowest way from its start, in the
    language where it is slowest."""
    for name, flow in flows.flows.items():
        found = [way for lang in flows.languages if (way := slowest_way_to_queue(
            flows, NodeId(name, flow.start), lang, durations)) is not None]
        if found:
            yield max(found, key=lambda way: way.seconds)
