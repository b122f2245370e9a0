"""The pure IVR interpreter: walks a FlowSet node by node, one action at a time.

No asyncio and no I/O: `start()` returns the first action, `send(reply)` takes
what came of it and returns the next, until a `Finish`. Each node is a small
generator that yields actions and returns where to go next, so menus with
retries read like the spoken dialogue they are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Mapping
from typing import TypeVar

from acd.ivr.actions import (
    Action,
    AnnouncementFetched,
    CheckSchedule,
    FetchAnnouncement,
    FetchLookup,
    Finish,
    Hangup,
    LeaveVoicemail,
    LookupAnswered,
    Outcome,
    Play,
    Pressed,
    PutThrough,
    PutThroughEnded,
    QueueHandoff,
    ReadDigits,
    Reply,
    ScheduleDecided,
    Transferred,
    Voicemail,
)
from acd.ivr.lookup import LookupRequest, LookupStatus, field_at
from acd.ivr.model import (
    AnnouncementNode,
    BranchNode,
    CollectNode,
    FlowSet,
    GotoNode,
    HangupNode,
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
    VoicemailNode,
)
from acd.ivr.prompting import render
from acd.media.playables import Playable, Recording, Sound, Speech

log = logging.getLogger(__name__)

DEFAULT_MAX_STEPS = 300
ALL_KEYS = "0123456789*#"
# What may reach Dial and VoiceMail arguments: a ',' or '&' from a lookup
# answer would otherwise add dial options or extra destinations.
DIAL_TARGET = re.compile(r"[0-9A-Za-z*#+_.-]{1,64}")
MAILBOX = re.compile(r"[0-9A-Za-z_-]{1,40}(@[0-9A-Za-z_-]{1,40})?")

R = TypeVar("R")
Step = Generator[Action, Reply, R]
Next = NodeId | Outcome


class Interpreter:
    """One call's walk through the flows of one FlowSet version."""

    def __init__(
        self,
        flows: FlowSet,
        entry: NodeId,
        variables: Mapping[str, str],
        *,
        max_steps: int = DEFAULT_MAX_STEPS,
        call_id: str = "",
    ) -> None:
        if entry not in flows:
            raise KeyError(f"no node {entry} in the flow set")
        self.flows = flows
        self.entry = entry
        self.variables: dict[str, str] = dict(variables)
        self.variables.setdefault("lang", flows.default_lang)
        self.max_steps = max_steps
        self.call_id = call_id
        # Never written to the log: templates show them as `${name}` there.
        self.sensitive = flows.sensitive
        self.path: list[str] = []
        self.outcome: Outcome | None = None
        self._typed_ahead = ""  # a digit that interrupted a play, for the next menu/collect
        self._announced = False
        self._run = self._walk()

    def start(self) -> Action:
        return next(self._run)

    def send(self, reply: Reply) -> Action:
        if self.outcome is not None:
            raise RuntimeError("the flow has finished")
        return self._run.send(reply)

    @property
    def lang(self) -> str:
        lang = self.variables.get("lang", "")
        return lang if lang in self.flows.languages else self.flows.default_lang

    # -- the walk -----------------------------------------------------------

    def _walk(self) -> Generator[Action, Reply, None]:
        entry_flow = self.flows.flows[self.entry.flow]
        if not any(isinstance(n, AnnouncementNode) for n in entry_flow.nodes.values()):
            yield from self._announce()
        current = self.entry
        while True:
            if len(self.path) >= self.max_steps:
                log.error("call %s: IVR stopped after %d steps at %s; a flow loops",
                          self.call_id, self.max_steps, current)
                self.outcome = Hangup("max_steps")
                break
            self.path.append(str(current))
            result = yield from self._visit(current.flow, self.flows.node(current))
            if not isinstance(result, NodeId):
                self.outcome = result
                break
            current = result
        yield Finish(self.outcome)

    def _visit(self, flow: str, node: Node) -> Step[Next]:
        """Run one node: where the caller goes next, or how the flow ends."""
        match node:
            # Nodes that decide at once, without asking the session for anything.
            case BranchNode():
                return self._on_branch(flow, node)
            case GotoNode():
                return self._on_goto(flow, node)
            case SetNode():
                return self._on_set(flow, node)
            # Nodes that play, ask or run something: generators of actions.
            case PlayNode():
                return (yield from self._on_play(flow, node))
            case AnnouncementNode():
                return (yield from self._on_announcement(flow, node))
            case MenuNode():
                return (yield from self._on_menu(flow, node))
            case CollectNode():
                return (yield from self._on_collect(flow, node))
            case SayNode():
                return (yield from self._on_say(flow, node))
            case LookupNode():
                return (yield from self._on_lookup(flow, node))
            case ScheduleNode():
                return (yield from self._on_schedule(flow, node))
            case QueueNode():
                return (yield from self._on_queue(flow, node))
            case VoicemailNode():
                return (yield from self._on_voicemail(flow, node))
            case TransferNode():
                return (yield from self._on_transfer(flow, node))
            case HangupNode():
                return (yield from self._on_hangup(flow, node))
        raise TypeError(f"no handler for {type(node).__name__}")

    def _render(self, prompts: Prompts) -> tuple[Playable, ...]:
        return tuple(render(prompts, self.variables, self.lang, self.flows.default_lang))

    def _play(self, playables: tuple[Playable, ...], escape: str = "") -> Step[str]:
        if not playables:
            return ""
        self._typed_ahead = ""
        return _digits((yield Play(playables, escape)))

    def _announce(self) -> Step[None]:
        if self._announced:
            return
        self._announced = True
        reply = yield FetchAnnouncement()
        if not isinstance(reply, AnnouncementFetched):
            raise TypeError(f"FetchAnnouncement expects AnnouncementFetched, not {reply!r}")
        yield from self._play(reply.prompts)

    def _read(self, prompts: Prompts, timeout: float, max_digits: int, terminator: str
              ) -> Step[str]:
        if self._typed_ahead:
            typed, self._typed_ahead = self._typed_ahead, ""
            if max_digits == 1 or typed == terminator:
                return "" if typed == terminator else typed
            rest = yield ReadDigits((), timeout, max_digits - 1, terminator)
            return typed + _digits(rest)
        reply = yield ReadDigits(self._render(prompts), timeout, max_digits, terminator)
        return _digits(reply)

    # -- nodes ----------------------------------------------------------------

    def _on_play(self, flow: str, node: PlayNode) -> Step[Next]:
        digit = yield from self._play(self._render(node.prompt),
                                      ALL_KEYS if node.interruptible else "")
        self._typed_ahead = digit
        return NodeId(flow, node.next.node)

    def _on_announcement(self, flow: str, node: AnnouncementNode) -> Step[Next]:
        yield from self._announce()
        return NodeId(flow, node.next.node)

    def _on_menu(self, flow: str, node: MenuNode) -> Step[Next]:
        prompts = node.prompt
        terminator = "" if "#" in node.choices else "#"
        for _ in range(node.retries + 1):
            digit = yield from self._read(prompts, node.timeout, 1, terminator)
            if digit in node.choices:
                return NodeId(flow, node.choices[digit].node)
            prompts = (node.invalid if digit else node.no_input) + node.prompt
        return NodeId(flow, node.exhausted.node)

    def _on_collect(self, flow: str, node: CollectNode) -> Step[Next]:
        prompts = node.prompt
        for _ in range(node.retries + 1):
            digits = yield from self._read(prompts, node.timeout, node.max_length,
                                           node.terminator)
            if _acceptable(node, digits):
                self.variables[node.variable] = digits
                return NodeId(flow, node.next.node)
            prompts = (node.invalid if digits else node.no_input) + node.prompt
        return NodeId(flow, node.exhausted.node)

    def _on_say(self, flow: str, node: SayNode) -> Step[Next]:
        yield from self._play(self._render(node.prompts()))
        return NodeId(flow, node.next.node)

    def _on_lookup(self, flow: str, node: LookupNode) -> Step[Next]:
        params = {"caller": self.variables.get("caller", ""),
                  "called": self.variables.get("called", "")}
        params.update({k: t.render(self.variables) for k, t in node.params.items()})
        request = LookupRequest(
            node.url.render_url(self.variables), node.method, params, node.timeout,
            follow_redirects=node.follow_redirects, max_bytes=node.max_bytes,
            shown_url=node.url.render_url(self.variables, hidden=self.sensitive))
        reply = yield FetchLookup(request)
        if not isinstance(reply, LookupAnswered):
            raise TypeError(f"FetchLookup expects LookupAnswered, not {reply!r}")
        result = reply.result
        if result.status is LookupStatus.OK:
            for variable, path in node.store.items():
                value = field_at(result.fields, path)
                if value is not None:
                    self.variables[variable] = value
            return NodeId(flow, node.ok.node)
        if result.status is LookupStatus.NOT_FOUND:
            return NodeId(flow, node.not_found.node)
        return NodeId(flow, node.error.node)

    def _on_branch(self, flow: str, node: BranchNode) -> Next:
        for case in node.cases:
            if case.matches(self.variables):
                return NodeId(flow, case.next.node)
        return NodeId(flow, node.default.node)

    def _on_goto(self, flow: str, node: GotoNode) -> Next:
        target = self.flows.entry(node.flow)
        return NodeId(target.flow, node.node) if node.node else target

    def _on_set(self, flow: str, node: SetNode) -> Next:
        rendered = {k: t.render(self.variables) for k, t in node.values.items()}
        self.variables.update(rendered)
        return NodeId(flow, node.next.node)

    def _on_schedule(self, flow: str, node: ScheduleNode) -> Step[Next]:
        reply = yield CheckSchedule(node.schedule)
        if not isinstance(reply, ScheduleDecided):
            raise TypeError(f"CheckSchedule expects ScheduleDecided, not {reply!r}")
        decision = reply.decision
        if decision.special_prompt:
            yield from self._play((self._special_prompt(decision.special_prompt),))
        if decision.special_flow:
            if decision.special_flow in self.flows.flows:
                return self.flows.entry(decision.special_flow)
            log.error("call %s: schedule %s names special flow %r, which does not exist",
                      self.call_id, node.schedule, decision.special_flow)
        if decision.state == "open":
            return NodeId(flow, node.open.node)
        if decision.state == "holiday" and node.holiday is not None:
            return NodeId(flow, node.holiday.node)
        return NodeId(flow, node.closed.node)

    def _special_prompt(self, prompt: str) -> Playable:
        if prompt.startswith("sound:"):
            return Sound(prompt.removeprefix("sound:"))
        return Recording(prompt, self.lang, Speech(prompt, self.lang))

    def _on_queue(self, flow: str, node: QueueNode) -> Step[Next]:
        yield from self._play(self._render(node.prompt))
        return QueueHandoff(node.queue, node.priority, node.skills, dict(self.variables))

    def _on_voicemail(self, flow: str, node: VoicemailNode) -> Step[Next]:
        mailbox = node.mailbox.render(self.variables)
        shown = node.mailbox.shown(self.variables, self.sensitive)
        if not MAILBOX.fullmatch(mailbox):
            log.error("call %s: mailbox %r at %s:%s is not valid", self.call_id, shown,
                      flow, node.id)
            return Hangup("bad_target")
        yield from self._play(self._render(node.prompt))
        yield LeaveVoicemail(mailbox, node.options, shown)
        return Voicemail(mailbox)

    def _on_transfer(self, flow: str, node: TransferNode) -> Step[Next]:
        target = node.to.render(self.variables)
        shown = node.to.shown(self.variables, self.sensitive)
        if not DIAL_TARGET.fullmatch(target):
            log.error("call %s: transfer target %r at %s:%s is not a number", self.call_id,
                      shown, flow, node.id)
            return NodeId(flow, node.failed.node) if node.failed else Hangup("bad_target")
        yield from self._play(self._render(node.prompt))
        reply = yield PutThrough(target, node.context, node.timeout, shown)
        if not isinstance(reply, PutThroughEnded):
            raise TypeError(f"PutThrough expects PutThroughEnded, not {reply!r}")
        if not reply.answered and node.failed is not None:
            return NodeId(flow, node.failed.node)  # nobody answered: the caller is still here
        return Transferred(target, reply.answered)

    def _on_hangup(self, flow: str, node: HangupNode) -> Step[Next]:
        yield from self._play(self._render(node.prompt))
        return Hangup("flow")


def _digits(reply: Reply) -> str:
    if not isinstance(reply, Pressed):
        raise TypeError(f"Play and ReadDigits expect Pressed, not {reply!r}")
    return reply.digits


def _acceptable(node: CollectNode, digits: str) -> bool:
    if not node.min_length <= len(digits) <= node.max_length:
        return False
    if not all(c in "0123456789*" for c in digits):
        return False
    return node.pattern is None or node.pattern.fullmatch(digits)
