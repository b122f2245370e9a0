"""Typed, validated configuration loaded from config.yaml.

Every problem is reported as `file:line:column: message`; unknown keys and
wrong types are errors, never silent defaults. Secrets are written as
`${ENV_VAR}` (or `${ENV_VAR:-default}`) and read from the environment.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from acd.callflow.admission import AdmissionConfig
from acd.config.console import ConsoleConfig, check_console
from acd.config.history import HistoryConfig, history_problems
from acd.config.metrics import MetricsConfig
from acd.config.reports import ReportsConfig
from acd.config.webhooks import load_webhooks
from acd.yamlsource import LocatedDict, LocatedList, Position, SourceError, load_file

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingEnvironment(SourceError):
    """A `${VAR}` whose variable is not set: fatal for `serve`, a warning for `check`."""


class ConfigError(Exception):
    """One or more problems in a configuration file."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "acd"
    secret: str = field(default="", repr=False)
    #: seconds to wait for an action's response
    action_timeout: float = 5.0
    #: Asterisk's own queue the dialplan sends callers to while acd is away; acd keeps
    #: its members in step with the logged-in agents ('' : acd leaves it alone)
    fallback_queue: str = "acd-fallback"


@dataclass(frozen=True)
class AgiConfig:
    host: str = "127.0.0.1"
    port: int = 4573
    #: shared secret the dialplan sends as ?key=... (ACD_AGI_KEY); empty: none. Set it
    #: whenever acd listens beyond loopback (docs/security.md)
    key: str = field(default="", repr=False)
    #: open FastAGI sessions at most; a call over the cap goes to the dialplan's fallback
    max_sessions: int = 2000


@dataclass(frozen=True)
class RedisConfig:
    host: str = "127.0.0.1"
    port: int = 6390
    db: int = 0
    #: every key acd writes starts with this
    prefix: str = "acd:"
    #: this process's stable name; each acd process sharing a Redis needs its own
    owner: str = "acd"
    #: connections to Redis; asyncio_redis fails (rather than waits) when all are busy
    pool_size: int = 64
    #: Redis AUTH (requirepass); whoever can write acd's keys can steer calls
    password: str = field(default="", repr=False)
    #: TLS to Redis (Redis 6+ built with TLS, `tls-port`)
    tls: bool = False
    #: CA file to verify the server with (default: the system's CAs)
    tls_ca_file: str = ""
    #: check the server's certificate name against `host`
    tls_verify_hostname: bool = True
    #: the server's unix socket (Redis on this host): instead of host and port, and much
    #: cheaper per command than TCP over loopback
    socket: str = ""


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class PathsConfig:
    ivr_flows: str = "ivr_flows"
    prompts: str = "prompts"
    prompt_cache: str = "var/prompt-cache"
    recordings: str = "recordings"
    #: each queue's twin in app_queue for the fallback without acd: what
    #: `acd asterisk-queues` writes and `acd check` compares with the queues
    fallback_queues: str = "asterisk/queues_fallback.conf"


@dataclass(frozen=True)
class IvrConfig:
    #: `acd check` warns about a flow whose slowest way to a queue, for a caller who
    #: presses nothing, takes longer than this many seconds (0: no warning)
    max_seconds_to_agent: float = 45.0


@dataclass(frozen=True)
class NumberConfig:
    """A called number (DID) of the 400 line and the flow it enters."""

    flow: str = "main"
    language: str = "zh"


@dataclass(frozen=True)
class ClockConfig:
    #: ISO-8601 local time the clock starts at and runs on from (demos, schedule tests)
    start_at: str | None = None


@dataclass(frozen=True)
class RecordingConfig:
    enabled: bool = True
    #: wav keeps MixMonitor's file; mp3 converts it with pydub after the call
    format: str = "wav"
    #: recordings older than this are deleted by the daily retention job (0: keep)
    retention_days: int = 90


@dataclass(frozen=True)
class PrivacyConfig:
    """The number firewall (acd.privacy)."""

    #: roles that see callers' numbers in full; every other role sees them masked
    full_numbers_for: tuple[str, ...] = ("supervisor", "admin")
    #: write callers' numbers to the log unmasked (a trusted deployment only)
    log_full_numbers: bool = False


@dataclass(frozen=True)
class ClusterConfig:
    """Several acd processes on one Redis: one serves, the others stand by
    (acd.adapters.redis.lease, docs/operations.md)."""

    #: this process's name, stable across restarts; '' : <host name>:<FastAGI port>
    node: str = ""
    #: how long the serving acd's lease lasts unrenewed: a standby takes over this long
    #: after the leader died (it renews every quarter of it)
    lease_seconds: float = 2.0
    #: standby: one acd serves, the others wait for the lease; active: every acd serves
    #: calls, the lease holder leads the routing core (acd.cluster, docs/operations.md)
    mode: str = "standby"


@dataclass(frozen=True)
class Config:
    source: str = "<defaults>"
    timezone: str = "Asia/Shanghai"
    languages: tuple[str, ...] = ("zh", "en")
    ami: AmiConfig = field(default_factory=AmiConfig)
    agi: AgiConfig = field(default_factory=AgiConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)
    numbers: dict[str, NumberConfig] = field(default_factory=dict)
    ivr: IvrConfig = field(default_factory=IvrConfig)
    #: sections parsed by their own modules (rules, routing); kept as located YAML
    schedules: object = None
    queues: object = None
    agents: object = None
    #: every agent phone (PJSIP/agent{1001..1020}); default: each agent's own
    agent_devices: object = None
    pause_reasons: object = None
    #: wrap-up categories an agent files a call under (code -> label)
    dispositions: object = None
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    survey: object = None
    #: located YAML holding plain passwords: never in a repr
    users: object = field(default=None, repr=False)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    #: caps on the calls taken on; past them callers are shed (acd.callflow.admission)
    admission: AdmissionConfig = field(default_factory=AdmissionConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    #: who may read GET /metrics (acd.config.metrics)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    #: the supervisors' live wallboard (acd.config.console)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    #: the call history's database and retention (acd.config.history)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    #: where events are posted: the raw list, read by acd.config.webhooks.load_webhooks
    webhooks: object = field(default=None, repr=False)
    #: the report figures' thresholds (acd.config.reports, docs/reports.md)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    base_dir: str = "."

    def path(self, relative: str) -> Path:
        """A configured path, resolved against the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.base_dir) / p


_RAW_SECTIONS = {"schedules", "queues", "agents", "agent_devices", "pause_reasons", "survey",
                 "users", "dispositions", "webhooks"}


def _substitute_env(value: str, pos: Position, errors: list[SourceError]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        errors.append(MissingEnvironment(
            pos, f"environment variable {name} is not set: export it (the sandbox writes "
                 "it to var/sandbox.env)"))
        return ""

    return _ENV_REF.sub(replace, value)


def _substitute_tree(node: Any, pos: Position, errors: list[SourceError]) -> Any:
    """`${VAR}` in every string of a section parsed elsewhere (in place, keeping positions)."""
    if isinstance(node, str):
        return _substitute_env(node, pos, errors)
    if isinstance(node, LocatedDict):
        for key in list(node):
            node[key] = _substitute_tree(node[key], node.pos(key), errors)
    elif isinstance(node, LocatedList):
        for index, item in enumerate(node):
            node[index] = _substitute_tree(item, node.pos(index), errors)
    return node


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, pos: Position, what: str, errors: list[SourceError],
             *, secret: bool = False) -> Any:
    """Check `value` against the annotation `tp`, converting where YAML is loose."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        for option in inner[:-1]:  # the first that takes the value; else the last says why
            tried: list[SourceError] = []
            converted = _convert(value, option, pos, what, tried, secret=secret)
            if not tried:
                return converted
        return _convert(value, inner[-1], pos, what, errors, secret=secret)
    if isinstance(value, str) and tp is not str:
        from_env = "${" in value
        value = _substitute_env(value, pos, errors)
        if from_env and tp in (int, float):  # "${CAP:-0}": the environment gives text
            value = _number(value, tp)
    if tp is str:
        if isinstance(value, str):
            return _substitute_env(value, pos, errors)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif tp is bool and isinstance(value, bool):
        return value
    elif tp is bool and isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.lower()]  # "${FLAG:-true}": the environment gives text
    elif tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum) and isinstance(value, str):
        try:
            return tp(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in tp)
            errors.append(SourceError(pos, f"{what}: {value!r} is not one of: {choices}"))
            return None
    elif origin in (tuple, frozenset) and isinstance(value, list):
        items = [_convert(v, args[0], _item_pos(value, i, pos), what, errors)
                 for i, v in enumerate(value)]
        return origin(items)
    elif origin is dict and isinstance(value, dict):
        return {str(k): _convert(v, args[1], _key_pos(value, k, pos), f"{what}.{k}", errors)
                for k, v in value.items()}
    elif dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return build_dataclass(tp, value, what, errors)
    elif origin is None and isinstance(tp, type) and dataclasses.is_dataclass(tp) \
            and value is None:
        return tp()
    if not secret:
        got = _describe_value(value)
    else:
        got = f"a {_KINDS[type(value)]}" if type(value) in _KINDS else "another value"
    errors.append(SourceError(pos, f"{what}: expected {_describe(tp)}, got {got}"))
    return None


def _number(text: str, tp: type) -> Any:
    """A number written as text, or the text itself (then reported as not a number)."""
    try:
        return tp(text.strip())
    except ValueError:
        return text


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    return {"str": "a string", "int": "a whole number", "float": "a number",
            "bool": "true or false"}.get(_type_name(tp), _type_name(tp))


#: what YAML nodes are called in error messages
_KINDS: dict[type, str] = {LocatedDict: "mapping", LocatedList: "list"}


def _describe_value(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = _KINDS.get(type(value), type(value).__name__)
    return f"{kind} {value!r}"[:60]


def _key_pos(node: Any, key: Any, fallback: Position) -> Position:
    return node.pos(key) if isinstance(node, LocatedDict) else fallback


def _item_pos(node: Any, index: int, fallback: Position) -> Position:
    return node.pos(index) if isinstance(node, LocatedList) else fallback


#: fields whose values an error message must not repeat (they hide from repr too)
_SECRET_FIELDS: dict[type, frozenset[str]] = {}


def _secret_fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls) if not f.repr)


_BOOL_WORDS = {"true": True, "yes": True, "false": False, "no": False}


def build_dataclass(cls: Any, node: Any, what: str, errors: list[SourceError],
                    *, skip: set[str] | None = None, extra: dict[str, Any] | None = None,
                    ) -> Any:
    """Build dataclass `cls` from a located mapping, reporting unknown keys and bad types."""
    pos = node.pos() if isinstance(node, LocatedDict) else Position("<config>", 0, 0)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = dict(extra or {})
    for key, value in node.items():
        key_pos = _key_pos(node, key, pos)
        if key not in known or (skip and key in skip):
            suggestion = _closest(key, known)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            errors.append(SourceError(key_pos, f"unknown key {what}.{key}{hint}"))
            continue
        if key in _RAW_SECTIONS and cls is Config:
            kwargs[key] = _substitute_tree(value, key_pos, errors)
            continue
        before = len(errors)
        secret = key in _SECRET_FIELDS.setdefault(cls, _secret_fields(cls))
        converted = _convert(value, hints[key], key_pos, f"{what}.{key}".lstrip("."),
                             errors, secret=secret)
        if len(errors) == before:  # a bad value keeps the default; the error is reported
            kwargs[key] = converted
    missing = [f.name for f in dataclasses.fields(cls)
               if f.init and f.name not in kwargs and not (skip and f.name in skip)
               and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        errors.append(SourceError(pos, f"{what or 'config'}: missing {', '.join(missing)}"))
        return None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        errors.append(SourceError(pos, f"{what or 'config'}: {exc}"))
        return None


def _closest(word: str, options: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.7)
    return matches[0] if matches else None


def load_config(path: str | Path, *, allow_missing_env: bool = False) -> Config:
    """Load and validate config.yaml; raise ConfigError with every problem found.

    With allow_missing_env, unset `${VAR}`s become empty strings (for `acd check`).
    """
    path = Path(path)
    try:
        node = load_file(path)
    except SourceError as exc:
        raise ConfigError([exc]) from None
    if node is None:
        node = LocatedDict()
        node.position, node.key_positions = Position(str(path), 1, 1), {}
    if not isinstance(node, LocatedDict):
        raise ConfigError([SourceError(Position(str(path), 1, 1),
                                       "the configuration must be a mapping of sections")])
    errors: list[SourceError] = []
    config = build_dataclass(Config, node, "", errors, skip={"source", "base_dir"})
    config = dataclasses.replace(config, source=str(path),
                                 base_dir=str(path.resolve().parent))
    _check_values(config, node, errors)
    if allow_missing_env:
        errors = [e for e in errors if not isinstance(e, MissingEnvironment)]
    if errors:
        raise ConfigError(errors)
    return config


def _check_values(config: Config, node: LocatedDict, errors: list[SourceError]) -> None:
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(SourceError(node.pos("timezone"),
                                  f"unknown timezone {config.timezone!r} (e.g. Asia/Shanghai)"))
    for section, port in (("ami", config.ami.port), ("agi", config.agi.port),
                          ("http", config.http.port), ("redis", config.redis.port)):
        if port is not None and not 0 < port < 65536:
            sub = node.get(section)
            pos = sub.pos("port") if isinstance(sub, LocatedDict) else node.pos(section)
            errors.append(SourceError(pos, f"{section}.port {port} is not a TCP port (1-65535)"))
    if config.recording.format not in ("wav", "mp3"):
        sub = node.get("recording")
        errors.append(SourceError(sub.pos("format") if isinstance(sub, LocatedDict) else None,
                                  f"recording.format {config.recording.format!r}: wav or mp3"))
    for role in config.privacy.full_numbers_for:
        if role not in ("agent", "supervisor", "admin"):
            sub = node.get("privacy")
            errors.append(SourceError(
                sub.pos("full_numbers_for") if isinstance(sub, LocatedDict) else node.pos(),
                f"privacy.full_numbers_for: {role!r} is not a role (agent, supervisor, admin)"))
    check_console(config.console, node, errors)
    admission = node.get("admission")
    for key, message in config.admission.problems():
        pos = admission.pos(key) if isinstance(admission, LocatedDict) and key in admission \
            else node.pos()
        errors.append(SourceError(pos, f"admission.{key}: {message}"))
    metrics = node.get("metrics")
    for key, message in config.metrics.problems():
        errors.append(SourceError(metrics.pos(key) if isinstance(metrics, LocatedDict)
                                  and key in metrics else node.pos(), f"metrics.{key}: {message}"))
    limit = config.ivr.max_seconds_to_agent
    if not 0 <= limit < float("inf"):
        sub = node.get("ivr")
        errors.append(SourceError(
            sub.pos("max_seconds_to_agent") if isinstance(sub, LocatedDict) else node.pos(),
            f"ivr.max_seconds_to_agent {limit:g}: seconds, 0 or more (0: no warning)"))
    lease = config.cluster.lease_seconds
    if not 0.2 <= lease <= 60:
        sub = node.get("cluster")
        errors.append(SourceError(
            sub.pos("lease_seconds") if isinstance(sub, LocatedDict) else node.pos(),
            f"cluster.lease_seconds {lease:g}: seconds between 0.2 and 60 (how long a "
            "standby acd waits for a dead one)"))
    if config.cluster.mode not in ("standby", "active"):
        sub = node.get("cluster")
        errors.append(SourceError(
            sub.pos("mode") if isinstance(sub, LocatedDict) and "mode" in sub else node.pos(),
            f"cluster.mode {config.cluster.mode!r}: standby (one acd serves, the others wait) "
            "or active (every acd serves calls, one leads the routing core)"))
    numbers = node.get("numbers")
    for number in config.numbers:
        if not number.isdigit():
            pos = numbers.pos(number) if isinstance(numbers, LocatedDict) else node.pos()
            errors.append(SourceError(pos, f"numbers: {number!r} is not a dialled number "
                                           "(digits only, e.g. '4008001234')"))
    errors.extend(history_problems(config.history, node.get("history"), node.pos()))
    load_webhooks(config.webhooks, node.pos(), errors)  # (errors only: app.py reads them)
    if config.clock.start_at:
        from datetime import datetime

        try:
            datetime.fromisoformat(config.clock.start_at)
        except ValueError:
            errors.append(SourceError(node.pos("clock"),
                                      f"clock.start_at {config.clock.start_at!r} is not an "
                                      "ISO time such as 2026-10-01T10:00:00"))
