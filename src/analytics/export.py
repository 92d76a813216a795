"""Snapshots of the warehouse for BI tools: Parquet, CSV or a DuckDB file (ANALYTICS.md section 6).

Layout of ``OUT`` after ``export_warehouse(..., OUT, fmt)``::

    parquet:  statement/event_month=YYYY-MM/*.parquet            (zstd, hive-partitioned)
              statement_context_activity/event_month=YYYY-MM/*.parquet
              actor.parquet  activity.parquet  learner_activity.parquet
              outcome.parquet  roster.parquet
    csv:      statement.csv  statement_context_activity.csv  actor.csv  ...  (header row)
    duckdb:   lrs-analytics.duckdb                                 (all tables, read-only use)
    always:   manifest.json

Every table is written aside (in ``OUT/.export-<id>/``) and then renamed into place, one rename
per table, and ``manifest.json`` last: a reader sees each table either whole as it was or whole
as it is now, never half written. The manifest carries the schema version, the row count and
columns of every table, the as-of time (end of the last sync) and the high-water mark.

Learner keys hold e-mail addresses; unless ``clear_emails`` is set they are exported hashed:
``mbox::mailto:x`` becomes ``mbox_sha1sum::<SHA-1 of mailto:x>`` (the xAPI mbox_sha1sum, so
hashed keys still join across tables and with learners identified by mbox_sha1sum). The SHA-1
of an address can be matched by anyone who already knows the address: it hides addresses from
casual view, it does not anonymise.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from analytics.lock import WarehouseLock
from analytics.warehouse import SCHEMA_VERSION, Warehouse, scalar
from analytics.warehouse.schema import BI_TABLES, KEY_COLUMNS, PARTITIONED
from lrs import clock
from lrs.errors import BadRequest, NotFound

FORMATS: Final = ("parquet", "csv", "duckdb")
DUCKDB_FILE: Final = "lrs-analytics.duckdb"
MANIFEST: Final = "manifest.json"


@dataclass(frozen=True)
class ExportOptions:
    clear_emails: bool = False
    threads: int = 0
    lock_timeout: float = 60.0


def _select(table: str, *, clear_emails: bool) -> str:
    """The table's documented columns, learner keys hashed unless ``clear_emails``."""
    keys = set() if clear_emails else set(KEY_COLUMNS.get(table, ()))
    columns = []
    for name, _ in BI_TABLES[table]:
        if name in keys:
            columns.append(f"lrs_hash_key({name}) AS {name}")
        elif not clear_emails and table == "statement" and name == "object_id":
            columns.append(
                "CASE WHEN object_type IN ('Agent', 'Group') THEN lrs_hash_key(object_id) "
                "ELSE object_id END AS object_id"
            )
        elif not clear_emails and table == "outcome" and name == "subject":
            columns.append(
                "CASE WHEN subject_type = 'learner' THEN lrs_hash_key(subject) "
                "ELSE subject END AS subject"
            )
        else:
            columns.append(name)
    return f"SELECT {', '.join(columns)} FROM {table}"


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _iso(us: int | None) -> str | None:
    return None if us is None else clock.iso_from_us(us)


def export_warehouse(
    warehouse_path: Path, out_dir: Path, fmt: str, options: ExportOptions | None = None
) -> dict[str, Any]:
    """Write a snapshot of every BI table into ``out_dir``; returns the manifest."""
    options = options or ExportOptions()
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
    lock = WarehouseLock(warehouse_path)
    lock.acquire(options.lock_timeout)
    try:
        if not warehouse_path.exists():
            raise NotFound(
                f"There is no analytics warehouse at {warehouse_path} yet: run "
                "`lrs analytics sync` (or enable LRS_ANALYTICS_SYNC_INTERVAL) first."
            )
        # Read-write under the lock: a run that crashed may have left derived rows to refresh.
        with Warehouse(warehouse_path, threads=options.threads) as warehouse:
            state = warehouse.state()
            if state.schema_version != SCHEMA_VERSION:
                raise NotFound(
                    "The analytics warehouse has an older schema; run `lrs analytics sync` to "
                    "rebuild it, then export."
                )
            if warehouse.dirty():
                warehouse.refresh_derived()
            return _export(warehouse, out_dir, fmt, options)
    finally:
        lock.release()


def _export(
    warehouse: Warehouse, out_dir: Path, fmt: str, options: ExportOptions
) -> dict[str, Any]:
    con = warehouse.con
    state = warehouse.state()
    out_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    staging = out_dir / f".export-{token}"
    staging.mkdir()
    try:
        tables: dict[str, Any] = {}
        entries: list[str] = []
        if fmt == "duckdb":
            target = staging / DUCKDB_FILE
            con.execute(f"ATTACH {_sql_path(target)} AS snapshot")
            try:
                for table in BI_TABLES:
                    con.execute(
                        f"CREATE TABLE snapshot.{table} AS "
                        f"{_select(table, clear_emails=options.clear_emails)}"
                    )
                # One self-contained file: the warehouse connection does not checkpoint on
                # detach (see Warehouse), so checkpoint the export explicitly.
                con.execute("CHECKPOINT snapshot")
            finally:
                con.execute("DETACH snapshot")
            entries.append(DUCKDB_FILE)
        for table, columns in BI_TABLES.items():
            select = _select(table, clear_emails=options.clear_emails)
            rows = int(scalar(con, f"SELECT count(*) FROM {table}") or 0)
            entry: dict[str, Any] = {
                "rows": rows,
                "columns": [{"name": n, "type": t} for n, t in columns],
            }
            if fmt == "parquet" and table in PARTITIONED:
                path = staging / table
                partitioned = (
                    f"SELECT *, strftime(event_time, '%Y-%m') AS event_month FROM ({select})"
                )
                if rows:
                    con.execute(
                        f"COPY ({partitioned}) TO {_sql_path(path)} "
                        "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_month))"
                    )
                else:
                    # No partitions to write: one empty file still carries the schema.
                    path.mkdir()
                    con.execute(
                        f"COPY ({partitioned} LIMIT 0) TO {_sql_path(path / 'empty.parquet')} "
                        "(FORMAT parquet, COMPRESSION zstd)"
                    )
                entry.update(path=f"{table}/", partitioned_by=["event_month"])
                entry["columns"].append({"name": "event_month", "type": "VARCHAR"})
                entries.append(table)
            elif fmt == "parquet":
                con.execute(
                    f"COPY ({select}) TO {_sql_path(staging / f'{table}.parquet')} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                entry["path"] = f"{table}.parquet"
                entries.append(f"{table}.parquet")
            elif fmt == "csv":
                con.execute(
                    f"COPY ({select}) TO {_sql_path(staging / f'{table}.csv')} "
                    "(FORMAT csv, HEADER true)"
                )
                entry["path"] = f"{table}.csv"
                entries.append(f"{table}.csv")
            else:
                entry["path"] = f"{DUCKDB_FILE}#{table}"
            tables[table] = entry
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "format": fmt,
            "generated_at": clock.iso_from_us(clock.now_us()),
            "as_of": _iso(state.last_sync_finished_us),
            "high_water_mark": None
            if state.hwm is None
            else {"stored": clock.iso_from_us(state.hwm[0]), "seq": state.hwm[1]},
            "emails": "clear" if options.clear_emails else "hashed",
            "tables": tables,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _swap_in(staging, out_dir, [*entries, MANIFEST], token)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, out_dir: Path, entries: list[str], token: str) -> None:
    """Rename each written entry into ``out_dir`` (manifest last). A directory replaces the old
    one by two renames (old aside, new in); a file by one atomic replace."""
    old = out_dir / f".old-{token}"
    try:
        for name in entries:
            source, target = staging / name, out_dir / name
            if source.is_dir():
                if target.exists():
                    old.mkdir(exist_ok=True)
                    target.rename(old / name)
                source.rename(target)
            else:
                os.replace(source, target)
    finally:
        shutil.rmtree(old, ignore_errors=True)
