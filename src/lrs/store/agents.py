"""Reads of the Agents known from statements (tables ``agents`` and ``agent_names``).

Rows are written at statement time by :mod:`lrs.store.statements`; the Agents Resource only
reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import agent_names, agents


@dataclass(frozen=True)
class StoredAgent:
    ifi: str
    """The IFI as JSON text, e.g. ``{"mbox": "mailto:a@example.com"}``."""
    names: list[str]
    """Every name statements gave this Agent, in name order."""


async def get_agent(conn: AsyncConnection, agent_key: str) -> StoredAgent | None:
    row = (await conn.execute(select(agents.c.ifi).where(agents.c.agent_key == agent_key))).first()
    if row is None:
        return None
    names = await conn.execute(
        select(agent_names.c.name)
        .where(agent_names.c.agent_key == agent_key)
        .order_by(agent_names.c.name)
    )
    return StoredAgent(row.ifi, [name for (name,) in names])
