"""Redis: the connection, call records, active calls and the global announcement.

Keys written here (all under the configured prefix, default `acd:`):

| key                       | type | content                                   | expiry |
|---------------------------|------|-------------------------------------------|--------|
| call:{call_id}            | hash | CallRecord fields (acd.calls)             | none   |
| calls:by_start            | zset | call_id scored by arrival time (epoch s)  | none   |
| calls:active              | set  | call ids not yet closed (restart recovery)| none   |
| announcement              | str  | JSON list of prompt refs, absent when off | none   |

Routing state lives in acd.adapters.routing_store, caller lists in
acd.adapters.list_store; each module documents its own keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncio_redis

from acd.calls import CallRecord
from acd.config import RedisConfig

log = logging.getLogger(__name__)


async def connect_redis(config: RedisConfig, *, poolsize: int = 4,
                        retry_forever: bool = True) -> asyncio_redis.Pool:
    """Open a pool; while Redis is unreachable, say so and retry with backoff."""
    delay = 0.5
    while True:
        try:
            pool = await asyncio_redis.Pool.create(
                host=config.host, port=config.port, db=config.db, poolsize=poolsize,
                auto_reconnect=True)
            await pool.ping()
            log.info("Redis connected at %s:%s db %s", config.host, config.port, config.db)
            return pool
        except (OSError, asyncio_redis.Error) as exc:
            if not retry_forever:
                raise
            log.error("Redis at %s:%s is unreachable (%s); retrying in %.1f s. "
                      "Start it with scripts/redis.sh start or fix redis: in the config",
                      config.host, config.port, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def score_bound(value: float) -> object:
    """asyncio_redis's ZScoreBoundary, which wants a float or the strings '+inf'/'-inf'."""
    from asyncio_redis import ZScoreBoundary

    if value == float("inf"):
        return ZScoreBoundary("+inf")
    if value == float("-inf"):
        return ZScoreBoundary("-inf")
    return ZScoreBoundary(float(value))


def records_to_csv(records: list[CallRecord]) -> str:
    import csv
    import io
    from dataclasses import fields

    out = io.StringIO()
    names = [f.name for f in fields(CallRecord)]
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    for record in records:
        writer.writerow(record.to_hash())
    return out.getvalue()


class CallStore:
    def __init__(self, redis: Any, prefix: str = "acd:") -> None:
        self._redis = redis
        self._p = prefix

    def _key(self, call_id: str) -> str:
        return f"{self._p}call:{call_id}"

    async def open_call(self, record: CallRecord) -> None:
        tx = await self._redis.multi()
        await tx.hmset(self._key(record.call_id), record.to_hash())
        await tx.zadd(f"{self._p}calls:by_start", {record.call_id: record.arrived_at})
        await tx.sadd(f"{self._p}calls:active", [record.call_id])
        await tx.exec()

    async def update_call(self, record: CallRecord) -> None:
        await self._redis.hmset(self._key(record.call_id), record.to_hash())

    async def set_field(self, call_id: str, name: str, value: str) -> None:
        await self._redis.hset(self._key(call_id), name, value)

    async def close_call(self, record: CallRecord) -> None:
        tx = await self._redis.multi()
        await tx.hmset(self._key(record.call_id), record.to_hash())
        await tx.srem(f"{self._p}calls:active", [record.call_id])
        await tx.exec()

    async def get_call(self, call_id: str) -> CallRecord | None:
        data = await self._redis.hgetall_asdict(self._key(call_id))
        return CallRecord.from_hash(data) if data else None

    async def active_call_ids(self) -> set[str]:
        return set(await self._redis.smembers_asset(f"{self._p}calls:active"))

    async def recent_calls(self, limit: int = 100) -> list[CallRecord]:
        ids = list((await self._redis.zrevrange_asdict(f"{self._p}calls:by_start", 0,
                                                            limit - 1)).keys())
        records = []
        for call_id in ids:
            record = await self.get_call(call_id)
            if record is not None:
                records.append(record)
        return records

    async def calls_between(self, since: float, until: float) -> list[CallRecord]:
        ids = await self._redis.zrangebyscore_asdict(
            f"{self._p}calls:by_start", score_bound(since), score_bound(until))
        records = [await self.get_call(call_id) for call_id in ids]
        return [r for r in records if r is not None]

    async def export_csv(self, since: float = 0, until: float = float("inf")) -> str:
        """Call records arrived in [since, until], oldest first, as CSV (UTF-8, header)."""
        return records_to_csv(await self.calls_between(since, until))

    # -- the global announcement (IVR) ---------------------------------------

    async def set_announcement(self, prompts: list[Any] | None) -> None:
        key = f"{self._p}announcement"
        if prompts:
            await self._redis.set(key, json.dumps(prompts, ensure_ascii=False))
        else:
            await self._redis.delete([key])

    async def announcement(self) -> list[Any] | None:
        raw = await self._redis.get(f"{self._p}announcement")
        return json.loads(raw) if raw else None
