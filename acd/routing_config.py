"""Builds the routing core's QueueConfig/AgentConfig from config.yaml's sections.

```yaml
queues:
  support:
    strategy: least-calls           # least-calls | shortest-talk-time | longest-idle | ...
    members: ["1001", "1002", {agent: "1003", penalty: 1}]
    wrap_up_seconds: 5
    transfer_code: "601"            # agents transfer a caller here by dialling 601
agents:
  "1001": {name: 张伟, pin: "${ACD_PIN_1001:-1001}", skills: [hardware], queues: [support]}
```
"""

from __future__ import annotations

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


def build_queues(section: Any, errors: list[SourceError],
                 transfer_codes: dict[str, str] | None = None) -> list[QueueConfig]:
    """The queues; each queue's `transfer_code` (not the core's business) goes into
    transfer_codes, code -> queue name."""
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
                            if k not in ("members", "transfer_code")})
        body.position, body.key_positions = spec.position, spec.key_positions
        members = _members(spec["members"], errors, what) if "members" in spec else ()
        if "transfer_code" in spec:
            _transfer_code(spec, name, errors, transfer_codes)
        queue = build_dataclass(QueueConfig, body, what, errors, skip={"name", "members"},
                                extra={"name": name, "members": members})
        if queue is not None:
            queues.append(queue)
    return queues


def _transfer_code(spec: LocatedDict, queue: str, errors: list[SourceError],
                   codes: dict[str, str] | None) -> None:
    code = str(spec["transfer_code"])
    if not code.isdigit():
        errors.append(SourceError(spec.pos("transfer_code"), f"queues.{queue}.transfer_code: "
                                  "digits only (what an agent dials to transfer a caller)"))
    elif codes is not None and code in codes:
        errors.append(SourceError(spec.pos("transfer_code"), f"queues.{queue}.transfer_code: "
                                  f"{code} is already the code of queue {codes[code]!r}"))
    elif codes is not None:
        codes[code] = queue


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
