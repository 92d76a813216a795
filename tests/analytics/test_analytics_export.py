"""Exports for BI tools (ANALYTICS.md section 6): Parquet, CSV and DuckDB snapshots with a
manifest; learner keys hashed unless asked; the HTTP download and the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from analytics_support import CONFIG, basic, store_statements
from typer.testing import CliRunner

from analytics.export import MANIFEST
from analytics.warehouse.schema import BI_TABLES, PARTITIONED, SCHEMA_VERSION
from lrs.auth.principal import Principal
from lrs.cli import app as cli
from lrs.errors import Forbidden, NotFound
from lrs.generator import roster
from lrs.services.container import Services

LEARNER = "mbox::mailto:Mixed.Case@example.com"


def hashed(key: str) -> str:
    return "mbox_sha1sum::" + hashlib.sha1(key.removeprefix("mbox::").encode()).hexdigest()  # noqa: S324


@pytest.fixture
async def synced(services: Services, loaded: list[dict[str, Any]]) -> Services:
    await services.analytics.upload_roster(orjson.dumps(roster(CONFIG)), "application/json")
    await services.analytics.sync()
    return services


def read_partitioned(path: Path) -> Any:
    return ds.dataset(path, format="parquet", partitioning="hive").to_table()


async def test_parquet_opens_in_duckdb_and_pyarrow_with_the_documented_columns(
    synced: Services, tmp_path: Path
) -> None:
    out = tmp_path / "bi"
    manifest = await synced.analytics.export(out, "parquet")
    assert manifest == json.loads((out / MANIFEST).read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["format"] == "parquet"
    assert manifest["emails"] == "hashed"
    assert manifest["high_water_mark"]["seq"] > 0
    assert manifest["as_of"].endswith("Z")
    assert set(manifest["tables"]) == set(BI_TABLES)
    con = duckdb.connect()
    for table, columns in BI_TABLES.items():
        entry = manifest["tables"][table]
        documented = [name for name, _ in columns]
        assert [c["name"] for c in entry["columns"]][: len(documented)] == documented
        assert entry["rows"] > 0, table
        if table in PARTITIONED:
            assert entry["path"] == f"{table}/"
            months = sorted(p.name for p in (out / table).iterdir())
            assert months
            assert all(m.startswith("event_month=20") for m in months)
            arrow = read_partitioned(out / table)
            glob = str(out / table / "**" / "*.parquet")
            duck = con.execute(
                f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
            ).fetchall()[0][0]
            assert set(arrow.column_names) == {*documented, "event_month"}
            first = next((out / table).rglob("*.parquet"))
        else:
            path = out / f"{table}.parquet"
            assert entry["path"] == path.name
            arrow = pq.read_table(path)
            duck = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
            assert arrow.column_names == documented
            first = path
        assert arrow.num_rows == duck == entry["rows"], table
        assert pq.ParquetFile(first).metadata.row_group(0).column(0).compression == "ZSTD"
    # The counts are those of the warehouse.
    assert (
        manifest["tables"]["statement"]["rows"]
        == (await synced.analytics.sync()).counts["statement"]
    )
    # Event months partition by the event time.
    month = con.execute(
        f"SELECT count(*) FROM read_parquet('{out}/statement/**/*.parquet', "
        "hive_partitioning = true) WHERE strftime(event_time, '%Y-%m') <> event_month"
    ).fetchall()
    assert month == [(0,)]


async def test_learner_keys_are_hashed_unless_asked_and_allowed(
    synced: Services, principal: Principal, tmp_path: Path
) -> None:
    await synced.analytics.export(tmp_path / "hashed", "parquet")
    keys = read_partitioned(tmp_path / "hashed" / "statement").column("actor_key").to_pylist()
    assert not any(k.startswith("mbox::") for k in keys if k)
    assert hashed(LEARNER) in keys
    roster_keys = pq.read_table(tmp_path / "hashed" / "roster.parquet").column("learner_key")
    assert all(not k.startswith("mbox::") for k in roster_keys.to_pylist())
    # The assign statement's object is a learner: hashed too.
    objects = read_partitioned(tmp_path / "hashed" / "statement").column("object_id").to_pylist()
    assert hashed("mbox::mailto:New.Person@example.org") in objects

    reader = await synced.credentials.create("bi", "analytics/read")
    bi = await synced.credentials.authenticate(reader.key, reader.secret)
    with pytest.raises(Forbidden, match="statements/read"):
        await synced.analytics.export(
            tmp_path / "clear", "parquet", clear_emails=True, principal=bi
        )
    manifest = await synced.analytics.export(
        tmp_path / "clear", "parquet", clear_emails=True, principal=principal
    )
    assert manifest["emails"] == "clear"
    keys = read_partitioned(tmp_path / "clear" / "statement").column("actor_key").to_pylist()
    assert LEARNER in keys


async def test_csv_and_duckdb_exports_match_their_manifests(
    synced: Services, tmp_path: Path
) -> None:
    csv_manifest = await synced.analytics.export(tmp_path / "csv", "csv")
    con = duckdb.connect()
    for table, entry in csv_manifest["tables"].items():
        path = tmp_path / "csv" / entry["path"]
        header = path.read_text().splitlines()[0].split(",")
        assert header == [name for name, _ in BI_TABLES[table]]
        rows = con.execute(f"SELECT count(*) FROM read_csv('{path}', header = true)").fetchall()
        assert rows == [(entry["rows"],)], table
    db_manifest = await synced.analytics.export(tmp_path / "db", "duckdb")
    snapshot = duckdb.connect(str(tmp_path / "db" / "lrs-analytics.duckdb"), read_only=True)
    for table, entry in db_manifest["tables"].items():
        assert snapshot.execute(f"SELECT count(*) FROM {table}").fetchall() == [(entry["rows"],)]
    assert {t: e["rows"] for t, e in db_manifest["tables"].items()} == {
        t: e["rows"] for t, e in csv_manifest["tables"].items()
    }


async def test_a_new_export_replaces_the_old_one_whole(
    synced: Services, principal: Principal, tmp_path: Path
) -> None:
    out = tmp_path / "bi"
    first = await synced.analytics.export(out, "parquet")
    target = read_partitioned(out / "statement").column("statement_id").to_pylist()[0]
    await store_statements(
        synced,
        principal,
        [
            {
                "actor": {"mbox": "mailto:admin@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": target},
            }
        ],
    )
    await synced.analytics.sync()
    second = await synced.analytics.export(out, "parquet")
    assert second["tables"]["statement"]["rows"] == first["tables"]["statement"]["rows"] - 1
    ids = read_partitioned(out / "statement").column("statement_id").to_pylist()
    assert len(ids) == second["tables"]["statement"]["rows"]
    assert target not in ids
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


async def test_export_without_a_warehouse_says_to_sync(services: Services, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="lrs analytics sync"):
        await services.analytics.export(tmp_path / "out", "parquet")


async def test_http_download_is_a_zip_of_the_export(
    client: httpx.AsyncClient, synced: Services
) -> None:
    reader = await synced.credentials.create("bi", "analytics/read")
    headers = basic(reader.key, reader.secret)
    response = await client.get("/analytics/export?format=parquet", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    manifest = json.loads(archive.read(MANIFEST))
    assert "actor.parquet" in names
    assert any(n.startswith("statement/event_month=") for n in names)
    assert manifest["emails"] == "hashed"
    statement_files = [n for n in names if n.startswith("statement/")]
    rows = sum(pq.read_table(io.BytesIO(archive.read(n))).num_rows for n in statement_files)
    assert rows == manifest["tables"]["statement"]["rows"]
    # The spool is cleaned up after the download.
    spool = synced.analytics.warehouse_path.parent / "downloads"
    assert list(spool.iterdir()) == []

    csv = await client.get("/analytics/export?format=csv&emails=hashed", headers=headers)
    assert csv.status_code == 200
    assert "statement.csv" in zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    clear = await client.get("/analytics/export?emails=clear", headers=headers)
    assert clear.status_code == 403
    assert (await client.get("/analytics/export?format=xlsx", headers=headers)).status_code == 400
    writer_only = await synced.credentials.create("w", "statements/write")
    denied = await client.get(
        "/analytics/export", headers=basic(writer_only.key, writer_only.secret)
    )
    assert denied.status_code == 403


async def test_http_download_before_any_sync_is_404(
    client: httpx.AsyncClient, services: Services
) -> None:
    reader = await services.credentials.create("bi", "all/read")
    response = await client.get("/analytics/export", headers=basic(reader.key, reader.secret))
    assert response.status_code == 404
    assert "lrs analytics sync" in response.json()["error"]["message"]


def test_cli_export_syncs_and_writes_a_manifest(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"LRS_DATA_DIR": str(tmp_path / "data"), "LRS_DATABASE_URL": ""}
    out = tmp_path / "bi"
    result = runner.invoke(cli, ["export", "--format", "parquet", "--out", str(out)], env=env)
    assert result.exit_code == 2
    assert "lrs analytics sync" in result.output
    result = runner.invoke(cli, ["export", "--format", "csv", "--out", str(out), "--sync"], env=env)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["format"] == "csv"
    assert manifest["tables"]["statement"]["rows"] == 0
    assert (out / "statement.csv").read_text().startswith("statement_id,seq,event_time")
