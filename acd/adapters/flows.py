"""The flows folder: read at start, validated whole, reloaded when a file changes.

A saved change goes live for new calls within a poll interval; a change that
fails validation is logged error by error, once per saved version, and the
previous version keeps serving. Calls keep the FlowSet object they started with.
Parsing and validating are the IVR's (acd.ivr.flowset); this module reads the
files, polls them and pre-synthesises the new texts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from acd.ivr.flowset import FlowErrors, build_flowset, speech_to_prepare, texts_digest
from acd.ivr.model import FlowSet
from acd.ivr.schedule import ScheduleOracle
from acd.media.prompts import PromptLibrary
from acd.yamlsource import SourceError, read_bytes

log = logging.getLogger(__name__)

FLOW_SUFFIXES = (".yaml", ".yml")


def read_flow_files(directory: Path) -> dict[Path, bytes]:
    """Every flow file's bytes, by path, in name order; decoding is part of validation."""
    texts: dict[Path, bytes] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix in FLOW_SUFFIXES and path.is_file() and not path.name.startswith("."):
            texts[path] = read_bytes(path)
    return texts


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

    def check_replaced(self, path: Path, text: str) -> list[SourceError]:
        """Validate the folder as it would be with `path` holding `text` (the console's
        flow editor, before it saves), without changing what is served."""
        try:
            texts: dict[Path, str | bytes] = dict(read_flow_files(self.directory))
        except OSError as exc:
            return [SourceError(None, f"cannot read flows folder {self.directory}: {exc}")]
        texts[path] = text
        return self._build(dict(sorted(texts.items())), self._version)[1]

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
        self._install(flows, texts_digest(texts))
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
        digest = texts_digest(texts)
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

    def _build(self, texts: Mapping[Path, str | bytes], version: int
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
