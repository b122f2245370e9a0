"""Checks across nodes and flows: references, queues, schedules, prompt files,
variables, unreachable nodes and loops that would spin without the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from acd.ivr.model import (
    BranchNode,
    CollectNode,
    FilePrompt,
    Flow,
    GotoNode,
    LookupNode,
    Node,
    NodeId,
    QueueNode,
    ScheduleNode,
    SetNode,
)
from acd.ivr.reader import Problems, suggest

# Set by the call's session for every call; it may pass more (extra_variables).
BUILTIN_VARIABLES = frozenset({"caller", "called", "lang", "call_id"})


class PromptRecordings(Protocol):
    """Which recorded prompts exist: what checking flows needs of the prompt library
    (acd.media.prompts.PromptLibrary)."""

    @property
    def prompts_dir(self) -> Path:
        """Where the recordings are, for the messages: <prompts_dir>/<lang>/<name>.wav."""
        ...

    @property
    def languages(self) -> tuple[str, ...]:
        """The prompt languages, the default first."""
        ...

    def has_recording(self, name: str, lang: str | None = None) -> bool:
        """Whether `name` is recorded in `lang` (None: in any language)."""
        ...


@dataclass
class Context:
    """What the flows are checked against."""

    known_queues: frozenset[str]
    schedules: frozenset[str] | None  # None: not checked
    library: PromptRecordings | None  # None: prompt files not checked
    extra_variables: frozenset[str] = frozenset()
    broken: Mapping[str, set[str]] = field(default_factory=dict)  # flow -> unbuildable ids
    failed_flows: frozenset[str] = frozenset()  # files that did not load at all


def check_flows(flows: Mapping[str, Flow], ctx: Context, problems: Problems) -> None:
    defined = _defined_variables(flows) | BUILTIN_VARIABLES | ctx.extra_variables
    for flow in flows.values():
        broken = ctx.broken.get(flow.name, set())
        for node in flow.nodes.values():
            _check_refs(flow, node, broken, problems)
            _check_goto(flows, ctx, node, problems)
            _check_names(ctx, node, problems)
            _check_prompt_files(ctx, node, problems)
            _check_variables(node, defined, problems)
        if not broken:
            _check_reachable(flows, flow, problems)
    _check_spinning(flows, problems)


def _what(node: Node) -> str:
    return f"{type(node).__name__.removesuffix('Node').lower()} node '{node.id}'"


def _check_refs(flow: Flow, node: Node, broken: set[str], problems: Problems) -> None:
    for label, ref in node.edges():
        if ref.node and ref.node not in flow.nodes and ref.node not in broken:
            problems.add(ref.pos or node.pos, f"{_what(node)}: {label} goes to node "
                         f"'{ref.node}', which flow '{flow.name}' does not have"
                         f"{suggest(ref.node, flow.nodes)}")


def _check_goto(flows: Mapping[str, Flow], ctx: Context, node: Node, problems: Problems) -> None:
    if not isinstance(node, GotoNode) or node.flow in ctx.failed_flows:
        return
    target = flows.get(node.flow)
    if target is None:
        problems.add(node.flow_pos, f"{_what(node)}: no flow named '{node.flow}'"
                     f"{suggest(node.flow, flows)}; flows are the files in the flows folder: "
                     f"{', '.join(sorted(flows))}")
    elif node.node and node.node not in target.nodes and \
            node.node not in ctx.broken.get(node.flow, set()):
        problems.add(node.node_pos, f"{_what(node)}: flow '{node.flow}' has no node "
                     f"'{node.node}'{suggest(node.node, target.nodes)}")


def _check_names(ctx: Context, node: Node, problems: Problems) -> None:
    if isinstance(node, QueueNode) and node.queue not in ctx.known_queues:
        problems.add(node.queue_pos, f"{_what(node)}: unknown queue '{node.queue}'"
                     f"{suggest(node.queue, ctx.known_queues)}; configured queues: "
                     f"{', '.join(sorted(ctx.known_queues)) or 'none'}")
    if isinstance(node, ScheduleNode) and ctx.schedules is not None and \
            node.schedule not in ctx.schedules:
        problems.add(node.schedule_pos, f"{_what(node)}: unknown schedule '{node.schedule}'"
                     f"{suggest(node.schedule, ctx.schedules)}; configured schedules: "
                     f"{', '.join(sorted(ctx.schedules)) or 'none'}")


def _check_prompt_files(ctx: Context, node: Node, problems: Problems) -> None:
    if ctx.library is None:
        return
    for prompt in node.prompts():
        if isinstance(prompt, FilePrompt) and not prompt.texts and \
                not ctx.library.has_recording(prompt.name):
            lang = ctx.library.languages[0]
            problems.add(prompt.pos or node.pos, f"{_what(node)}: no recording '{prompt.name}' "
                         f"in {ctx.library.prompts_dir}/{lang}/: record "
                         f"{lang}/{prompt.name}.wav, or give its words with "
                         f"{{file: {prompt.name}, text: ...}} to have it spoken")


def _defined_variables(flows: Mapping[str, Flow]) -> set[str]:
    defined: set[str] = set()
    for flow in flows.values():
        for node in flow.nodes.values():
            if isinstance(node, CollectNode):
                defined.add(node.variable)
            elif isinstance(node, SetNode):
                defined.update(node.values)
            elif isinstance(node, LookupNode):
                defined.update(node.store)
    return defined


def _check_variables(node: Node, defined: set[str] | frozenset[str], problems: Problems) -> None:
    used = [(name, t.pos) for t in node.templates() for name in sorted(t.variables)]
    if isinstance(node, BranchNode):
        used += [(case.variable, case.pos) for case in node.cases]
    for name, pos in used:
        if name not in defined:
            problems.add(pos or node.pos, f"{_what(node)}: variable '{name}' is never set"
                         f"{suggest(name, defined)}; set it with a collect, set or lookup "
                         f"node (built in: {', '.join(sorted(BUILTIN_VARIABLES))})")


def _successors(flows: Mapping[str, Flow], flow: Flow, node: Node) -> Iterator[NodeId]:
    if isinstance(node, GotoNode):
        target = flows.get(node.flow)
        if target is not None:
            name = node.node or target.start
            if name in target.nodes:
                yield NodeId(target.name, name)
        return
    for _, ref in node.edges():
        if ref.node in flow.nodes:
            yield NodeId(flow.name, ref.node)


def _check_reachable(flows: Mapping[str, Flow], flow: Flow, problems: Problems) -> None:
    roots = [flow.start] + [
        n.node for other in flows.values() for n in other.nodes.values()
        if isinstance(n, GotoNode) and n.flow == flow.name and n.node
    ]
    seen: set[str] = set()
    todo = [r for r in roots if r in flow.nodes]
    while todo:
        nid = todo.pop()
        if nid in seen:
            continue
        seen.add(nid)
        todo.extend(s.node for s in _successors(flows, flow, flow.nodes[nid])
                    if s.flow == flow.name)
    for nid, node in flow.nodes.items():
        if nid not in seen:
            problems.add(node.pos, f"{_what(node)} is never reached from the start "
                         f"('{flow.start}'): lead to it from a menu choice or 'next', "
                         "or delete it")


def _check_spinning(flows: Mapping[str, Flow], problems: Problems) -> None:
    """A cycle of nodes none of which waits would loop until the step guard stops it."""
    graph: dict[NodeId, list[NodeId]] = {}
    for flow in flows.values():
        for nid, node in flow.nodes.items():
            if not node.waits:
                graph[NodeId(flow.name, nid)] = [
                    s for s in _successors(flows, flow, node)
                    if not flows[s.flow].nodes[s.node].waits
                ]
    for cycle in _cycles(graph):
        first = min(cycle, key=lambda n: _sort_key(flows[n.flow].nodes[n.node]))
        node = flows[first.flow].nodes[first.node]
        path = " -> ".join(str(n) for n in _order(cycle, first, graph)) + f" -> {first}"
        problems.add(node.pos, f"{_what(node)}: these nodes loop without waiting for the "
                     f"caller or playing anything: {path}; put a play, menu or collect "
                     "node in the loop, or end it")


def _sort_key(node: Node) -> tuple[str, int, int]:
    pos = node.pos
    return (pos.file, pos.line, pos.column) if pos else ("", 0, 0)


def _cycles(graph: Mapping[NodeId, list[NodeId]]) -> Iterable[set[NodeId]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[NodeId, int] = {}
    low: dict[NodeId, int] = {}
    stack: list[NodeId] = []
    on_stack: set[NodeId] = set()
    found: list[set[NodeId]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[NodeId] = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.add(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(component)
    return found


def _order(cycle: set[NodeId], first: NodeId, graph: Mapping[NodeId, list[NodeId]]) -> list[NodeId]:
    """One walk around the cycle from `first`, for the message."""
    path = [first]
    while True:
        step = next((n for n in graph[path[-1]] if n in cycle and n not in path), None)
        if step is None:
            return path
        path.append(step)
