"""The async engine and transaction helpers, one code path for PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from lrs.errors import ServiceUnavailable

log = logging.getLogger(__name__)

Connection = AsyncConnection
"""The connection type services hand to repositories (they never import SQLAlchemy)."""

T = TypeVar("T")

# Postgres: serialization_failure, deadlock_detected, unique_violation. SQLite: "database is
# locked", "UNIQUE constraint failed". A unique violation means a concurrent transaction
# committed the same key (e.g. two requests carrying the same new statement id) after this one
# looked for it: run again, the work then sees the committed row and answers as the rules say
# (an idempotent re-send, a 409 conflict, a precondition failure) instead of a 500.
_RETRY_SQLSTATES = {"40001", "40P01", "23505"}
_RETRY_MESSAGES = ("database is locked", "UNIQUE constraint failed")
_WRITE_OPTION = "lrs_write"


def _is_retryable(exc: BaseException) -> bool:
    """A transient conflict, from SQLAlchemy or from asyncpg used directly (the hot paths)."""
    orig = getattr(exc, "orig", None)
    sqlstate = (
        getattr(exc, "sqlstate", None)
        or getattr(orig, "sqlstate", None)
        or getattr(orig, "pgcode", None)
    )
    if sqlstate in _RETRY_SQLSTATES:
        return True
    message = str(exc)
    return any(text in message for text in _RETRY_MESSAGES)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Create the engine. SQLite gets WAL, foreign keys, and ``BEGIN IMMEDIATE`` for writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred only).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock up front, so two writers never deadlock on
        # a read-to-write lock upgrade (which busy_timeout cannot resolve).
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engine; hands out read connections and retried write transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite has one writer: queue writers in-process instead of spinning on busy_timeout.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(make_engine(url, pool_size=pool_size))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one read transaction (a consistent snapshot on Postgres)."""
        try:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
        except (OSError, ConnectionError) as exc:
            raise ServiceUnavailable(f"The database is unreachable: {exc}") from exc

    async def write(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 5
    ) -> T:
        """Run ``work`` in one transaction: all of it commits or none of it does.

        Serialization failures, deadlocks and unique violations (Postgres) or a locked database
        and unique violations (SQLite) are retried with backoff; ``work`` must therefore be safe
        to run again from the start (DESIGN.md principle 6: an expected conflict is never a 500).
        """
        for attempt in range(1, attempts + 1):
            try:
                if self._write_lock is not None:
                    async with self._write_lock:
                        return await self._write_once(work)
                return await self._write_once(work)
            except (OSError, ConnectionError) as exc:
                raise ServiceUnavailable(f"The database is unreachable: {exc}") from exc
            except Exception as exc:
                # SQLAlchemy's errors, and asyncpg's own from the hot paths that use it directly.
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.info("retrying a write transaction after %s (attempt %d)", exc, attempt)
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write_once(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.execution_options(**{_WRITE_OPTION: True})
            async with conn.begin():
                return await work(conn)

    async def ping(self) -> None:
        """Raise ServiceUnavailable when the database does not answer."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable(f"The database is unreachable: {exc}") from exc

    async def dispose(self) -> None:
        await self.engine.dispose()
