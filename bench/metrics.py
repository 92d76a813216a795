"""``python -m bench.metrics``: the analytics metric endpoints on a large warehouse.

Builds (not timed) a PostgreSQL store of N generator statements from a data set of L learners
(default 1,000,000 statements, 20,000 learners: the first million statements in time of that
organisation), uploads its roster, syncs the warehouse, and defines a few KPIs and OKRs. Then a
server with 2 workers answers the metric endpoints over HTTP, one request at a time from one
keep-alive connection, each endpoint with several parameter sets in turn; latencies are per
request, measured at the client (issue target: p95 under 300 ms per endpoint; correlation with
its bootstrap interval under 1 s).

Results go to ``bench/results/metrics-<N>.json``.

    python -m bench.metrics                               # 1,000,000 statements, 20,000 learners
    python -m bench.metrics --statements 100000 --learners 2000
    python -m bench.metrics --database lrs_bench_ab12cd34 # reuse a loaded database (kept)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import orjson

from analytics.sync import SyncOptions, sync_warehouse
from bench import data, load, server
from bench.rawhttp import RawClient
from lrs.generator import roster
from lrs.store.database import Database

RESULTS = Path(__file__).with_name("results")
BASE = "https://example.com"
PROGRAMS = ("compliance-2024", "onboarding", "sales-mastery", "support-excellence")
AS_OF = "2024-06-01"


@dataclass(frozen=True)
class Call:
    """One request of the benchmark: an endpoint (its name in the results) and a request."""

    endpoint: str
    method: str
    path: str
    body: bytes = b""

    @staticmethod
    def get(endpoint: str, path: str, **params: Any) -> Call:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return Call(endpoint, "GET", f"{path}?{query}" if query else path)

    @staticmethod
    def post(endpoint: str, path: str, body: Any) -> Call:
        return Call(endpoint, "POST", path, orjson.dumps(body))


def program(slug: str) -> str:
    return f"{BASE}/programs/{slug}"


def course(slug: str) -> str:
    return f"{BASE}/courses/{slug}"


def calls(okr_ids: Sequence[str]) -> list[Call]:
    """The parameter sets each endpoint is asked, in turn."""
    out: list[Call] = []
    for slug in PROGRAMS:
        for cohort in (None, "team"):
            out.append(
                Call.get(
                    "time-to-proficiency",
                    "/analytics/time-to-proficiency",
                    program=program(slug),
                    start="assignment",
                    cohort=cohort,
                    as_of=AS_OF,
                )
            )
        out.append(Call.get("friction", "/analytics/friction", program=program(slug), as_of=AS_OF))
    for slug in ("security-awareness", "data-protection", "product-fundamentals"):
        out.append(Call.get("friction", "/analytics/friction", activity=course(slug), as_of=AS_OF))
    for module in ("product-fundamentals", "negotiation", "security-awareness"):
        common = {
            "module": course(module),
            "metric": "http://id.tincanapi.com/verb/closed-sale",
            "period_start": "2024-04-01",
            "period_end": "2024-05-31",
        }
        out.append(
            Call.get("correlation", "/analytics/correlation", **common, bootstrap=0, permutations=0)
        )
        out.append(Call.get("correlation+bootstrap", "/analytics/correlation", **common))
    for group_by, measures in (
        (["month"], ["statements", "active_learners"]),
        (["team"], ["completion_rate_assigned", "avg_best_score"]),
        (["month", "team"], ["learning_hours_per_learner", "eventual_pass_rate"]),
        (["activity"], ["first_attempt_pass_rate", "completion_rate_started"]),
    ):
        out.append(
            Call.post(
                "measures",
                "/analytics/measures",
                {"measures": measures, "group_by": group_by, "filters": {"to": AS_OF}},
            )
        )
    out.append(Call.get("kpis", "/analytics/kpis", at=AS_OF))
    for okr in okr_ids:
        out.append(Call.get("okr", f"/analytics/okrs/{okr}", at=AS_OF))
    return out


async def _ingest(srv: server.Server, path: Path, total: int) -> dict[str, Any]:
    async with (
        RawClient(srv.url, srv.key, srv.secret) as a,
        RawClient(srv.url, srv.key, srv.secret) as b,
        RawClient(srv.url, srv.key, srv.secret) as c,
        RawClient(srv.url, srv.key, srv.secret) as d,
    ):
        return await load.ingest(
            [a, b, c, d], data.read_batches(path), concurrency=4, per_request=100, total=total
        )


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("VACUUM ANALYZE statements")
        return int(await conn.fetchval("SELECT count(*) FROM statements"))
    finally:
        await conn.close()


async def _send(http: RawClient, call: Call) -> tuple[int, bytes]:
    return await http.request(call.method, call.path, call.body)


async def _definitions(http: RawClient) -> list[str]:
    """A few KPIs and OKRs like an L&D team would keep (replacing those of an earlier run on
    a reused database); returns the OKR ids."""
    for listing, key, item in (
        ("/analytics/kpi-definitions", "kpis", "/analytics/kpi-definitions/{}"),
        ("/analytics/okrs", "okrs", "/analytics/okrs/{}/definition"),
    ):
        status, body = await http.request("GET", listing)
        for found in orjson.loads(body)[key] if status == 200 else []:
            await http.request("DELETE", item.format(found["id"]))
    kpis = [
        {
            "name": "Compliance completion",
            "measure": "completion_rate_assigned",
            "filters": {"activity": [program("compliance-2024")]},
            "target": 0.95,
            "direction": "higher_is_better",
            "thresholds": {"green": 0.9, "amber": 0.75},
            "period": "month",
            "trend_periods": 6,
        },
        {
            "name": "Active learners",
            "measure": "active_learners",
            "target": 5000,
            "direction": "higher_is_better",
            "thresholds": {"green": 4000, "amber": 2500},
            "period": "month",
            "trend_periods": 6,
        },
        {
            "name": "First-attempt pass rate",
            "measure": "first_attempt_pass_rate",
            "target": 0.85,
            "direction": "higher_is_better",
            "thresholds": {"green": 0.8, "amber": 0.65},
            "period": "month",
            "trend_periods": 6,
        },
        {
            "name": "Certification speed (days)",
            "measure": "certification_speed",
            "target": 14.0,
            "direction": "lower_is_better",
            "thresholds": {"green": 21.0, "amber": 35.0},
            "period": "month",
            "trend_periods": 6,
        },
    ]
    for kpi in kpis:
        status, body = await http.request("POST", "/analytics/kpi-definitions", orjson.dumps(kpi))
        if status >= 300:
            raise RuntimeError(f"KPI definition refused ({status}): {body[:300]!r}")
    okr = {
        "objective": "Sales teams sell with confidence",
        "period": {"start": "2024-04-01", "end": "2024-06-30"},
        "key_results": [
            {
                "name": "Sales East: closed sales",
                "metric": {
                    "type": "outcome",
                    "id": "http://id.tincanapi.com/verb/closed-sale",
                    "aggregation": "sum",
                },
                "baseline": 0.0,
                "target": 500000.0,
                "linked_activities": [program("sales-mastery")],
                "owners": {"team": "Sales East"},
            },
            {
                "name": "Sales West: Sales Mastery completion",
                "metric": {"type": "measure", "measure": "completion_rate_assigned"},
                "baseline": 0.0,
                "target": 0.8,
                "linked_activities": [program("sales-mastery")],
                "owners": {"team": "Sales West"},
            },
        ],
    }
    status, body = await http.request("POST", "/analytics/okrs", orjson.dumps(okr))
    if status >= 300:
        raise RuntimeError(f"OKR refused ({status}): {body[:300]!r}")
    return [str(orjson.loads(body)["id"])]


def _summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(load._p95(ordered), 1),
        "max_ms": round(ordered[-1], 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "name": args.name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count() or 0, "python": platform.python_version()},
        "statements": args.statements,
        "learners": args.learners,
    }
    work = Path(tempfile.mkdtemp(prefix="lrs-bench-metrics-"))
    if args.keep or args.database:
        os.environ["LRS_BENCH_KEEP_DB"] = "1"  # the server's stop() keeps it then
    os.environ["LRS_ANALYTICS_PATH"] = str(work / "warehouse.duckdb")
    srv = server.start(port=args.port, workers=2, backend="postgres", keep=args.database)
    database = srv.database or args.database
    url = srv.env["LRS_DATABASE_URL"]
    try:
        async with RawClient(srv.url, srv.key, srv.secret) as http:
            if await _count(url) < args.statements:
                path = data.batch_file(args.statements, 100, seed=args.seed, learners=args.learners)
                print(f"load: {args.statements:,} statements through the LRS ({database})")
                results["load"] = await _ingest(srv, path, args.statements)
            people = roster(data.config(args.statements, seed=args.seed, learners=args.learners))
            status, body = await http.request(
                "POST", "/analytics/roster?mode=replace", orjson.dumps(people, default=str)
            )
            if status != 200:
                raise RuntimeError(f"roster upload refused ({status}): {body[:300]!r}")
            results["store_statements"] = await _count(url)

            print("sync ...")
            db = Database.from_url(url, pool_size=2)
            try:
                started = time.perf_counter()
                report = await sync_warehouse(db, work / "warehouse.duckdb", SyncOptions())
                results["sync"] = {
                    "seconds": round(time.perf_counter() - started, 2),
                    "rows": report.counts,
                }
            finally:
                await db.dispose()
            print(json.dumps(results["sync"]))
        # A new connection: the server closed the idle one during the sync.
        async with RawClient(srv.url, srv.key, srv.secret) as http:
            okr_ids = await _definitions(http)

            plan = calls(okr_ids)
            for call in plan:  # warm-up: every worker opens the snapshot, plans are cached
                for _ in range(2):
                    status, body = await _send(http, call)
                    if status != 200:
                        raise RuntimeError(f"{call.path} answered {status}: {body[:500]!r}")
            latencies: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for call in plan:
                    began = time.perf_counter()
                    status, body = await _send(http, call)
                    elapsed = (time.perf_counter() - began) * 1000
                    if status != 200:
                        raise RuntimeError(f"{call.path} answered {status}: {body[:500]!r}")
                    latencies.setdefault(call.endpoint, []).append(elapsed)
            results["endpoints"] = {name: _summary(v) for name, v in latencies.items()}
            for name, figures in results["endpoints"].items():
                print(f"{name:24} {json.dumps(figures)}")
            limits = {"correlation+bootstrap": 1000.0}
            results["targets"] = {
                name: figures["p95_ms"] < limits.get(name, 300.0)
                for name, figures in results["endpoints"].items()
            }
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
        if database and not args.keep and not args.database:
            server._psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        elif database:
            print(f"kept database {database}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=10, help="requests per parameter set")
    parser.add_argument("--database", default=None, help="reuse this PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the database it creates")
    parser.add_argument("--port", type=int, default=18920)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    args.name = args.name or f"metrics-{args.statements}"
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
