"""Console-managed users in Redis: one hash, `{prefix}users`, name -> JSON
({role, password_hash, agent, device} or {removed: true}); `{prefix}users:version`
counts changes, so every acd process sees a change within its poll interval."""

from __future__ import annotations

import json

from acd.adapters.http.auth import Role, User
from acd.adapters.redis.client import Redis


class UserStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.key = f"{prefix}users"
        self.version_key = f"{prefix}users:version"

    async def all(self) -> dict[str, User | None]:
        """Every console-managed user; None for one removed in the console."""
        users: dict[str, User | None] = {}
        for name, raw in (await self.redis.hgetall_asdict(self.key)).items():
            data = json.loads(raw)
            users[name] = None if data.get("removed") else User(
                name, Role[str(data["role"]).upper()], password_hash=data["password_hash"],
                agent_id=data.get("agent", ""), device=data.get("device", ""))
        return users

    async def put(self, user: User) -> None:
        await self._write(user.name, {"role": user.role.name.lower(),
                                      "password_hash": user.password_hash,
                                      "agent": user.agent_id, "device": user.device})

    async def remove(self, name: str) -> None:
        await self._write(name, {"removed": True})

    async def version(self) -> str:
        return await self.redis.get(self.version_key) or "0"

    async def _write(self, name: str, data: dict[str, object]) -> None:
        tx = await self.redis.multi()
        await tx.hset(self.key, name, json.dumps(data))
        await tx.incr(self.version_key)
        await tx.exec()
