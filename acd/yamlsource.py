"""YAML loading that remembers where every mapping key and list item came from.

Config and IVR validation report `file:line:column`; this module is the one
place that knows how to get those positions out of PyYAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SourceError(Exception):
    """A problem in a source file, reported as `file:line:column: message`."""

    def __init__(self, position: Position | None, message: str) -> None:
        self.position = position
        self.message = message
        super().__init__(f"{position}: {message}" if position else message)


class LocatedDict(dict[str, Any]):
    """A mapping that knows its own position and the position of each key."""

    position: Position
    key_positions: dict[str, Position]

    def pos(self, key: str | None = None) -> Position:
        if key is not None and key in self.key_positions:
            return self.key_positions[key]
        return self.position


class LocatedList(list[Any]):
    position: Position
    item_positions: list[Position]

    def pos(self, index: int | None = None) -> Position:
        if index is not None and 0 <= index < len(self.item_positions):
            return self.item_positions[index]
        return self.position


def _position(file: str, node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(file, mark.line + 1, mark.column + 1)


def _make_loader(file: str) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.position = _position(file, node)
        result.key_positions = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise SourceError(_position(file, key_node), f"duplicate key {key!r}")
            result[key] = _construct(loader, value_node)
            result.key_positions[key] = _position(file, key_node)
        return result

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        result = LocatedList(_construct(loader, child) for child in node.value)
        result.position = _position(file, node)
        result.item_positions = [_position(file, child) for child in node.value]
        return result

    def _construct(loader: yaml.SafeLoader, child: yaml.Node) -> Any:
        try:
            return loader.construct_object(child, deep=True)
        except ValueError as exc:  # e.g. an impossible date such as 2026-02-30
            raise SourceError(_position(file, child),
                              f"invalid value {getattr(child, 'value', '')!r}: {exc}") from None

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_text(text: str, file: str) -> Any:
    """Parse YAML text; syntax errors become SourceError with the position."""
    try:
        return yaml.load(text, Loader=_make_loader(file))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else None
        raise SourceError(pos, f"YAML syntax error: {exc.problem or exc}") from None


def load_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(None, f"{path}: cannot read: {exc.strerror}") from None
    return load_text(text, str(path))
