"""Load loops: concurrent batch ingest, single-statement POSTs, query latencies."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson

from bench.rawhttp import RawClient


async def ingest(
    connections: list[RawClient],
    bodies: Iterator[bytes],
    *,
    concurrency: int,
    per_request: int,
    total: int,
    on_progress: Any = None,
) -> dict[str, Any]:
    """POST every body with ``concurrency`` clients; throughput per tenth of the run."""
    lock = asyncio.Lock()
    done = 0
    marks: list[tuple[int, float]] = [(0, time.perf_counter())]
    latencies: list[float] = []
    errors = 0

    async def worker(http: RawClient) -> None:
        nonlocal done, errors
        while True:
            async with lock:
                body = next(bodies, None)
            if body is None:
                return
            start = time.perf_counter()
            status, text = await http.request("POST", "/xapi/statements", body)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors += 1
                if errors < 5:
                    print("ingest error", status, text[:300])
                continue
            done += per_request
            if done * 10 // total > marks[-1][0] * 10 // total:
                marks.append((done, time.perf_counter()))
                if on_progress:
                    on_progress(done)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    marks.append((done, time.perf_counter()))
    deciles = []
    for (n0, t0), (n1, t1) in itertools.pairwise(marks):
        if n1 > n0:
            deciles.append(round((n1 - n0) / (t1 - t0)))
    return {
        "statements": done,
        "seconds": round(elapsed, 2),
        "statements_per_s": round(done / elapsed),
        "decile_rates": deciles,
        "first_10pct_per_s": deciles[0] if deciles else None,
        "last_10pct_per_s": deciles[-1] if deciles else None,
        "request_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "request_p95_ms": round(_p95(latencies) * 1000, 1),
        "errors": errors,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def single_posts(connections: list[RawClient], bodies: list[bytes]) -> dict[str, Any]:
    queue = iter(bodies)
    latencies: list[float] = []
    errors = 0

    async def worker(http: RawClient) -> None:
        nonlocal errors
        for body in queue:
            start = time.perf_counter()
            status, _ = await http.request("POST", "/xapi/statements", body)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(_p95(latencies) * 1000, 2),
        "errors": errors,
    }


async def query_latency(
    http: RawClient, name: str, params_list: list[dict[str, str]], *, follow_more: bool
) -> dict[str, Any]:
    """Sequential first-page queries (limit 100); optionally the `more` page after each."""
    first: list[float] = []
    more: list[float] = []
    sizes: list[int] = []
    for params in params_list:
        target = "/xapi/statements?" + urlencode({**params, "limit": "100"})
        start = time.perf_counter()
        status, payload = await http.request("GET", target)
        first.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"query {target} answered {status}: {payload[:300]!r}")
        body = orjson.loads(payload)
        sizes.append(len(body["statements"]))
        if follow_more and body["more"]:
            start = time.perf_counter()
            status, payload = await http.request("GET", body["more"])
            more.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"more link answered {status}")
    result: dict[str, Any] = {
        "filter": name,
        "queries": len(first),
        "mean_results": round(statistics.mean(sizes), 1) if sizes else 0,
        "first_page_p50_ms": round(statistics.median(first) * 1000, 2),
        "first_page_p95_ms": round(_p95(first) * 1000, 2),
    }
    if more:
        result["more_p50_ms"] = round(statistics.median(more) * 1000, 2)
        result["more_p95_ms"] = round(_p95(more) * 1000, 2)
    return result
