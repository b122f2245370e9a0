"""The `lookup` node's data: what the flow asks a web service, and what came back.

The asking itself is an adapter's (acd.adapters.http.lookup.HttpLookupClient): it
never raises, so every failure reaches the flow as `LookupStatus.ERROR` and the
flow takes its error branch instead of dropping the call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

DEFAULT_MAX_BYTES = 64 * 1024
LARGEST_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LookupRequest:
    """`url` is already percent-encoded (Template.render_url) and is sent as it is."""

    url: str
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 3.0
    follow_redirects: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    # What log lines show instead of `url`: sensitive values left as `${name}`.
    shown_url: str = ""

    @property
    def for_log(self) -> str:
        return self.shown_url or self.url


class LookupStatus(Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ERROR = "error"


@dataclass(frozen=True)
class LookupResult:
    status: LookupStatus
    #: the answer's JSON object, as parsed
    fields: Mapping[str, object] = field(default_factory=dict)
    detail: str = ""


def field_at(data: Mapping[str, object], path: str) -> str | None:
    """The value at a dotted path (`order.status`) as text; None when absent or null."""
    value: object = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
