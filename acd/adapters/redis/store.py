"""Redis: call records, active calls and the global announcement.

Keys written here (all under the configured prefix, default `acd:`):

| key                       | type | content                                   | expiry |
|---------------------------|------|-------------------------------------------|--------|
| call:{call_id}            | hash | CallRecord fields (acd.callflow.record)   | (1)    |
| calls:by_start            | zset | call_id scored by arrival time (epoch s)  | (2)    |
| calls:active              | set  | call ids not yet closed (restart recovery)| none   |
| announcement              | str  | JSON list of prompt refs, absent when off | none   |

(1) history.redis_records_days after the record closes (none while the call goes on);
(2) trimmed daily to the same days (acd.history.retention).

A record's close (and a change to a closed record) appends the whole record to the
history stream in the same script (acd.adapters.redis.history_stream).

Routing state lives in acd.adapters.redis.routing_store, caller lists in
acd.adapters.redis.list_store; each module documents its own keys.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncio_redis

from acd.adapters.redis.client import LuaScript, Redis

# the connection's names, where acd has always imported them from
from acd.adapters.redis.connection import RedisRefused as RedisRefused
from acd.adapters.redis.connection import connect_redis as connect_redis
from acd.adapters.redis.connection import where_is as where_is
from acd.adapters.redis.history_stream import APPEND_RECORD_LUA
from acd.adapters.redis.link import bounded
from acd.callflow.record import CallRecord

log = logging.getLogger(__name__)


def changes_channel(prefix: str) -> str:
    """The pub/sub channel on which writers say what changed ("lists", "announcement"),
    so that every acd sharing the Redis reads it again (acd.adapters.redis.changes)."""
    return f"{prefix}changes"


def score_bound(value: float, *, exclude: bool = False) -> object:
    """asyncio_redis's ZScoreBoundary, which wants a float or the strings '+inf'/'-inf'.

    It writes a float with six decimals: fine for a range's ends, not for a cursor.
    """
    from asyncio_redis import ZScoreBoundary

    if value == float("inf"):
        return ZScoreBoundary("+inf")
    if value == float("-inf"):
        return ZScoreBoundary("-inf")
    return ZScoreBoundary(float(value), exclude_boundary=exclude)


class Scripts:
    """Lua scripts by name, loaded on first use and again after Redis forgot them.

    One EVALSHA is one round trip on any pooled connection, where MULTI holds a
    connection for every command of the transaction: under load the pool ran dry.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._loaded: dict[str, LuaScript] = {}

    # Any: what the script returns (each caller knows its script's reply)
    async def run(self, name: str, code: str, keys: list[str], args: list[str]) -> Any:
        for attempt in (1, 2):
            script = self._loaded.get(name)
            if script is None:
                script = self._loaded[name] = await self._redis.register_script(code)
            try:
                reply = await script.run(keys=keys, args=args)
                return await reply.return_value()
            except asyncio_redis.ScriptKilledError:
                # asyncio_redis reports NOSCRIPT (Redis restarted, SCRIPT FLUSH) this way
                self._loaded.pop(name, None)
                if attempt == 2:
                    raise
        return None


# KEYS: call hash, calls:by_start, calls:active; ARGV: call id, arrival, field, value...
_OPEN_CALL = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
"""
# KEYS: call hash, calls:by_start, history stream ('' none);
# ARGV: call id, arrival, keep seconds, field, value...
_RECORD_CALL = APPEND_RECORD_LUA + """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
append_record(KEYS[1], KEYS[3], ARGV[3])
"""
# KEYS: call hash, calls:active, history stream ('' none); ARGV: call id, keep seconds,
# field, value...
_CLOSE_CALL = APPEND_RECORD_LUA + """
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
redis.call('SREM', KEYS[2], ARGV[1])
append_record(KEYS[1], KEYS[3], ARGV[2])
"""
# KEYS: call hash, calls:active, history stream ('' none); ARGV: call id, keep seconds,
# field, value... A change to a record no longer active (closed: a late fact such as
# the agent's wrap-up) is an amendment: the history hears it too.
_SAVE_CALL = APPEND_RECORD_LUA + """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 and existed == 1 then
  append_record(KEYS[1], KEYS[3], '0')
end
"""
# KEYS: calls:by_start; ARGV: oldest arrival kept
_FORGET_BEFORE = """
return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
"""


# KEYS: calls:by_start; ARGV: first rank, last rank, call hash key prefix.
# The records of a rank range as one JSON text. asyncio_redis parses a reply in
# Python, one coroutine per item, 46 items per HGETALL: read one at a time or
# pipelined, a record cost ~250 us on the bench machine, this ~25 (docs/
# benchmarks.md). The hashes' names come from the zset, so they cannot be
# declared in KEYS (fine on one Redis; acd does not use Cluster). An empty table
# would encode as '{}', hence the '[]'.
_CALLS_BY_RANK = """
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
if #ids == 0 then return '[]' end
local out = {}
for i, id in ipairs(ids) do
  local flat = redis.call('HGETALL', ARGV[3] .. id)
  local record = {}
  for j = 1, #flat, 2 do record[flat[j]] = flat[j + 1] end
  out[i] = record
end
return cjson.encode(out)
"""

#: a call record as stored in its hash: CallRecord.to_hash()
CallHash = dict[str, str]
#: records per script run: Redis spends ~10 us on each and serves no one else
#: meanwhile, so a batch holds it ~1 ms; the export's memory is a few batches
BATCH = 100


def flat_fields(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def _records(hashes: list[CallHash]) -> list[CallRecord]:
    """The readable records; one damaged hash is logged, not the end of a list."""
    records = []
    for data in hashes:
        try:
            records.append(CallRecord.from_hash(data))
        except (TypeError, ValueError) as exc:
            log.error("skipping unreadable call record %s: %s", data.get("call_id", "?"), exc)
    return records


class CallStore:
    def __init__(self, redis: Redis, prefix: str = "acd:", *, history_stream: str = "",
                 keep_closed_seconds: int = 0) -> None:
        """history_stream: where closed records go for the history ('' : nowhere);
        keep_closed_seconds: how long a closed record stays in Redis (0: for ever)."""
        self._redis = redis
        self._p = prefix
        self._scripts = Scripts(redis)
        self._stream = history_stream
        self._keep = str(int(keep_closed_seconds))

    def _key(self, call_id: str) -> str:
        return f"{self._p}call:{call_id}"

    # -- the call session's writes (acd.callflow): whole, changes, the last changes ----

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self._scripts.run(
            "open_call", _OPEN_CALL,
            [self._key(call_id), f"{self._p}calls:by_start", f"{self._p}calls:active"],
            [call_id, repr(fields["arrived_at"]), *flat_fields(CallRecord.encode(fields))])

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        if changes:
            await self._scripts.run(
                "save_call", _SAVE_CALL,
                [self._key(call_id), f"{self._p}calls:active", self._stream],
                [call_id, self._keep, *flat_fields(CallRecord.encode(changes))])

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        await self._scripts.run(
            "close_call", _CLOSE_CALL,
            [self._key(call_id), f"{self._p}calls:active", self._stream],
            [call_id, self._keep, *flat_fields(CallRecord.encode(changes))])

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self._scripts.run(
            "record_call", _RECORD_CALL,
            [self._key(call_id), f"{self._p}calls:by_start", self._stream],
            [call_id, repr(fields["arrived_at"]), self._keep,
             *flat_fields(CallRecord.encode(fields))])

    async def forget_before(self, arrived_before: float) -> int:
        """The recent-calls index keeps only calls arrived since `arrived_before` (their
        hashes expire by themselves); the number of entries dropped."""
        return int(await self._scripts.run("forget_before", _FORGET_BEFORE,
                                           [f"{self._p}calls:by_start"],
                                           [repr(float(arrived_before))]))

    async def get_call(self, call_id: str) -> CallRecord | None:
        data = await self._redis.hgetall_asdict(self._key(call_id))
        return CallRecord.from_hash(data) if data else None

    async def active_call_ids(self) -> set[str]:
        return set(await self._redis.smembers_asset(f"{self._p}calls:active"))

    async def recent_calls(self, limit: int = 100) -> list[CallRecord]:
        """The `limit` latest calls, newest first."""
        if limit < 1:  # ZRANGE 0 -1 is the whole set
            return []
        total = int(await self._redis.zcard(f"{self._p}calls:by_start"))
        records: list[CallRecord] = []
        async for batch in self._by_rank(max(0, total - limit), total):
            records.extend(_records(batch))
        return records[::-1]

    async def call_hashes(self, since: float = 0, until: float = float("inf"),
                          ) -> AsyncIterator[list[CallHash]]:
        """Calls arrived in [since, until] as stored, oldest first, BATCH at a time.

        The stored form (CallRecord.to_hash) is what an export writes: parsing
        each into a CallRecord and back cost more than reading it. The range is
        fixed by rank when iteration starts: calls that arrive while it runs rank
        after it, so no row is skipped or repeated because of them.
        """
        by_start = f"{self._p}calls:by_start"
        first = int(await self._redis.zcount(by_start, score_bound(float("-inf")),
                                             score_bound(since, exclude=True)))
        end = int(await self._redis.zcount(by_start, score_bound(float("-inf")),
                                           score_bound(until)))
        async for batch in self._by_rank(first, end):
            yield batch

    async def _by_rank(self, first: int, end: int) -> AsyncIterator[list[CallHash]]:
        """The hashes of the calls ranked first..end-1 in calls:by_start, one script
        run per batch; a call whose hash is gone is left out.

        Ranks, not ZRANGEBYSCORE with LIMIT: an offset is walked one member at a
        time (quadratic over an export), and a score as a cursor would be rounded
        to six decimals (score_bound).
        """
        for start in range(first, end, BATCH):
            text = await self._scripts.run(
                "calls_by_rank", _CALLS_BY_RANK, [f"{self._p}calls:by_start"],
                [str(start), str(min(start + BATCH, end) - 1), f"{self._p}call:"])
            yield [data for data in json.loads(text) if data]

    # -- the global announcement (IVR) ---------------------------------------

    async def set_announcement(self, prompts: list[dict[str, str]] | None,
                               expires_at: float | None = None, now: float = 0.0) -> None:
        """With `expires_at`, Redis itself drops the announcement then (a key TTL), in
        every acd process at once, even one that was down meanwhile."""
        key = f"{self._p}announcement"
        tx = await self._redis.multi()
        if prompts:
            ttl = max(1, int((expires_at - now) * 1000)) if expires_at is not None else None
            await tx.set(key, json.dumps(prompts, ensure_ascii=False), pexpire=ttl)
            if expires_at is not None:
                await tx.set(f"{key}:expires", repr(expires_at), pexpire=ttl)
            else:
                await tx.delete([f"{key}:expires"])
        else:
            await tx.delete([key, f"{key}:expires"])
        await tx.publish(changes_channel(self._p), "announcement")
        await tx.exec()

    async def announcement_expires(self) -> float | None:
        """When the announcement set with an expiry ends (epoch seconds); None: never."""
        raw = await bounded(self._redis.get(f"{self._p}announcement:expires"))
        return float(raw) if raw else None

    async def announcement(self) -> list[object] | None:
        """RedisUnavailable (a ConnectionError) when Redis is away: callers hear the one
        last read (acd.media.announcement)."""
        raw = await bounded(self._redis.get(f"{self._p}announcement"))
        return json.loads(raw) if raw else None
