"""``python -m bench``: ingest, single-statement and query benchmarks against a live server.

Starts the LRS (PostgreSQL by default, a fresh database), loads generator statements, measures,
stops the server and writes ``bench/results/<name>.json``. Loops are bounded by count.

    python -m bench all --statements 1000000           # the issue's full run
    python -m bench all --statements 50000 --name quick  # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import data, load, server
from bench.rawhttp import RawClient

RESULTS = Path(__file__).with_name("results")


def _sample_filters(
    path: Path, stored_marks: list[str], queries: int, seed: int
) -> dict[str, list[dict[str, str]]]:
    rng = random.Random(seed)
    agents, verbs, activities, registrations = set(), set(), set(), set()
    for number, line in enumerate(data.read_batches(path)):
        if number % 97:
            continue
        for statement in orjson.loads(line):
            actor = statement["actor"]
            if "mbox" in actor:
                agents.add(json.dumps({"mbox": actor["mbox"]}))
            verbs.add(statement["verb"]["id"])
            if statement["object"].get("objectType", "Activity") == "Activity":
                activities.add(statement["object"]["id"])
            registration = (statement.get("context") or {}).get("registration")
            if registration:
                registrations.add(registration)

    def pick(values: set[str], count: int) -> list[str]:
        ordered = sorted(values)
        return [rng.choice(ordered) for _ in range(count)]

    windows = []
    for _ in range(queries):
        a, b = sorted(rng.sample(range(len(stored_marks)), 2))
        windows.append({"since": stored_marks[a], "until": stored_marks[b]})
    return {
        "agent": [{"agent": a} for a in pick(agents, queries)],
        "verb": [{"verb": v} for v in pick(verbs, queries)],
        "activity": [{"activity": a} for a in pick(activities, queries)],
        "registration": [{"registration": r} for r in pick(registrations, queries)],
        "since_until": windows,
        "related_agents": [{"agent": a, "related_agents": "true"} for a in pick(agents, queries)],
        "related_activities": [
            {"activity": a, "related_activities": "true"} for a in pick(activities, queries)
        ],
        "none": [{} for _ in range(queries)],
    }


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    path = data.batch_file(args.statements, args.batch, seed=args.seed)
    single_bodies = [
        orjson.dumps(s) for s in data.statements(args.single_requests, seed=args.seed + 1)
    ]
    srv = server.start(port=args.port, workers=args.workers, backend=args.backend)
    results: dict[str, Any] = {
        "name": args.name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "backend": args.backend,
        "workers": args.workers,
    }
    try:
        stored_marks: list[str] = []

        async with contextlib.AsyncExitStack() as stack:

            async def connections(count: int) -> list[RawClient]:
                return [
                    await stack.enter_async_context(RawClient(srv.url, srv.key, srv.secret))
                    for _ in range(count)
                ]

            def on_progress(done: int) -> None:
                stored_marks.append(datetime.now(UTC).isoformat(timespec="milliseconds"))
                print(f"  ingested {done:,}", flush=True)

            print(
                f"ingest: {args.statements:,} statements, {args.batch}/request, "
                f"{args.concurrency} clients"
            )
            results["ingest"] = await load.ingest(
                await connections(args.concurrency),
                data.read_batches(path),
                concurrency=args.concurrency,
                per_request=args.batch,
                total=args.statements,
                on_progress=on_progress,
            )
            print(json.dumps(results["ingest"]))
            results["rss_after_ingest_mib"] = srv.rss_mib()
            print(
                f"single POST: {args.single_requests} requests, {args.single_concurrency} clients"
            )
            results["single_post"] = await load.single_posts(
                await connections(args.single_concurrency), single_bodies
            )
            print(json.dumps(results["single_post"]))
            filters = _sample_filters(path, stored_marks, args.queries, args.seed)
            results["queries"] = []
            (query_client,) = await connections(1)
            for name, params in filters.items():
                outcome = await load.query_latency(query_client, name, params, follow_more=True)
                print(json.dumps(outcome))
                results["queries"].append(outcome)
        results["rss_end_mib"] = srv.rss_mib()
    finally:
        srv.stop()
    return results


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("command", choices=["all"])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--single-requests", type=int, default=5000)
    parser.add_argument("--single-concurrency", type=int, default=8)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--port", type=int, default=18900)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    args.name = args.name or f"{args.backend}-{args.statements}"
    started = time.perf_counter()
    results = asyncio.run(run_all(args))
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
