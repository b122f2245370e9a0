"""YAML loading that remembers where every mapping key and list item came from.

Config and IVR validation report `file:line:column`; this module is the one
place that knows how to get those positions out of PyYAML. It is also where
untrusted YAML is bounded: size, strict UTF-8, nesting depth and what aliases
may repeat, each refused with its position instead of a hang or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Limits that make any file, even a hostile one, quick to read or refuse.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64  # levels of nesting; ours need fewer than ten
# Values (scalars, lists and mappings) in one file, aliases counted at their size.
# Pure-Python PyYAML needs 20-25 us a value, so this is about a second of work;
# the shipped config and main flow have fewer than 700 each.
MAX_NODES = 50_000
MAX_ALIAS_NODES = 10_000  # values that aliases may repeat, in all, in one file


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


def _position(file: str, node: yaml.Node | yaml.Event) -> Position:
    mark = node.start_mark
    if mark is None:  # only a node built by hand has none: PyYAML marks what it reads
        return Position(file, 1, 1)
    return Position(file, mark.line + 1, mark.column + 1)


class _BoundedComposer(yaml.SafeLoader):
    """A SafeLoader whose node graph cannot grow past the limits, checked as it is built.

    PyYAML shares an aliased node instead of copying it, so the explosion of an
    alias bomb happens later, in whoever walks the result (or in `<<` merges,
    which do copy). Counting what each alias would add as it is read keeps the
    work proportional to the file's size. Nesting is limited because PyYAML's
    composer and constructor recurse once per level.
    """

    file = "<text>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0  # of the node being composed; the document's root is 1
        self._reached = 0  # deepest level reached under it, aliases included
        self._nodes = 0  # nodes composed so far, aliases counted at their expanded size
        self._repeated = 0  # of which brought in by aliases
        self._sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels)
        self._open: set[str] = set()  # anchors whose node is still being composed

    # `index` is what PyYAML passes, not what its stub says (int): None, a list index or
    # a mapping value's key node; it is only passed on.
    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise SourceError(_position(self.file, event), _too_deep())
        outer, self._reached = self._reached, self._depth
        before = self._nodes
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise SourceError(_position(self.file, event), _too_many())
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = (self._nodes - before, self._reached - self._depth + 1)
        self._reached = max(outer, self._reached)
        self._depth -= 1
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        anchor = event.anchor
        if anchor in self._open:
            raise SourceError(_position(self.file, event), f"alias *{anchor} is inside the "
                              f"value &{anchor} it repeats: a value cannot contain itself")
        if anchor not in self._sizes:
            return  # PyYAML reports the undefined alias
        nodes, levels = self._sizes[anchor]
        self._nodes += nodes
        self._repeated += nodes
        self._reached = max(self._reached, self._depth + levels)
        if self._nodes > MAX_NODES:
            raise SourceError(_position(self.file, event), _too_many())
        if self._repeated > MAX_ALIAS_NODES:
            raise SourceError(_position(self.file, event), f"aliases (*{anchor} here) repeat "
                              f"more than {MAX_ALIAS_NODES} values in all: write the repeated "
                              "parts out, or use fewer aliases")
        if self._depth + levels > MAX_DEPTH:
            raise SourceError(_position(self.file, event), _too_deep())


def _too_many() -> str:
    return f"more than {MAX_NODES} values (aliases included): split the file"


def _too_deep() -> str:
    return (f"nested more than {MAX_DEPTH} levels deep (aliases included): "
            "flatten the structure")


def _make_loader(file: str) -> type[yaml.SafeLoader]:
    class Loader(_BoundedComposer):
        pass

    Loader.file = file

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


def load_text(text: str | bytes, file: str) -> Any:
    """Parse YAML (bytes are decoded as UTF-8); every problem is a SourceError with the
    position. The limits above keep any input, even a hostile one, quick to refuse."""
    if isinstance(text, bytes):
        text = decode(text, file)
    elif len(text) > MAX_FILE_BYTES:
        raise SourceError(Position(file, 1, 1), _too_large())
    try:
        return yaml.load(text, Loader=_make_loader(file))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else None
        raise SourceError(pos, f"YAML syntax error: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a control character; it has no mark
        raise SourceError(_offset_position(text, exc.position, file),
                          f"character U+{exc.character:04X} is not allowed in YAML: "
                          "remove it") from None


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes, at most one more than MAX_FILE_BYTES (enough to refuse it).

    Raises OSError; a file is decoded when it is parsed, so that bytes that are
    not UTF-8 are reported like any other mistake in it.
    """
    with Path(path).open("rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def decode(data: bytes, file: str) -> str:
    """UTF-8 text, strictly: a bad byte is reported where an editor shows it."""
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(Position(file, 1, 1), _too_large())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        # Everything before the first bad byte is valid, so it decodes.
        column = len(data[line_start:exc.start].decode("utf-8")) + 1
        raise SourceError(Position(file, line, column), f"byte 0x{data[exc.start]:02x} is "
                          "not UTF-8: save the file as UTF-8") from None


def load_file(path: str | Path) -> Any:
    try:
        data = read_bytes(path)
    except OSError as exc:
        raise SourceError(None, f"{path}: cannot read: {exc.strerror}") from None
    return load_text(data, str(path))


def _too_large() -> str:
    return (f"the file is larger than {MAX_FILE_BYTES // 1024} KiB: "
            "split it or remove what is not needed")


def _offset_position(text: str, offset: int, file: str) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(file, text.count("\n", 0, offset) + 1, offset - line_start + 1)
