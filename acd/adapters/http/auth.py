"""Users, roles and bearer tokens.

Users come from config.yaml's `users:` section; passwords are never in the
repo: each user has `password: ${ENV_VAR}` or a `password_hash` made by
`acd hash-password`. Roles are ordered: agent < supervisor < admin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Role(IntEnum):
    AGENT = 1
    SUPERVISOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password: str = ""  # plain, from the environment
    password_hash: str = ""  # pbkdf2_sha256$iterations$salt$hash
    agent_id: str = ""  # the agent an `agent` user may act as


def hash_password(password: str, *, iterations: int = 200_000) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"pbkdf2_sha256${iterations}${salt_b64}${digest_b64}"


def verify_password(user: User, password: str) -> bool:
    if user.password_hash:
        try:
            _, iterations, salt, digest = user.password_hash.split("$")
        except ValueError:
            return False
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                        int(iterations))
        return hmac.compare_digest(candidate, base64.b64decode(digest))
    if user.password:
        return hmac.compare_digest(user.password.encode(), password.encode())
    return False  # a user without any password can never log in


def users_from_config(section: Any) -> dict[str, User]:
    users: dict[str, User] = {}
    for name, spec in (section or {}).items():
        users[name] = User(
            name=name, role=Role[str(spec.get("role", "agent")).upper()],
            password=str(spec.get("password", "") or ""),
            password_hash=str(spec.get("password_hash", "") or ""),
            agent_id=str(spec.get("agent", "") or ""))
    return users


class Sessions:
    """Opaque bearer tokens kept in memory; they expire after `ttl` seconds."""

    def __init__(self, ttl: float = 12 * 3600) -> None:
        self._ttl = ttl
        self._tokens: dict[str, tuple[User, float]] = {}

    def issue(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (user, time.monotonic() + self._ttl)
        return token

    def user(self, token: str) -> User | None:
        entry = self._tokens.get(token)
        if entry is None:
            return None
        user, expires = entry
        if time.monotonic() > expires:
            del self._tokens[token]
            return None
        return user

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)
