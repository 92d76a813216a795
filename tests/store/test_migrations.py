"""The Alembic revisions build exactly the schema of lrs.store.tables, up and down, on both DBs."""

from __future__ import annotations

import pytest

from lrs.store import migrate
from lrs.store.database import Database
from lrs.store.maintenance import schema_drift


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_upgrade_to_head_and_back_to_base(kind: str, backend_factory: object) -> None:
    backend = await backend_factory(kind)  # type: ignore[operator]
    db = Database.from_url(backend.url)
    try:
        assert await migrate.current_revision(db.engine) is None
        await migrate.upgrade(db.engine)
        assert await migrate.current_revision(db.engine) == migrate.head_revision()
        assert await schema_drift(db) == []
        await migrate.downgrade(db.engine, "base")
        assert await migrate.current_revision(db.engine) is None
        # Nothing of ours is left behind: a second upgrade starts from an empty database.
        await migrate.upgrade(db.engine)
        assert await schema_drift(db) == []
    finally:
        await db.dispose()
