"""The dashboard routes over HTTP, on SQLite and PostgreSQL: pages, static files, and the
dashboard's own data routes (options, exposure bins, narrowed KPIs) with their auth and 400s.

The data routes read only the warehouse snapshot, so their numbers are checked on the shared
demo data set (test_dashboard_data.py); here they get a small data set stored through the
services of each backend.
"""

from __future__ import annotations

import base64
import json
from collections import Counter

import httpx
import pytest

from lrs.generator import GeneratorConfig, batches, generate, roster
from lrs.services.container import Services
from lrs.xapi.versions import XapiVersion


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


async def test_dashboard_pages_and_static_files(client: httpx.AsyncClient) -> None:
    redirect = await client.get("/dashboard")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "dashboard/"

    page = await client.get("/dashboard/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp
    assert '<meta name="lrs-xapi-path" content="/xapi">' in page.text
    assert "{{" not in page.text
    # Everything the page loads is local and exists.
    for path in (
        "static/dashboard/css/dashboard.css",
        "static/vendor/chartjs/chart.umd.min.js",
        "static/dashboard/js/dashboard.js",
        "static/dashboard/favicon.svg",
    ):
        assert path in page.text
        asset = await client.get(f"/dashboard/{path}")
        assert asset.status_code == 200, path
    js = await client.get("/dashboard/static/dashboard/js/views/kpis.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["x-content-type-options"] == "nosniff"
    licence = await client.get("/dashboard/static/vendor/chartjs/LICENSE.md")
    assert "MIT License" in licence.text

    browser = await client.get("/dashboard/statements")
    assert browser.status_code == 200
    assert "static/dashboard/js/statements.js" in browser.text


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/static/dashboard/..%2F..%2Fapi%2Fdashboard.py",
        "/dashboard/static/%2E%2E/%2E%2E/app.py",
        "/dashboard/static/dashboard/js/missing.js",
        "/dashboard/static/dashboard",
        "/dashboard/static/vendor/chartjs/chart.umd.min.js.map",
    ],
)
async def test_static_files_never_leave_the_static_directory(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_dashboard_routes_are_not_in_the_api_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert not [p for p in document["paths"] if p.startswith("/dashboard")]


async def _store_small_data_set(services: Services) -> GeneratorConfig:
    config = GeneratorConfig(seed=11, learners=30)
    created = await services.credentials.create("loader", "all")
    principal = await services.credentials.authenticate(created.key, created.secret)
    for batch in batches(generate(config), 1000):
        await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)
    body = json.dumps(roster(config), default=str).encode()
    await services.analytics.upload_roster(body, "application/json", principal=principal)
    return config


async def test_data_routes_need_analytics_read_and_a_sync(
    client: httpx.AsyncClient, services: Services, credential: tuple[str, str]
) -> None:
    reader = await services.credentials.create("reader", "statements/read")
    analyst = await services.credentials.create("analyst", "analytics/read")
    routes = [
        "/dashboard/api/options",
        "/dashboard/api/kpis",
        "/dashboard/api/exposure-bins?module=https://example.com/programs/sales-mastery"
        "&metric=m&period_start=2024-01-01&period_end=2024-03-31",
    ]
    for route in routes:
        assert (await client.get(route)).status_code == 401
        wrong = await client.get(route, headers=basic(analyst.key, "wrong"))
        assert wrong.status_code == 401
        forbidden = await client.get(route, headers=basic(reader.key, reader.secret))
        assert forbidden.status_code == 403
        assert "analytics.read" in forbidden.json()["error"]["message"]
        missing = await client.get(route, headers=basic(analyst.key, analyst.secret))
        assert missing.status_code == 404
        assert "lrs analytics sync" in missing.json()["error"]["message"]

    config = await _store_small_data_set(services)
    await services.analytics.sync()
    response = await client.get("/dashboard/api/options", headers=basic(*credential))
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"]
    assert body["high_water_mark"]["seq"] > 0
    assert "scopes" in body["definitions"]
    # Teams: the roster's, with head counts.
    expected_teams = Counter(row["team"] for row in roster(config))
    assert {t["name"]: t["people"] for t in body["teams"]} == dict(expected_teams)
    # Scopes: every activity used as a parent or grouping, with its learners, computed here
    # from the statements as sent (none of this data set's statements is about a group).
    statements = list(generate(config))
    voided = {
        s["object"]["id"]
        for s in statements
        if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    }
    kept = [
        s
        for s in statements
        if s["id"] not in voided and s["verb"]["id"] != "http://adlnet.gov/expapi/verbs/voided"
    ]
    parents: set[str] = set()
    for s in kept:
        ca = s.get("context", {}).get("contextActivities", {})
        parents |= {a["id"] for usage in ("parent", "grouping") for a in ca.get(usage, [])}
    learners: dict[str, set[str]] = {p: set() for p in parents}
    for s in kept:
        actor = s["actor"]
        if actor.get("objectType", "Agent") != "Agent":
            continue
        who = json.dumps(actor.get("mbox") or actor.get("account"), sort_keys=True)
        ca = s.get("context", {}).get("contextActivities", {})
        about = {a["id"] for usage in ("parent", "grouping") for a in ca.get(usage, [])}
        if s["object"].get("objectType", "Activity") == "Activity":
            about.add(s["object"]["id"])
        for scope in about & parents:
            learners[scope].add(who)
    assert {s["id"]: s["learners"] for s in body["scopes"]} == {
        p: len(found) for p, found in learners.items()
    }
    kinds = {s["id"]: s["kind"] for s in body["scopes"]}
    assert kinds["https://example.com/programs/sales-mastery"] == "program"
    assert kinds["https://example.com/courses/negotiation"] == "course"
    first = min(s["timestamp"] for s in kept)
    assert body["events"]["first"][:19] == first[:19]
    assert body["events"]["statements"] == len(kept)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("metric=m&period_start=2024-01-01&period_end=2024-03-31", "'module'"),
        ("module=x&period_start=2024-01-01&period_end=2024-03-31", "'metric'"),
        ("module=x&metric=m&period_end=2024-03-31", "period_start"),
        ("module=x&metric=m&period_start=2024-02-30&period_end=2024-03-31", "YYYY-MM-DD"),
        ("module=x&metric=m&period_start=2024-04-01&period_end=2024-03-31", "period_end"),
        (
            "module=x&metric=m&period_start=2024-01-01&period_end=2024-03-31&exposure=completed",
            "exposure must be one of days_to_complete, best_score",
        ),
        ("module=x&metric=m&period_start=2024-01-01&period_end=2024-03-31&bins=21", "at most 20"),
        ("module=x&metric=m&period_start=2024-01-01&period_end=2024-03-31&bins=0", "at least 1"),
        ("module=x&metric=m&period_start=2024-01-01&period_end=2024-03-31&format=xml", "format"),
    ],
)
async def test_exposure_bins_rejects_bad_parameters(
    client: httpx.AsyncClient, credential: tuple[str, str], query: str, message: str
) -> None:
    response = await client.get(f"/dashboard/api/exposure-bins?{query}", headers=basic(*credential))
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


async def test_narrowed_kpis_reject_a_bad_reference_time(
    client: httpx.AsyncClient, credential: tuple[str, str]
) -> None:
    response = await client.get("/dashboard/api/kpis?at=yesterday", headers=basic(*credential))
    assert response.status_code == 400
    assert "at must be" in response.json()["error"]["message"]
