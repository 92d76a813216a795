"""The warehouse's SQL helpers against their Python definitions, the PostgreSQL views, and the
server's periodic background sync."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from analytics_support import connect

from analytics.lock import WarehouseLock
from analytics.warehouse.schema import MACROS
from lrs.app import create_app
from lrs.config import Settings
from lrs.generator import learner_key
from lrs.services.container import Services
from lrs.store.database import Database
from lrs.xapi.ifi import agent_key


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for macro in MACROS:
        c.execute(macro)
    return c


@pytest.mark.parametrize(
    "agent",
    [
        {"mbox": "mailto:Someone@Example.COM"},
        {"mbox": "MAILTO:a@b.c"},
        {"mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01"},
        {"openid": "https://openid.example.com/Someone"},
        {"account": {"homePage": "https://hr.example.com", "name": "E100001"}},
        {"account": {"homePage": "http://[::1]:8000/x", "name": "a::b@c"}},
        {"account": {"homePage": "https://h.example.com", "name": ""}},
    ],
)
def test_store_keys_become_learner_keys(con: duckdb.DuckDBPyConnection, agent: Any) -> None:
    """The authority key is derived from the store's agent key (lrs.xapi.ifi); it must equal
    the learner key computed from the agent itself."""
    got = con.execute(
        "SELECT lrs_from_store_key(?), lrs_learner_key(?, ?, ?, ?, ?)",
        [
            agent_key(agent),
            agent.get("mbox"),
            agent.get("mbox_sha1sum"),
            agent.get("openid"),
            (agent.get("account") or {}).get("homePage"),
            (agent.get("account") or {}).get("name"),
        ],
    ).fetchall()[0]
    assert got[0] == got[1]
    if "mbox" in agent and agent["mbox"].startswith("mailto:"):
        assert got[1] == learner_key(agent)  # the generator's (and roster's) definition


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("PT27M32.69S", 1652.69),
        ("PT1H", 3600.0),
        ("P1DT2H3M4.5S", 93784.5),
        ("P2W", 1209600.0),
        ("P1M", 2592000.0),
        ("PT0S", 0.0),
        ("P", None),
        ("nonsense", None),
        (None, None),
    ],
)
def test_durations(con: duckdb.DuckDBPyConnection, duration: str | None, seconds: Any) -> None:
    assert con.execute("SELECT lrs_duration(?)", [duration]).fetchall() == [(seconds,)]


def test_language_maps_and_hashing(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(
        "SELECT lrs_lang(?), lrs_lang(?), lrs_lang(NULL), lrs_hash_key(?), lrs_hash_key(?)",
        [
            '{"fr": "un", "en-US": "one"}',
            '{"fr": "un", "de": "eins"}',
            "mbox::mailto:a@b.c",
            "account::x@https://h",
        ],
    ).fetchall() == [
        (
            "one",
            "eins",
            None,
            "mbox_sha1sum::05d8abb62a44a0ac90cd18c20272d790d86facb5",
            "account::x@https://h",
        )
    ]


async def test_postgres_views_flatten_like_the_warehouse(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    if services.db.is_sqlite:
        pytest.skip("the analytics views exist on PostgreSQL only")
    await services.analytics.sync()
    columns = (
        "statement_id, seq, epoch_us(event_time), epoch_us(stored_time), actor_type, actor_key, "
        "actor_name, verb_id, verb_display, object_type, object_id, activity_type, object_name, "
        "score_scaled, score_raw, score_min, score_max, success, completion, duration_seconds, "
        "registration, parent_id, grouping_id, platform, language, authority_key, "
        "authority_name, version"
    )
    pg_columns = columns.replace(
        "epoch_us(event_time)", "(extract(epoch FROM event_time) * 1e6)::bigint"
    ).replace("epoch_us(stored_time)", "(extract(epoch FROM stored_time) * 1e6)::bigint")
    async with services.db.read() as conn:
        result = await conn.exec_driver_sql(
            f"SELECT {pg_columns} FROM analytics_statement ORDER BY statement_id"
        )
        view = [tuple(r) for r in result]
        result = await conn.exec_driver_sql(
            "SELECT statement_id, usage, position, activity_id "
            "FROM analytics_statement_context_activity ORDER BY 1, 2, 3"
        )
        view_context = [tuple(r) for r in result]
    warehouse = connect(warehouse_path)
    table = warehouse.execute(f"SELECT {columns} FROM statement ORDER BY statement_id").fetchall()
    context = warehouse.execute(
        "SELECT statement_id, usage, position, activity_id FROM statement_context_activity "
        "ORDER BY 1, 2, 3"
    ).fetchall()
    warehouse.close()
    assert len(view) == len(table) > 0
    for mine, theirs in zip(view, table, strict=True):
        assert mine == pytest.approx(theirs), mine[0]
    assert view_context == context


async def test_the_server_syncs_in_the_background_when_asked(
    db: Database, tmp_path: Path, loaded: list[dict[str, Any]]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "background", auto_migrate=False, analytics_sync_interval=0.2
    )
    application = create_app(settings, database=db)
    async with application.router.lifespan_context(application):
        services: Services = application.state.services
        path = services.analytics.warehouse_path
        lock = WarehouseLock(path)
        count = 0
        for _ in range(100):
            await asyncio.sleep(0.1)
            # Read only between syncs: the lock is the warehouse's single-writer protocol.
            if not path.exists() or not lock.try_acquire():
                continue
            try:
                con = connect(path)
                done = con.execute("SELECT last_sync_finished_us FROM sync_state").fetchall()
                count = con.execute("SELECT count(*) FROM statement").fetchall()[0][0]
                con.close()
            finally:
                lock.release()
            if done and done[0][0]:
                break
        else:
            pytest.fail("no background sync finished within 10 s")
        assert count > 0
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
