"""The flow editor's files: a flow's YAML read, validated, saved atomically, and its
earlier versions kept (`<versions>/<flow>/<UTC time>.yaml`, the newest `kept`).

The file on disk stays the source of truth: a save replaces it in one rename, and the
running acd's reload (acd.adapters.flows) picks it up like any edit. Names come from the
folder's own listing, never from a request as a path.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from acd.adapters.flows import read_flow_files
from acd.yamlsource import SourceError

#: a kept version's name: the UTC time of the save that replaced it
VERSION = re.compile(r"\d{8}T\d{6}\.\d{6}Z")


class FlowInvalid(Exception):
    """The text would not load: each error at its line and column."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class FlowChanged(Exception):
    """The file changed since the editor read it (another admin, an edit on disk)."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class FlowFiles:
    def __init__(self, directory: Path, versions: Path, kept: Callable[[], int],
                 check: Callable[[Path, str], list[SourceError]]) -> None:
        self.directory = directory
        self.versions = versions
        self.kept = kept
        self.check = check

    def names(self) -> dict[str, Path]:
        """Flow name -> its file, as the flows folder holds them."""
        return {path.stem: path for path in read_flow_files(self.directory)}

    def path_of(self, name: str) -> Path:
        """KeyError for a name that is not a flow in the folder."""
        return self.names()[name]

    def read(self, name: str) -> str:
        return self.path_of(name).read_text(encoding="utf-8")

    def errors(self, name: str, text: str) -> list[SourceError]:
        return self.check(self.path_of(name), text)

    def save(self, name: str, text: str, now: float, expected: str = "") -> str:
        """Validate, keep the current text as a version, write atomically; the version
        name kept. FlowInvalid, FlowChanged (when `expected` is not the current digest)."""
        path = self.path_of(name)
        errors = self.check(path, text)
        if errors:
            raise FlowInvalid(errors)
        current = path.read_text(encoding="utf-8")
        if expected and digest(current) != expected:
            raise FlowChanged(name)
        version = self._keep(name, current, now)
        # a dot-name in the same folder: the reload ignores it, and the rename is atomic
        temporary = path.with_name(f".{path.name}.saving")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        return version

    def version_names(self, name: str) -> list[str]:
        """The kept versions of a flow, newest first."""
        self.path_of(name)
        folder = self.versions / name
        if not folder.is_dir():
            return []
        return sorted((p.stem for p in folder.glob("*.yaml") if VERSION.fullmatch(p.stem)),
                      reverse=True)

    def read_version(self, name: str, version: str) -> str:
        """KeyError unless `version` is one of version_names(name)."""
        if version not in self.version_names(name):
            raise KeyError(version)
        return (self.versions / name / f"{version}.yaml").read_text(encoding="utf-8")

    def restore(self, name: str, version: str, now: float) -> str:
        """Save a kept version as the flow (validated like any save; the text it replaces
        is kept in turn)."""
        return self.save(name, self.read_version(name, version), now)

    def _keep(self, name: str, text: str, now: float) -> str:
        folder = self.versions / name
        folder.mkdir(parents=True, exist_ok=True)
        version = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        (folder / f"{version}.yaml").write_text(text, encoding="utf-8")
        for old in self.version_names(name)[max(1, self.kept()):]:
            (folder / f"{old}.yaml").unlink(missing_ok=True)
        return version
