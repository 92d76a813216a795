"""Whole-database operations: emptying the tables (tests, `lrs demo --reset`), drift checks."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection as SyncConnection

from lrs.store.database import Database
from lrs.store.tables import metadata


async def truncate_all(db: Database) -> None:
    """Delete every row of every table (the schema stays)."""

    async def work(conn: Any) -> None:
        if db.is_sqlite:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(delete(table))
        else:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

    await db.write(work)


def _diff(conn: SyncConnection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def schema_drift(db: Database) -> list[Any]:
    """Differences between the migrated database and :mod:`lrs.store.tables` (empty: none)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_diff)
