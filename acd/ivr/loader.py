"""Flow files -> Flow objects: field types and shapes, every error with file:line:column.

Cross-node checks (references, reachability, loops, queues, prompts) are in
`acd.ivr.checks`; this module only reads what one node says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from acd.ivr.keypattern import SYNTAX, KeyPattern, PatternError, compile_pattern
from acd.ivr.lookup import DEFAULT_MAX_BYTES, LARGEST_MAX_BYTES
from acd.ivr.model import (
    AnnouncementNode,
    BranchNode,
    Case,
    CollectNode,
    Condition,
    Flow,
    GotoNode,
    HangupNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    Prompts,
    QueueNode,
    Ref,
    SayMode,
    SayNode,
    SayPrompt,
    ScheduleNode,
    SetNode,
    TransferNode,
    VoicemailNode,
)
from acd.ivr.prompting import parse_prompts
from acd.ivr.reader import FieldReader, Problems, describe, suggest
from acd.ivr.template import VARIABLE_NAME
from acd.yamlsource import LocatedDict, LocatedList, Position, SourceError, load_text

MENU_KEYS = frozenset("0123456789*#")
FLOW_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


class Builder:
    """Builds the nodes of one flow file."""

    def __init__(self, languages: tuple[str, ...], problems: Problems) -> None:
        self.languages = languages
        self.problems = problems

    def prompts(self, r: FieldReader, key: str, required: bool = False) -> Prompts:
        return parse_prompts(r, key, self.languages, required)

    def variable(self, r: FieldReader, key: str, name: str, pos: Position) -> str:
        if not VARIABLE_NAME.fullmatch(name):
            r.error(pos, f"{r.what}: {name!r} in '{key}' is not a variable name: use "
                    "letters, digits and '_', starting with a letter")
        return name

    def play(self, r: FieldReader, nid: str) -> Node:
        return PlayNode(id=nid, pos=r.node_pos, prompt=self.prompts(r, "prompt", True),
                        interruptible=r.boolean("interruptible", False), next=_req(r.ref("next")))

    def announcement(self, r: FieldReader, nid: str) -> Node:
        return AnnouncementNode(id=nid, pos=r.node_pos, next=_req(r.ref("next")))

    def menu(self, r: FieldReader, nid: str) -> Node:
        choices: dict[str, Ref] = {}
        raw = r.mapping("choices", True, " (digit: node id lines)")
        for digit, target in (raw or LocatedDict()).items():
            assert raw is not None
            if digit not in MENU_KEYS:
                r.error(raw.pos(digit), f"{r.what}: choice {digit!r} is not a key of the "
                        "phone pad: use one of 0-9, * or # (quote * and #)")
                continue
            choices[digit] = r.ref_value(target, raw.pos(digit), f"choice {digit!r}")
        if raw is not None and not raw:
            r.error(r.pos("choices"), f"{r.what}: 'choices' is empty")
        return MenuNode(
            id=nid, pos=r.node_pos, prompt=self.prompts(r, "prompt", True),
            choices=MappingProxyType(choices),
            timeout=r.seconds("timeout", 5.0), retries=r.integer("retries", 2, 0, 10),
            invalid=self.prompts(r, "invalid"), no_input=self.prompts(r, "no_input"),
            exhausted=_req(r.ref("exhausted")),
        )

    def collect(self, r: FieldReader, nid: str) -> Node:
        variable = r.string("variable", required=True, hint=" (the variable to store into)")
        self.variable(r, "variable", variable, r.pos("variable"))
        max_length = r.integer("max_length", 0, 1, 64)
        if not r.has("max_length"):
            r.error(r.node_pos, f"{r.what}: missing field 'max_length' (most digits to read)")
        min_length = r.integer("min_length", 1, 1, 64)
        if max_length and min_length > max_length:
            r.error(r.pos("min_length"), f"{r.what}: 'min_length' ({min_length}) is more "
                    f"than 'max_length' ({max_length})")
        terminator = r.string("terminator", "#")
        if terminator not in ("", "#", "*"):
            r.error(r.pos("terminator"), f"{r.what}: 'terminator' must be '#', '*' or ''")
        return CollectNode(
            id=nid, pos=r.node_pos, prompt=self.prompts(r, "prompt", True), variable=variable,
            max_length=max_length, min_length=min_length, terminator=terminator,
            timeout=r.seconds("timeout", 5.0), pattern=self.key_pattern(r),
            sensitive=r.boolean("sensitive", False),
            retries=r.integer("retries", 2, 0, 10), invalid=self.prompts(r, "invalid"),
            no_input=self.prompts(r, "no_input"), next=_req(r.ref("next")),
            exhausted=_req(r.ref("exhausted")),
        )

    def key_pattern(self, r: FieldReader) -> KeyPattern | None:
        source = r.string("pattern")
        if not source:
            return None
        try:
            return compile_pattern(source)
        except PatternError as exc:
            r.error(r.pos("pattern"), f"{r.what}: 'pattern' {exc} (character "
                    f"{exc.index + 1}); a pattern may use {SYNTAX}")
            return None

    def say(self, r: FieldReader, nid: str) -> Node:
        modes = [m for m in SayMode if r.has(m.value)]
        if len(modes) != 1:
            r.error(r.node_pos, f"{r.what}: write exactly one of 'digits' or 'number' "
                    "(the value to read out, e.g. digits: \"${order}\")")
            modes = [SayMode.DIGITS]
        mode = modes[0]
        value = SayPrompt(mode, r.template(mode.value), r.pos(mode.value))
        return SayNode(id=nid, pos=r.node_pos, value=value, before=self.prompts(r, "before"),
                       after=self.prompts(r, "after"), next=_req(r.ref("next")))

    def lookup(self, r: FieldReader, nid: str) -> Node:
        url = r.template("url", True, " (the HTTP address to ask)")
        if url.raw and not url.raw.startswith(("http://", "https://")):
            r.error(r.pos("url"), f"{r.what}: 'url' must start with http:// or https://")
        elif "${" in re.split("[/?#]", url.raw.split("://", 1)[-1], maxsplit=1)[0]:
            r.error(r.pos("url"), f"{r.what}: 'url' may use variables in its path and "
                    "query only, not in the host: the flow decides whom it asks")
        method = r.string("method", "GET").upper()
        if method not in ("GET", "POST"):
            r.error(r.pos("method"), f"{r.what}: 'method' must be GET or POST")
        store: dict[str, str] = {}
        raw_store = r.mapping("store")
        for var, path in (raw_store or LocatedDict()).items():
            assert raw_store is not None
            self.variable(r, "store", var, raw_store.pos(var))
            if not isinstance(path, str) or not path:
                r.error(raw_store.pos(var), f"{r.what}: 'store.{var}' must name a field of "
                        f"the JSON answer (e.g. status or order.status), not {describe(path)}")
            else:
                store[var] = path
        ok = _req(r.ref("ok"))
        error = _req(r.ref("error"))
        return LookupNode(
            id=nid, pos=r.node_pos, url=url, method=method,
            params=MappingProxyType(r.template_map("params")),
            timeout=r.seconds("timeout", 3.0, 30),
            follow_redirects=r.boolean("follow_redirects", False),
            max_bytes=r.integer("max_bytes", DEFAULT_MAX_BYTES, 1, LARGEST_MAX_BYTES),
            store=MappingProxyType(store), ok=ok,
            not_found=r.ref("not_found", required=False) or error, error=error,
        )

    def branch(self, r: FieldReader, nid: str) -> Node:
        cases: list[Case] = []
        raw = r.raw("cases", True, " (a list of {variable, equals|in|exists, next})")
        if raw is not None and not isinstance(raw, LocatedList):
            r.error(r.pos("cases"), f"{r.what}: 'cases' must be a list, not {describe(raw)}")
        if isinstance(raw, LocatedList):
            for i, item in enumerate(raw):
                case = self._case(r, item, raw.pos(i), i + 1)
                if case is not None:
                    cases.append(case)
        return BranchNode(id=nid, pos=r.node_pos, cases=tuple(cases),
                          default=_req(r.ref("default")))

    def _case(self, r: FieldReader, item: object, pos: Position, n: int) -> Case | None:
        if not isinstance(item, LocatedDict):
            r.error(pos, f"{r.what}: case {n} must be a mapping, not {describe(item)}")
            return None
        c = FieldReader(item, f"{r.what} case {n}", item.position, self.problems)
        variable = c.string("variable", required=True)
        self.variable(c, "variable", variable, c.pos("variable"))
        tests = [t for t in Condition if c.has(t.value)]
        target = _req(c.ref("next"))
        c.finish()
        if len(tests) != 1:
            c.error(item.position, f"{c.what}: write exactly one test: equals, in or exists")
        if c.failed:
            r.failed = True
            return None
        test = tests[0]
        value = item[test.value]
        if test is Condition.EXISTS:
            if not isinstance(value, bool):
                c.error(item.pos("exists"), f"{c.what}: 'exists' must be true or false")
            return Case(variable, test, (), value is True, target, pos)
        values = c.string_list("in") if test is Condition.IN else (c.string("equals"),)
        if c.failed:
            r.failed = True
            return None
        return Case(variable, test, values, True, target, pos)

    def schedule(self, r: FieldReader, nid: str) -> Node:
        return ScheduleNode(
            id=nid, pos=r.node_pos,
            schedule=r.string("schedule", required=True, hint=" (a schedule name)"),
            schedule_pos=r.pos("schedule"), open=_req(r.ref("open")),
            closed=_req(r.ref("closed")), holiday=r.ref("holiday", required=False),
        )

    def queue(self, r: FieldReader, nid: str) -> Node:
        return QueueNode(
            id=nid, pos=r.node_pos,
            queue=r.string("queue", required=True, hint=" (a queue name)"),
            queue_pos=r.pos("queue"), priority=r.integer("priority", 0, 0, 100),
            skills=r.string_list("skills"), prompt=self.prompts(r, "prompt"),
        )

    def voicemail(self, r: FieldReader, nid: str) -> Node:
        mailbox = r.template("mailbox", True, " (e.g. 8000@default)")
        return VoicemailNode(id=nid, pos=r.node_pos, mailbox=mailbox,
                             options=r.string("options", "u"), prompt=self.prompts(r, "prompt"))

    def transfer(self, r: FieldReader, nid: str) -> Node:
        to = r.template("to", True, " (an extension or phone number)")
        context = r.string("context", "acd-transfer")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", context):
            r.error(r.pos("context"), f"{r.what}: 'context' must be a dialplan context name")
        return TransferNode(id=nid, pos=r.node_pos, to=to, context=context,
                            timeout=r.integer("timeout", 30, 1, 600),
                            prompt=self.prompts(r, "prompt"),
                            failed=r.ref("failed", required=False))

    def goto(self, r: FieldReader, nid: str) -> Node:
        node = r.string("node") or None
        flow = r.string("flow", required=True, hint=" (a flow name)")
        return GotoNode(id=nid, pos=r.node_pos, flow=flow, flow_pos=r.pos("flow"), node=node,
                        node_pos=r.pos("node"))

    def set(self, r: FieldReader, nid: str) -> Node:
        values = r.template_map("values", required=True)
        raw = r.data.get("values")
        for name in values:
            self.variable(r, "values", name, raw.pos(name) if isinstance(raw, LocatedDict)
                          else r.node_pos)
        if isinstance(raw, LocatedDict) and "lang" in values:
            lang = values["lang"]
            if lang.is_literal and lang.raw not in self.languages:
                r.error(raw.pos("lang"), f"{r.what}: unknown language {lang.raw!r}"
                        f"{suggest(lang.raw, self.languages)}; configured: "
                        f"{', '.join(self.languages)}")
        return SetNode(id=nid, pos=r.node_pos, values=MappingProxyType(values),
                       next=_req(r.ref("next")))

    def hangup(self, r: FieldReader, nid: str) -> Node:
        return HangupNode(id=nid, pos=r.node_pos, prompt=self.prompts(r, "prompt"))


def _req(ref: Ref | None) -> Ref:
    return ref if ref is not None else Ref("")


NodeBuilder = Callable[[Builder, FieldReader, str], Node]
#: a node's `type:` -> its builder, spelled out (not looked up by name: mypy checks each)
NODE_KINDS: dict[str, NodeBuilder] = {
    "play": Builder.play, "announcement": Builder.announcement, "menu": Builder.menu,
    "collect": Builder.collect, "say": Builder.say, "lookup": Builder.lookup,
    "branch": Builder.branch, "schedule": Builder.schedule, "queue": Builder.queue,
    "voicemail": Builder.voicemail, "transfer": Builder.transfer, "goto": Builder.goto,
    "set": Builder.set, "hangup": Builder.hangup,
}


def load_flow(
    path: Path, text: str | bytes, languages: tuple[str, ...], problems: Problems
) -> tuple[Flow | None, set[str]]:
    """Parse one flow file. Returns the flow (None if unusable) and ids of broken nodes."""
    try:
        data = load_text(text, str(path))
    except SourceError as exc:
        hint = "; each menu digit, node id and field may appear only once" \
            if exc.message.startswith("duplicate key") else ""
        problems.add(exc.position, exc.message + hint)
        return None, set()
    top = Position(str(path), 1, 1)
    if not isinstance(data, LocatedDict):
        problems.add(top, "a flow file is a mapping with 'start' and 'nodes'")
        return None, set()
    r = FieldReader(data, f"flow '{path.stem}'", top, problems)
    r.string("description")
    nodes_raw = r.mapping("nodes", True, " (the flow's nodes, by id)")
    start = r.string("start")
    r.finish()
    if not nodes_raw:
        if nodes_raw is not None:
            problems.add(r.pos("nodes"), f"flow '{path.stem}' has no nodes")
        return None, set()
    builder = Builder(languages, problems)
    nodes: dict[str, Node] = {}
    broken: set[str] = set()
    for nid, raw in nodes_raw.items():
        node = _build_node(builder, nid, raw, nodes_raw.pos(nid))
        if node is None:
            broken.add(nid)
        else:
            nodes[nid] = node
    start = start or next(iter(nodes_raw))
    if start not in nodes_raw:
        problems.add(r.pos("start"), f"flow '{path.stem}': 'start' names no node: {start!r}"
                     f"{suggest(start, nodes_raw)}")
        return None, broken
    flow = Flow(path.stem, str(path), start, MappingProxyType(nodes), r.pos("start"))
    return flow, broken


def _build_node(builder: Builder, nid: str, raw: object, pos: Position) -> Node | None:
    problems = builder.problems
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", nid):
        problems.add(pos, f"node id {nid!r} may only use letters, digits, '_' and '-'")
        return None
    if not isinstance(raw, LocatedDict):
        problems.add(pos, f"node '{nid}' must be a mapping with a 'type', not {describe(raw)}")
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in NODE_KINDS:
        where = raw.pos("type") if "type" in raw else pos
        what = f"unknown node type {kind!r}{suggest(str(kind), NODE_KINDS)}" \
            if "type" in raw else "missing field 'type'"
        problems.add(where, f"node '{nid}': {what}; types: {', '.join(NODE_KINDS)}")
        return None
    r = FieldReader(raw, f"{kind} node '{nid}'", pos, problems)
    r.allowed.extend(["type", "description"])
    node = NODE_KINDS[kind](builder, r, nid)
    r.finish()
    return None if r.failed else node
