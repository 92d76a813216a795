"""Reads of the canonical Activity definitions (table ``activities``).

Rows are written at statement time by :mod:`lrs.store.statements`; the Activities Resource only
reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import activities


@dataclass(frozen=True)
class StoredActivity:
    definition: str | None
    """The canonical definition as JSON text; ``None`` when no statement carried one."""
    updated_us: int


async def get_activity(conn: AsyncConnection, activity_id: str) -> StoredActivity | None:
    result = await conn.execute(
        select(activities.c.definition, activities.c.updated_us).where(
            activities.c.activity_id == activity_id
        )
    )
    row = result.first()
    return None if row is None else StoredActivity(row.definition, row.updated_us)
