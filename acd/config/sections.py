"""The parts of config.yaml that belong to other modules, parsed and cross-checked.

`acd serve` and `acd check` both go through `load_sections`, so what check
accepts is exactly what serve runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from acd.adapters.asterisk.syntax import DEVICE
from acd.adapters.http.auth import ITERATIONS, Role, User, parse_hash
from acd.callflow.survey import SurveyConfig, SurveyQuestion
from acd.config.routing import (
    DevicePolicy,
    QueueTelephony,
    build_agents,
    build_device_policy,
    build_queues,
    build_settings,
    check_references,
)
from acd.config.schedules import parse_schedules
from acd.config.settings import Config, ConfigError, build_dataclass
from acd.core.model import AgentConfig, QueueConfig, RoutingSettings
from acd.ivr.schedule import ScheduleDecision as IvrDecision
from acd.media.playables import checked_speech
from acd.rules.schedule import ScheduleBook
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
    #: the HTTP API's users (a plain password is hashed when the API loads them)
    users: dict[str, User] = field(default_factory=dict)
    #: things worth saying that do not stop acd, e.g. a user who cannot log in
    warnings: tuple[str, ...] = ()
    #: the categories an agent files a call under in wrap-up (code -> label)
    dispositions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UserConfig:
    """One entry of `users:` as written in config.yaml."""

    role: str
    password: str = field(default="", repr=False)
    password_hash: str = field(default="", repr=False)
    #: the agent number an `agent` user acts as (one of `agents:`)
    agent: str = ""
    #: the user's own phone (PJSIP/supervisor1): where listen/whisper/barge rings
    device: str = ""


class ScheduleOracleAdapter:
    """acd.rules' ScheduleBook as the IVR's ScheduleOracle (same calendar for both)."""

    def __init__(self, book: ScheduleBook) -> None:
        self.book = book

    def use(self, book: ScheduleBook) -> None:
        """The book the next call decides with (a reload, a company date edited)."""
        self.book = book

    def decide(self, schedule_name: str, now: float) -> IvrDecision:
        decision = self.book.decide(schedule_name, now)
        return IvrDecision(decision.state.value, decision.special_flow,
                           decision.special_prompt)

    def names(self) -> set[str]:
        return set(self.book.names())


def _surveys(section: Any, languages: tuple[str, ...], errors: list[SourceError]
             ) -> dict[str, SurveyConfig]:
    """`survey: {default: {...}, support: {...}}` keyed by queue; `default` for the rest."""
    surveys: dict[str, SurveyConfig] = {}
    if not isinstance(section, LocatedDict):
        if section is not None:
            errors.append(SourceError(getattr(section, "position", None),
                                      "survey: expected a mapping of queue (or default) "
                                      "to its survey"))
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
            errors += [SourceError(section.pos(name), message) for message
                       in _survey_problems(survey, f"survey.{name}", languages)]
            surveys[name] = survey
    return surveys


def _survey_problems(survey: SurveyConfig, what: str, languages: tuple[str, ...]
                     ) -> list[str]:
    """The survey's words become speech, its digits what the caller may press: checked
    here, as the announcement and the whispers are, not when a caller hears them."""
    prompts = [(f"{what}.questions[{i}].prompt", q.prompt)
               for i, q in enumerate(survey.questions)]
    prompts += [(f"{what}.invalid_prompt", survey.invalid_prompt),
                (f"{what}.thanks_prompt", survey.thanks_prompt)]
    problems: list[str] = []
    for where, prompt in prompts:
        by_lang = prompt.items() if isinstance(prompt, dict) else [(languages[0], prompt)]
        for lang, text in by_lang:
            try:
                checked_speech(text, lang, languages, where)
            except ValueError as e:
                problems.append(str(e))
    for i, question in enumerate(survey.questions):
        if not question.digits or not set(question.digits) <= set("0123456789*#"):
            problems.append(f"{what}.questions[{i}].digits: keys a caller can press "
                            f"(0-9, * and #), not {question.digits!r}")
    return problems


def _users(section: Any, agent_ids: set[str], errors: list[SourceError],
           warnings: list[str]) -> dict[str, User]:
    """`users: {NAME: {role, password | password_hash, agent}}`; no message shows a secret."""
    if section is None:
        return {}
    if not isinstance(section, LocatedDict):
        errors.append(SourceError(getattr(section, "position", None),
                                  "users: expected a mapping of user names"))
        return {}
    users: dict[str, User] = {}
    for name, spec in section.items():
        what = f"users.{name}"
        if not isinstance(spec, LocatedDict):
            errors.append(SourceError(section.pos(name), f"{what}: expected a mapping"))
            continue
        before = len(errors)
        entry = build_dataclass(UserConfig, spec, what, errors)
        if entry is None or len(errors) > before:
            continue
        user = _user(name, entry, spec, agent_ids, errors, warnings)
        if user is not None:
            users[name] = user
    return users


def _user(name: str, entry: UserConfig, spec: LocatedDict, agent_ids: set[str],
          errors: list[SourceError], warnings: list[str]) -> User | None:
    what, count = f"users.{name}", len(errors)
    roles = {r.name.lower(): r for r in Role}
    if entry.role not in roles:
        errors.append(SourceError(spec.pos("role"), f"{what}.role: {entry.role!r} is not a "
                                                    "role (agent, supervisor or admin)"))
    elif roles[entry.role] is Role.AGENT and not entry.agent:
        errors.append(SourceError(spec.pos(), f"{what}: an agent user needs `agent:`, the "
                                              "agent number it acts as"))
    if entry.agent and entry.agent not in agent_ids:
        errors.append(SourceError(spec.pos("agent"), f"{what}.agent: {entry.agent} is not "
                                                     "under agents:"))
    parsed = parse_hash(entry.password_hash) if entry.password_hash else None
    if entry.password_hash and parsed is None:
        errors.append(SourceError(spec.pos("password_hash"), f"{what}.password_hash: not a "
                                  "pbkdf2_sha256$ITERATIONS$SALT$HASH line (acd hash-password "
                                  "makes one)"))
    if entry.password and entry.password_hash:
        errors.append(SourceError(spec.pos("password_hash"), f"{what}: give password or "
                                                             "password_hash, not both"))
    if entry.device and not DEVICE.fullmatch(entry.device):
        errors.append(SourceError(spec.pos("device"), f"{what}.device: {entry.device!r} is "
                                                      "not a phone such as PJSIP/supervisor1"))
    if len(errors) > count:
        return None
    if not entry.password and not entry.password_hash:
        warnings.append(f"{spec.pos()}: {what}: no password (or its variable is empty): "
                        "this user cannot log in")
    elif parsed is not None and parsed[0] != ITERATIONS:
        warnings.append(f"{spec.pos('password_hash')}: {what}.password_hash: {parsed[0]} "
                        f"iterations, not the {ITERATIONS} of acd hash-password: its logins "
                        "take a different time than others' (telling who exists)")
    return User(name, roles[entry.role], password=entry.password,
                password_hash=entry.password_hash, agent_id=entry.agent, device=entry.device)


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
    elif config.schedules is not None:
        errors.append(SourceError(getattr(config.schedules, "position", None),
                                  "schedules: expected a mapping of schedule name to "
                                  "its hours"))
    surveys = _surveys(config.survey, tuple(config.languages), errors)
    default = surveys.pop("default", None)
    if default is not None:
        surveys = {q.name: surveys.get(q.name, default) for q in queues}
    pause: dict[str, str] = {}
    if isinstance(config.pause_reasons, dict):
        pause = {str(k): str(v) for k, v in config.pause_reasons.items()}
    elif config.pause_reasons is not None:
        errors.append(SourceError(getattr(config.pause_reasons, "position", None),
                                  "pause_reasons: expected a mapping of code to reason "
                                  "(e.g. 1: lunch)"))
    dispositions = _dispositions(config.dispositions, errors)
    warnings: list[str] = []
    users = _users(config.users, {a.agent_id for a in agents}, errors, warnings)
    if errors:
        raise ConfigError(errors)
    if pause:
        settings = RoutingSettings(**{**settings.__dict__, "pause_reasons":
                                      frozenset(pause.values()) | {"no-answer"}})
    return Sections(queues, agents, settings, ScheduleBook(schedules), surveys, pause,
                    telephony, devices, users, tuple(warnings), dispositions)


_DISPOSITION_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _dispositions(section: object, errors: list[SourceError]) -> dict[str, str]:
    """`dispositions: {complaint: 投诉, order: 订单}`: short codes, printable labels."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        errors.append(SourceError(getattr(section, "position", None),
                                  "dispositions: expected a mapping of code to label "
                                  "(e.g. complaint: 投诉)"))
        return {}
    out: dict[str, str] = {}
    for code, label in section.items():
        pos = section.pos(code) if isinstance(section, LocatedDict) else None
        text = str(label) if isinstance(label, str | int) else ""
        if not _DISPOSITION_CODE.fullmatch(str(code)):
            errors.append(SourceError(pos, f"dispositions.{code}: a code is 1 to 32 letters, "
                                           "digits, _ or -"))
        elif not text or len(text) > 60 or not text.isprintable():
            errors.append(SourceError(pos, f"dispositions.{code}: the label must be 1 to 60 "
                                           "printable characters"))
        else:
            out[str(code)] = text
    return out
