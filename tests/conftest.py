"""Fixtures: every database test runs on SQLite and on PostgreSQL (a fresh database per run).

PostgreSQL is found at ``LRS_TEST_POSTGRES_URL`` (default: the local server, user postgres).
When it is unreachable the Postgres half is skipped locally and fails on CI (``CI=true``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from lrs.app import create_app
from lrs.config import Settings
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database
from lrs.store.maintenance import truncate_all

PG_ADMIN_DSN = os.environ.get(
    "LRS_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = os.environ.get("LRS_TEST_BACKENDS", "sqlite,postgres").split(",")


async def _pg_available() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return str(exc)
    await conn.close()
    return None


@dataclass
class Backend:
    name: str
    url: str


@pytest.fixture(scope="session")
async def backend_factory(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[object]:
    """Creates fresh empty databases of either kind; drops the Postgres ones at the end."""
    created: list[str] = []

    async def make(kind: str) -> Backend:
        if kind == "sqlite":
            path: Path = tmp_path_factory.mktemp("sqlite") / "lrs.db"
            return Backend("sqlite", f"sqlite+aiosqlite:///{path}")
        problem = await _pg_available()
        if problem is not None:
            message = f"PostgreSQL is unreachable at {PG_ADMIN_DSN}: {problem}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        name = f"lrs_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        created.append(name)
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return Backend("postgres", f"{base}/{name}")

    yield make
    if created:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def migrated_db(
    request: pytest.FixtureRequest, backend_factory: object
) -> AsyncIterator[Database]:
    """One migrated database per backend for the whole run."""
    backend = await backend_factory(request.param)  # type: ignore[operator]
    db = Database.from_url(backend.url, pool_size=5)
    await migrate.upgrade(db.engine)
    yield db
    await db.dispose()


@pytest.fixture
async def db(migrated_db: Database) -> Database:
    """The backend's database, emptied before the test."""
    await truncate_all(migrated_db)
    return migrated_db


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, auto_migrate=False, public_url="")


@pytest.fixture
async def app(db: Database, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def credential(services: Services) -> tuple[str, str]:
    """A key/secret with scope 'all'."""
    created = await services.credentials.create("tests", "all")
    return created.key, created.secret


@pytest.fixture
def xapi(credential: tuple[str, str]) -> dict[str, str]:
    """Headers of an authenticated 2.0.0 request."""
    import base64

    token = base64.b64encode(f"{credential[0]}:{credential[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}
