"""The console's recording search (pure): the query checked, which index entries match
it, and how an entry looks to the role that asked (the caller's number masked or not).

Pages are cut by a cursor, `<until>:<offset>`: the first page pins the top of the time
range, so recordings indexed while a supervisor pages through do not shift the pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from acd.privacy import mask_number

#: what a call record's `survey` holds: the answer 1/2/3, or why there is none
SURVEY_VALUES = ("1", "2", "3", "not-surveyed", "no-answer")
MAX_LIMIT = 200
MAX_TEXT = 64


class QueryError(ValueError):
    """A search parameter acd cannot use; the message says which and what it wants."""


@dataclass(frozen=True)
class RecordingQuery:
    since: float = 0.0
    until: float = math.inf
    agent: str = ""
    queue: str = ""
    #: digits of the number as the asking role sees it (masked roles: the visible digits)
    caller: str = ""
    survey: str = ""
    min_seconds: float = 0.0
    max_seconds: float = math.inf
    limit: int = 50
    #: how many index entries earlier pages went through
    offset: int = 0


def _number(params: Mapping[str, str], name: str, default: float) -> float:
    text = params.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise QueryError(f"{name} must be a number (epoch seconds for from/to)") from None
    if not math.isfinite(value) or value < 0:
        raise QueryError(f"{name} must be a number, 0 or more")
    return value


def _text(params: Mapping[str, str], name: str) -> str:
    text = params.get(name, "").strip()
    if len(text) > MAX_TEXT or not all(c.isprintable() for c in text):
        raise QueryError(f"{name} is at most {MAX_TEXT} printable characters")
    return text


def parse_query(params: Mapping[str, str], now: float) -> RecordingQuery:
    """The query of `GET /api/recordings`, or QueryError."""
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        raise QueryError("limit must be a whole number") from None
    survey = params.get("survey", "")
    if survey and survey not in SURVEY_VALUES:
        raise QueryError(f"survey must be one of {', '.join(SURVEY_VALUES)}")
    query = RecordingQuery(
        since=_number(params, "from", 0.0), until=_number(params, "to", math.inf),
        agent=_text(params, "agent"), queue=_text(params, "queue"),
        caller=_text(params, "caller"), survey=survey,
        min_seconds=_number(params, "min_seconds", 0.0),
        max_seconds=_number(params, "max_seconds", math.inf),
        limit=max(1, min(limit, MAX_LIMIT)))
    if query.since > query.until:
        raise QueryError("from is after to")
    if query.min_seconds > query.max_seconds:
        raise QueryError("min_seconds is more than max_seconds")
    cursor = params.get("cursor", "")
    if not cursor:
        return replace(query, until=min(query.until, now))
    until, _, offset = cursor.partition(":")
    try:
        pinned, skipped = float(until), int(offset)
    except ValueError:
        raise QueryError("cursor is the next_cursor of the previous page, as given") from None
    if not math.isfinite(pinned) or skipped < 0:
        raise QueryError("cursor is the next_cursor of the previous page, as given")
    return replace(query, until=pinned, offset=skipped)


def next_cursor(query: RecordingQuery, offset: int) -> str:
    return f"{query.until!r}:{offset}"


def shown_caller(caller: str, sees_numbers: bool) -> str:
    return caller if sees_numbers else mask_number(caller)


def matches(query: RecordingQuery, entry: Mapping[str, str], sees_numbers: bool) -> bool:
    """Whether an index entry (rec:{call_id}) matches all but the survey answer, which
    is on the call record."""
    if query.agent and entry.get("agent", "") != query.agent:
        return False
    if query.queue and entry.get("queue", "") != query.queue:
        return False
    # a masked role matches only the digits it can see: '000' finds 13******000, '138' not
    if query.caller and query.caller not in shown_caller(entry.get("caller", ""),
                                                         sees_numbers):
        return False
    try:
        seconds = float(entry.get("duration", "0"))
    except ValueError:
        seconds = 0.0
    return query.min_seconds <= seconds <= query.max_seconds


def row(call_id: str, entry: Mapping[str, str], *, survey: str, talk_seconds: float | None,
        sees_numbers: bool) -> dict[str, object]:
    """One search result as the API answers it (never the file's path)."""

    def number(key: str, default: float = 0.0) -> float:
        try:
            return float(entry.get(key, default))
        except ValueError:
            return default

    return {"call_id": call_id, "start": number("start"), "duration": number("duration"),
            "size": int(number("size")), "agent": entry.get("agent", ""),
            "queue": entry.get("queue", ""),
            "caller": shown_caller(entry.get("caller", ""), sees_numbers),
            "survey": survey, "talk_seconds": talk_seconds}
