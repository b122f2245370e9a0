"""The history database: one code path for SQLite (the default, a file under var/) and
PostgreSQL (several acd processes), through SQLAlchemy Core.

Rows are upserted (each dialect's INSERT ... ON CONFLICT DO UPDATE): an entry applied
twice, or by two writers, leaves one row. A call's row is only replaced by a later
history entry (`calls.revision`), so a record's close applied after its amendment
does not undo it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, delete, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from acd.history import agent_rollup, departures, rollup, schema
from acd.history.migrations import MIGRATIONS, Migration, migrate
from acd.history.rows import Batch, Row
from acd.history.writer import BadRows

log = logging.getLogger(__name__)

#: what each kind of data is dated by, for the retention purge
DATED_BY = {"calls": schema.calls.c.arrived_at,
            "ring_attempts": schema.ring_attempts.c.started_at,
            "survey_answers": schema.survey_answers.c.answered_at,
            "agent_events": schema.agent_events.c.at}
#: rows deleted per statement by the purge: each delete is short, calls go on
PURGE_BATCH = 5000


def sqlite_file(url: str) -> Path | None:
    """The SQLite database's file (None: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe(url: str) -> str:
    """The URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


class HistoryDatabase:
    """The history's SQL side: open (migrating the schema), apply batches, purge."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = describe(url)
        self.dialect = make_url(url).get_backend_name()
        self._engine: AsyncEngine | None = None
        self._ready = False

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> AsyncEngine:
        if self.dialect == "sqlite":
            path = sqlite_file(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self.url, connect_args={"timeout": 15})
            _sqlite_transactions(engine)
            return engine
        return create_async_engine(self.url, pool_pre_ping=True, pool_size=2,
                                   connect_args={"timeout": 5})

    async def open(self, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
        """Create or upgrade the schema (one transaction); the schema's version."""
        async with self.engine.begin() as conn:
            version = await migrate(conn, migrations)
        self._ready = True
        log.info("history database %s ready (schema version %d)", self.where, version)
        return version

    async def apply(self, batch: Batch) -> None:
        """Write a batch in one transaction: all of it or nothing."""
        if batch.empty:
            return
        if not self._ready:  # away when acd started: the schema is checked first
            await self.open()
        try:
            await self._apply(batch)
        except (DataError, IntegrityError) as exc:  # the rows, not the database
            raise BadRows(str(exc).splitlines()[0]) from exc

    async def _apply(self, batch: Batch) -> None:
        async with self.engine.begin() as conn:
            # the roll-up's slots of these calls, where they were and where they are now
            slots = await rollup.slots_stored(conn, list(batch.calls))
            slots |= rollup.slots_of(batch.calls.values())
            # and the agents' roll-up's, of these calls and rings (the agent may change)
            touched = {*batch.calls, *(r["call_id"] for r in batch.ring_attempts.values())}
            agent_slots = await agent_rollup.slots_stored(conn, touched)
            agent_slots |= agent_rollup.slots_of(batch.calls.values(),
                                                 batch.ring_attempts.values())
            await self._upsert(conn, schema.calls, list(batch.calls.values()),
                               ("call_id",), newer_only=True)
            await departures.derive(conn, list(batch.calls))
            await rollup.refresh(conn, slots)
            await self._upsert(conn, schema.ring_attempts,
                               list(batch.ring_attempts.values()), ("call_id", "attempt"))
            await self._upsert(conn, schema.survey_answers,
                               list(batch.survey_answers.values()), ("call_id", "question"))
            await self._upsert(conn, schema.agent_events, list(batch.agent_events.values()),
                               ("agent", "at", "state"))
            await agent_rollup.refresh(conn, agent_slots)

    async def _upsert(self, conn: AsyncConnection, table: Table, rows: list[Row],
                      keys: tuple[str, ...], *, newer_only: bool = False) -> None:
        if not rows:
            return
        rows = _clamped(table, rows)
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(table)
        updated = {c.name: stmt.excluded[c.name] for c in table.columns
                   if c.name not in keys and not c.primary_key}
        where = table.c.revision <= stmt.excluded.revision if newer_only else None
        await conn.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                                      set_=updated, where=where), rows)

    async def purge(self, older_than: Mapping[str, float]) -> dict[str, int]:
        """Delete rows dated before each kind's limit (kind -> epoch seconds), a bounded
        number per transaction; rows deleted by kind."""
        removed: dict[str, int] = {}
        for kind, before in older_than.items():
            column = DATED_BY[kind]
            table = column.table
            key = list(table.primary_key.columns)[0]  # (a call's rows go by its id)
            async with self.engine.connect() as conn:  # where the purge starts
                oldest = (await conn.execute(select(func.min(column)).where(
                    column < before))).scalar()
            total = 0
            while True:
                picked = select(key).where(column < before).limit(PURGE_BATCH)
                async with self.engine.begin() as conn:
                    result = await conn.execute(
                        delete(table).where(key.in_(picked.scalar_subquery()),
                                            column < before))
                count = int(getattr(result, "rowcount", 0) or 0)
                total += count
                if count == 0:
                    break
            removed[kind] = total
            if kind == "calls":  # the roll-up of what is left (a slot cut in two)
                async with self.engine.begin() as conn:
                    await rollup.forget_before(conn, before)
            if kind in ("calls", "ring_attempts") and oldest is not None:
                async with self.engine.begin() as conn:  # the agents' roll-up of what is left
                    await agent_rollup.forget_between(conn, float(oldest), before)
        return removed

    async def count(self, table: Table, **where: Any) -> int:
        """Rows of `table` matching `where` (tests, the bench)."""
        stmt = select(func.count()).select_from(table)
        for name, value in where.items():
            stmt = stmt.where(table.c[name] == value)
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def _clamped(table: Table, rows: list[Row]) -> list[Row]:
    """Text cut to its column's length: PostgreSQL refuses a longer value (SQLite would
    take it), and one odd caller id must not stop the history."""
    limits = {c.name: c.type.length for c in table.columns
              if isinstance(c.type, String) and c.type.length}
    return [{k: v[:limits[k]] if k in limits and isinstance(v, str) else v
             for k, v in row.items()} for row in rows]


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLite as a real transactional database: Python's sqlite3 would commit DDL on its
    own (a failed migration half-applied) and begins transactions lazily; WAL lets the
    reports read while the writer writes."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
