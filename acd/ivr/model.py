"""The IVR flow model: immutable flows of typed nodes, as loaded from YAML.

A FlowSet is never changed after loading; a reload builds a new one, so a call
keeps the version it started with.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from types import MappingProxyType
from typing import ClassVar, NamedTuple

from acd.ivr.keypattern import KeyPattern
from acd.ivr.template import Template
from acd.yamlsource import Position


class NodeId(NamedTuple):
    flow: str
    node: str

    def __str__(self) -> str:
        return f"{self.flow}:{self.node}"


@dataclass(frozen=True)
class Ref:
    """A reference to another node of the same flow, with where it was written."""

    node: str
    pos: Position | None = field(default=None, compare=False)


# -- prompts as written (before variables and language are applied) -----------


@dataclass(frozen=True)
class FilePrompt:
    """A recording `prompts/<lang>/<name>`; `texts` are spoken when it is missing."""

    name: str
    texts: Mapping[str, Template] | None = None
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SoundPrompt:
    """An Asterisk core sound such as `digits/1`."""

    name: str
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TextPrompt:
    """Text per language (lang -> text); spoken by the synthesiser."""

    texts: Mapping[str, Template]
    pos: Position | None = field(default=None, compare=False)


class SayMode(Enum):
    DIGITS = "digits"
    NUMBER = "number"


@dataclass(frozen=True)
class SayPrompt:
    mode: SayMode
    value: Template
    pos: Position | None = field(default=None, compare=False)


PromptSpec = FilePrompt | SoundPrompt | TextPrompt | SayPrompt
Prompts = tuple[PromptSpec, ...]


def prompt_templates(prompts: Prompts) -> Iterator[Template]:
    for prompt in prompts:
        if isinstance(prompt, FilePrompt | TextPrompt) and prompt.texts:
            yield from prompt.texts.values()
        elif isinstance(prompt, SayPrompt):
            yield prompt.value


# -- nodes ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Node:
    id: str
    pos: Position | None = field(default=None, compare=False)
    # Does reaching this node make the caller wait (audio, input, end of the
    # call)? A cycle of nodes that never wait would spin without end.
    waits: ClassVar[bool] = True

    def edges(self) -> list[tuple[str, Ref]]:
        """(label, target) for every node this one can lead to in its flow."""
        return []

    def prompts(self) -> Prompts:
        return ()

    def templates(self) -> Iterator[Template]:
        yield from prompt_templates(self.prompts())


@dataclass(frozen=True, kw_only=True)
class PlayNode(Node):
    prompt: Prompts
    interruptible: bool = False
    next: Ref

    def edges(self) -> list[tuple[str, Ref]]:
        return [("next", self.next)]

    def prompts(self) -> Prompts:
        return self.prompt


@dataclass(frozen=True, kw_only=True)
class AnnouncementNode(Node):
    next: Ref
    waits: ClassVar[bool] = False  # the announcement is usually off

    def edges(self) -> list[tuple[str, Ref]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    prompt: Prompts
    choices: Mapping[str, Ref]
    timeout: float = 5.0
    retries: int = 2
    invalid: Prompts = ()
    no_input: Prompts = ()
    exhausted: Ref

    def edges(self) -> list[tuple[str, Ref]]:
        return [(f"choice {d}", ref) for d, ref in self.choices.items()] + [
            ("exhausted", self.exhausted)
        ]

    def prompts(self) -> Prompts:
        return self.prompt + self.invalid + self.no_input


@dataclass(frozen=True, kw_only=True)
class CollectNode(Node):
    prompt: Prompts
    variable: str
    max_length: int
    min_length: int = 1
    terminator: str = "#"
    timeout: float = 5.0
    pattern: KeyPattern | None = None
    sensitive: bool = False  # the digits are personal (an ID or card number): masked in views
    retries: int = 2
    invalid: Prompts = ()
    no_input: Prompts = ()
    next: Ref
    exhausted: Ref

    def edges(self) -> list[tuple[str, Ref]]:
        return [("next", self.next), ("exhausted", self.exhausted)]

    def prompts(self) -> Prompts:
        return self.prompt + self.invalid + self.no_input


@dataclass(frozen=True, kw_only=True)
class SayNode(Node):
    value: SayPrompt
    before: Prompts = ()
    after: Prompts = ()
    next: Ref

    def edges(self) -> list[tuple[str, Ref]]:
        return [("next", self.next)]

    def prompts(self) -> Prompts:
        return (*self.before, self.value, *self.after)


@dataclass(frozen=True, kw_only=True)
class LookupNode(Node):
    url: Template
    method: str = "GET"
    params: Mapping[str, Template]
    timeout: float = 3.0
    follow_redirects: bool = False
    max_bytes: int  # the largest answer read; a bigger one is an error
    store: Mapping[str, str]  # variable -> dotted path in the JSON answer
    ok: Ref
    not_found: Ref
    error: Ref
    waits: ClassVar[bool] = False

    def edges(self) -> list[tuple[str, Ref]]:
        return [("ok", self.ok), ("not_found", self.not_found), ("error", self.error)]

    def templates(self) -> Iterator[Template]:
        yield self.url
        yield from self.params.values()


class Condition(Enum):
    EQUALS = "equals"
    IN = "in"
    EXISTS = "exists"


@dataclass(frozen=True)
class Case:
    variable: str
    test: Condition
    values: tuple[str, ...]  # one for EQUALS, several for IN, none for EXISTS
    exists: bool
    next: Ref
    pos: Position | None = field(default=None, compare=False)

    def matches(self, variables: Mapping[str, str]) -> bool:
        value = variables.get(self.variable)
        if self.test is Condition.EXISTS:
            return (value is not None and value != "") == self.exists
        return value is not None and value in self.values


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    cases: tuple[Case, ...]
    default: Ref
    waits: ClassVar[bool] = False

    def edges(self) -> list[tuple[str, Ref]]:
        return [(f"case {i + 1}", c.next) for i, c in enumerate(self.cases)] + [
            ("default", self.default)
        ]


@dataclass(frozen=True, kw_only=True)
class ScheduleNode(Node):
    schedule: str
    schedule_pos: Position | None = field(default=None, compare=False)
    open: Ref
    closed: Ref
    holiday: Ref | None = None
    waits: ClassVar[bool] = False

    def edges(self) -> list[tuple[str, Ref]]:
        found = [("open", self.open), ("closed", self.closed)]
        return found + ([("holiday", self.holiday)] if self.holiday else [])


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    queue: str
    queue_pos: Position | None = field(default=None, compare=False)
    priority: int = 0
    skills: tuple[str, ...] = ()
    prompt: Prompts = ()

    def prompts(self) -> Prompts:
        return self.prompt


@dataclass(frozen=True, kw_only=True)
class VoicemailNode(Node):
    mailbox: Template
    options: str = "u"
    prompt: Prompts = ()

    def prompts(self) -> Prompts:
        return self.prompt

    def templates(self) -> Iterator[Template]:
        yield self.mailbox
        yield from super().templates()


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    to: Template
    context: str = "acd-transfer"
    timeout: int = 30
    prompt: Prompts = ()
    failed: Ref | None = None
    waits: ClassVar[bool] = False  # a failing Dial can return at once

    def edges(self) -> list[tuple[str, Ref]]:
        return [("failed", self.failed)] if self.failed else []

    def prompts(self) -> Prompts:
        return self.prompt

    def templates(self) -> Iterator[Template]:
        yield self.to
        yield from super().templates()


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    flow: str
    flow_pos: Position | None = field(default=None, compare=False)
    node: str | None = None
    node_pos: Position | None = field(default=None, compare=False)
    waits: ClassVar[bool] = False


@dataclass(frozen=True, kw_only=True)
class SetNode(Node):
    values: Mapping[str, Template]
    next: Ref
    waits: ClassVar[bool] = False

    def edges(self) -> list[tuple[str, Ref]]:
        return [("next", self.next)]

    def templates(self) -> Iterator[Template]:
        yield from self.values.values()


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    prompt: Prompts = ()

    def prompts(self) -> Prompts:
        return self.prompt


# -- flows ----------------------------------------------------------------------


class UnknownFlow(KeyError):
    """A flow name that is not in the flow set."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown flow"


@dataclass(frozen=True)
class Flow:
    name: str
    file: str
    start: str
    nodes: Mapping[str, Node]
    start_pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FlowSet:
    """All flows of one version; immutable, shared by every call that uses it."""

    flows: Mapping[str, Flow]
    languages: tuple[str, ...]
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "flows", MappingProxyType(dict(self.flows)))

    @property
    def default_lang(self) -> str:
        return self.languages[0]

    def names(self) -> set[str]:
        return set(self.flows)

    def entry(self, flow_name: str) -> NodeId:
        """The start node of a flow; UnknownFlow (with a suggestion) if there is none."""
        flow = self.flows.get(flow_name)
        if flow is None:
            close = difflib.get_close_matches(flow_name, list(self.flows), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(sorted(self.flows)) or "none"
            raise UnknownFlow(f"unknown IVR flow {flow_name!r}{hint}; flows: {known}")
        return NodeId(flow.name, flow.start)

    def node(self, node_id: NodeId) -> Node:
        return self.flows[node_id.flow].nodes[node_id.node]

    @cached_property
    def sensitive(self) -> frozenset[str]:
        """Variables that may hold a caller's number or digits a flow marks sensitive.

        Decided for the whole set, not per call: a name that is sensitive in one
        flow is masked everywhere, which errs on the side of the caller.
        """
        found = {"caller"}
        copies: list[tuple[str, frozenset[str]]] = []
        for flow in self.flows.values():
            for node in flow.nodes.values():
                if isinstance(node, CollectNode) and node.sensitive:
                    found.add(node.variable)
                elif isinstance(node, SetNode):
                    copies += [(name, value.variables) for name, value in node.values.items()]
        grew = True
        while grew:  # a set node may copy a copy
            grew = False
            for name, used in copies:
                if name not in found and used & found:
                    found.add(name)
                    grew = True
        return frozenset(found)

    def __contains__(self, node_id: object) -> bool:
        if not isinstance(node_id, NodeId):
            return False
        flow = self.flows.get(node_id.flow)
        return flow is not None and node_id.node in flow.nodes


def resolve_entry(flows: FlowSet, entry: str) -> NodeId:
    """Where a call enters: 'flow' (its start node) or 'flow:node'.

    UnknownFlow for a flow the set does not have, KeyError for a node its flow lacks.
    """
    flow, _, node = entry.partition(":")
    start = flows.entry(flow)
    if not node:
        return start
    target = NodeId(flow, node)
    if target not in flows:
        raise KeyError(f"flow {flow!r} has no node {node!r}")
    return target
