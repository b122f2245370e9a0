"""The history database as the reports open it: for reading, beside the history writer.

The writer (acd.history) owns the database: its URL (config `history:`), its schema
and migrations. Reports open their own engine on the same URL, with plain transactions
(the writer's SQLite engine begins each with BEGIN IMMEDIATE, a write lock a report
must not hold for seconds); in WAL mode, which the writer sets, a report reads while
the writer writes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.config.settings import Config
from acd.history.migrations import MIGRATIONS, migrate
from acd.history.store import sqlite_file


def history_url(config: Config) -> str:
    """The history database's URL, as the writer connects to it."""
    return config.history.database_url(config.base_dir)


def open_history(url: str) -> AsyncEngine:
    """An engine for `url` (sqlite+aiosqlite:///FILE or postgresql+asyncpg://...)."""
    return create_async_engine(url, connect_args={"timeout": 15})


def missing_file(url: str) -> Path | None:
    """The SQLite file `url` names when there is none (SQLite would make an empty one)."""
    path = sqlite_file(url)
    return path if path is not None and not path.exists() else None


async def create_tables(engine: AsyncEngine) -> None:
    """The history's tables at the current schema version (the writer's migrations): for
    tests and benches that fill a database themselves."""
    async with engine.begin() as conn:
        await migrate(conn, MIGRATIONS)
