"""Blacklist and whitelist entries: what they match, what they do, until when.

`make_entry` takes the text an operator typed (CLI, CSV, HTTP) and returns a
validated `CallerEntry` or raises `EntryError` saying what is wrong.

Targets, by action:

| list  | action    | target                          | priority          |
|-------|-----------|---------------------------------|-------------------|
| black | hangup    | none                            | none              |
| black | announce  | a prompt name                   | none              |
| black | route     | `flow:NAME` or `exten:NUMBER`   | none              |
| white | vip       | none                            | required, 1-1000  |
| white | queue     | `queue:NAME` or `group:NAME`    | optional          |
| white | skip_menu | `queue:NAME`, `node:NAME` or `flow:NAME` | optional |

A higher priority is served sooner (as Asterisk's QUEUE_PRIO).
`expires` is epoch seconds or an ISO date/datetime; a date alone means 00:00
that day and a datetime without an offset is read, in Asia/Shanghai time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from acd.rules.numbers import compile_pattern, normalise_number, normalise_prefix

EXPIRY_ZONE = ZoneInfo("Asia/Shanghai")
MAX_PRIORITY = 1000
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_EXTEN = re.compile(r"^[0-9*#+]+(@[A-Za-z0-9_-]+)?$")
E = TypeVar("E", bound=Enum)


class EntryError(ValueError):
    """An entry an operator wrote that cannot be used; the message says why."""


class ListKind(Enum):
    BLACK = "black"
    WHITE = "white"


class MatchKind(Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    PATTERN = "pattern"
    ANONYMOUS = "anonymous"  # withheld caller ids; value is empty


class Action(Enum):
    HANGUP = "hangup"
    ANNOUNCE = "announce"
    ROUTE = "route"
    VIP = "vip"
    QUEUE = "queue"
    SKIP_MENU = "skip_menu"


ACTIONS = {
    ListKind.BLACK: (Action.HANGUP, Action.ANNOUNCE, Action.ROUTE),
    ListKind.WHITE: (Action.VIP, Action.QUEUE, Action.SKIP_MENU),
}
# Allowed target kinds per action; () means no target, ("prompt",) a bare name.
TARGET_KINDS: dict[Action, tuple[str, ...]] = {
    Action.HANGUP: (),
    Action.ANNOUNCE: ("prompt",),
    Action.ROUTE: ("flow", "exten"),
    Action.VIP: (),
    Action.QUEUE: ("queue", "group"),
    Action.SKIP_MENU: ("queue", "node", "flow"),
}


@dataclass(frozen=True)
class CallerEntry:
    list: ListKind
    match: MatchKind
    value: str  # in normal form; "" for anonymous
    action: Action
    target: str | None = None  # e.g. "flow:complaints", or a prompt name
    priority: int | None = None
    expires: float | None = None  # epoch seconds; None = never
    note: str = ""

    @property
    def key(self) -> str:
        """Unique per list: one entry per (list, match, value)."""
        return f"{self.list.value}|{self.match.value}|{self.value}"

    def active(self, now: float) -> bool:
        return self.expires is None or now < self.expires

    @property
    def target_kind(self) -> str | None:
        if self.target is None:
            return None
        if TARGET_KINDS[self.action] == ("prompt",):
            return "prompt"
        return self.target.partition(":")[0]

    @property
    def target_name(self) -> str | None:
        if self.target is None:
            return None
        if TARGET_KINDS[self.action] == ("prompt",):
            return self.target
        return self.target.partition(":")[2]


def _enum(kind: type[E], text: str, what: str) -> E:
    try:
        return kind(text.strip().lower())
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)
        raise EntryError(f"unknown {what} {text!r}; expected one of {choices}") from None


def make_entry(list_: str, match: str, value: str, action: str, target: str = "",
               priority: str | int | None = None, expires: str | float | None = None,
               note: str = "") -> CallerEntry:
    """Validate operator text into an entry; EntryError says what is wrong."""
    kind = _enum(ListKind, _list_alias(list_), "list")
    match_kind = _enum(MatchKind, match or "exact", "match")
    act = _enum(Action, action or "", "action")
    if act not in ACTIONS[kind]:
        allowed = ", ".join(a.value for a in ACTIONS[kind])
        raise EntryError(f"action {act.value!r} is not for the {kind.value}list; "
                         f"use {allowed}")
    return CallerEntry(
        list=kind,
        match=match_kind,
        value=normal_value(match_kind, value),
        action=act,
        target=_check_target(act, (target or "").strip()),
        priority=_check_priority(act, priority),
        expires=parse_expires(expires),
        note=(note or "").strip(),
    )


def _list_alias(text: str) -> str:
    text = (text or "").strip().lower()
    return {"blacklist": "black", "whitelist": "white"}.get(text, text)


def normal_value(match: MatchKind, value: str) -> str:
    """An entry's value in normal form, as stored and compared."""
    value = (value or "").strip()
    if match is MatchKind.ANONYMOUS:
        if value and normalise_number(value) is not None:
            raise EntryError("an anonymous entry takes no number")
        return ""
    if not value:
        raise EntryError(f"a {match.value} entry needs a number")
    try:
        if match is MatchKind.PREFIX:
            return normalise_prefix(value)
        if match is MatchKind.PATTERN:
            compile_pattern(value)
            return value
    except ValueError as exc:
        raise EntryError(str(exc)) from None
    number = normalise_number(value)
    if number is None or not number.isdigit():
        raise EntryError(f"{value!r} is not a phone number; for withheld callers "
                         "use match anonymous")
    return number


def _check_target(action: Action, target: str) -> str | None:
    kinds = TARGET_KINDS[action]
    if not kinds:
        if target:
            raise EntryError(f"action {action.value} takes no target")
        return None
    if not target:
        raise EntryError(f"action {action.value} needs a target: {_describe(kinds)}")
    if kinds == ("prompt",):
        if not _NAME.match(target):
            raise EntryError(f"bad prompt name {target!r}")
        return target
    kind, sep, name = target.partition(":")
    if not sep or kind not in kinds:
        raise EntryError(f"bad target {target!r} for {action.value}: {_describe(kinds)}")
    pattern = _EXTEN if kind == "exten" else _NAME
    if not pattern.match(name):
        raise EntryError(f"bad {kind} name {name!r} in target {target!r}")
    return target


def _describe(kinds: tuple[str, ...]) -> str:
    if kinds == ("prompt",):
        return "a prompt name"
    return " or ".join(f"{k}:NAME" for k in kinds)


def _check_priority(action: Action, priority: str | int | None) -> int | None:
    text = str(priority).strip() if priority is not None else ""
    if not text:
        if action is Action.VIP:
            raise EntryError(f"action vip needs a priority (1-{MAX_PRIORITY}, higher first)")
        return None
    if action not in (Action.VIP, Action.QUEUE, Action.SKIP_MENU):
        raise EntryError(f"action {action.value} takes no priority")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PRIORITY:
        raise EntryError(f"priority must be a whole number 1-{MAX_PRIORITY}, not {text!r}")
    return int(text)


def parse_expires(value: str | float | None) -> float | None:
    """Epoch seconds, an ISO date (00:00 that day) or datetime; '' / None = never."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return _finite(float(value), str(value))
    text = value.strip()
    if not text:
        return None
    try:
        return _finite(float(text), text)
    except ValueError:
        pass
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(), tzinfo=EXPIRY_ZONE).timestamp()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EntryError(f"bad expiry {text!r}: epoch seconds, 2026-12-31 or "
                         "2026-12-31T18:00:00+08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EXPIRY_ZONE)
    return moment.timestamp()


def _finite(epoch: float, text: str) -> float:
    if not math.isfinite(epoch) or epoch < 0:
        raise EntryError(f"bad expiry {text!r}")
    return epoch


def format_expires(expires: float | None) -> str:
    if expires is None:
        return ""
    spec = "seconds" if float(expires).is_integer() else "microseconds"
    return datetime.fromtimestamp(expires, EXPIRY_ZONE).isoformat(timespec=spec)
