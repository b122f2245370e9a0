"""Redis: the blacklist and whitelist, changed at run time, kept across restarts.

Keys (under the configured prefix, default `acd:`):

| key            | type | content                                               |
|----------------|------|-------------------------------------------------------|
| lists:entries  | hash | `black|exact|13800138000` -> the entry as JSON        |
| lists:version  | str  | counter, incremented by every change                  |

A running service keeps a `CachedRules`: each call costs one GET of the
version, and the rules are reloaded only when it moved, so a change made with
`acd lists ...` applies from the next call without a restart. While Redis is away,
calls are checked against the lists as last read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import RedisUnavailable, bounded
from acd.adapters.redis.store import Scripts, changes_channel
from acd.privacy import logged_text
from acd.rules.caller_csv import format_csv, parse_csv
from acd.rules.caller_entries import (
    Action,
    CallerEntry,
    EntryError,
    ListKind,
    MatchKind,
    normal_value,
)
from acd.rules.callers import CallerRules, RuleDecision
from acd.rules.numbers import compile_pattern

log = logging.getLogger(__name__)

# Atomically remove every field starting with ARGV[1] ('' = all); bump the
# version when something went.
_CLEAR_SCRIPT = """
local removed = 0
local prefix = ARGV[1]
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if prefix == '' or string.sub(field, 1, string.len(prefix)) == prefix then
    redis.call('HDEL', KEYS[1], field)
    removed = removed + 1
  end
end
if removed > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PUBLISH', ARGV[2], 'lists')
end
return removed
"""


def _to_json(entry: CallerEntry) -> str:
    return json.dumps({
        "list": entry.list.value, "match": entry.match.value, "value": entry.value,
        "action": entry.action.value, "target": entry.target, "priority": entry.priority,
        "expires": entry.expires, "note": entry.note,
    }, ensure_ascii=False, separators=(",", ":"))


def _from_json(text: str) -> CallerEntry:
    data = json.loads(text)
    if data["match"] == MatchKind.PATTERN.value:
        compile_pattern(data["value"])  # ValueError: skipped, not a crash at load
    return CallerEntry(
        list=ListKind(data["list"]), match=MatchKind(data["match"]), value=data["value"],
        action=Action(data["action"]), target=data.get("target"),
        priority=data.get("priority"), expires=data.get("expires"),
        note=data.get("note") or "",
    )


class ListStore:
    """Both caller lists in one Redis hash, with a version counter."""

    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis  # an asyncio_redis Pool or Connection
        self._entries = f"{prefix}lists:entries"
        self._version = f"{prefix}lists:version"
        self._changes = changes_channel(prefix)
        self._scripts = Scripts(redis)

    async def version(self) -> int:
        value = await self._redis.get(self._version)
        return int(value) if value else 0

    async def add(self, entry: CallerEntry) -> bool:
        """Store an entry (replacing the one with the same list, match and value).

        Returns True when it is new.
        """
        tx = await self._redis.multi()
        added = await tx.hset(self._entries, entry.key, _to_json(entry))
        await tx.incr(self._version)
        await tx.publish(self._changes, "lists")
        await tx.exec()
        return bool(await added)

    async def remove(self, list_: ListKind, match: MatchKind, value: str) -> bool:
        """Remove one entry; `value` is normalised as when it was added."""
        try:
            normal = normal_value(match, value)
        except EntryError:
            return False
        key = f"{list_.value}|{match.value}|{normal}"
        tx = await self._redis.multi()
        removed = await tx.hdel(self._entries, [key])
        await tx.incr(self._version)
        await tx.publish(self._changes, "lists")
        await tx.exec()
        return bool(await removed)

    async def entries(self, list_: ListKind | None = None) -> list[CallerEntry]:
        _, rules = await self.load()
        return [e for e in rules.entries if list_ is None or e.list is list_]

    async def clear(self, list_: ListKind | None = None) -> int:
        """Remove every entry (of one list); returns how many went."""
        prefix = f"{list_.value}|" if list_ is not None else ""
        # through Scripts: loaded again when Redis forgot it (a restart, SCRIPT FLUSH)
        return int(await self._scripts.run("clear_lists", _CLEAR_SCRIPT,
                                           [self._entries, self._version],
                                           [prefix, self._changes]))

    async def import_csv(self, text: str, *, replace: bool = False,
                         check: Callable[[CallerEntry], str] | None = None) -> int:
        """Add every row, or none: a bad row (or one `check` finds a problem with)
        raises CsvError before any write.

        With `replace`, both lists are emptied first, in the same transaction.
        """
        entries = parse_csv(text, check)
        tx = await self._redis.multi()
        if replace:
            await tx.delete([self._entries])
        if entries:
            await tx.hmset(self._entries, {e.key: _to_json(e) for e in entries})
        await tx.incr(self._version)
        await tx.publish(self._changes, "lists")
        await tx.exec()
        return len(entries)

    async def export_csv(self, list_: ListKind | None = None) -> str:
        return format_csv(await self.entries(list_))

    async def load(self) -> tuple[int, CallerRules]:
        """The version and the rules, read in one transaction."""
        tx = await self._redis.multi()
        version = await tx.get(self._version)
        raw = await tx.hgetall_asdict(self._entries)
        await tx.exec()
        version_text, stored = await version, await raw
        entries = []
        for key, text in stored.items():
            try:
                entries.append(_from_json(text))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("skipping unreadable caller list entry %s: %s", logged_text(key),
                          logged_text(str(exc)))
        return int(version_text) if version_text else 0, CallerRules(entries)

    async def load_rules(self) -> CallerRules:
        return (await self.load())[1]


class CachedRules:
    """The rules a running service evaluates, reloaded when the version moves.

    The version is read again when a change is announced (`invalidate`, from the
    change feed) and at least every RECHECK_SECONDS, not on every call: a Redis
    round trip per call was a tenth of acd's work per call under load.
    """

    RECHECK_SECONDS = 5.0

    def __init__(self, store: ListStore) -> None:
        self._store = store
        self._version: int | None = None
        self._rules = CallerRules()
        self._checked_at = float("-inf")

    def invalidate(self) -> None:
        self._checked_at = float("-inf")

    async def decide(self, caller: str, now: float) -> RuleDecision | None:
        """Which list entry applies to this caller now (acd.callflow's CallerLists)."""
        return (await self.rules()).evaluate(caller, now)

    async def rules(self) -> CallerRules:
        now = time.monotonic()
        if now - self._checked_at < self.RECHECK_SECONDS:
            return self._rules
        self._checked_at = now
        try:
            version = await bounded(self._store.version())
            if version != self._version:
                self._version, self._rules = await bounded(self._store.load())
                log.info("caller lists loaded: version %d, %d entries",
                         self._version, len(self._rules))
        except RedisUnavailable:  # (its link says so, once) the lists as last read
            pass
        return self._rules
