"""The routing core's events, commands and domain errors as JSON, for the wire between
acd processes (pure: no I/O).

One generic codec with a registry of types by name: frozen dataclasses whose fields are
str, int, float, bool, None, enums, tuples, frozensets, dicts with str keys (the
statistics of PeriodClosed) and nested registered dataclasses. Containers and enums are
tagged (`{"$tuple": [...]}`) so that a value comes back as the very type it left as:
`decode(encode(x)) == x` for every event and command (tests/unit/cluster).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable
from enum import Enum
from typing import Any

from acd.core import commands as cmd
from acd.core import errors as core_errors
from acd.core import events as ev
from acd.core.model import AgentState, OverflowMode


class CodecError(ValueError):
    """A message that is not something this acd knows (another version of acd?)."""


class Codec:
    def __init__(self, types: Iterable[type], errors: Iterable[type[Exception]] = ()) -> None:
        self._types: dict[str, type] = {t.__name__: t for t in types}
        self._errors: dict[str, type[Exception]] = {e.__name__: e for e in errors}

    # -- values ------------------------------------------------------------------

    def encode(self, value: object) -> str:
        return json.dumps(self.plain(value), separators=(",", ":"), ensure_ascii=False)

    def decode(self, text: str) -> Any:  # Any: what was encoded (the caller knows)
        try:
            return self.typed(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CodecError(f"not a routing message ({exc}): {text[:120]!r}") from exc

    def plain(self, value: object) -> Any:
        """`value` as JSON-able data, tagged where JSON would lose its type."""
        if value is None or isinstance(value, bool | int | float | str) and not isinstance(
                value, Enum):
            return value
        if isinstance(value, Enum):
            return {"$enum": self._name(type(value)), "v": value.value}
        if isinstance(value, tuple):
            return {"$tuple": [self.plain(v) for v in value]}
        if isinstance(value, frozenset):
            return {"$set": sorted((self.plain(v) for v in value), key=json.dumps)}
        if isinstance(value, list):
            return [self.plain(v) for v in value]
        if isinstance(value, dict):
            return {"$dict": {str(k): self.plain(v) for k, v in value.items()}}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {"$t": self._name(type(value)),
                    **{f.name: self.plain(getattr(value, f.name))
                       for f in dataclasses.fields(value)}}
        raise CodecError(f"{type(value).__name__} cannot go on the wire")

    def typed(self, data: Any) -> Any:
        if isinstance(data, list):
            return [self.typed(v) for v in data]
        if not isinstance(data, dict):
            return data
        if "$tuple" in data:
            return tuple(self.typed(v) for v in data["$tuple"])
        if "$set" in data:
            return frozenset(self.typed(v) for v in data["$set"])
        if "$dict" in data:
            return {k: self.typed(v) for k, v in data["$dict"].items()}
        if "$enum" in data:
            return self._type(data["$enum"])(data["v"])
        kind = self._type(data["$t"])
        return kind(**{k: self.typed(v) for k, v in data.items() if k != "$t"})

    # -- domain errors -----------------------------------------------------------

    def encode_error(self, exc: Exception) -> dict[str, Any]:
        attrs = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | float | bool)}
        return {"type": type(exc).__name__, "message": str(exc), "attrs": attrs}

    def decode_error(self, data: dict[str, Any]) -> Exception:
        """The same exception type as on the leader (so the API still answers 409/404);
        an unknown one becomes the core's base RoutingError with the same message."""
        kind = self._errors.get(str(data.get("type")), core_errors.RoutingError)
        exc = kind.__new__(kind)
        Exception.__init__(exc, str(data.get("message", "")))
        vars(exc).update(data.get("attrs") or {})
        return exc

    # -- the registry ------------------------------------------------------------

    def _name(self, kind: type) -> str:
        if self._types.get(kind.__name__) is not kind:
            raise CodecError(f"{kind.__name__} is not registered with the codec")
        return kind.__name__

    def _type(self, name: str) -> Any:
        try:
            return self._types[name]
        except KeyError:
            raise CodecError(f"unknown type {name!r} on the wire") from None


def _error_types() -> list[type[Exception]]:
    found: list[type[Exception]] = [core_errors.RoutingError]
    for kind in found:
        found += [k for k in kind.__subclasses__() if k not in found]
    return found


EVENT_TYPES: tuple[type, ...] = typing.get_args(ev.Event)
COMMAND_TYPES: tuple[type, ...] = typing.get_args(cmd.Command)


def routing_codec() -> Codec:
    """The codec of the routing core's events, commands and errors."""
    return Codec([*EVENT_TYPES, *COMMAND_TYPES, cmd.RingTarget, AgentState, OverflowMode],
                 _error_types())
