"""The audit log in Redis: who did what to which agent or call, when, from where.

One sorted set (`{prefix}audit`), scored by time; each entry is its JSON. Writing an
entry also drops those older than the retention and the oldest past `max_entries`, in
the same script (one round trip, never a separate clean-up job).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from acd.adapters.redis.client import Redis

_APPEND = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
return 1
"""

_RECENT = """
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', 0, ARGV[2])
"""


class AuditStore:
    def __init__(self, redis: Redis, prefix: str, *, retention_days: float = 90,
                 max_entries: int = 100_000) -> None:
        self.redis = redis
        self.key = f"{prefix}audit"
        self.retention_seconds = retention_days * 86400
        self.max_entries = max_entries
        self._append: Any = None  # the registered scripts (asyncio_redis Script)
        self._recent: Any = None

    async def write(self, entry: dict[str, Any]) -> None:
        """`entry` has `at` (epoch seconds); a random `id` keeps equal entries apart."""
        if self._append is None:
            self._append = await self.redis.register_script(_APPEND)
        at = float(entry["at"])
        member = json.dumps({**entry, "id": secrets.token_hex(4)}, ensure_ascii=False,
                            sort_keys=True)
        await self._append.run(keys=[self.key], args=[
            repr(at), member, repr(at - self.retention_seconds), str(self.max_entries)])

    async def recent(self, limit: int = 100, since: float = 0.0) -> list[dict[str, Any]]:
        """The newest entries first."""
        if self._recent is None:
            self._recent = await self.redis.register_script(_RECENT)
        reply = await self._recent.run(keys=[self.key], args=[repr(since), str(limit)])
        return [json.loads(item) for item in await reply.return_value()]
