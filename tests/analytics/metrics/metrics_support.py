"""Helpers of the metric tests: a warehouse snapshot built from generator data.

The metrics read only the warehouse, and the store-to-warehouse path is tested on both
databases by the warehouse tests; so metric data sets go through the real path (statements
service -> SQLite store -> sync -> published snapshot) once per data set and are shared by the
tests that use the same configuration.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from analytics_support import store_statements

from analytics.snapshot import snapshot_path
from lrs.config import Settings
from lrs.generator import GeneratorConfig, generate, roster
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database


async def build_services(directory: Path) -> tuple[Services, Database]:
    """Services over a fresh, migrated SQLite store in ``directory``."""
    settings = Settings(data_dir=directory, auto_migrate=False, public_url="")
    db = Database.from_url(f"sqlite+aiosqlite:///{directory / 'lrs.db'}")
    await migrate.upgrade(db.engine)
    return Services.build(settings, db), db


async def build_warehouse(
    directory: Path,
    config: GeneratorConfig,
    *,
    extra: Sequence[dict[str, Any]] = (),
    with_roster: bool = True,
    outcomes: Sequence[dict[str, Any]] = (),
) -> Path:
    """Store ``config``'s statements (plus ``extra``), upload its roster (and ``outcomes``),
    sync, and return the path of the published snapshot."""
    services, db = await build_services(directory)
    try:
        created = await services.credentials.create("metrics-tests", "all")
        principal = await services.credentials.authenticate(created.key, created.secret)
        await store_statements(services, principal, [*generate(config), *extra])
        if with_roster:
            body = json.dumps(roster(config), default=str).encode()
            await services.analytics.upload_roster(body, "application/json", principal=principal)
        if outcomes:
            body = json.dumps(list(outcomes), default=str).encode()
            await services.analytics.upload_outcomes(body, "application/json", principal=principal)
        await services.analytics.sync()
        path = snapshot_path(services.analytics.warehouse_path)
        assert path is not None
        return path
    finally:
        await db.dispose()


def warehouse_settings(directory: Path, warehouse: Path) -> Settings:
    """Settings of an app (the HTTP tests' ``settings`` fixture) that reads ``warehouse``."""
    return Settings(data_dir=directory, auto_migrate=False, public_url="", analytics_path=warehouse)


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a snapshot, in UTC, as the endpoints get it."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
