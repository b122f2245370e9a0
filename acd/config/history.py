"""config.yaml's `history:` section: where the call history's database is, and how long
each kind of data is kept (acd.history).

The URL's password never sits in the repository: it comes from the environment,
either the whole URL (`url_env: ACD_HISTORY_URL`) or its secret part
(`url: postgresql+asyncpg://acd:${ACD_HISTORY_PASSWORD}@db/acd`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from acd.yamlsource import LocatedDict, Position, SourceError

DEFAULT_URL = "sqlite+aiosqlite:///var/history.db"
DRIVERS = {"sqlite+aiosqlite": "SQLite", "postgresql+asyncpg": "PostgreSQL"}


@dataclass(frozen=True)
class HistoryRetention:
    """Days each kind of history is kept (0: for ever)."""

    calls: int = 400
    ring_attempts: int = 400
    survey_answers: int = 400
    agent_events: int = 400

    def days(self) -> dict[str, int]:
        return {"calls": self.calls, "ring_attempts": self.ring_attempts,
                "survey_answers": self.survey_answers, "agent_events": self.agent_events}


@dataclass(frozen=True)
class HistoryConfig:
    #: false: no history at all (no stream entries, no writer)
    enabled: bool = True
    #: SQLAlchemy async URL; a relative SQLite path is under the config file's folder
    url: str = field(default=DEFAULT_URL, repr=False)
    #: the name of an environment variable holding the whole URL (wins over `url`)
    url_env: str = ""
    retention: HistoryRetention = field(default_factory=HistoryRetention)
    #: how long a closed record stays in Redis (the API's recent calls); the history
    #: keeps it for `retention.calls` days
    redis_records_days: int = 7
    #: entries written to the database per transaction
    batch_size: int = 500

    def database_url(self, base_dir: str | Path) -> str:
        """The URL to connect to: from the environment if so configured, a relative
        SQLite file made absolute."""
        url = os.environ.get(self.url_env, "") if self.url_env else self.url
        url = url or DEFAULT_URL
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and \
                url != prefix + ":memory:":
            return prefix + str(Path(base_dir) / url[len(prefix):])
        return url


def history_problems(config: HistoryConfig, node: object,
                     root: Position | None) -> list[SourceError]:
    """What is wrong with the section, each at its file:line."""
    section = node if isinstance(node, LocatedDict) else None

    def at(key: str) -> Position | None:
        return section.pos(key) if section is not None and key in section else \
            (section.pos() if section is not None else root)

    problems: list[SourceError] = []
    raw_url = section.get("url") if section is not None else None
    if isinstance(raw_url, str) and "${" not in raw_url and _has_password(raw_url):
        problems.append(SourceError(at("url"), "history.url: the password must not be "
                                    "written in config.yaml; write ${ACD_HISTORY_PASSWORD} "
                                    "in its place and export that variable, or use url_env"))
    url = config.url
    if config.url_env:
        url = os.environ.get(config.url_env, "")
        if not url and config.enabled:
            from acd.config.settings import MissingEnvironment  # (it imports this module)

            problems.append(MissingEnvironment(at("url_env"), f"history.url_env: environment "
                                        f"variable {config.url_env} is not set: export it "
                                        "(e.g. postgresql+asyncpg://acd:...@127.0.0.1/acd)"))
    driver = url.split("://", 1)[0] if "://" in url else ""
    if url and driver not in DRIVERS:
        problems.append(SourceError(at("url"), f"history.url: {driver or url!r} is not a "
                                    "supported database: sqlite+aiosqlite:///var/history.db "
                                    "or postgresql+asyncpg://user@host/database"))
    for kind, days in config.retention.days().items():
        if days < 0:
            retention = section.get("retention") if section is not None else None
            pos = retention.pos(kind) if isinstance(retention, LocatedDict) and \
                kind in retention else at("retention")
            problems.append(SourceError(pos, f"history.retention.{kind} {days}: days, 0 or "
                                             "more (0: keep for ever)"))
    if config.redis_records_days < 1:
        problems.append(SourceError(at("redis_records_days"), "history.redis_records_days: "
                                    "at least 1 day (closed records the API lists)"))
    if not 1 <= config.batch_size <= 10_000:
        problems.append(SourceError(at("batch_size"),
                                    "history.batch_size: between 1 and 10000"))
    return problems


def _has_password(url: str) -> bool:
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    credentials = authority.rpartition("@")[0]
    return ":" in credentials and bool(credentials.split(":", 1)[1])
