"""Analytics fixtures: generator statements (voided ones, outcome statements and re-sent
duplicates included) stored through the statements service, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from analytics_support import CONFIG, EXTRA, store_statements

from lrs.auth.principal import Principal
from lrs.generator import generate
from lrs.services.container import Services


@pytest.fixture
async def principal(services: Services) -> Principal:
    created = await services.credentials.create("analytics-tests", "all")
    return await services.credentials.authenticate(created.key, created.secret)


@pytest.fixture
async def loaded(services: Services, principal: Principal) -> list[dict[str, Any]]:
    """The generator data set plus the hand-made statements, stored; returns what was sent."""
    statements = [*generate(CONFIG), *EXTRA]
    await store_statements(services, principal, statements)
    return statements


@pytest.fixture
def warehouse_path(services: Services) -> Path:
    return services.analytics.warehouse_path
