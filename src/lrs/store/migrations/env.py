"""Alembic environment (async). Runs on a connection handed in by :mod:`lrs.store.migrate`,
or, from the ``alembic`` command line, on an engine built from ``LRS_DATABASE_URL``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from lrs.config import Settings
from lrs.store.database import make_engine
from lrs.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    engine = make_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run against a database.")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async())
