"""Helpers of the analytics tests: the data set, warehouse readers."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from analytics.warehouse import BI_TABLES
from analytics.warehouse.schema import MACROS
from lrs.auth.principal import Principal
from lrs.generator import GeneratorConfig, batches
from lrs.services.container import Services
from lrs.xapi.versions import XapiVersion

# Small, but with every kind of row: 30 % of sessions send a statement voided later, 10 % of
# statements are re-sent (same id and content), sales people close deals (outcome statements).
CONFIG = GeneratorConfig(seed=8, learners=10, void_rate=0.3, duplicate_rate=0.1)

# Hand-made statements for what the generator never sends.
EXTRA: list[dict[str, Any]] = [
    {
        # A team's key-result check-in: a Group actor, score.raw about a key-result activity.
        "id": "00000000-0000-4000-8000-000000000001",
        "actor": {
            "objectType": "Group",
            "name": "Sales East",
            "account": {"homePage": "https://hr.example.com", "name": "team-sales-east"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "id": "https://example.com/okr/2024-q3/kr-1",
            "definition": {
                "type": "https://example.com/xapi/activity-types/key-result",
                "name": {"en-US": "Pipeline coverage 3x"},
            },
        },
        "result": {"score": {"raw": 2.5}},
        "timestamp": "2024-09-30T12:00:00Z",
    },
    {
        # A learner's key-result check-in, an upper-case mbox domain, a day-long duration.
        "id": "00000000-0000-4000-8000-000000000002",
        "actor": {"mbox": "mailto:Mixed.Case@Example.COM", "name": "Mixed Case"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "id": "https://example.com/okr/2024-q3/kr-2",
            "definition": {"type": "https://example.com/xapi/activity-types/key-result"},
        },
        "result": {"score": {"raw": 7.5, "min": 0, "max": 10}, "duration": "P1DT2H3M4.5S"},
        "timestamp": "2024-09-30T13:00:00Z",
    },
    {
        # The learner is the object (activity-streams assign); no en-US display.
        "id": "00000000-0000-4000-8000-000000000003",
        "actor": {"account": {"homePage": "https://lms.example.com", "name": "lnd-admin-1"}},
        "verb": {
            "id": "http://activitystrea.ms/assign",
            "display": {"fr-FR": "assigné", "de-DE": "zugewiesen"},
        },
        "object": {"objectType": "Agent", "mbox": "mailto:New.Person@EXAMPLE.org"},
        "context": {
            "contextActivities": {
                "parent": [{"id": "https://example.com/programs/onboarding"}],
                "other": [{"id": "https://example.com/a"}, {"id": "https://example.com/b"}],
            }
        },
        "timestamp": "2024-10-01T09:00:00Z",
    },
    {
        # A sale whose monetary value is an object with its currency.
        "id": "00000000-0000-4000-8000-000000000004",
        "actor": {"mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "name": "Hashed"},
        "verb": {"id": "http://id.tincanapi.com/verb/closed-sale"},
        "object": {"id": "https://example.com/crm/deals/special"},
        "result": {
            "extensions": {
                "http://id.tincanapi.com/extension/monetary-value": {
                    "amount": 12.5,
                    "currency": "EUR",
                }
            }
        },
        "timestamp": "2024-10-02T09:00:00Z",
    },
    {
        # A SubStatement object.
        "id": "00000000-0000-4000-8000-000000000005",
        "actor": {"openid": "https://openid.example.com/u/1"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/planned", "display": {"en-US": "planned"}},
        "object": {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:someone@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://example.com/courses/x"},
        },
        "timestamp": "2024-10-03T09:00:00Z",
    },
]


def basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def store_statements(
    services: Services, principal: Principal, statements: Sequence[dict[str, Any]]
) -> None:
    for batch in batches(statements, 300):
        await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    for macro in MACROS:
        con.execute(macro)
    return con


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every BI table and the metrics' ``learner_scope`` facts, sorted, times as microseconds
    (comparable without time zones; lists of times as text in UTC)."""
    con = connect(path)
    try:
        out = {}
        for table, columns in BI_TABLES.items():
            select = ", ".join(
                f"epoch_us({name})" if kind == "TIMESTAMPTZ" else name for name, kind in columns
            )
            out[table] = sorted(con.execute(f"SELECT {select} FROM {table}").fetchall(), key=repr)
        facts = con.execute("DESCRIBE learner_scope").fetchall()
        select = ", ".join(
            f"epoch_us({name})" if kind == "TIMESTAMP WITH TIME ZONE" else f"{name}::VARCHAR"
            for name, kind, *_ in facts
        )
        out["learner_scope"] = sorted(
            con.execute(f"SELECT {select} FROM learner_scope").fetchall(), key=repr
        )
        return out
    finally:
        con.close()
