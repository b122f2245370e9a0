"""Builds the routing core's QueueConfig/AgentConfig from config.yaml's sections.

```yaml
queues:
  support:
    strategy: least-calls           # least-calls | shortest-talk-time | fastest-answer | ...
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

import re
from dataclasses import dataclass, field, fields
from typing import Any

from acd.config.settings import build_dataclass
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings
from acd.media.playables import checked_speech
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
#: a whisper plays before the agent hears the caller: a few words, not a speech
MAX_WHISPER_CHARS = 60


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
        if settings is not None and settings.whisper:
            try:
                checked_speech(settings.whisper, "zh", ("zh",), f"{what}.whisper",
                               max_chars=MAX_WHISPER_CHARS)
            except ValueError as exc:
                errors.append(SourceError(spec.pos("whisper"), str(exc)))
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


def build_agents(section: Any, errors: list[SourceError],
                 devices: dict[str, tuple[str, ...]] | None = None) -> list[AgentConfig]:
    """The agents; each agent's own `devices:` (the phones the API may log them in on)
    go into `devices` by agent number."""
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
        if "devices" in spec:
            own = parse_devices(spec["devices"], spec.pos("devices"), f"{what}.devices",
                                errors)
            if devices is not None:
                devices[str(number)] = own
            body = LocatedDict({k: v for k, v in spec.items() if k != "devices"})
            body.position, body.key_positions = spec.position, spec.key_positions
            spec = body
        agent = build_dataclass(AgentConfig, spec, what, errors, skip={"agent_id"},
                                extra={"agent_id": str(number)})
        if agent is not None:
            agents.append(agent)
    return agents


#: a phone in config: PJSIP/agent1001, or a range PJSIP/agent{1001..1020}; Custom:name
#: for a custom device state (tests)
_DEVICE_SPEC = re.compile(r"(?:(?:PJSIP|SIP|IAX2)/[A-Za-z0-9_.-]+|Custom:[A-Za-z0-9_.-]+)")
_RANGE = re.compile(r"\{(\d{1,6})\.\.(\d{1,6})\}")
MAX_DEVICES = 10_000


def parse_devices(node: Any, pos: Any, what: str,
                  errors: list[SourceError]) -> tuple[str, ...]:
    """A list of devices, each one exact or a numeric range `PJSIP/agent{1001..1020}`."""
    items = node if isinstance(node, LocatedList) else [node]
    found: list[str] = []
    for index, item in enumerate(items):
        item_pos = items.pos(index) if isinstance(items, LocatedList) else pos
        text = str(item) if isinstance(item, str) else ""
        match = _RANGE.search(text)
        expanded = [text]
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            width = len(match.group(1))
            if high < low or high - low >= MAX_DEVICES:
                errors.append(SourceError(item_pos, f"{what}: range {match.group(0)} must "
                                          f"go up, by at most {MAX_DEVICES} phones"))
                continue
            expanded = [text[:match.start()] + str(n).zfill(width) + text[match.end():]
                        for n in range(low, high + 1)]
        bad = next((d for d in expanded if not _DEVICE_SPEC.fullmatch(d)), None)
        if bad is not None or not text:
            errors.append(SourceError(item_pos, f"{what}: {item!r} is not a phone such as "
                                      "PJSIP/agent1001 or PJSIP/agent{1001..1020}"))
            continue
        found += expanded
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class DevicePolicy:
    """Which phones agents may use: an agent's device is always one of these, so no
    text from a user ever becomes a Dial destination."""

    #: every agent phone (config `agent_devices`): *71 logs an agent in from these only
    phones: frozenset[str] = frozenset()
    #: agent -> the phones the API may log them in on (`agents.N.devices`)
    own: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def devices_of(self, agent_id: str) -> tuple[str, ...]:
        """The phones this agent may be logged in on from the API (default: their own
        endpoint, PJSIP/agent<number>, as the shipped pjsip.conf names them)."""
        return self.own.get(agent_id) or (f"PJSIP/agent{agent_id}",)

    def is_agent_phone(self, device: str) -> bool:
        return device in self.phones


def build_device_policy(section: Any, agents: list[AgentConfig],
                        own: dict[str, tuple[str, ...]],
                        errors: list[SourceError]) -> DevicePolicy:
    policy = DevicePolicy(frozenset(), own)
    if section is None:  # every agent's own phones
        phones = {d for a in agents for d in policy.devices_of(a.agent_id)}
    else:
        phones = set(parse_devices(section, getattr(section, "position", None),
                                   "agent_devices", errors))
    return DevicePolicy(frozenset(phones), own)


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
