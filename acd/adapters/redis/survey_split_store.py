"""Redis: the wallboard's satisfaction split per day, so that a restarted acd shows the
split it showed before (the answers of today, per queue).

Keys (under the configured prefix, default `acd:`):

| key                          | type | content                                  |
|------------------------------|------|------------------------------------------|
| wallboard:survey:2026-12-01  | hash | `support|1` -> how many answered 1 today |

A day's hash expires two days after its last answer: the wallboard shows today only,
and the call records keep every answer for good.
"""

from __future__ import annotations

import logging

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import bounded
from acd.adapters.redis.store import Scripts

log = logging.getLogger(__name__)

#: a day's split is kept this long after its last answer
KEEP_SECONDS = 2 * 86400

# KEYS: the day's hash; ARGV: field, seconds to keep
_COUNT = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return n
"""

Split = dict[str, dict[str, int]]  # queue -> answer -> count


class SurveySplitStore:
    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}wallboard:survey:"
        self._scripts = Scripts(redis)

    async def count(self, period: str, queue: str, answer: str) -> None:
        """One more `answer` for `queue` in the day `period`."""
        await bounded(self._scripts.run("survey_split_count", _COUNT,
                                        [self._prefix + period],
                                        [f"{queue}|{answer}", str(KEEP_SECONDS)]))

    async def load(self, period: str) -> Split:
        raw = await bounded(self._redis.hgetall_asdict(self._prefix + period))
        split: Split = {}
        for field, value in raw.items():
            queue, _, answer = field.rpartition("|")
            if queue and value.isdigit():
                split.setdefault(queue, {})[answer] = int(value)
        return split
