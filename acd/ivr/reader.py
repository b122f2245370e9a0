"""Typed reading of one YAML mapping's fields, collecting every error with its position.

Errors point at the key of the offending field (or at the list item), so an
admin's editor jumps straight to it; each message says what to write instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from acd.ivr.model import Ref
from acd.ivr.template import Template, TemplateError
from acd.yamlsource import LocatedDict, LocatedList, Position, SourceError


class Problems:
    """Collects errors instead of stopping at the first one."""

    def __init__(self) -> None:
        self.errors: list[SourceError] = []

    def add(self, pos: Position | None, message: str) -> None:
        self.errors.append(SourceError(pos, message))

    def __len__(self) -> int:
        return len(self.errors)


def suggest(word: str, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close option exists, else ''."""
    close = difflib.get_close_matches(word, sorted(set(options)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def position_of(value: object, fallback: Position | None) -> Position | None:
    if isinstance(value, LocatedDict | LocatedList):
        return value.position
    return fallback


class FieldReader:
    """Reads the fields of one node (or flow file); `finish()` reports unknown ones."""

    def __init__(self, data: LocatedDict, what: str, pos: Position, problems: Problems) -> None:
        self.data = data
        self.what = what  # e.g. "menu node 'main_menu'"
        self.node_pos = pos
        self.problems = problems
        self.allowed: list[str] = []
        self.failed = False

    def pos(self, key: str) -> Position:
        return self.data.pos(key) if key in self.data else self.node_pos

    def error(self, pos: Position | None, message: str) -> None:
        self.failed = True
        self.problems.add(pos, message)

    def has(self, key: str) -> bool:
        self.allowed.append(key)
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, required: bool = False, hint: str = "") -> object:
        if not self.has(key):
            if required:
                self.error(self.node_pos, f"{self.what}: missing field '{key}'{hint}")
            return None
        return self.data[key]

    def _wrong(self, key: str, expected: str) -> None:
        self.error(
            self.pos(key),
            f"{self.what}: '{key}' must be {expected}, not {describe(self.data[key])}",
        )

    def string(self, key: str, default: str = "", required: bool = False, hint: str = "") -> str:
        value = self.raw(key, required, hint)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self._wrong(key, "text")
            return default
        return str(value)

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int = 10**6) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "a whole number")
            return default
        if not minimum <= value <= maximum:
            self.error(self.pos(key), f"{self.what}: '{key}' must be between {minimum} and "
                       f"{maximum}, not {value}")
            return default
        return value

    def seconds(self, key: str, default: float, maximum: float = 600) -> float:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(key, "a number of seconds")
            return default
        if not 0 < value <= maximum:
            self.error(self.pos(key), f"{self.what}: '{key}' must be more than 0 and at most "
                       f"{maximum:g} seconds, not {value}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(key, "true or false")
            return default
        return value

    def ref(self, key: str, required: bool = True) -> Ref | None:
        hint = " (the id of the node to go to)"
        value = self.raw(key, required, hint)
        if value is None:
            return Ref("") if required else None
        return self.ref_value(value, self.pos(key), f"'{key}'")

    def ref_value(self, value: object, pos: Position, label: str) -> Ref:
        if not isinstance(value, str) or not value:
            self.error(pos, f"{self.what}: {label} must be a node id, not {describe(value)}")
            return Ref("")
        return Ref(value, pos)

    def template(self, key: str, required: bool = False, hint: str = "") -> Template:
        value = self.raw(key, required, hint)
        if value is None:
            return Template("")
        return self.template_value(value, self.pos(key), f"'{key}'")

    def template_value(self, value: object, pos: Position | None, label: str) -> Template:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(pos, f"{self.what}: {label} must be text, not {describe(value)}")
            return Template("")
        try:
            return Template(str(value), pos)
        except TemplateError as exc:
            self.error(pos, f"{self.what}: {label}: {exc}")
            return Template("")

    def mapping(self, key: str, required: bool = False, hint: str = "") -> LocatedDict | None:
        value = self.raw(key, required, hint)
        if value is None:
            return None
        if not isinstance(value, LocatedDict):
            self._wrong(key, "a mapping (name: value lines, indented below it)")
            return None
        return value

    def template_map(self, key: str, required: bool = False) -> dict[str, Template]:
        value = self.mapping(key, required)
        if value is None:
            return {}
        return {k: self.template_value(v, value.pos(k), f"'{key}.{k}'") for k, v in value.items()}

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None:
            return ()
        if isinstance(value, str | int) and not isinstance(value, bool):
            return (str(value),)
        if not isinstance(value, LocatedList):
            self._wrong(key, "a list")
            return ()
        items: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.error(value.pos(i), f"{self.what}: items of '{key}' must be text, "
                           f"not {describe(item)}")
            else:
                items.append(str(item))
        return tuple(items)

    def finish(self) -> None:
        for key in self.data:
            if key not in self.allowed:
                self.error(
                    self.data.pos(key),
                    f"{self.what}: unknown field '{key}'{suggest(key, self.allowed)}; "
                    f"allowed: {', '.join(sorted(set(self.allowed)))}",
                )
