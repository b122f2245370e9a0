"""The parts of config.yaml that belong to other modules, parsed and cross-checked.

`acd serve` and `acd check` both go through `load_sections`, so what check
accepts is exactly what serve runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acd.config import Config, ConfigError, build_dataclass
from acd.core.model import AgentConfig, QueueConfig, RoutingSettings
from acd.ivr.schedule import ScheduleDecision as IvrDecision
from acd.routing_config import (
    DevicePolicy,
    QueueTelephony,
    build_agents,
    build_device_policy,
    build_queues,
    build_settings,
    check_references,
)
from acd.rules.schedule import ScheduleBook
from acd.rules.schedule_config import parse_schedules
from acd.survey import SurveyConfig, SurveyQuestion
from acd.yamlsource import LocatedDict, SourceError


@dataclass(frozen=True)
class Sections:
    queues: list[QueueConfig]
    agents: list[AgentConfig]
    settings: RoutingSettings
    schedules: ScheduleBook
    surveys: dict[str, SurveyConfig] = field(default_factory=dict)
    pause_reasons: dict[str, str] = field(default_factory=dict)
    #: each queue's call-path settings (transfer code, whisper, 报工号)
    telephony: dict[str, QueueTelephony] = field(default_factory=dict)
    #: the phones agents may log in on
    devices: DevicePolicy = field(default_factory=DevicePolicy)


class ScheduleOracleAdapter:
    """acd.rules' ScheduleBook as the IVR's ScheduleOracle (same calendar for both)."""

    def __init__(self, book: ScheduleBook) -> None:
        self.book = book

    def decide(self, schedule_name: str, now: float) -> IvrDecision:
        decision = self.book.decide(schedule_name, now)
        return IvrDecision(decision.state.value, decision.special_flow,  # type: ignore[arg-type]
                           decision.special_prompt)

    def names(self) -> set[str]:
        return set(self.book.names())


def _surveys(section: Any, errors: list[SourceError]) -> dict[str, SurveyConfig]:
    """`survey: {default: {...}, support: {...}}` keyed by queue; `default` for the rest."""
    surveys: dict[str, SurveyConfig] = {}
    if not isinstance(section, LocatedDict):
        return surveys
    for name, spec in section.items():
        if not isinstance(spec, LocatedDict):
            errors.append(SourceError(section.pos(name), f"survey.{name}: expected a mapping"))
            continue
        questions = spec.get("questions")
        body = LocatedDict({k: v for k, v in spec.items() if k != "questions"})
        body.position, body.key_positions = spec.position, spec.key_positions
        extra: dict[str, Any] = {}
        if questions is not None:
            extra["questions"] = tuple(
                build_dataclass(SurveyQuestion, q, f"survey.{name}.questions", errors)
                for q in questions if isinstance(q, LocatedDict))
        survey = build_dataclass(SurveyConfig, body, f"survey.{name}", errors,
                                 skip={"questions"}, extra=extra)
        if survey is not None:
            surveys[name] = survey
    return surveys


def load_sections(config: Config) -> Sections:
    errors: list[SourceError] = []
    telephony: dict[str, QueueTelephony] = {}
    queues = build_queues(config.queues, errors, telephony)
    own_devices: dict[str, tuple[str, ...]] = {}
    agents = build_agents(config.agents, errors, own_devices)
    devices = build_device_policy(config.agent_devices, agents, own_devices, errors)
    check_references(queues, agents, config.queues, errors)
    settings = build_settings(None, errors)
    schedules: dict[str, Any] = {}
    if isinstance(config.schedules, LocatedDict):
        schedules = parse_schedules(config.schedules, errors)
    surveys = _surveys(config.survey, errors)
    default = surveys.pop("default", None)
    if default is not None:
        surveys = {q.name: surveys.get(q.name, default) for q in queues}
    pause = {str(k): str(v) for k, v in (config.pause_reasons or {}).items()}
    if errors:
        raise ConfigError(errors)
    if pause:
        settings = RoutingSettings(**{**settings.__dict__, "pause_reasons":
                                      frozenset(pause.values()) | {"no-answer"}})
    return Sections(queues, agents, settings, ScheduleBook(schedules), surveys, pause,
                    telephony, devices)
