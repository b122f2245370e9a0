"""Users managed in the console (pure): what a new or changed user must be, the rule
that the last admin stays, and how console-managed users sit on top of config.yaml's.

config.yaml's `users:` bootstrap acd (the first admin); a user the console added,
changed or removed is as the console left it (a removal is remembered, so config.yaml
does not bring the user back); config users the console never touched stay valid.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Any

from acd.adapters.http.auth import Role, User

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEVICE = re.compile(r"[A-Za-z0-9/_.@:-]{1,80}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
ROLES = {r.name.lower(): r for r in Role}


class UserRefused(ValueError):
    """A change the console refuses; the message says why and what to do."""


def effective_users(configured: Mapping[str, User],
                    managed: Mapping[str, User | None]) -> dict[str, User]:
    """Who may log in: config users the console did not touch, then console users
    (None: removed in the console)."""
    users = {name: user for name, user in configured.items() if name not in managed}
    users.update({name: user for name, user in managed.items() if user is not None})
    return users


def _text(body: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (value and not pattern.fullmatch(value)):
        raise UserRefused(f"{key}: {what}")
    return value


def changed_user(name: str, body: Mapping[str, Any], before: User | None,
                 agent_ids: Collection[str]) -> tuple[User, str]:
    """The user as `body` makes it (a new one when `before` is None), and the new plain
    password ('' when unchanged: the caller hashes it, slowly, off the event loop)."""
    if not NAME.fullmatch(name):
        raise UserRefused("a user name is 1 to 64 letters, digits, '.', '_' or '-'")
    unknown = set(body) - {"name", "role", "password", "agent", "device"}
    if unknown:
        raise UserRefused(f"unknown field(s): {', '.join(sorted(unknown))}")
    role_name = body.get("role", before.role.name.lower() if before else None)
    if role_name not in ROLES:
        raise UserRefused("role must be agent, supervisor or admin")
    password = body.get("password", "")
    if not isinstance(password, str) or (password or before is None) and not (
            MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise UserRefused(f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    agent = _text(body, "agent", NAME, "an agent number under agents:") if "agent" in body \
        else (before.agent_id if before else "")
    device = _text(body, "device", DEVICE, "a device such as PJSIP/sup1") \
        if "device" in body else (before.device if before else "")
    role = ROLES[role_name]
    if agent and agent not in agent_ids:
        raise UserRefused(f"agent: {agent} is not under agents: in config.yaml")
    if role is Role.AGENT and not agent:
        raise UserRefused("an agent user needs agent: the agent number it acts as")
    base = before or User(name, role)
    return dataclasses.replace(base, role=role, agent_id=agent, device=device,
                               password=""), password


def check_admins_remain(users: Mapping[str, User], name: str, after: User | None) -> None:
    """UserRefused when removing or demoting `name` would leave no admin."""
    admins = {n for n, u in users.items() if u.role is Role.ADMIN}
    if admins - {name} or (after is not None and after.role is Role.ADMIN):
        return
    if name in admins:
        raise UserRefused(f"{name} is the last admin: make another user admin first")


def public_view(user: User, managed: bool) -> dict[str, Any]:
    """A user as the console lists it: never a password or its hash."""
    return {"name": user.name, "role": user.role.name.lower(), "agent": user.agent_id,
            "device": user.device, "source": "console" if managed else "config",
            "can_log_in": bool(user.password_hash or user.password)}
