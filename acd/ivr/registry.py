"""Loading the flows folder, validating it whole, and hot reload.

A saved change goes live for new calls within a poll interval; a change that
fails validation is logged error by error, once per saved version, and the
previous version keeps serving. Calls keep the FlowSet object they started with.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from acd.ivr.checks import Context, check_flows
from acd.ivr.loader import load_flow
from acd.ivr.model import Flow, FlowSet
from acd.ivr.prompting import static_speech
from acd.ivr.reader import Problems
from acd.ivr.schedule import ScheduleOracle
from acd.media.prompts import PromptLibrary, Recording, Speech
from acd.yamlsource import Position, SourceError, read_bytes

log = logging.getLogger(__name__)

FLOW_SUFFIXES = (".yaml", ".yml")


class FlowErrors(Exception):
    """The flows folder has errors; `errors` lists every one of them."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def read_flow_files(directory: Path) -> dict[Path, bytes]:
    """Every flow file's bytes, by path, in name order; decoding is part of validation."""
    texts: dict[Path, bytes] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix in FLOW_SUFFIXES and path.is_file() and not path.name.startswith("."):
            texts[path] = read_bytes(path)
    return texts


def build_flowset(
    texts: Mapping[Path, str | bytes],
    *,
    known_queues: Iterable[str],
    schedule_names: Iterable[str] | None,
    library: PromptLibrary | None,
    languages: tuple[str, ...] = ("zh", "en"),
    extra_variables: Iterable[str] = (),
    version: int = 0,
) -> tuple[FlowSet | None, list[SourceError]]:
    """Parse and validate flow texts; returns (flowset, []) or (None, errors in file order)."""
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


def speech_to_prepare(flows: FlowSet, library: PromptLibrary) -> set[Speech]:
    """Texts of the flows that have no recording yet and no variables."""
    todo: set[Speech] = set()
    for flow in flows.flows.values():
        for node in flow.nodes.values():
            for item in static_speech(node.prompts(), flows.languages):
                if isinstance(item, Recording):
                    if item.fallback and library.find_recording(item.name, item.lang) is None:
                        todo.add(item.fallback)
                else:
                    todo.add(item)
    return todo


class FlowRegistry:
    """The live FlowSet of a flows folder, reloaded when the files change."""

    def __init__(
        self,
        directory: str | Path,
        known_queues: Iterable[str],
        schedule_oracle: ScheduleOracle | None,
        prompt_library: PromptLibrary,
        *,
        extra_variables: Iterable[str] = (),
    ) -> None:
        self.directory = Path(directory)
        self.known_queues = frozenset(known_queues)
        self.schedule_oracle = schedule_oracle
        self.prompt_library = prompt_library
        self.extra_variables = frozenset(extra_variables)
        self._current: FlowSet | None = None
        self._loaded_hash = ""
        self._rejected_hash = ""
        self._read_error = ""
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def current(self) -> FlowSet:
        if self._current is None:
            raise RuntimeError("FlowRegistry.load() has not succeeded yet")
        return self._current

    def check(self) -> list[SourceError]:
        """Validate the folder as it is now, without changing what is served."""
        try:
            texts = read_flow_files(self.directory)
        except OSError as exc:
            return [SourceError(None, f"cannot read flows folder {self.directory}: {exc}")]
        return self._build(texts, self._version)[1]

    def load(self) -> FlowSet:
        """Load at start; raises FlowErrors with every error."""
        try:
            texts = read_flow_files(self.directory)
        except OSError as exc:
            raise FlowErrors([SourceError(None, f"cannot read flows folder "
                                          f"{self.directory}: {exc}")]) from None
        flows, errors = self._build(texts, self._version + 1)
        if flows is None:
            raise FlowErrors(errors)
        self._install(flows, _digest(texts))
        return flows

    async def poll(self) -> bool:
        """Reload if the files changed; True when a new version went live."""
        try:
            texts = await asyncio.to_thread(read_flow_files, self.directory)
        except OSError as exc:
            if str(exc) != self._read_error:  # said once, not every half second
                self._read_error = str(exc)
                log.error("cannot read flows folder %s: %s", self.directory, exc)
            return False
        self._read_error = ""
        digest = _digest(texts)
        if digest == self._loaded_hash:
            return False
        # A rejected version is checked again each poll: a missing recording
        # may have been added since. Its errors are logged once.
        try:
            flows, errors = await asyncio.to_thread(self._build, texts, self._version + 1)
        except Exception:  # a bug rather than the files; still said once per version
            if self._rejected_hash != digest:
                self._rejected_hash = digest
                log.exception("IVR flow reload failed; still serving version %d",
                              self._version)
            return False
        if flows is None:
            if self._rejected_hash == digest:
                return False
            self._rejected_hash = digest
            log.error("IVR flows changed but have %d error(s); still serving version %d",
                      len(errors), self._version)
            for error in errors:
                log.error("%s", error)
            return False
        self._install(flows, digest)
        try:
            await self.prepare_prompts()
        except Exception:  # callers still get speech synthesised on demand
            log.exception("pre-synthesising prompts of flows version %d failed", flows.version)
        return True

    async def watch(self, interval: float = 0.5) -> None:
        """Poll forever; cancel the task to stop."""
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("IVR flow reload failed; still serving version %d", self._version)
            await asyncio.sleep(interval)

    async def prepare_prompts(self) -> int:
        """Synthesise the current flows' texts ahead of the first caller."""
        return await self.prompt_library.prepare_all(
            speech_to_prepare(self.current(), self.prompt_library))

    def _build(self, texts: Mapping[Path, str], version: int
               ) -> tuple[FlowSet | None, list[SourceError]]:
        oracle = self.schedule_oracle
        return build_flowset(
            texts, known_queues=self.known_queues,
            schedule_names=None if oracle is None else oracle.names(),
            library=self.prompt_library, extra_variables=self.extra_variables, version=version,
        )

    def _install(self, flows: FlowSet, digest: str) -> None:
        self._current = flows
        self._version = flows.version
        self._loaded_hash = digest
        self._rejected_hash = ""
        log.info("IVR flows version %d live: %s", flows.version, ", ".join(sorted(flows.flows)))


def _digest(texts: Mapping[Path, str | bytes]) -> str:
    h = hashlib.sha256()
    for path, text in texts.items():
        data = text if isinstance(text, bytes) else text.encode()
        h.update(path.name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()
