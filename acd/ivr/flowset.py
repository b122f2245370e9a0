"""Building a FlowSet from the flows folder's texts: parse, validate whole, or say why not.

Pure: the texts come in by path (acd.adapters.flows reads the folder and reloads
it), which recordings exist comes in through a small Protocol (PromptRecordings),
and errors come out as values, every one of them, in file order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from acd.ivr.checks import Context, PromptRecordings, check_flows
from acd.ivr.loader import load_flow
from acd.ivr.model import Flow, FlowSet
from acd.ivr.prompting import static_speech
from acd.ivr.reader import Problems
from acd.media.playables import Recording, Speech
from acd.yamlsource import Position, SourceError


class FlowErrors(Exception):
    """The flows folder has errors; `errors` lists every one of them."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def build_flowset(
    texts: Mapping[Path, str | bytes],
    *,
    known_queues: Iterable[str],
    schedule_names: Iterable[str] | None,
    library: PromptRecordings | None,
    languages: tuple[str, ...] = ("zh", "en"),
    extra_variables: Iterable[str] = (),
    version: int = 0,
) -> tuple[FlowSet | None, list[SourceError]]:
    """Parse and validate flow texts; returns (flowset, []) or (None, errors in file order).

    `library` None: recordings are not checked, and `languages` are the flows' languages.
    """
    if library is not None:
        languages = library.languages
    problems = Problems()
    flows: dict[str, Flow] = {}
    broken: dict[str, set[str]] = {}
    failed: set[str] = set()
    for path, text in texts.items():
        if path.stem in flows or path.stem in failed:
            problems.add(Position(str(path), 1, 1), f"a second file for flow '{path.stem}': "
                         "keep one of .yaml and .yml")
            continue
        flow, broken_ids = load_flow(path, text, languages, problems)
        if flow is None:
            failed.add(path.stem)
        else:
            flows[flow.name] = flow
            broken[flow.name] = broken_ids
    if not texts:
        problems.add(None, "no flow files (*.yaml) in the flows folder")
    ctx = Context(
        known_queues=frozenset(known_queues),
        schedules=None if schedule_names is None else frozenset(schedule_names),
        library=library,
        extra_variables=frozenset(extra_variables),
        broken=broken,
        failed_flows=frozenset(failed),
    )
    check_flows(flows, ctx, problems)
    if problems.errors:
        return None, sorted(problems.errors, key=_error_order)
    return FlowSet(flows, languages, version), []


def _error_order(error: SourceError) -> tuple[str, int, int]:
    pos = error.position
    return (pos.file, pos.line, pos.column) if pos else ("", 0, 0)


def speech_to_prepare(flows: FlowSet, library: PromptRecordings) -> set[Speech]:
    """Texts of the flows that have no recording yet and no variables."""
    todo: set[Speech] = set()
    for flow in flows.flows.values():
        for node in flow.nodes.values():
            for item in static_speech(node.prompts(), flows.languages):
                if isinstance(item, Recording):
                    if item.fallback and not library.has_recording(item.name, item.lang):
                        todo.add(item.fallback)
                else:
                    todo.add(item)
    return todo


def texts_digest(texts: Mapping[Path, str | bytes]) -> str:
    """One hash of the flows folder's files (names and contents): did anything change?"""
    h = hashlib.sha256()
    for path, text in texts.items():
        data = text if isinstance(text, bytes) else text.encode()
        h.update(path.name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()
