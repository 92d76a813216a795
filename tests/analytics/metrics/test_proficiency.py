"""Time to proficiency (ANALYTICS.md section 2) on generator data through the real store.

Every number is checked against an independent computation: the definitions applied in plain
Python to the statements that were stored, then Kaplan-Meier and the log-rank test from
lifelines, to 1e-6.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analytics_support import basic
from conftest_proficiency import (
    COMPLIANCE,
    MASTERY,
    PLANTED_TEAM,
    TTP_CONFIG,
    Built,
    built,
    day_start,
    days,
    friction_data,
    has_role,
    in_scope,
    is_pass,
    iso_z,
    learner_of,
    live,
    shifted,
    statement_id,
    verb,
    when,
)
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import qth_survival_time
from metrics_support import open_snapshot, warehouse_settings

from analytics.metrics.proficiency import (
    CSV_COLUMNS,
    RATE_DAYS,
    ProficiencyParams,
    compute,
    table,
)
from lrs.config import Settings
from lrs.generator import generate, roster
from lrs.services.container import Services

TOL = 1e-6
END = datetime(2025, 1, 1, tzinfo=UTC)
COURSE = "https://example.com/courses/security-awareness"
ASSESSMENT = f"{COURSE}/assessment"
VISITOR = {"objectType": "Agent", "name": "Visiting Learner", "mbox": "mailto:visitor@Example.ORG"}
VISITOR_KEY = "mbox::mailto:visitor@example.org"


# ------------------------------------------------------------------------------ data sets


def _about(activity: str, grouping: str = COMPLIANCE, parent: str | None = COURSE) -> Any:
    context: dict[str, Any] = {"contextActivities": {"grouping": [{"id": grouping}]}}
    if parent is not None:
        context["contextActivities"]["parent"] = [{"id": parent}]
    return {"objectType": "Activity", "id": activity}, context


def ttp_extras(statements: Sequence[dict[str, Any]], people: Sequence[dict[str, Any]]) -> list:  # type: ignore[type-arg]
    """Hand-made statements for the edge cases the generator rarely produces."""
    stayers = {r["learner_key"] for r in people if r["leave_date"] is None}
    assigned: dict[str, tuple[datetime, dict[str, Any]]] = {}
    first_pass: dict[str, datetime] = {}
    for s in live(statements):
        key = learner_of(s)
        if key is None or not in_scope(s, COMPLIANCE):
            continue
        if has_role(s, "assign") and key not in assigned:
            assigned[key] = (when(s), s["actor"])
        if is_pass(s, 0.8) and key not in first_pass:
            first_pass[key] = when(s)
    slow = sorted(
        k
        for k, (t, _) in assigned.items()
        if k in stayers and k in first_pass and days(first_pass[k], t) > 3
    )
    never = sorted(k for k in assigned if k in stayers and k not in first_pass)
    pre, waived, low = slow[0], slow[1], slow[2]
    unregistered = never[0]
    out: list[dict[str, Any]] = []

    def add(key: str, iri: str, at: datetime, obj: Any, context: Any, result: Any = None) -> None:
        statement = {
            "id": statement_id(f"ttp/{key}/{iri}/{at.isoformat()}"),
            "actor": assigned[key][1] if key in assigned else VISITOR,
            "verb": verb(iri),
            "object": obj,
            "context": context,
            "timestamp": iso_z(at),
        }
        if result is not None:
            statement["result"] = result
        out.append(statement)

    obj, ctx = _about(ASSESSMENT)
    scored = {"score": {"scaled": 0.95}, "success": True}
    mastery_ctx = {**ctx, "extensions": {MASTERY: 0.8}}
    # Proficient before the assignment: excluded as pre-proficient.
    add(pre, "http://adlnet.gov/expapi/verbs/passed", shifted(assigned[pre][0], days=-5),
        obj, mastery_ctx, scored)  # fmt: skip
    # Waived one hour after the assignment: excluded as waived.
    add(waived, "https://w3id.org/xapi/adl/verbs/waived", shifted(assigned[waived][0], hours=1),
        obj, ctx, {"success": True, "completion": True})  # fmt: skip
    # A pass at 0.7 without a masteryscore: proficient with threshold 0.6, not with 0.8.
    add(low, "http://adlnet.gov/expapi/verbs/passed", shifted(assigned[low][0], hours=1),
        obj, ctx, {"score": {"scaled": 0.7}, "success": True})  # fmt: skip
    # Left the program (unregistered) two days after the assignment: censored there.
    program = {"objectType": "Activity", "id": COMPLIANCE}
    add(unregistered, "http://id.tincanapi.com/verb/unregistered",
        shifted(assigned[unregistered][0], days=2), program, {})  # fmt: skip
    # A learner assigned as the object of an activity-streams assign (not in the roster).
    t0 = datetime(2024, 3, 4, 10, tzinfo=UTC)
    manager = next(iter(assigned.values()))[1]
    assign = {
        "id": statement_id("ttp/visitor/assign"),
        "actor": manager,
        "verb": verb("http://activitystrea.ms/assign"),
        "object": VISITOR,
        "context": {"contextActivities": {"grouping": [{"id": COMPLIANCE}]}},
        "timestamp": iso_z(t0),
    }
    out.append(assign)
    add(VISITOR_KEY, "http://adlnet.gov/expapi/verbs/passed", shifted(t0, days=3),
        obj, mastery_ctx, scored)  # fmt: skip
    # A group is not a learner.
    out.append(
        {
            "id": statement_id("ttp/group"),
            "actor": {"objectType": "Group", "name": "Study group", "mbox": "mailto:g@example.org"},
            "verb": verb("http://adlnet.gov/expapi/verbs/passed"),
            "object": obj,
            "context": ctx,
            "timestamp": iso_z(t0),
        }
    )
    return out


@pytest.fixture(scope="session")
async def ttp(tmp_path_factory: pytest.TempPathFactory) -> Built:
    statements = list(generate(TTP_CONFIG))
    extras = ttp_extras(statements, roster(TTP_CONFIG))
    return await built("ttp", TTP_CONFIG, tmp_path_factory, extra=extras)


@pytest.fixture(scope="session")
async def neutral(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return await friction_data(tmp_path_factory)


def run(data: Built, **kwargs: Any) -> dict[str, Any]:
    con = open_snapshot(data.snapshot)
    try:
        return compute(con, ProficiencyParams(**kwargs))
    finally:
        con.close()


# -------------------------------------------------------------- the independent computation


@dataclass
class Person:
    learner: str
    cohort: str | None
    status: str
    days: float | None = None
    event: bool = False
    left: bool = False


def _cohort(row: Mapping[str, Any] | None, column: str | None) -> str | None:
    if column is None or row is None:
        return None
    if column in ("hire_month", "hire_quarter"):
        hired = row.get("hire_date")
        if hired is None:
            return None
        day = date.fromisoformat(str(hired))
        if column == "hire_month":
            return f"{day.year}-{day.month:02d}"
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    value = row.get(column)
    return None if value is None else str(value)


def reference(
    data: Built,
    *,
    start: str = "assignment",
    threshold: float = 0.8,
    as_of: datetime = END,
    cohort: str | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
) -> list[Person]:
    """ANALYTICS.md section 2 applied to the stored statements in plain Python."""
    people = {r["learner_key"]: r for r in data.roster}
    seen: dict[str, dict[str, Any]] = {}
    for s in live(data.statements):
        t = when(s)
        if t > as_of or not in_scope(s, COMPLIANCE):
            continue
        key = learner_of(s)
        if key is None:
            continue
        p = seen.setdefault(key, {"passes": [], "leaves": []})
        for role in ("assign", "register", "engage", "waived"):
            if has_role(s, role) and (p.get(role) is None or t < p[role]):
                p[role] = t
        if is_pass(s, threshold):
            p["passes"].append(t)
        if has_role(s, "leave"):
            p["leaves"].append(t)
    out = []
    for key, p in seen.items():
        row = people.get(key)
        begin = {
            "hire": day_start(row["hire_date"]) if row and row.get("hire_date") else None,
            "assignment": p.get("assign"),
            "registration": p.get("register"),
            "first_engagement": p.get("engage"),
        }[start]
        label = _cohort(row, cohort)
        if begin is not None and (
            (start_from is not None and begin.date() < start_from)
            or (start_to is not None and begin.date() > start_to)
        ):
            continue
        if begin is None or begin > as_of:
            out.append(Person(key, label, "without_start"))
            continue
        done = min((t for t in p["passes"] if t >= begin), default=None)
        pre = any(t < begin for t in p["passes"])
        exits = [
            t
            for t in (
                day_start(row["leave_date"]) if row and row.get("leave_date") else None,
                min((t for t in p["leaves"] if t >= begin), default=None),
            )
            if t is not None
        ]
        left_at = min(exits, default=None)
        censor_at = min([*exits, as_of])
        waived = p.get("waived")
        if waived is not None and waived <= (done or censor_at):
            out.append(Person(key, label, "waived"))
        elif pre:
            out.append(Person(key, label, "pre_proficient"))
        elif done is None and left_at is not None and left_at < begin:
            out.append(Person(key, label, "left_before_start"))
        else:
            out.append(
                Person(
                    key,
                    label,
                    "estimate",
                    days((done or censor_at), begin),
                    done is not None,
                    done is None and left_at is not None and left_at < as_of,
                )
            )
    return out


def curve_rows(group: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The curve's column lists as rows."""
    columns = group["curve"]
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _quantile_matches(ours: float | None, kmf: KaplanMeierFitter, level: float) -> bool:
    """Ours equals lifelines', or both sit where S equals the level (rounding decides)."""
    sf = kmf.survival_function_.iloc[:, 0]
    theirs = qth_survival_time(level, sf)
    if ours is None:
        return math.isinf(theirs)
    if not math.isinf(theirs) and abs(ours - theirs) < TOL:
        return True
    at = sf.loc[: ours + 1e-9].iloc[-1]
    return bool(abs(at - level) < 1e-9)


def check_group(group: Mapping[str, Any], people: Sequence[Person]) -> None:
    """One group of the response against the independent computation and lifelines."""
    estimate = [p for p in people if p.status == "estimate"]
    for status in ("waived", "pre_proficient", "left_before_start", "without_start"):
        assert group[status] == sum(p.status == status for p in people), status
    assert group["leavers_before_proficiency"] == sum(p.left for p in estimate)
    durations = np.array([p.days for p in estimate], dtype=float)
    events = np.array([p.event for p in estimate], dtype=bool)
    assert (group["n"], group["events"], group["censored"]) == (
        len(estimate),
        int(events.sum()),
        int((~events).sum()),
    )
    kmf = KaplanMeierFitter().fit(durations, event_observed=events)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    steps = [r for r in curve_rows(group) if r["t"] > 0 or r["events"] or r["censored"]]
    timeline = [t for t in sf.index if t > 0 or ((durations == 0).any() and t == 0)]
    assert [r["t"] for r in steps] == pytest.approx(timeline, abs=1e-9)
    for row, t in zip(steps, timeline, strict=True):
        assert row["survival"] == pytest.approx(sf.loc[t], abs=TOL)
        assert [row["survival_lower"], row["survival_upper"]] == pytest.approx(
            list(ci.loc[t]), abs=TOL
        )
        assert row["proficient"] == pytest.approx(1 - sf.loc[t], abs=TOL)
        assert row["at_risk"] == int((durations >= t - 1e-12).sum())
    assert _quantile_matches(group["median_days"], kmf, 0.5)
    assert _quantile_matches(group["p90_days"], kmf, 0.1)
    last = durations.max()
    for rate in group["rates"]:
        x = rate["days"]
        if x > last and sf.iloc[-1] > 0:
            assert rate["proficient"] is None
            continue
        bounds = ci.loc[:x].iloc[-1]
        assert rate["proficient"] == pytest.approx(1 - float(kmf.predict(x)), abs=TOL)
        assert rate["ci"] == pytest.approx([1 - bounds.iloc[1], 1 - bounds.iloc[0]], abs=TOL)


def check(body: Mapping[str, Any], people: Sequence[Person]) -> None:
    check_group(body["overall"], people)
    if body["cohort"] is None:
        assert body["cohorts"] == []
        assert body["logrank"] is None
        return
    by: dict[str | None, list[Person]] = {}
    for p in people:
        by.setdefault(p.cohort, []).append(p)
    shown = {g["cohort"]: g for g in body["cohorts"]}
    small = [c for c, ps in by.items() if sum(p.status == "estimate" for p in ps) < 5]
    assert set(shown) == set(by) - set(small)
    assert body["suppressed"]["cohorts"] == len(small)
    for label, group in shown.items():
        assert group["n"] >= 5
        check_group(group, by[label])
    if len(shown) >= 2:
        estimate = [p for p in people if p.status == "estimate" and p.cohort in shown]
        expected = multivariate_logrank_test(
            [p.days for p in estimate],
            [str(p.cohort) for p in estimate],
            [p.event for p in estimate],
        )
        assert body["logrank"]["p_value"] == pytest.approx(expected.p_value, abs=TOL)
        assert body["logrank"]["chi2"] == pytest.approx(expected.test_statistic, abs=TOL)
        assert body["logrank"]["df"] == len(shown) - 1
    else:
        assert body["logrank"] is None


# --------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("start", ["assignment", "hire", "registration", "first_engagement"])
async def test_estimates_match_an_independent_computation(ttp: Built, start: str) -> None:
    body = run(ttp, program=COMPLIANCE, start=start, cohort="team", as_of=END)
    people = reference(ttp, start=start, cohort="team")
    check(body, people)
    assert body["definitions"]["start"] == start
    assert body["definitions"]["as_of"] == "2025-01-01T00:00:00Z"
    assert {"as_of", "high_water_mark", "definitions"} <= set(body)
    assert (
        "http://adlnet.gov/expapi/verbs/passed" in body["definitions"]["verb_roles"]["proficient"]
    )


async def test_the_planted_team_effect_is_recovered(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, cohort="team", as_of=END)
    medians = {g["cohort"]: g["median_days"] for g in body["cohorts"]}
    slow = medians.pop(PLANTED_TEAM)
    assert set(medians) == {"Alpha", "Gamma", "Delta"}
    assert slow > 1.6 * max(medians.values())
    assert body["logrank"]["p_value"] < 0.001


async def test_no_difference_between_teams_without_an_effect(neutral: Built) -> None:
    body = run(neutral, program=COMPLIANCE, cohort="team", as_of=END)
    assert len(body["cohorts"]) >= 6
    # Seeds 1 to 6 all give p > 0.05 for this configuration.
    assert body["logrank"]["p_value"] > 0.05
    medians = [g["median_days"] for g in body["cohorts"]]
    assert max(medians) < 2.5 * min(medians)


async def test_leavers_and_the_cutoff_censor_and_never_drop(ttp: Built) -> None:
    cutoff = datetime(2024, 6, 1, tzinfo=UTC)
    body = run(ttp, program=COMPLIANCE, as_of=cutoff)
    people = reference(ttp, as_of=cutoff)
    check(body, people)
    overall = body["overall"]
    started = [p for p in people if p.status != "without_start"]
    excluded = overall["waived"] + overall["pre_proficient"] + overall["left_before_start"]
    assert overall["n"] + excluded == len(started)
    # Learners not proficient by the cut-off are censored there, not dropped.
    by_cutoff = [p for p in people if p.status == "estimate" and not p.event and not p.left]
    assert len(by_cutoff) >= 5
    assert overall["censored"] == overall["leavers_before_proficiency"] + len(by_cutoff)
    # Over the whole year: more events among the same learners, and leavers (by the roster's
    # leave date, or unregistered) censored when they left.
    body = run(ttp, program=COMPLIANCE, as_of=END)
    people = reference(ttp, as_of=END)
    check(body, people)
    assert body["overall"]["events"] > overall["events"]
    leave_dates = {r["learner_key"]: r["leave_date"] for r in ttp.roster}
    left = [p for p in people if p.left]
    assert len(left) == body["overall"]["leavers_before_proficiency"]
    assert sum(leave_dates[p.learner] is not None for p in left) >= 2


async def test_unregistered_censors_at_that_moment(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, as_of=END)
    two_days = [r for r in curve_rows(body["overall"]) if abs(r["t"] - 2.0) < 1e-9]
    assert len(two_days) == 1
    assert two_days[0]["censored"] >= 1


async def test_exclusions_and_the_threshold(ttp: Built) -> None:
    strict = run(ttp, program=COMPLIANCE, as_of=END, threshold=0.8)["overall"]
    lenient = run(ttp, program=COMPLIANCE, as_of=END, threshold=0.6)["overall"]
    assert strict["pre_proficient"] >= 1
    assert strict["waived"] >= 1
    # The unscored-mastery pass at 0.7 is an event one hour after assignment only at 0.6.
    hour = 1 / 24
    assert not [r for r in curve_rows(strict) if abs(r["t"] - hour) < 1e-6 and r["events"]]
    assert [r for r in curve_rows(lenient) if abs(r["t"] - hour) < 1e-6 and r["events"]]
    check_group(lenient, reference(ttp, threshold=0.6))


async def test_learners_assigned_as_objects_and_groups(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, as_of=END, cohort="role")
    people = reference(ttp, cohort="role")
    visitor = next(p for p in people if p.learner == VISITOR_KEY)
    assert visitor.cohort is None
    assert visitor.event
    assert visitor.days == pytest.approx(3.0)
    assert not [p for p in people if "g@example.org" in p.learner]
    check(body, people)


async def test_small_cohorts_are_suppressed(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, as_of=END, cohort="hire_month", start="hire")
    assert body["suppressed"]["cohorts"] > 0
    assert body["suppressed"]["learners"] > 0
    check(body, reference(ttp, cohort="hire_month", start="hire"))


async def test_start_window(ttp: Built) -> None:
    window = {"start_from": date(2024, 2, 1), "start_to": date(2024, 4, 30)}
    body = run(ttp, program=COMPLIANCE, as_of=END, cohort="region", **window)
    people = reference(ttp, cohort="region", **window)
    check(body, people)
    assert 10 < body["overall"]["n"] < len(reference(ttp))


async def test_default_cutoff_and_no_curve(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, curve=False)
    assert body["definitions"]["as_of"] == body["as_of"]
    assert "curve" not in body["overall"]
    cutoff = datetime.fromisoformat(body["as_of"].replace("Z", "+00:00"))
    people = reference(ttp, as_of=cutoff)
    assert body["overall"]["n"] == sum(p.status == "estimate" for p in people)
    assert body["overall"]["censored"] == sum(
        p.status == "estimate" and not p.event for p in people
    )


async def test_an_unknown_program_has_no_learners(ttp: Built) -> None:
    body = run(ttp, program="https://example.com/programs/none", as_of=END, cohort="team")
    assert body["overall"] is None
    assert body["cohorts"] == []
    assert body["logrank"] is None


async def test_csv_table_has_one_row_per_group(ttp: Built) -> None:
    body = run(ttp, program=COMPLIANCE, as_of=END, cohort="team")
    rows = table(body)
    assert [r["level"] for r in rows] == ["overall"] + ["cohort"] * len(body["cohorts"])
    assert rows[1]["cohort"] == body["cohorts"][0]["cohort"]
    assert rows[0]["median_days"] == body["overall"]["median_days"]
    assert set(rows[0]) <= set(CSV_COLUMNS)
    rate = body["overall"]["rates"][RATE_DAYS.index(30)]
    assert rows[0]["rate_30"] == rate["proficient"]
    assert [rows[0]["rate_30_lower"], rows[0]["rate_30_upper"]] == rate["ci"]


# ------------------------------------------------------------------------------------ HTTP


@pytest.fixture
def settings(tmp_path: Path, ttp: Built) -> Settings:
    """The app reads the time-to-proficiency data set's warehouse."""
    return warehouse_settings(tmp_path, ttp.warehouse)


@pytest.fixture
async def reader(services: Services) -> dict[str, str]:
    created = await services.credentials.create("analyst", "analytics/read")
    return basic(created.key, created.secret)


URL = "/analytics/time-to-proficiency"


async def test_http_json_and_csv(client: Any, reader: dict[str, str], ttp: Built) -> None:
    query = {"program": COMPLIANCE, "cohort": "team", "as_of": "2025-01-01", "start": "assignment"}
    response = await client.get(URL, params=query, headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["high_water_mark"]["seq"] > 0
    assert body["as_of"].endswith("Z")
    check(body, reference(ttp, cohort="team"))

    response = await client.get(URL, params={**query, "format": "csv"}, headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["cohort"] for r in rows[1:]] == [g["cohort"] for g in body["cohorts"]]
    assert float(rows[0]["median_days"]) == pytest.approx(body["overall"]["median_days"])

    response = await client.get(URL, params=query, headers={**reader, "Accept": "text/csv"})
    assert response.text.splitlines()[0] == ",".join(CSV_COLUMNS)


async def test_http_needs_analytics_read(client: Any, services: Services) -> None:
    query = {"program": COMPLIANCE}
    response = await client.get(URL, params=query)
    assert response.status_code == 401
    created = await services.credentials.create("statements only", "statements/read")
    response = await client.get(URL, params=query, headers=basic(created.key, created.secret))
    assert response.status_code == 403


def _bad_queries() -> Iterator[tuple[dict[str, str], str]]:
    yield {}, "program"
    yield {"program": "not an iri"}, "IRI"
    yield {"program": COMPLIANCE, "start": "birth"}, "start"
    yield {"program": COMPLIANCE, "threshold": "high"}, "threshold"
    yield {"program": COMPLIANCE, "threshold": "1.5"}, "threshold"
    yield {"program": COMPLIANCE, "cohort": "shoe_size"}, "cohort"
    yield {"program": COMPLIANCE, "as_of": "yesterday"}, "as_of"
    yield {"program": COMPLIANCE, "from": "2024-13-01"}, "from"
    yield {"program": COMPLIANCE, "from": "2024-05-01", "to": "2024-04-01"}, "from"
    yield {"program": COMPLIANCE, "curve": "maybe"}, "curve"
    yield {"program": COMPLIANCE, "format": "xml"}, "format"


async def test_http_bad_parameters_are_400(client: Any, reader: dict[str, str]) -> None:
    for query, word in _bad_queries():
        response = await client.get(URL, params=query, headers=reader)
        assert response.status_code == 400, (query, response.text)
        assert word in response.json()["error"]["message"], query
