"""OKRs (ANALYTICS.md section 5): attainment, leading indicator and at-risk flags.

The data set plants key results on and off track: the generator's key-result check-ins (a
team on track, a team far behind), uploaded outcome rows for hand-made learners, and
hand-made completions of linked learning (owners who all completed it, owners who mostly did
not). Expected values are recomputed here from the generated statements, the uploads and the
statement rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from analytics_support import basic
from metrics_support import build_warehouse, open_snapshot

from analytics.metrics import measures, okrs
from analytics.metrics.kpis import DefinitionInvalid
from analytics.metrics.okrs import OkrParams
from analytics.snapshot import SnapshotReader
from lrs.generator import Effects, GeneratorConfig, generate
from lrs.generator.config import KeyResultSpec
from lrs.services.container import Services

BASE = "https://example.com"
PIPELINE = f"{BASE}/key-results/pipeline"
NPS = f"{BASE}/key-results/nps"
SALES = f"{BASE}/programs/sales-mastery"
SUPPORT = f"{BASE}/programs/support-excellence"
REVENUE = "https://example.org/metrics/revenue"
L1 = "https://example.org/courses/okr-1"
L2 = "https://example.org/courses/okr-2"
CONFIG = GeneratorConfig(
    seed=8,
    learners=50,
    effects=Effects(
        key_results=(
            KeyResultSpec("pipeline", "Sales East", 100, 200, attained=1.2, start=0.5, end=0.74),
            KeyResultSpec("nps", "Customer Support", 20, 50, attained=0.2, start=0.5, end=0.74),
        )
    ),
)
AT = datetime(2024, 8, 21, tzinfo=UTC)  # at=2024-08-20
Q3_START, Q3_END = datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC)
ELAPSED = (AT - Q3_START) / (Q3_END - Q3_START)


def _learner(name: str) -> tuple[dict[str, Any], str]:
    agent = {"objectType": "Agent", "name": name, "mbox": f"mailto:{name}@example.org"}
    return agent, f"mbox::mailto:{name}@example.org"


ON_TRACK = [_learner(f"owner{i}") for i in range(1, 5)]
BEHIND = [_learner(f"laggard{i}") for i in range(1, 5)]


def _completed(agent: dict[str, Any], activity: str, when: str) -> dict[str, Any]:
    return {
        "actor": agent,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": activity},
        "result": {"completion": True},
        "timestamp": when,
    }


EXTRA = [
    # Every on-track owner completed the linked course before the reference time.
    *(_completed(a, L1, f"2024-07-{10 + i:02d}T10:00:00Z") for i, (a, _) in enumerate(ON_TRACK)),
    # Of the laggards one completed both linked courses, one only the first, one both but
    # after the reference time.
    _completed(BEHIND[0][0], L1, "2024-07-05T10:00:00Z"),
    _completed(BEHIND[0][0], L2, "2024-07-06T10:00:00Z"),
    _completed(BEHIND[1][0], L1, "2024-07-05T10:00:00Z"),
    _completed(BEHIND[2][0], L1, "2024-09-05T10:00:00Z"),
    _completed(BEHIND[2][0], L2, "2024-09-06T10:00:00Z"),
]


def _revenue(key: str, start: str, end: str, value: float) -> dict[str, Any]:
    return {
        "subject_type": "learner",
        "subject": key,
        "metric_id": REVENUE,
        "period_start": start,
        "period_end": end,
        "value": value,
    }


OUTCOMES = [
    row
    for _, key in ON_TRACK + BEHIND
    for row in (
        _revenue(key, "2024-06-01", "2024-06-30", 999),  # before the period
        _revenue(key, "2024-07-01", "2024-07-31", 100),
        _revenue(key, "2024-08-01", "2024-08-31", 120),
        _revenue(key, "2024-09-01", "2024-09-30", 999),  # not known yet at the reference
    )
]


def _kr(name: str, metric: dict[str, Any], baseline: float, target: float, **more: Any) -> dict:  # type: ignore[type-arg]
    return {"name": name, "metric": metric, "baseline": baseline, "target": target, **more}


def _outcome(metric_id: str, aggregation: str = "latest") -> dict[str, Any]:
    return {"type": "outcome", "id": metric_id, "aggregation": aggregation}


OKR: dict[str, Any] = {
    "objective": "Grow and keep customers",
    "description": "Q3 objective",
    "period": {"start": "2024-07-01", "end": "2024-09-30"},
    "key_results": [
        _kr(
            "Revenue of the trained owners",
            _outcome(REVENUE, "sum"),
            0,
            1000,
            linked_activities=[L1],
            owners={"learners": [k for _, k in ON_TRACK]},
        ),
        _kr(
            "Revenue of the laggards",
            _outcome(REVENUE, "sum"),
            0,
            1000,
            linked_activities=[L1, L2],
            owners={"learners": [k for _, k in BEHIND]},
        ),
        _kr(
            "Pipeline",
            _outcome(PIPELINE),
            100,
            200,
            linked_activities=[SALES],
            owners={"team": "Sales East"},
        ),
        _kr(
            "Support NPS",
            _outcome(NPS),
            20,
            50,
            linked_activities=[SUPPORT],
            owners={"team": "Customer Support"},
        ),
        _kr(
            "Learning completion",
            {"type": "measure", "measure": "completion_rate_started"},
            0.5,
            0.9,
            owners={"team": "Sales East"},
        ),
        _kr(
            "Hold revenue",
            _outcome(REVENUE, "mean"),
            110,
            110,
            owners={"learners": [k for _, k in ON_TRACK]},
        ),
        _kr("Keep revenue low", _outcome(REVENUE, "max"), 50, 50, direction="lower_is_better"),
        _kr("Cut revenue", _outcome(REVENUE, "min"), 200, 50),
        _kr("Nobody reports this", _outcome("https://example.org/metrics/none"), 0, 10),
    ],
}


@pytest.fixture(scope="module")
async def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("okrs")
    return await build_warehouse(directory, CONFIG, extra=EXTRA, outcomes=OUTCOMES)


@pytest.fixture(scope="module")
def con(snapshot: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_snapshot(snapshot)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def report(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return okrs.compute(con, OkrParams(okr=okrs.parse_okr(OKR), at=AT))


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {kr["name"]: kr for kr in report["key_results"]}


@pytest.fixture(scope="module")
def check_ins() -> dict[str, list[tuple[datetime, float]]]:
    """The generated check-ins of the planted key results: slug -> [(time, value)]."""
    out: dict[str, list[tuple[datetime, float]]] = {"pipeline": [], "nps": []}
    for s in generate(CONFIG):
        object_id = s["object"].get("id", "")
        if object_id.startswith(f"{BASE}/key-results/"):
            when = datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))
            out[object_id.rsplit("/", 1)[1]].append((when, float(s["result"]["score"]["raw"])))
    return out


def _team_completion(con: duckdb.DuckDBPyConnection, team: str, activity: str) -> tuple[int, int]:
    """(owners, owners who completed ``activity`` before AT), from roster and statements."""
    roster = con.execute(
        "SELECT learner_key, hire_date, leave_date FROM roster WHERE team = $team", {"team": team}
    ).fetchall()
    owners = {
        key
        for key, hired, left in roster
        if (hired is None or hired <= date(2024, 9, 30))
        and (left is None or left >= date(2024, 7, 1))
    }
    complete = {
        v
        for (v,) in con.execute("SELECT verb_id FROM verb_role WHERE role = 'complete'").fetchall()
    }
    done = set()
    for key, verb, completion, t in con.execute(
        "SELECT actor_key, verb_id, completion, event_time FROM statement "
        "WHERE object_id = $a AND actor_type = 'Agent'",
        {"a": activity},
    ).fetchall():
        if key in owners and (verb in complete or completion is True) and t < AT:
            done.add(key)
    return len(owners), len(done)


# ---------------------------------------------------------------------------- the generator


def test_generator_plants_check_ins_on_a_straight_line(
    check_ins: dict[str, list[tuple[datetime, float]]],
) -> None:
    pipeline = check_ins["pipeline"]
    assert len(pipeline) == 6
    assert [v for _, v in pipeline] == pytest.approx([100 + 1.2 * 100 * i / 6 for i in range(1, 7)])
    assert all(Q3_START < t < Q3_END for t, _ in pipeline)
    assert [t for t, _ in pipeline] == sorted(t for t, _ in pipeline)
    nps = check_ins["nps"]
    assert [v for _, v in nps] == pytest.approx([20 + 0.2 * 30 * i / 6 for i in range(1, 7)])
    # Nothing is planted by default.
    plain = GeneratorConfig(seed=8, learners=5)
    assert not any("key-results" in s["object"].get("id", "") for s in generate(plain))


def test_check_ins_become_team_outcomes(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT subject_type, subject, count(*) FROM outcome WHERE metric_id = $m GROUP BY ALL",
        {"m": PIPELINE},
    ).fetchall()
    assert rows == [("team", "Sales East", 6)]


# ---------------------------------------------------------------------------- the report


def test_planted_key_results_on_and_off_track(
    report: dict[str, Any],
    con: duckdb.DuckDBPyConnection,
    check_ins: dict[str, list[tuple[datetime, float]]],
) -> None:
    assert report["elapsed_share"] == pytest.approx(ELAPSED)
    krs = _by_name(report)

    on = krs["Revenue of the trained owners"]
    assert on["value"] == pytest.approx(4 * 100 + 4 * 120)
    assert on["observations"] == 8
    assert on["last_observed"] == "2024-08-31"
    assert on["attainment"] == pytest.approx(0.88)
    assert on["success"] is True
    assert on["leading_indicator"] == {
        "owners": 4,
        "completed": 4,
        "completion_share": 1.0,
        "elapsed_share": pytest.approx(ELAPSED),
        "behind": False,
    }
    assert on["at_risk"] is False
    assert on["reasons"] == []

    behind = krs["Revenue of the laggards"]
    assert behind["attainment"] == pytest.approx(0.88)
    assert behind["leading_indicator"]["completed"] == 1  # both courses, before the reference
    assert behind["leading_indicator"]["completion_share"] == pytest.approx(0.25)
    assert behind["at_risk"] is True
    (reason,) = behind["reasons"]
    assert "Only 25% of the owners (1 of 4) completed the linked learning" in reason
    assert f"{100 * ELAPSED:.0f}% of the period has elapsed" in reason

    for slug, name, baseline, target in (
        ("pipeline", "Pipeline", 100, 200),
        ("nps", "Support NPS", 20, 50),
    ):
        kr = krs[name]
        known = [(t, v) for t, v in check_ins[slug] if t < AT]
        value = max(known)[1]
        assert kr["value"] == pytest.approx(value)
        assert kr["observations"] == len(known)
        attained = min(1.0, max(0.0, (value - baseline) / (target - baseline)))
        assert kr["attainment"] == pytest.approx(attained)
        team = "Sales East" if slug == "pipeline" else "Customer Support"
        owners, completed = _team_completion(con, team, SALES if slug == "pipeline" else SUPPORT)
        lead = kr["leading_indicator"]
        assert (lead["owners"], lead["completed"]) == (owners, completed)
        learning_behind = completed / owners < ELAPSED
        pace_behind = attained < 0.7 * ELAPSED
        assert kr["at_risk"] is (learning_behind or pace_behind)
        assert len(kr["reasons"]) == learning_behind + pace_behind
    # The planted off-track key result is behind the straight-line pace, the on-track is not.
    assert krs["Support NPS"]["attainment"] < 0.7 * ELAPSED <= krs["Pipeline"]["attainment"]
    assert any("straight line" in r for r in krs["Support NPS"]["reasons"])
    assert not any("straight line" in r for r in krs["Pipeline"]["reasons"])
    assert report["at_risk"] is True


def test_measure_key_result(report: dict[str, Any], con: duckdb.DuckDBPyConnection) -> None:
    """A learning measure over the period so far, restricted to the owning team."""
    kr = _by_name(report)["Learning completion"]
    query = measures.MeasuresQuery(
        measures=("completion_rate_started",),
        filters=measures.Filters(start=Q3_START, end=AT, teams=("Sales East",)),
    )
    (row,) = measures.evaluate(con, query, suppress=False).rows
    assert kr["value"] == row["completion_rate_started"]
    assert kr["n"] == row["completion_rate_started_n"]
    assert kr["n"] > 0
    assert kr["attainment"] == pytest.approx(min(1.0, max(0.0, (kr["value"] - 0.5) / 0.4)))
    assert kr["leading_indicator"] is None
    everyone = measures.evaluate(
        con,
        measures.MeasuresQuery(
            ("completion_rate_started",), filters=measures.Filters(start=Q3_START, end=AT)
        ),
    ).rows[0]
    assert everyone["completion_rate_started_n"] > kr["n"]


def test_target_equal_to_baseline_and_lower_is_better(report: dict[str, Any]) -> None:
    krs = _by_name(report)
    hold = krs["Hold revenue"]
    assert hold["value"] == pytest.approx(110)  # mean of 4 x 100 and 4 x 120
    assert hold["attainment"] == 1.0
    assert any("Target equals baseline" in n for n in hold["notes"])
    low = krs["Keep revenue low"]
    assert low["value"] == pytest.approx(120)
    assert low["attainment"] == 0.0
    assert "below" in low["notes"][0]
    cut = krs["Cut revenue"]
    assert cut["direction"] == "lower_is_better"
    assert cut["value"] == pytest.approx(100)
    assert cut["attainment"] == pytest.approx((100 - 200) / (50 - 200))
    nobody = krs["Nobody reports this"]
    assert (nobody["value"], nobody["attainment"], nobody["success"]) == (None, None, None)
    assert nobody["at_risk"] is False
    assert nobody["notes"] == ["No value measured in the period yet."]
    attained = [kr["attainment"] for kr in report["key_results"] if kr["attainment"] is not None]
    assert report["attainment"] == pytest.approx(sum(attained) / len(attained))


def test_before_and_after_the_period(con: duckdb.DuckDBPyConnection) -> None:
    okr = okrs.parse_okr(OKR)
    early = okrs.compute(con, OkrParams(okr=okr, at=datetime(2024, 6, 1, tzinfo=UTC)))
    assert early["elapsed_share"] == 0.0
    assert all(kr["value"] is None for kr in early["key_results"])
    assert early["at_risk"] is False
    late = okrs.compute(con, OkrParams(okr=okr, at=datetime(2024, 12, 1, tzinfo=UTC)))
    assert late["elapsed_share"] == 1.0
    krs = _by_name(late)
    assert krs["Revenue of the trained owners"]["value"] == pytest.approx(4 * (100 + 120 + 999))
    # At the end, the laggards' learning is still incomplete (2 of 4 by then).
    assert krs["Revenue of the laggards"]["leading_indicator"]["completed"] == 2
    assert krs["Revenue of the laggards"]["at_risk"] is True


def test_attainment_rule() -> None:
    kr = okrs.parse_okr(OKR).key_results[2]  # pipeline 100 -> 200
    assert [okrs.attainment(kr, v) for v in (50, 100, 150, 170, 200, 260, None)] == [
        0.0,
        0.0,
        0.5,
        pytest.approx(0.7),
        1.0,
        1.0,
        None,
    ]


# ---------------------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"objective": ""}, ["objective"]),
        ({"period": {"start": "2024-07-01", "end": "2024-06-01"}}, ["period.end"]),
        ({"period": {"start": "July"}}, ["period.start", "period.end"]),
        ({"key_results": []}, ["key_results"]),
        (
            {"key_results": [{"name": "x"}]},
            ["key_results[0].metric", "key_results[0].baseline", "key_results[0].target"],
        ),
        (
            {"key_results": [_kr("x", _outcome(REVENUE, "median"), 0, 1)]},
            ["key_results[0].metric.aggregation"],
        ),
        (
            {"key_results": [_kr("x", {"type": "measure", "measure": "joy"}, 0, 1)]},
            ["key_results[0].metric.measure"],
        ),
        (
            {"key_results": [_kr("x", {"type": "kpi"}, 0, 1)]},
            ["key_results[0].metric.type"],
        ),
        (
            {"key_results": [_kr("x", _outcome(REVENUE), 0, 1, direction="lower_is_better")]},
            ["key_results[0].direction"],
        ),
        (
            {"key_results": [_kr("x", _outcome(REVENUE), 0, 1, owners={"team": "A", "x": 1})]},
            ["key_results[0].owners"],
        ),
        (
            {"key_results": [_kr("x", _outcome(REVENUE), 0, 1, owners={"learners": []})]},
            ["key_results[0].owners.learners"],
        ),
        (
            {
                "key_results": [
                    _kr(
                        "x",
                        {"type": "measure", "measure": "statements", "filters": {"team": "A"}},
                        0,
                        1,
                    )
                ]
            },
            ["key_results[0].metric.filters"],
        ),
        (
            {"key_results": [_kr("x", _outcome(REVENUE), 0, 1, linked_activities="x")]},
            ["key_results[0].linked_activities"],
        ),
        ({"key_results": [_kr("", _outcome(REVENUE), 0, 1)]}, ["key_results[0].name"]),
        ({"owner": "me"}, ["owner"]),
    ],
)
def test_invalid_definitions_name_every_bad_field(
    change: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        okrs.parse_okr({**OKR, **change})
    assert [name for name, _ in caught.value.problems] == fields


def test_definitions_round_trip() -> None:
    parsed = okrs.parse_okr(OKR)
    again = okrs.parse_okr({k: v for k, v in parsed.as_json().items() if k != "id"})
    assert again == parsed


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


async def test_crud_and_report(
    http: httpx.AsyncClient, credential: tuple[str, str], report: dict[str, Any]
) -> None:
    auth = basic(*credential)
    created = await http.post("/analytics/okrs", json=OKR, headers=auth)
    assert created.status_code == 201
    body = created.json()
    okr_id = body["id"]
    assert [kr["name"] for kr in body["key_results"]] == [kr["name"] for kr in OKR["key_results"]]
    assert all(isinstance(kr["id"], int) for kr in body["key_results"])
    assert body["period"] == OKR["period"]

    listed = (await http.get("/analytics/okrs", headers=auth)).json()["okrs"]
    assert [o["id"] for o in listed] == [okr_id]
    one = await http.get(f"/analytics/okrs/{okr_id}/definition", headers=auth)
    assert one.json() == body

    got = await http.get(f"/analytics/okrs/{okr_id}?at=2024-08-20", headers=auth)
    assert got.status_code == 200
    result = got.json()
    assert set(result) >= {"as_of", "high_water_mark", "definitions", "okr", "key_results"}
    for mine, want in zip(result["key_results"], report["key_results"], strict=True):
        for field in ("value", "attainment", "success", "leading_indicator", "at_risk", "reasons"):
            assert mine[field] == want[field]
    csv = await http.get(f"/analytics/okrs/{okr_id}?at=2024-08-20&format=csv", headers=auth)
    lines = csv.text.splitlines()
    assert lines[0].startswith("id,name,value,baseline,target,attainment,success")
    assert len(lines) == 1 + len(OKR["key_results"])

    shorter = {**OKR, "objective": "Smaller", "key_results": OKR["key_results"][:2]}
    replaced = await http.put(f"/analytics/okrs/{okr_id}/definition", json=shorter, headers=auth)
    assert replaced.status_code == 200
    assert replaced.json()["objective"] == "Smaller"
    assert len(replaced.json()["key_results"]) == 2
    again = await http.get(f"/analytics/okrs/{okr_id}?at=2024-08-20", headers=auth)
    assert len(again.json()["key_results"]) == 2

    assert (
        await http.delete(f"/analytics/okrs/{okr_id}/definition", headers=auth)
    ).status_code == 204
    assert (await http.get(f"/analytics/okrs/{okr_id}/definition", headers=auth)).status_code == 404
    assert (await http.get(f"/analytics/okrs/{okr_id}", headers=auth)).status_code == 404
    missing = await http.put(f"/analytics/okrs/{okr_id}/definition", json=OKR, headers=auth)
    assert missing.status_code == 404


async def test_errors_and_scopes(
    client: httpx.AsyncClient, services: Services, credential: tuple[str, str]
) -> None:
    auth = basic(*credential)
    bad = {**OKR, "period": {"start": "2024-07-01", "end": "2024-01-01"}, "key_results": [{}]}
    response = await client.post("/analytics/okrs", json=bad, headers=auth)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    for field in ("period.end", "key_results[0].name", "key_results[0].metric"):
        assert f"{field}:" in message
    assert (await client.get("/analytics/okrs", headers=auth)).json() == {"okrs": []}
    assert (await client.get("/analytics/okrs/x/definition", headers=auth)).status_code == 400
    assert (await client.get("/analytics/okrs")).status_code == 401
    reader = await services.credentials.create("reader", "analytics/read")
    read_auth = basic(reader.key, reader.secret)
    assert (await client.post("/analytics/okrs", json=OKR, headers=read_auth)).status_code == 403
    created = await client.post("/analytics/okrs", json=OKR, headers=auth)
    okr_id = created.json()["id"]
    ok = await client.get(f"/analytics/okrs/{okr_id}/definition", headers=read_auth)
    assert ok.status_code == 200
    response = await client.delete(f"/analytics/okrs/{okr_id}/definition", headers=read_auth)
    assert response.status_code == 403
    outsider = await services.credentials.create("outsider", "statements/read")
    response = await client.get(
        f"/analytics/okrs/{okr_id}", headers=basic(outsider.key, outsider.secret)
    )
    assert response.status_code == 403
