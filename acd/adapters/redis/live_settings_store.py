"""Redis: the queue and agent settings admins changed in the console (acd.config.
live_settings says how they stand over config.yaml's), kept across restarts and shared
by every acd.

Keys (under the configured prefix, default `acd:`):

| key            | type | content                                                  |
|----------------|------|----------------------------------------------------------|
| live_settings  | hash | `queue|support` -> {"wrap_up_seconds": 10.0, ...},       |
|                |      | `agent|1001` -> {"name": ..., "skills": [...], "queues": {...}} |

Each change is announced on the changes channel ("live_settings"): every acd reads the
edits again and hands them to its routing core.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import bounded
from acd.adapters.redis.store import changes_channel
from acd.config.live_settings import SettingsEdits

log = logging.getLogger(__name__)

CHANGE = "live_settings"


class LiveSettingsStore:
    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis
        self._key = f"{prefix}live_settings"
        self._changes = changes_channel(prefix)

    async def put(self, kind: str, name: str, edit: dict[str, Any]) -> None:
        """Replace the edit of a queue or an agent (`kind`: queue or agent)."""
        tx = await self._redis.multi()
        await tx.hset(self._key, f"{kind}|{name}",
                      json.dumps(edit, ensure_ascii=False, separators=(",", ":")))
        await tx.publish(self._changes, CHANGE)
        await tx.exec()

    async def drop(self, kind: str, name: str) -> None:
        """config.yaml's settings of that queue or agent apply again."""
        tx = await self._redis.multi()
        await tx.hdel(self._key, [f"{kind}|{name}"])
        await tx.publish(self._changes, CHANGE)
        await tx.exec()

    async def load(self) -> SettingsEdits:
        raw = await bounded(self._redis.hgetall_asdict(self._key))
        queues: dict[str, dict[str, Any]] = {}
        agents: dict[str, dict[str, Any]] = {}
        for field, text in raw.items():
            kind, _, name = field.partition("|")
            try:
                edit = json.loads(text)
            except ValueError as exc:  # written by hand: the others still apply
                log.warning("settings %s in Redis skipped (%s): reset them at "
                            "/console/settings.html", field, exc)
                continue
            if isinstance(edit, dict):
                (queues if kind == "queue" else agents)[name] = edit
        return SettingsEdits(queues, agents)
