"""Users, roles, password checks and bearer tokens.

Users come from config.yaml's `users:` section; passwords are never in the
repo: each user has `password: ${ENV_VAR}` or a `password_hash` made by
`acd hash-password`. Roles are ordered: agent < supervisor < admin.

Every login attempt costs the same, one pbkdf2 of the standard cost, whether
the user exists, has a hash, a plain password or none: plain passwords are
hashed once when the users are loaded (`prepare_users`) and unknown users are
checked against a dummy hash. That work is slow on purpose, so the HTTP layer
runs it on threads of its own, never on the event loop.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000

#: what an unknown or passwordless user is checked against: a salt and a digest of
#: random bytes that no password hashes to, at the standard cost
DUMMY_HASH = (f"{ALGORITHM}${ITERATIONS}$MnxX3oV1lJyJd2d3OTkJXg=="
              "$kbCqY0BqZcD8I1fH3QmXlLy2n5Sg3pO9k0V8Qm2jH8w=")


class Role(IntEnum):
    AGENT = 1
    SUPERVISOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    #: plain, from the environment; `prepare_users` turns it into a hash
    password: str = field(default="", repr=False)
    #: pbkdf2_sha256$iterations$salt$hash
    password_hash: str = field(default="", repr=False)
    #: the agent an `agent` user may act as
    agent_id: str = ""
    #: the user's own phone: a supervisor listens, whispers and barges from it
    device: str = ""


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """The `password_hash:` line for a password (pbkdf2-sha256, a random 16-byte salt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"{ALGORITHM}${iterations}${salt_b64}${digest_b64}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes] | None:
    """(iterations, salt, digest) of a `password_hash`, or None when it is not one."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit():
        return None
    try:
        salt = base64.b64decode(parts[2], validate=True)
        digest = base64.b64decode(parts[3], validate=True)
    except (binascii.Error, ValueError):
        return None
    iterations = int(parts[1])
    if iterations < 1 or not salt or not digest:
        return None
    return iterations, salt, digest


def verify_hash(encoded: str, password: str) -> bool:
    """Whether `password` matches `encoded` (slow: one pbkdf2, compared in constant time)."""
    parsed = parse_hash(encoded)
    matches = parsed is not None
    if parsed is None:  # still do the work, so a broken hash costs what a good one does
        parsed = parse_hash(DUMMY_HASH)
        assert parsed is not None
    iterations, salt, digest = parsed
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return hmac.compare_digest(candidate, digest) and matches


def prepare_users(users: Mapping[str, User],
                  previous: Mapping[str, User] | None = None) -> dict[str, User]:
    """The users as logins check them: a plain password replaced by its hash.

    Slow (one pbkdf2 per plain password): run it off the event loop. A plain
    password that still matches the hash in `previous` keeps that hash, so a
    reload changes only the users whose configuration changed.
    """
    prepared: dict[str, User] = {}
    for name, user in users.items():
        if user.password and not user.password_hash:
            before = (previous or {}).get(name)
            if before is not None and before.password_hash and verify_hash(
                    before.password_hash, user.password):
                encoded = before.password_hash
            else:
                encoded = hash_password(user.password)
            user = dataclasses.replace(user, password="", password_hash=encoded)
        prepared[name] = user
    return prepared


def changed_users(before: Mapping[str, User], after: Mapping[str, User]) -> set[str]:
    """Names of users removed, or whose role, agent or password changed (prepared users)."""
    return {name for name, user in before.items() if after.get(name) != user}


def authenticate(users: Mapping[str, User], name: str, password: str) -> User | None:
    """The user if `password` is theirs; exactly one pbkdf2 whoever asks (prepared users)."""
    user = users.get(name)
    encoded = user.password_hash if user is not None and user.password_hash else DUMMY_HASH
    if verify_hash(encoded, password) and user is not None and user.password_hash:
        return user
    return None  # a user without any password can never log in


@dataclass
class _Session:
    user: User
    expires: float


class Sessions:
    """Opaque bearer tokens kept in memory.

    A token expires `ttl` seconds after it is issued; a user holds at most
    `per_user` live tokens (issuing one more revokes their oldest). Every call
    takes `now`, so tests need no sleeping.
    """

    def __init__(self, ttl: float = 12 * 3600, per_user: int = 20) -> None:
        self._ttl = ttl
        self._per_user = per_user
        self._tokens: dict[str, _Session] = {}
        self._by_user: dict[str, dict[str, None]] = {}  # name -> tokens, oldest first

    def __len__(self) -> int:
        return len(self._tokens)

    def issue(self, user: User, now: float) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _Session(user, now + self._ttl)
        owned = self._by_user.setdefault(user.name, {})
        owned[token] = None
        while len(owned) > self._per_user:
            self.revoke(next(iter(owned)))
        return token

    def user(self, token: str, now: float) -> User | None:
        session = self._tokens.get(token)
        if session is None:
            return None
        if now >= session.expires:
            self.revoke(token)
            return None
        return session.user

    def revoke(self, token: str) -> bool:
        """Forget a token; whether it was live."""
        session = self._tokens.pop(token, None)
        if session is None:
            return False
        owned = self._by_user.get(session.user.name, {})
        owned.pop(token, None)
        if not owned:
            self._by_user.pop(session.user.name, None)
        return True

    def revoke_users(self, names: Iterable[str]) -> int:
        """Revoke every token of these users; how many were revoked."""
        return sum(self.revoke(token) for name in names
                   for token in list(self._by_user.get(name, {})))

    def purge(self, now: float) -> int:
        """Forget the expired tokens; how many there were."""
        expired = [t for t, session in self._tokens.items() if now >= session.expires]
        for token in expired:
            self.revoke(token)
        return len(expired)
