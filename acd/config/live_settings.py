"""Queue and agent settings admins change while acd runs, over those of config.yaml
(pure).

Only what the routing core can take at any moment through the path of a SIGHUP reload
(`RoutingEngine.reconfigure`: agents' states, callers and statistics carry over):
a queue's strategy, service level, wrap-up, ring timeout and longest wait; an agent's
name, skills and queue memberships with their penalties. Everything else (telephony,
overflow, addresses) stays in config.yaml.

An edit is kept per queue and per agent (acd.adapters.redis.live_settings_store) and
wins over config.yaml for its fields; config.yaml's other fields, and its changes on
SIGHUP, still apply. An agent's `queues` edit is their whole membership: they leave
every queue not named, whatever config.yaml says.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.core.model import AgentConfig, QueueConfig, QueueMember, Strategy

#: field -> (least, most) for the queue's times, in seconds
QUEUE_SECONDS = {"service_level_seconds": (1, 3600), "wrap_up_seconds": (0, 3600),
                 "ring_timeout_seconds": (5, 600), "max_wait_seconds": (10, 86400)}
QUEUE_FIELDS = ("strategy", *QUEUE_SECONDS)
AGENT_FIELDS = ("name", "skills", "queues")
MAX_NAME = 40
MAX_SKILLS = 20
MAX_PENALTY = 100
_SKILL = re.compile(r"[A-Za-z0-9_-]{1,32}")

Edit = Mapping[str, Any]  # field -> value, as JSON keeps it


class SettingsError(ValueError):
    """What is wrong with a change, for the page (HTTP 400)."""


@dataclass(frozen=True)
class SettingsEdits:
    queues: Mapping[str, Edit] = field(default_factory=dict)
    agents: Mapping[str, Edit] = field(default_factory=dict)


def check_queue_edit(body: Mapping[str, Any], queue: QueueConfig) -> dict[str, Any]:
    """The fields of `body` a queue may change now, checked; SettingsError says why not."""
    unknown = set(body) - set(QUEUE_FIELDS)
    if unknown:
        raise SettingsError(f"{', '.join(sorted(unknown))}: not changeable here; a queue's "
                            f"changeable settings are {', '.join(QUEUE_FIELDS)} (the rest "
                            "is in config.yaml)")
    if not body:
        raise SettingsError(f"nothing to change: give one of {', '.join(QUEUE_FIELDS)}")
    edit: dict[str, Any] = {}
    if "strategy" in body:
        try:
            edit["strategy"] = Strategy(body["strategy"]).value
        except ValueError:
            raise SettingsError("strategy is one of "
                                + ", ".join(s.value for s in Strategy)) from None
    for name, (least, most) in QUEUE_SECONDS.items():
        if name not in body:
            continue
        value = body[name]
        if value is None and name == "max_wait_seconds":
            edit[name] = None  # no limit
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) \
                or not least <= value <= most:
            raise SettingsError(f"{name} is a number of seconds from {least} to {most}")
        if name == "max_wait_seconds" and not queue.max_wait_target:
            raise SettingsError(f"queue {queue.name!r} has no max_wait_target in config.yaml: "
                                "a caller who waited that long would have nowhere to go")
        edit[name] = float(value)
    return edit


def check_agent_edit(body: Mapping[str, Any], queue_names: Collection[str]) -> dict[str, Any]:
    unknown = set(body) - set(AGENT_FIELDS)
    if unknown:
        raise SettingsError(f"{', '.join(sorted(unknown))}: not changeable here; an agent's "
                            f"changeable settings are {', '.join(AGENT_FIELDS)}")
    if not body:
        raise SettingsError(f"nothing to change: give one of {', '.join(AGENT_FIELDS)}")
    edit: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME \
                or not name.isprintable():
            raise SettingsError(f"name is 1 to {MAX_NAME} printable characters")
        edit["name"] = name.strip()
    if "skills" in body:
        skills = body["skills"]
        if not isinstance(skills, list) or len(skills) > MAX_SKILLS or not all(
                isinstance(s, str) and _SKILL.fullmatch(s) for s in skills):
            raise SettingsError(f"skills is a list of at most {MAX_SKILLS} names of letters, "
                                "digits, _ or - (up to 32 each)")
        edit["skills"] = sorted(set(skills))
    if "queues" in body:
        edit["queues"] = _memberships(body["queues"], queue_names)
    return edit


def _memberships(value: object, queue_names: Collection[str]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise SettingsError("queues maps each queue the agent serves to a penalty, e.g. "
                            '{"support": 0, "vip": 1} ({} : no queue)')
    out: dict[str, int] = {}
    for queue, penalty in value.items():
        if queue not in queue_names:
            raise SettingsError(f"no queue {queue!r}; queues are {', '.join(queue_names)}")
        if not isinstance(penalty, int) or isinstance(penalty, bool) \
                or not 0 <= penalty <= MAX_PENALTY:
            raise SettingsError(f"the penalty in {queue!r} is a whole number from 0 (tried "
                                f"first) to {MAX_PENALTY}")
        out[queue] = penalty
    return out


def apply_edits(queues: Iterable[QueueConfig], agents: Iterable[AgentConfig],
                edits: SettingsEdits) -> tuple[list[QueueConfig], list[AgentConfig]]:
    """config.yaml's queues and agents with the edits over them (edits of a queue or an
    agent config.yaml no longer has are left out)."""
    memberships: dict[str, Mapping[str, int]] = {}
    new_agents = []
    for agent in agents:
        edit = edits.agents.get(agent.agent_id, {})
        changes: dict[str, Any] = {}
        if "name" in edit:
            changes["name"] = edit["name"]
        if "skills" in edit:
            changes["skills"] = frozenset(edit["skills"])
        if "queues" in edit:
            memberships[agent.agent_id] = edit["queues"]
            changes["queues"] = ()
        new_agents.append(dataclasses.replace(agent, **changes) if changes else agent)
    new_queues = []
    for queue in queues:
        edit = dict(edits.queues.get(queue.name, {}))
        if "strategy" in edit:
            edit["strategy"] = Strategy(edit["strategy"])
        members = tuple(m for m in queue.members if m.agent_id not in memberships) + tuple(
            QueueMember(agent_id, mine[queue.name]) for agent_id, mine in memberships.items()
            if queue.name in mine)
        new_queues.append(dataclasses.replace(queue, **edit, members=members))
    return new_queues, new_agents


def memberships_of(agent: AgentConfig, queues: Iterable[QueueConfig]) -> dict[str, int]:
    """queue -> penalty, of every queue the agent serves (theirs or the queue's list)."""
    out = {name: 0 for name in agent.queues}
    for queue in queues:
        for member in queue.members:
            if member.agent_id == agent.agent_id:
                out[queue.name] = member.penalty
    return out


def queue_row(queue: QueueConfig, edit: Edit) -> dict[str, Any]:
    return {"name": queue.name, "strategy": queue.strategy.value,
            **{name: getattr(queue, name) for name in QUEUE_SECONDS},
            "max_wait_target": queue.max_wait_target,
            "members": [{"agent": m.agent_id, "penalty": m.penalty} for m in queue.members],
            "changed": sorted(edit)}


def agent_row(agent: AgentConfig, queues: Iterable[QueueConfig], edit: Edit) -> dict[str, Any]:
    return {"id": agent.agent_id, "name": agent.name, "skills": sorted(agent.skills),
            "queues": memberships_of(agent, queues), "changed": sorted(edit)}
