"""Builds the routing core's QueueConfig/AgentConfig from config.yaml's sections.

```yaml
queues:
  support:
    strategy: least-calls           # least-calls | shortest-talk-time | longest-idle | ...
    members: ["1001", "1002", {agent: "1003", penalty: 1}]
    wrap_up_seconds: 5
    transfer_code: "601"            # agents transfer a caller here by dialling 601
    whisper: 售后服务                # the agent hears this (and "VIP" for VIPs) on answering
    announce_agent: true            # the caller hears the agent's number (报工号)
agents:
  "1001": {name: 张伟, pin: "${ACD_PIN_1001:-1001}", skills: [hardware], queues: [support]}
```
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from acd.config import build_dataclass
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings
from acd.yamlsource import LocatedDict, LocatedList, SourceError


def _members(node: Any, errors: list[SourceError], what: str) -> tuple[QueueMember, ...]:
    if not isinstance(node, LocatedList):
        errors.append(SourceError(getattr(node, "pos", lambda: None)(),
                                  f"{what}: expected a list of agent numbers"))
        return ()
    members = []
    for index, item in enumerate(node):
        if isinstance(item, str | int) and not isinstance(item, bool):
            members.append(QueueMember(str(item)))
        elif isinstance(item, LocatedDict) and "agent" in item:
            penalty = item.get("penalty", 0)
            if not isinstance(penalty, int) or isinstance(penalty, bool):
                errors.append(SourceError(item.pos("penalty"),
                                          f"{what}: penalty must be a whole number"))
                penalty = 0
            unknown = set(item) - {"agent", "penalty"}
            for key in unknown:
                errors.append(SourceError(item.pos(key), f"{what}: unknown key {key!r} "
                                                         "(members take agent and penalty)"))
            members.append(QueueMember(str(item["agent"]), penalty))
        else:
            errors.append(SourceError(node.pos(index), f"{what}: each member is an agent "
                                      "number or {agent: NUMBER, penalty: LEVEL}"))
    return tuple(members)


@dataclass(frozen=True)
class QueueTelephony:
    """A queue's settings that are the call path's business, not the routing core's."""

    #: what agents transfer to (the phone's transfer key) to blind-transfer a caller into the queue
    transfer_code: str = ""
    #: what the agent hears on answering, before the caller (a VIP caller: "VIP" first)
    whisper: str = ""
    #: the caller hears the agent's number on being put through (报工号)
    announce_agent: bool = True


TELEPHONY_KEYS = {f.name for f in fields(QueueTelephony)}


def build_queues(section: Any, errors: list[SourceError],
                 telephony: dict[str, QueueTelephony] | None = None) -> list[QueueConfig]:
    """The queues; each queue's QueueTelephony settings go into `telephony` by name."""
    if section is None:
        return []
    if not isinstance(section, LocatedDict):
        errors.append(SourceError(getattr(section, "position", None),
                                  "queues: expected a mapping of queue names"))
        return []
    queues = []
    for name, spec in section.items():
        what = f"queues.{name}"
        if spec is None:
            spec = LocatedDict()
            spec.position, spec.key_positions = section.pos(name), {}
        if not isinstance(spec, LocatedDict):
            errors.append(SourceError(section.pos(name), f"{what}: expected a mapping"))
            continue
        body = LocatedDict({k: v for k, v in spec.items()
                            if k != "members" and k not in TELEPHONY_KEYS})
        body.position, body.key_positions = spec.position, spec.key_positions
        members = _members(spec["members"], errors, what) if "members" in spec else ()
        phone = LocatedDict({k: v for k, v in spec.items() if k in TELEPHONY_KEYS})
        phone.position, phone.key_positions = spec.position, spec.key_positions
        settings = build_dataclass(QueueTelephony, phone, what, errors)
        if settings is not None and telephony is not None:
            _check_transfer_code(spec, name, settings, telephony, errors)
            telephony[name] = settings
        queue = build_dataclass(QueueConfig, body, what, errors, skip={"name", "members"},
                                extra={"name": name, "members": members})
        if queue is not None:
            queues.append(queue)
    return queues


def _check_transfer_code(spec: LocatedDict, queue: str, settings: QueueTelephony,
                         telephony: dict[str, QueueTelephony],
                         errors: list[SourceError]) -> None:
    code = settings.transfer_code
    if not code:
        return
    if not code.isdigit():
        errors.append(SourceError(spec.pos("transfer_code"), f"queues.{queue}.transfer_code: "
                                  "digits only (what an agent dials to transfer a caller)"))
    for other, its in telephony.items():
        if its.transfer_code == code:
            errors.append(SourceError(spec.pos("transfer_code"),
                                      f"queues.{queue}.transfer_code: {code} is already the "
                                      f"code of queue {other!r}"))


def transfer_codes(telephony: dict[str, QueueTelephony]) -> dict[str, str]:
    """code -> queue, for the queues agents can transfer callers into."""
    return {t.transfer_code: name for name, t in telephony.items() if t.transfer_code}


def build_agents(section: Any, errors: list[SourceError]) -> list[AgentConfig]:
    if section is None:
        return []
    if not isinstance(section, LocatedDict):
        errors.append(SourceError(getattr(section, "position", None),
                                  "agents: expected a mapping of agent numbers"))
        return []
    agents = []
    for number, spec in section.items():
        what = f"agents.{number}"
        if not str(number).isdigit():
            errors.append(SourceError(section.pos(number),
                                      f"{what}: an agent number (工号) is digits only"))
        spec = spec if isinstance(spec, LocatedDict) else _empty(section.pos(number))
        agent = build_dataclass(AgentConfig, spec, what, errors, skip={"agent_id"},
                                extra={"agent_id": str(number)})
        if agent is not None:
            agents.append(agent)
    return agents


def build_settings(section: Any, errors: list[SourceError]) -> RoutingSettings:
    if section is None:
        return RoutingSettings()
    return build_dataclass(RoutingSettings, section, "routing", errors)  # type: ignore[no-any-return]


def check_references(queues: list[QueueConfig], agents: list[AgentConfig], section: Any,
                     errors: list[SourceError]) -> None:
    known_agents = {a.agent_id for a in agents}
    known_queues = {q.name for q in queues}
    for queue in queues:
        pos = section.pos(queue.name) if isinstance(section, LocatedDict) else None
        for member in queue.members:
            if member.agent_id not in known_agents:
                errors.append(SourceError(pos, f"queues.{queue.name}: member "
                                               f"{member.agent_id} is not under agents:"))
        for target in [r.target for r in queue.overflow]:
            if target not in known_queues:
                errors.append(SourceError(pos, f"queues.{queue.name}: overflow target "
                                               f"{target!r} is not a queue"))
    for agent in agents:
        for name in agent.queues:
            if name not in known_queues:
                errors.append(SourceError(None, f"agents.{agent.agent_id}: queue {name!r} "
                                                "is not under queues:"))


def _empty(position: Any) -> LocatedDict:
    node = LocatedDict()
    node.position, node.key_positions = position, {}
    return node
