"""The history database as the reports open it: its URL from the config, its tables.

The history writer owns the database (its config section, its migrations); until
that is wired, reports open it here, in two small functions meant to be swapped:
`history_url` (config `history.url`, default a SQLite file under var/) and
`create_tables` (the schema as it is today, on an empty database).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.config.settings import Config
from acd.history.schema import metadata

DEFAULT_URL = "sqlite+aiosqlite:///var/history.db"


def history_url(config: Config) -> str:
    """config `history.url` when the config has that section, else DEFAULT_URL; a
    relative SQLite path is taken from the config file's folder, like other paths."""
    section = getattr(config, "history", None)
    url = make_url(str(getattr(section, "url", "") or DEFAULT_URL))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(config.path(url.database)))
    return url.render_as_string(hide_password=False)


def open_history(url: str) -> AsyncEngine:
    """An engine for `url` (sqlite+aiosqlite:///FILE or postgresql+asyncpg://...)."""
    return create_async_engine(url)


def missing_file(url: str) -> Path | None:
    """The SQLite file `url` names when there is none (SQLite would make an empty one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(str(parsed.database))
    return None if path.exists() else path


#: Covering indexes for the queue and agent reports: the database reads a narrow index
#: instead of every wide row of the month (SQLite, a million calls: the queue report's
#: statement 4.6 s -> 1.4 s; docs/benchmarks.md). Not in acd/history/schema.py: a
#: proposal for the history's migrations; bench/bench_reports.py times both.
REPORT_INDEXES = (
    "CREATE INDEX IF NOT EXISTS calls_report ON calls (arrived_at, queue, agent, "
    "answered_at, outcome, wait_seconds, talk_seconds, hold_seconds, wrap_up_seconds, "
    "callback, transfer)",
    "CREATE INDEX IF NOT EXISTS ring_attempts_report ON ring_attempts (started_at, agent, "
    "queue, result, ended_at)",
)


async def create_report_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for statement in REPORT_INDEXES:
            await conn.execute(text(statement))


async def create_tables(engine: AsyncEngine) -> None:
    """The history's tables where they are missing (the writer's migrations replace this)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
