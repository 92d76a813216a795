"""Analytics metrics use case: run a metric over the newest warehouse snapshot.

The metric modules (:mod:`analytics.metrics`) are pure functions of a DuckDB cursor; this
service checks the ``analytics/read`` scope, then runs the function in a worker thread on a
cursor of the newest published snapshot (:mod:`analytics.snapshot`), so a running sync never
blocks a metric and the event loop never blocks on DuckDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import duckdb

from analytics.snapshot import SnapshotReader
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.config import Settings

T = TypeVar("T")


class MetricsService:
    def __init__(self, settings: Settings) -> None:
        self.reader = SnapshotReader(settings.resolved_analytics_path)

    async def run(
        self, principal: Principal | None, fn: Callable[[duckdb.DuckDBPyConnection], T]
    ) -> T:
        """``fn(cursor)`` on the newest snapshot; ``principal`` None is the local operator."""
        if principal is not None:
            principal.require(Permission.ANALYTICS_READ)
        return await asyncio.to_thread(self.reader.run, fn)

    def close(self) -> None:
        self.reader.close()
