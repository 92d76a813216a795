"""KPIs (ANALYTICS.md section 5): stored definitions, current value, trend, zone, distance.

The definitions are checked by the pure parser and through the HTTP CRUD endpoints on both
databases; the report runs on one generator data set (real LRS and sync) and is compared with
counts recomputed here from the statement rows and with the measures of each period taken one
window at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from analytics_support import basic
from metrics_support import build_warehouse, open_snapshot

from analytics.metrics import kpis, measures
from analytics.metrics.kpis import DefinitionInvalid, KpiDefinition, KpiParams
from analytics.snapshot import SnapshotReader
from lrs.generator import GeneratorConfig
from lrs.services.container import Services

CONFIG = GeneratorConfig(seed=21, learners=40)
COMPLIANCE = "https://example.com/programs/compliance-2024"
AT = datetime(2024, 8, 21, tzinfo=UTC)  # "at=2024-08-20": the end of that day

VALID: dict[str, Any] = {
    "name": "Compliance adherence",
    "description": "Required training done on time.",
    "measure": "compliance_adherence",
    "filters": {"activity": COMPLIANCE},
    "target": 0.95,
    "direction": "higher_is_better",
    "thresholds": {"green": 0.9, "amber": 0.75},
    "period": "month",
    "trend_periods": 4,
}


@pytest.fixture(scope="module")
async def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return await build_warehouse(tmp_path_factory.mktemp("kpis"), CONFIG)


@pytest.fixture(scope="module")
def con(snapshot: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_snapshot(snapshot)
    yield connection
    connection.close()


def kpi(**changes: Any) -> KpiDefinition:
    return kpis.parse_kpi({**VALID, **changes})


# ---------------------------------------------------------------------------- definitions


def test_a_valid_definition_round_trips() -> None:
    parsed = kpi()
    assert parsed.measure == "compliance_adherence"
    assert (parsed.green, parsed.amber, parsed.period, parsed.trend_periods) == (
        0.9,
        0.75,
        "month",
        4,
    )
    assert parsed.filters.activities == (COMPLIANCE,)
    again = kpis.parse_kpi({k: v for k, v in parsed.as_json().items() if v is not None})
    assert again == parsed
    defaults = kpis.parse_kpi(
        {k: v for k, v in VALID.items() if k not in ("period", "trend_periods")}
    )
    assert (defaults.period, defaults.trend_periods) == ("month", 6)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"name": ""}, ["name"]),
        ({"name": None, "target": "high"}, ["name", "target"]),
        ({"measure": "happiness"}, ["measure"]),
        ({"direction": "up"}, ["direction"]),
        ({"thresholds": {"green": 0.8, "amber": 0.9}}, ["thresholds.amber"]),
        (
            {"direction": "lower_is_better", "thresholds": {"green": 0.9, "amber": 0.8}},
            ["thresholds.amber"],
        ),
        ({"thresholds": {"green": 0.9}}, ["thresholds.amber"]),
        ({"thresholds": {"green": 0.9, "amber": 0.8, "red": 0}}, ["thresholds.red"]),
        ({"thresholds": None}, ["thresholds"]),
        ({"period": "year", "trend_periods": 0}, ["period", "trend_periods"]),
        ({"trend_periods": True}, ["trend_periods"]),
        ({"filters": {"from": "2024-01-01"}}, ["filters"]),
        ({"filters": {"verb": "http://adlnet.gov/expapi/verbs/passed"}}, ["filters"]),
        ({"options": {"cohort": "shoe"}}, ["options"]),
        ({"colour": "red"}, ["colour"]),
        ({"target": float("nan")}, ["target"]),
    ],
)
def test_invalid_definitions_name_every_bad_field(
    changes: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        kpi(**changes)
    assert [name for name, _ in caught.value.problems] == fields
    for name in fields:
        assert f"{name}:" in caught.value.message


def test_zones_and_distance_follow_the_direction() -> None:
    up = kpi()
    assert [kpis.zone(up, v) for v in (0.95, 0.9, 0.8, 0.75, 0.5, None)] == [
        "green",
        "green",
        "amber",
        "amber",
        "red",
        None,
    ]
    assert kpis.distance_to_target(up, 0.8) == pytest.approx(0.15)
    assert kpis.distance_to_target(up, 1.0) == pytest.approx(-0.05)
    down = kpi(
        measure="certification_speed",
        filters={},
        target=10,
        direction="lower_is_better",
        thresholds={"green": 14, "amber": 21},
    )
    assert [kpis.zone(down, v) for v in (7, 14, 15, 21, 30)] == [
        "green",
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert kpis.distance_to_target(down, 15) == pytest.approx(5)
    assert kpis.distance_to_target(down, 8) == pytest.approx(-2)


def test_period_starts() -> None:
    at = datetime(2024, 8, 21, tzinfo=UTC)
    assert [d.date() for d in kpis.period_starts("month", at, 3)] == [
        date(2024, 6, 1),
        date(2024, 7, 1),
        date(2024, 8, 1),
    ]
    assert [d.date() for d in kpis.period_starts("quarter", at, 2)] == [
        date(2024, 4, 1),
        date(2024, 7, 1),
    ]
    # 2024-08-21 is a Wednesday; its week starts on Monday the 19th.
    assert [d.date() for d in kpis.period_starts("week", at, 2)] == [
        date(2024, 8, 12),
        date(2024, 8, 19),
    ]
    # A reference exactly at a boundary belongs to the period before it (exclusive end).
    assert kpis.period_starts("month", datetime(2024, 9, 1, tzinfo=UTC), 1)[0].date() == date(
        2024, 8, 1
    )


# ---------------------------------------------------------------------------- the report


def _month_counts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(statements, active learners) per month, recomputed from the rows."""
    learning = {
        v
        for (v,) in con.execute(
            "SELECT verb_id FROM verb_role WHERE role IN "
            "('engage', 'complete', 'proficient', 'fail', 'session_end')"
        ).fetchall()
    }
    counts: dict[str, int] = {}
    active: dict[str, set[str]] = {}
    for t, verb, actor_type, key, completion in con.execute(
        "SELECT event_time, verb_id, actor_type, actor_key, completion FROM statement"
    ).fetchall():
        month = t.astimezone(UTC).date().replace(day=1).isoformat()
        counts[month] = counts.get(month, 0) + 1
        if actor_type == "Agent" and key and (verb in learning or completion is True):
            active.setdefault(month, set()).add(key)
    return {m: (counts[m], len(active.get(m, set()))) for m in counts}


def test_report_counts_match_the_rows(con: duckdb.DuckDBPyConnection) -> None:
    statements = kpi(
        name="Statements",
        measure="statements",
        filters={},
        target=5000,
        thresholds={"green": 4000, "amber": 2000},
        trend_periods=5,
    )
    active = kpi(
        name="Active learners",
        measure="active_learners",
        filters={},
        target=60,
        thresholds={"green": 50, "amber": 40},
        trend_periods=5,
    )
    body = kpis.compute(con, KpiParams(kpis=(statements, active), at=AT))
    assert body["at"] == "2024-08-21T00:00:00Z"
    assert body["definitions"]["reference_time"] == "2024-08-21T00:00:00Z"
    counts = _month_counts(con)
    # The current month is partial: count it up to the reference time.
    partial = con.execute(
        "SELECT count(*) FROM statement WHERE event_time >= '2024-08-01' AND event_time < $at",
        {"at": AT},
    ).fetchall()[0][0]
    for report, index in ((body["kpis"][0], 0), (body["kpis"][1], 1)):
        months = [t["period_start"] for t in report["trend"]]
        assert months == ["2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01"]
        assert [t["partial"] for t in report["trend"]] == [False] * 4 + [True]
        assert report["trend"][0]["period_end"] == "2024-04-30"
        for entry in report["trend"][:-1]:
            assert entry["value"] == counts[entry["period_start"]][index]
            assert entry["zone"] == kpis.zone(statements if index == 0 else active, entry["value"])
    current = body["kpis"][0]
    assert current["value"] == partial
    assert current["current_period"] == {
        "period_start": "2024-08-01",
        "period_end": "2024-08-31",
        "partial": True,
    }
    assert current["distance_to_target"] == 5000 - partial
    assert current["target_met"] is (partial >= 5000)
    july = current["trend"][-2]["value"]
    assert current["change_from_previous"] == partial - july
    assert current["improving"] is (partial > july)


def test_report_matches_the_measures_of_each_period(con: duckdb.DuckDBPyConnection) -> None:
    definitions = (
        kpi(),
        kpi(
            name="Certification speed",
            measure="certification_speed",
            filters={},
            target=10,
            direction="lower_is_better",
            thresholds={"green": 14, "amber": 21},
            period="quarter",
            trend_periods=3,
        ),
        kpi(
            name="Weekly completion",
            measure="completion_rate_started",
            filters={"activity_type": "http://adlnet.gov/expapi/activities/module"},
            target=0.9,
            thresholds={"green": 0.85, "amber": 0.7},
            period="week",
            trend_periods=6,
        ),
    )
    body = kpis.compute(con, KpiParams(kpis=definitions, at=AT))
    assert len(body["kpis"]) == 3
    for definition, report in zip(definitions, body["kpis"], strict=True):
        assert report["name"] == definition.name
        assert len(report["trend"]) == definition.trend_periods
        for entry in report["trend"]:
            start = datetime.fromisoformat(entry["period_start"]).replace(tzinfo=UTC)
            end = min(measures.bucket_end(definition.period, start), AT)
            query = measures.MeasuresQuery(
                measures=(definition.measure,),
                filters=measures.Filters(
                    start=start,
                    end=end,
                    activities=definition.filters.activities,
                    activity_types=definition.filters.activity_types,
                ),
            )
            (row,) = measures.evaluate(con, query).rows
            expected = row[definition.measure]
            if expected is None:
                assert entry["value"] is None
            else:
                assert entry["value"] == pytest.approx(expected, rel=1e-9)
            assert entry["n"] == row[f"{definition.measure}_n"]
            assert entry["zone"] == kpis.zone(definition, entry["value"])
        assert report["value"] == report["trend"][-1]["value"]
        assert report["zone"] == report["trend"][-1]["zone"]
        assert report["distance_to_target"] == kpis.distance_to_target(definition, report["value"])
    # Some periods have data, some zones are set.
    assert any(r["zone"] for r in body["kpis"])


def test_no_data_means_no_value_and_no_zone(con: duckdb.DuckDBPyConnection) -> None:
    late = datetime(2030, 3, 10, tzinfo=UTC)
    rate = kpi(filters={})
    count = kpi(measure="statements", filters={}, target=1, thresholds={"green": 1, "amber": 0})
    first, second = kpis.compute(con, KpiParams(kpis=(rate, count), at=late))["kpis"]
    assert [t["value"] for t in first["trend"]] == [None] * 4
    assert (first["value"], first["zone"], first["distance_to_target"]) == (None, None, None)
    assert first["target_met"] is None
    assert [t["value"] for t in second["trend"]] == [0] * 4
    assert second["zone"] == "amber"


# ---------------------------------------------------------------------------- HTTP


@pytest.fixture
async def http(
    services: Services, client: httpx.AsyncClient, snapshot: Path
) -> AsyncIterator[httpx.AsyncClient]:
    previous = services.metrics.reader
    services.metrics.reader = SnapshotReader(snapshot.parent.parent / "warehouse.duckdb")
    yield client
    services.metrics.reader.close()
    services.metrics.reader = previous


async def test_crud(client: httpx.AsyncClient, credential: tuple[str, str]) -> None:
    auth = basic(*credential)
    created = await client.post("/analytics/kpi-definitions", json=VALID, headers=auth)
    assert created.status_code == 201
    body = created.json()
    kpi_id = body["id"]
    assert isinstance(kpi_id, int)
    assert body["name"] == VALID["name"]
    assert body["thresholds"] == VALID["thresholds"]
    assert body["filters"] == {"activity": [COMPLIANCE], "activity_scope": "scope"}
    assert body["created"].endswith("Z")

    other = {**VALID, "name": "Statements", "measure": "statements", "filters": {}}
    second = await client.post("/analytics/kpi-definitions", json=other, headers=auth)
    listed = await client.get("/analytics/kpi-definitions", headers=auth)
    assert [k["id"] for k in listed.json()["kpis"]] == [kpi_id, second.json()["id"]]

    one = await client.get(f"/analytics/kpi-definitions/{kpi_id}", headers=auth)
    assert one.json() == body

    changed = {**VALID, "target": 0.99, "period": "quarter"}
    replaced = await client.put(f"/analytics/kpi-definitions/{kpi_id}", json=changed, headers=auth)
    assert replaced.status_code == 200
    assert (replaced.json()["target"], replaced.json()["period"]) == (0.99, "quarter")
    assert replaced.json()["created"] == body["created"]
    again = await client.get(f"/analytics/kpi-definitions/{kpi_id}", headers=auth)
    assert again.json()["target"] == 0.99

    deleted = await client.delete(f"/analytics/kpi-definitions/{kpi_id}", headers=auth)
    assert deleted.status_code == 204
    gone = await client.get(f"/analytics/kpi-definitions/{kpi_id}", headers=auth)
    assert gone.status_code == 404
    assert (
        await client.delete(f"/analytics/kpi-definitions/{kpi_id}", headers=auth)
    ).status_code == 404
    put_missing = await client.put(f"/analytics/kpi-definitions/{kpi_id}", json=VALID, headers=auth)
    assert put_missing.status_code == 404
    listed = await client.get("/analytics/kpi-definitions", headers=auth)
    assert [k["name"] for k in listed.json()["kpis"]] == ["Statements"]


async def test_crud_errors_and_scopes(
    client: httpx.AsyncClient, services: Services, credential: tuple[str, str]
) -> None:
    auth = basic(*credential)
    bad = {**VALID, "thresholds": {"green": 0.5, "amber": 0.7}, "period": "decade"}
    response = await client.post("/analytics/kpi-definitions", json=bad, headers=auth)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "thresholds.amber:" in message
    assert "period:" in message
    assert (await client.get("/analytics/kpi-definitions", headers=auth)).json() == {"kpis": []}
    response = await client.post("/analytics/kpi-definitions", content=b"[", headers=auth)
    assert response.status_code == 400
    response = await client.get("/analytics/kpi-definitions/abc", headers=auth)
    assert response.status_code == 400

    assert (await client.get("/analytics/kpi-definitions")).status_code == 401
    assert (await client.post("/analytics/kpi-definitions", json=VALID)).status_code == 401
    reader = await services.credentials.create("reader", "analytics/read")
    read_auth = basic(reader.key, reader.secret)
    response = await client.post("/analytics/kpi-definitions", json=VALID, headers=read_auth)
    assert response.status_code == 403
    created = await client.post("/analytics/kpi-definitions", json=VALID, headers=auth)
    kpi_id = created.json()["id"]
    assert (await client.get("/analytics/kpi-definitions", headers=read_auth)).status_code == 200
    for method in ("put", "delete"):
        kwargs: dict[str, Any] = {"json": VALID} if method == "put" else {}
        response = await getattr(client, method)(
            f"/analytics/kpi-definitions/{kpi_id}", headers=read_auth, **kwargs
        )
        assert response.status_code == 403
    outsider = await services.credentials.create("outsider", "statements/read")
    response = await client.get(
        "/analytics/kpi-definitions", headers=basic(outsider.key, outsider.secret)
    )
    assert response.status_code == 403
    response = await client.get("/analytics/kpis", headers=basic(outsider.key, outsider.secret))
    assert response.status_code == 403


async def test_http_report(
    http: httpx.AsyncClient, credential: tuple[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    auth = basic(*credential)
    for definition in (VALID, {**VALID, "name": "Statements", "measure": "statements"}):
        assert (
            await http.post("/analytics/kpi-definitions", json=definition, headers=auth)
        ).status_code == 201
    response = await http.get("/analytics/kpis?at=2024-08-20", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["at"] == "2024-08-21T00:00:00Z"
    assert set(body) >= {"as_of", "high_water_mark", "definitions", "kpis"}
    stored = [
        kpis.parse_kpi(VALID),
        kpis.parse_kpi({**VALID, "name": "Statements", "measure": "statements"}),
    ]
    expected = kpis.compute(con, KpiParams(kpis=tuple(stored), at=AT))["kpis"]
    for got, want in zip(body["kpis"], expected, strict=True):
        assert got["trend"] == want["trend"]
        assert got["value"] == want["value"]
        assert got["zone"] == want["zone"]

    response = await http.get("/analytics/kpis?at=2024-08-20&format=csv", headers=auth)
    lines = response.text.splitlines()
    assert lines[0].startswith("id,name,measure,period_start,value,n,zone")
    assert len(lines) == 3
    assert (await http.get("/analytics/kpis?at=soon", headers=auth)).status_code == 400
    assert (await http.get("/analytics/kpis")).status_code == 401


def test_reference_is_the_end_of_a_given_day() -> None:
    from lrs.api.metrics.kpis import reference

    class Fake:
        def __init__(self, value: str) -> None:
            self.query_params = {"at": value}

    assert reference(Fake("2024-08-20")) == AT  # type: ignore[arg-type]
    assert reference(Fake("2024-08-20T12:00:00Z")) == AT - timedelta(hours=12)  # type: ignore[arg-type]
