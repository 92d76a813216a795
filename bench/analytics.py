"""``python -m bench.analytics``: the analytics warehouse against a PostgreSQL store.

Loads N generator statements into a fresh PostgreSQL database through a live LRS (the same
ingest as ``python -m bench``; not part of the figures), stops the server, then measures:

* **full sync**: all N statements into a new DuckDB warehouse (issue target: 1,000,000 in
  under 30 s, at least 35,000 statements/s);
* **incremental sync**: 10,000 new statements (stored through the statements service) into
  that warehouse (target: under 1 s); ``--incremental-runs K`` repeats it K times in a row (the
  write-ahead log grows until a run checkpoints it);
* **export**: the warehouse to Parquet (target: 1,000,000 statements in under 10 s).

Results go to ``bench/results/analytics-<N>.json``.

    python -m bench.analytics                               # 1,000,000 statements
    python -m bench.analytics --statements 100000           # a smaller run
    python -m bench.analytics --database lrs_bench_ab12cd34 # reuse a loaded database (kept)
    python -m bench.analytics --database lrs_bench_ab12cd34 --incremental-runs 6
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from analytics.export import ExportOptions, export_warehouse
from analytics.sync import SyncOptions, SyncReport, sync_warehouse
from bench import data, load, server
from bench.rawhttp import RawClient
from lrs.config import Settings
from lrs.generator import batches
from lrs.services.container import Services
from lrs.store.database import Database
from lrs.xapi.versions import XapiVersion

RESULTS = Path(__file__).with_name("results")


async def _timed_sync(db: Database, warehouse: Path, options: SyncOptions) -> dict[str, Any]:
    """One sync, timed from the call to the return (lock, open and close of DuckDB included)."""
    started = time.perf_counter()
    report = await sync_warehouse(db, warehouse, options)
    return _report(report, time.perf_counter() - started)


def _report(report: SyncReport, wall: float) -> dict[str, Any]:
    return {
        "statements": report.statements_read,
        "inserted": report.inserted,
        "excluded": report.excluded,
        "removed": report.removed,
        "batches": report.batches,
        "seconds": round(wall, 2),
        "statements_per_s": round(report.statements_read / wall) if wall else None,
        "read_wait_seconds": round(report.read_wait_seconds, 2),
        "apply_seconds": round(report.apply_seconds, 2),
        "phases": report.phases,
        "rows": report.counts,
    }


async def _ingest(srv: server.Server, count: int, batch: int, seed: int) -> dict[str, Any]:
    path = data.batch_file(count, batch, seed=seed)
    async with (
        RawClient(srv.url, srv.key, srv.secret) as a,
        RawClient(srv.url, srv.key, srv.secret) as b,
        RawClient(srv.url, srv.key, srv.secret) as c,
        RawClient(srv.url, srv.key, srv.secret) as d,
    ):
        return await load.ingest(
            [a, b, c, d],
            (line for line in data.read_batches(path)),
            concurrency=4,
            per_request=batch,
            total=count,
        )


async def _store_more(url: str, count: int, seed: int) -> None:
    """Store ``count`` new statements through the statements service (in-process)."""
    db = Database.from_url(url, pool_size=2)
    try:
        services = Services.build(Settings(database_url=url), db)
        created = await services.credentials.create("bench-incremental", "all")
        principal = await services.credentials.authenticate(created.key, created.secret)
        for chunk in batches(data.statements(count, seed=seed), 1000):
            await services.statements.store(chunk, principal=principal, version=XapiVersion.V2_0_0)
    finally:
        await db.dispose()


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("VACUUM ANALYZE statements")
    finally:
        await conn.close()


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM statements"))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "name": args.name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count() or 0, "python": platform.python_version()},
        "statements": args.statements,
        "batch_size": args.batch_size,
    }
    srv = server.start(port=args.port, workers=2, backend="postgres", keep=args.database)
    database = srv.database or args.database
    url = srv.env["LRS_DATABASE_URL"]
    work = Path(tempfile.mkdtemp(prefix="lrs-bench-analytics-"))
    try:
        stored = await _count(url)
        if stored < args.statements:
            print(f"load: {args.statements:,} statements through the LRS ({database})")
            results["load"] = await _ingest(srv, args.statements, 100, args.seed)
            print(json.dumps(results["load"]))
        else:
            print(f"load: reusing {database} ({stored:,} statements)")
        # The server is not needed any more: keep the database, free the CPUs.
        os.environ["LRS_BENCH_KEEP_DB"] = "1"
        srv.stop()
        # What autovacuum does to a live table after a bulk load (visibility map, statistics):
        # without it the first counts of the sync are sequential scans.
        await _vacuum(url)
        results["store_statements"] = await _count(url)

        db = Database.from_url(url, pool_size=2)
        try:
            warehouse = work / "warehouse.duckdb"
            options = SyncOptions(batch_size=args.batch_size)
            print("full sync ...")
            results["full_sync"] = await _timed_sync(db, warehouse, options)
            print(json.dumps(results["full_sync"]))

            runs = []
            for run_no in range(args.incremental_runs):
                # A seed of its own per run and database size: new statement ids even on a
                # reused database.
                seed = args.seed + 1 + results["store_statements"] + run_no * 7919
                await _store_more(url, args.incremental, seed)
                print(f"incremental sync of {args.incremental:,} new statements ...")
                runs.append(await _timed_sync(db, warehouse, options))
                print(json.dumps(runs[-1]))
            results["incremental_sync"] = runs[0]
            results["incremental_runs_seconds"] = [r["seconds"] for r in runs]
            results["incremental_runs"] = runs
            results["noop_sync"] = await _timed_sync(db, warehouse, options)
        finally:
            await db.dispose()

        print("export to Parquet ...")
        started = time.perf_counter()
        manifest = await asyncio.to_thread(
            export_warehouse, warehouse, work / "export", "parquet", ExportOptions()
        )
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (work / "export").rglob("*") if p.is_file())
        results["export_parquet"] = {
            "seconds": round(seconds, 2),
            "statements": manifest["tables"]["statement"]["rows"],
            "bytes": size,
            "rows": {t: e["rows"] for t, e in manifest["tables"].items()},
        }
        print(json.dumps(results["export_parquet"]))
        results["targets"] = {
            "full_sync_under_30s_per_million": results["full_sync"]["seconds"]
            * 1_000_000
            / max(1, results["full_sync"]["statements"])
            < 30,
            "incremental_under_1s": results["incremental_sync"]["seconds"] < 1,
            "incremental_runs_under_1s": sum(
                1 for x in results["incremental_runs_seconds"] if x < 1
            ),
            "export_under_10s_per_million": seconds * 1_000_000 / max(1, args.statements) < 10,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if database and not args.keep and not args.database:
            server._psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        elif database:
            print(f"kept database {database}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--incremental", type=int, default=10_000)
    parser.add_argument(
        "--incremental-runs",
        type=int,
        default=1,
        help="consecutive incremental syncs (each of --incremental new statements)",
    )
    parser.add_argument("--batch-size", type=int, default=Settings().analytics_batch_size)
    parser.add_argument("--database", default=None, help="reuse this PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the database it creates")
    parser.add_argument("--port", type=int, default=18910)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    args.name = args.name or f"analytics-{args.statements}"
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
