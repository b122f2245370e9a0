"""The history schema's versions: numbered steps, run in order at start-up inside the
caller's transaction, so an existing database is upgraded all at once or not at all.

Version 1 is the schema of acd.history.schema. A later change to the tables is a new
step appended here (ALTER TABLE ..., CREATE INDEX ...), never an edit of an old one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, insert, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.history import agent_rollup, rollup, schema

_versions_metadata = MetaData()
schema_version = Table("schema_version", _versions_metadata,
                       Column("version", Integer, nullable=False))


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    run: Callable[[AsyncConnection], Awaitable[None]]


async def _create_v1(conn: AsyncConnection) -> None:
    await conn.run_sync(schema.metadata.create_all)


#: (column, its DDL) added to calls by version 2; a database created at version 2 or
#: later has them from create_all already
_CALLS_V2 = (("direction", "VARCHAR(16) NOT NULL DEFAULT ''"),
             ("disposition", "VARCHAR(32) NOT NULL DEFAULT ''"),
             ("disposition_note", "TEXT NOT NULL DEFAULT ''"))


async def _calls_v2(conn: AsyncConnection) -> None:
    """An agent's own calls apart from offered ones; wrap-up dispositions."""
    existing = await conn.run_sync(
        lambda sync: {c["name"] for c in inspect(sync).get_columns("calls")})
    for name, ddl in _CALLS_V2:
        if name not in existing:
            await conn.execute(text(f"ALTER TABLE calls ADD COLUMN {name} {ddl}"))


#: indexes added by version 3 (a database created at version 3 has them already)
_INDEXES_V3 = ("calls_wait_arrived", "calls_report", "ring_attempts_report")


async def _rollup_v3(conn: AsyncConnection) -> None:
    """The queue report's roll-up and the calls' departures from queues, filled from
    the calls already kept; the reports' covering indexes."""
    def create(sync: Any) -> None:
        schema.queue_departures.create(sync, checkfirst=True)
        schema.queue_slots.create(sync, checkfirst=True)
        for table in (schema.calls, schema.ring_attempts):
            for index in table.indexes:
                if index.name in _INDEXES_V3:
                    index.create(sync, checkfirst=True)

    await conn.run_sync(create)
    await rollup.rebuild(conn)


async def _agent_rollup_v4(conn: AsyncConnection) -> None:
    """The agent report's roll-up, filled from the calls and rings already kept."""
    def create(sync: Any) -> None:
        schema.agent_slots.create(sync, checkfirst=True)  # with its index

    await conn.run_sync(create)
    await agent_rollup.rebuild(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "calls, ring attempts, survey answers, agent events", _create_v1),
    Migration(2, "calls: direction, disposition, disposition_note", _calls_v2),
    Migration(3, "queue_slots (the queue report's roll-up), queue_departures, the "
              "reports' indexes",
              _rollup_v3),
    Migration(4, "agent_slots (the agent report's roll-up)", _agent_rollup_v4),
)


async def current_version(conn: AsyncConnection) -> int:
    """0 for an empty database."""
    await conn.run_sync(_versions_metadata.create_all)
    found = (await conn.execute(select(schema_version.c.version))).scalar()
    return int(found or 0)


async def migrate(conn: AsyncConnection, migrations: tuple[Migration, ...]) -> int:
    """Run the steps the database lacks; its version after them. A database newer than
    this acd (a downgrade) is refused rather than written to."""
    version = await current_version(conn)
    latest = max((m.version for m in migrations), default=0)
    if version > latest:
        raise RuntimeError(f"the history database is at schema version {version}, newer "
                           f"than this acd's {latest}: run the newer acd, or point "
                           "history.url at another database")
    for step in sorted(migrations, key=lambda m: m.version):
        if step.version <= version:
            continue
        await step.run(conn)
        if version == 0:
            await conn.execute(insert(schema_version).values(version=step.version))
        else:
            await conn.execute(update(schema_version).values(version=step.version))
        version = step.version
    return version
