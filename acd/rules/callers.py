"""Which blacklist or whitelist entry, if any, applies to a caller.

Precedence, first that applies:

1. expired entries are ignored;
2. a withheld caller id matches only `anonymous` entries;
3. exact beats prefix beats pattern; among prefixes the longest wins; among
   patterns the one fixing more literal digits wins, then the lower value;
4. on a tie (the same number on both lists, at the same level) the whitelist
   wins: putting a number on the whitelist is a deliberate act about that
   number, and a blocked customer is the costlier mistake for a service line.

So a blacklisted exact number beats a whitelisted prefix, and a whitelisted
exact number escapes a blacklisted prefix. Exact and prefix lookups walk the
number once (a dict and a digit trie); patterns are tried after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from acd.rules.caller_entries import Action, CallerEntry, ListKind, MatchKind
from acd.rules.numbers import compile_pattern, normalise_number, pattern_specificity


@dataclass(frozen=True)
class RuleDecision:
    """What to do with a caller, and the entry that said so."""

    list: ListKind
    action: Action
    target: str | None  # "flow:NAME", "exten:8001", "queue:NAME", a prompt name ...
    target_kind: str | None  # "flow", "exten", "queue", "group", "node", "prompt"
    target_name: str | None
    priority: int | None
    reason: str  # "blacklist prefix 170", "whitelist exact 13800138000"
    entry: CallerEntry

    @classmethod
    def of(cls, entry: CallerEntry) -> RuleDecision:
        what = f" {entry.value}" if entry.value else ""
        return cls(entry.list, entry.action, entry.target, entry.target_kind,
                   entry.target_name, entry.priority,
                   f"{entry.list.value}list {entry.match.value}{what}", entry)


def _pick(candidates: Iterable[CallerEntry], now: float) -> CallerEntry | None:
    """The active entry among one level's candidates, the whitelist first."""
    best: CallerEntry | None = None
    for entry in candidates:
        if entry.active(now) and (best is None or entry.list is ListKind.WHITE):
            best = entry
    return best


class _TrieNode:
    __slots__ = ("children", "entries")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.entries: list[CallerEntry] = []


class CallerRules:
    """An immutable snapshot of both lists, ready to evaluate callers."""

    def __init__(self, entries: Iterable[CallerEntry] = ()) -> None:
        by_key: dict[str, CallerEntry] = {}
        for entry in entries:
            by_key[entry.key] = entry  # a later entry replaces an earlier one
        self.entries: tuple[CallerEntry, ...] = tuple(
            sorted(by_key.values(), key=lambda e: (e.list.value, e.match.value, e.value)))
        self._exact: dict[str, list[CallerEntry]] = {}
        self._root = _TrieNode()
        self._patterns: list[tuple[re.Pattern[str], CallerEntry]] = []
        self._anonymous: list[CallerEntry] = []
        for entry in self.entries:
            self._index(entry)
        # Most literal digits first, whitelist before blacklist on a tie.
        self._patterns.sort(key=lambda p: (-pattern_specificity(p[1].value),
                                           p[1].list is not ListKind.WHITE, p[1].value))

    def _index(self, entry: CallerEntry) -> None:
        if entry.match is MatchKind.EXACT:
            self._exact.setdefault(entry.value, []).append(entry)
        elif entry.match is MatchKind.PREFIX:
            node = self._root
            for digit in entry.value:
                node = node.children.setdefault(digit, _TrieNode())
            node.entries.append(entry)
        elif entry.match is MatchKind.PATTERN:
            self._patterns.append((compile_pattern(entry.value), entry))
        else:
            self._anonymous.append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def evaluate(self, caller: str, now: float) -> RuleDecision | None:
        """The decision for a raw caller id at `now`, or None when no entry applies."""
        number = normalise_number(caller)
        if number is None:
            entry = _pick(self._anonymous, now)
            return RuleDecision.of(entry) if entry else None
        entry = (_pick(self._exact.get(number, ()), now)
                 or self._longest_prefix(number, now)
                 or self._first_pattern(number, now))
        return RuleDecision.of(entry) if entry else None

    def _longest_prefix(self, number: str, now: float) -> CallerEntry | None:
        found: CallerEntry | None = None
        node = self._root
        for digit in number:
            child = node.children.get(digit)
            if child is None:
                break
            node = child
            found = _pick(node.entries, now) or found
        return found

    def _first_pattern(self, number: str, now: float) -> CallerEntry | None:
        for pattern, entry in self._patterns:
            if entry.active(now) and pattern.fullmatch(number):
                return entry
        return None
