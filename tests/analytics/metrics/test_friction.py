"""Learning friction (ANALYTICS.md section 3) on generator data through the real store.

Program friction is checked against the generator's own timeline (the planted approval and
publication delays) and against the stage definitions applied in plain Python; the stage
summary against lifelines; the funnels against an independent computation from the stored
statements, to 1e-6.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analytics_support import basic
from conftest_proficiency import (
    APPROVE_DELAY_DAYS,
    COMPLIANCE,
    PILOT,
    PUBLISH_DELAY_DAYS,
    RELAUNCH,
    RENEWAL,
    SALES,
    Built,
    context_ids,
    days,
    friction_data,
    has_role,
    in_scope,
    is_pass,
    learner_of,
    live,
    when,
)
from lifelines import KaplanMeierFitter
from metrics_support import open_snapshot, warehouse_settings

from analytics.metrics.friction import (
    FUNNEL_COLUMNS,
    REQUEST_COLUMNS,
    FrictionParams,
    compute,
    table,
)
from lrs.config import Settings
from lrs.generator.timefmt import DAY
from lrs.generator.vocab import DUE_DATE, REQUEST_ID, project_extension
from lrs.services.container import Services

TOL = 1e-6
END = datetime(2025, 1, 1, tzinfo=UTC)
COURSE = "https://example.com/courses/negotiation"
ASSESSMENT = f"{COURSE}/assessment"


# ------------------------------------------------------------------------------ data set


@pytest.fixture(scope="session")
async def data(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return await friction_data(tmp_path_factory)


def run(data: Built, **kwargs: Any) -> dict[str, Any]:
    con = open_snapshot(data.snapshot)
    try:
        return compute(con, FrictionParams(**kwargs))
    finally:
        con.close()


def _iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------- the independent computation


def _first(values: Sequence[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _due(statement: Mapping[str, Any]) -> datetime | None:
    extensions = statement.get("context", {}).get("extensions", {})
    value = next((v for k, v in extensions.items() if k.endswith("/due-date")), None)
    return None if value is None else _iso(str(value))


def _done(statement: Mapping[str, Any], threshold: float) -> bool:
    return (
        has_role(statement, "complete")
        or statement.get("result", {}).get("completion") is True
        or is_pass(statement, threshold)
    )


def _head(ids: list[str]) -> str | None:
    return ids[0] if ids else None


def _per_learner(
    pairs: Sequence[tuple[str, Mapping[str, Any]]], threshold: float
) -> dict[tuple[str, str], dict[str, Any]]:
    per: dict[tuple[str, str], dict[str, Any]] = {}
    for target, s in pairs:
        learner = learner_of(s)
        if learner is None:
            continue
        t = when(s)
        f = per.setdefault((target, learner), {})
        if has_role(s, "assign"):
            f["assigned"] = _first([f.get("assigned"), t])
            due = _due(s)  # the due date of the latest assignment carrying one
            if due is not None and (f.get("due_at") is None or t > f["due_at"]):
                f["due_at"], f["due"] = t, due
        if has_role(s, "engage"):
            f["launched"] = _first([f.get("launched"), t])
        if s["object"].get("id") == target:
            if _done(s, threshold):
                f["completed"] = _first([f.get("completed"), t])
            if is_pass(s, threshold):
                f["passed"] = _first([f.get("passed"), t])
    return per


def _cell(count: int) -> int | None:
    return None if 0 < count < 5 else count


def funnel_reference(
    data: Built,
    *,
    program: str | None = None,
    activity: str | None = None,
    as_of: datetime = END,
    threshold: float = 0.8,
    stalled_days: int = 14,
) -> dict[str, dict[str, Any]]:
    """ANALYTICS.md section 3 (learner friction) in plain Python."""
    statements = [s for s in live(data.statements) if when(s) <= as_of]
    inherited: dict[str, dict[str, Any]] = {}
    if activity is None:
        assert program is not None
        scope = [s for s in statements if in_scope(s, program)]
        targets = {program} | {
            s["object"]["id"]
            for s in scope
            if s["object"].get("objectType", "Activity") == "Activity"
        }
        pairs = []
        for s in scope:
            heads = {program, s["object"].get("id"), _head(context_ids(s, "parent"))}
            heads.add(_head(context_ids(s, "grouping")))
            pairs += [(a, s) for a in heads & targets]
        per = _per_learner(pairs, threshold)
        inherited = {k[1]: v for k, v in per.items() if k[0] == program and "assigned" in v}
    else:
        targets = {activity}
        per = _per_learner([(activity, s) for s in statements if in_scope(s, activity)], threshold)
        if program is not None:
            own = _per_learner(
                [(program, s) for s in statements if in_scope(s, program)], threshold
            )
            inherited = {k[1]: v for k, v in own.items() if "assigned" in v}
    out = {}
    for target in targets:
        learners = {k[1] for k in per if k[0] == target} | set(inherited)
        people = []
        for learner in learners:
            x = per.get((target, learner), {})
            i = inherited.get(learner, {})
            assigned = x.get("assigned") or i.get("assigned")
            due = x.get("due") if x.get("due") is not None else i.get("due")
            launched = _first([x.get("launched"), x.get("completed"), x.get("passed")])
            completed = _first([x.get("completed"), x.get("passed")])
            people.append((assigned, due, launched, completed, x.get("passed")))
        counts = {
            "assigned": sum(a is not None for a, *_ in people),
            "launched": sum(a is not None and la is not None for a, _, la, _, _ in people),
            "completed": sum(
                a is not None and la is not None and c is not None for a, _, la, c, _ in people
            ),
            "passed": sum(
                a is not None and la is not None and c is not None and p is not None
                for a, _, la, c, p in people
            ),
            "self_started": sum(a is None and la is not None for a, _, la, _, _ in people),
            "stalled": sum(
                a is not None and la is None and a <= as_of - timedelta(days=stalled_days)
                for a, _, la, _, _ in people
            ),
            "with_due_date": sum(a is not None and d is not None for a, d, *_ in people),
            "overdue_open": sum(
                a is not None and d is not None and d < as_of and c is None
                for a, d, _, c, _ in people
            ),
            "completed_late": sum(
                a is not None and d is not None and c is not None and c > d
                for a, d, _, c, _ in people
            ),
        }
        counts["overdue"] = counts["overdue_open"] + counts["completed_late"]
        made = [p for p in people if p[0] is not None and p[2] is not None]
        completed = [p for p in made if p[3] is not None]
        passed = [p for p in completed if p[4] is not None]
        leads = {
            "assigned_to_launched": [max(0.0, days(p[2], p[0])) for p in made],
            "launched_to_completed": [max(0.0, days(p[3], p[2])) for p in completed],
            "completed_to_passed": [max(0.0, days(p[4], p[3])) for p in passed],
            "assigned_to_completed": [max(0.0, days(p[3], p[0])) for p in completed],
        }
        out[target] = {"counts": counts, "leads": leads}
    return out


def check_funnel(body: Mapping[str, Any], expected: Mapping[str, Mapping[str, Any]]) -> None:
    rows = {r["activity_id"]: r for r in body["funnel"]}
    assert set(rows) == set(expected)
    for activity, want in expected.items():
        row, counts = rows[activity], want["counts"]
        shown = {k: _cell(v) for k, v in counts.items()}
        for name, value in shown.items():
            assert row[name] == value, (activity, name)
        assert set(row["suppressed"]) == {k for k, v in shown.items() if v is None}
        conversion = row["conversion"]
        for name, (num, den) in {
            "launched": ("launched", "assigned"),
            "completed": ("completed", "launched"),
            "passed": ("passed", "completed"),
            "assigned_to_completed": ("completed", "assigned"),
            "assigned_to_passed": ("passed", "assigned"),
        }.items():
            if shown[num] is None or not shown[den]:
                assert conversion[name] is None
            else:
                assert conversion[name] == pytest.approx(counts[num] / counts[den], abs=TOL)
        for name, values in want["leads"].items():
            lead = row["lead_times"][name]
            if len(values) < 5:
                assert (lead["median_days"], lead["p90_days"]) == (None, None)
            else:
                q50, q90 = np.quantile(values, [0.5, 0.9])
                assert lead["median_days"] == pytest.approx(q50, abs=TOL)
                assert lead["p90_days"] == pytest.approx(q90, abs=TOL)


def requests_reference(
    data: Built, *, program: str | None = None, as_of: datetime = END
) -> dict[str, dict[str, Any]]:
    """ANALYTICS.md section 3 (program friction) in plain Python: milestones per request."""
    statements = sorted(
        (s for s in live(data.statements) if when(s) <= as_of), key=lambda s: when(s)
    )
    stage = [
        s
        for s in statements
        if s["object"].get("objectType", "Activity") == "Activity"
        and any(has_role(s, r) for r in ("request", "approve", "publish"))
        and (program is None or in_scope(s, program))
    ]

    def rid(s: Mapping[str, Any]) -> str | None:
        ext = s.get("context", {}).get("extensions", {})
        return next((str(v) for k, v in ext.items() if k.endswith("/request-id")), None)

    def target(s: Mapping[str, Any]) -> str:
        return program or s["object"]["id"]

    requests: dict[str, dict[str, Any]] = {}
    for s in stage:
        if has_role(s, "request"):
            key = rid(s) or target(s)
            requests.setdefault(key, {"activity": target(s), "requested": when(s)})
    for s in stage:
        if not (has_role(s, "approve") or has_role(s, "publish")):
            continue
        key = rid(s)
        if key is None:
            earlier = [
                (r["requested"], k)
                for k, r in requests.items()
                if r["activity"] == target(s) and r["requested"] <= when(s)
            ]
            key = max(earlier)[1] if earlier else None
        r = requests.get(key or "")
        if r is None or when(s) < r["requested"]:
            continue
        name = "approved" if has_role(s, "approve") else "published"
        r[name] = _first([r.get(name), when(s)])
    for key, r in requests.items():
        later = [
            q["requested"]
            for q in requests.values()
            if q["activity"] == r["activity"] and q["requested"] > r["requested"]
        ]
        until = min(later, default=None)
        # Of requests made at the same time, the smallest key owns the statements.
        if any(
            q["activity"] == r["activity"] and q["requested"] == r["requested"] and other < key
            for other, q in requests.items()
        ):
            until = r["requested"]
        pairs = [
            (r["activity"], s)
            for s in statements
            if in_scope(s, r["activity"])
            and when(s) >= r["requested"]
            and (until is None or when(s) < until)
        ]
        per = _per_learner(pairs, 0.8)
        assigned = [f for f in per.values() if "assigned" in f]
        launches = [f["launched"] for f in per.values() if "launched" in f]
        r["first_assignment"] = _first([f["assigned"] for f in assigned])
        r["first_learner"] = _first(launches)
        r["deployed"] = _first([r.get("published"), r["first_assignment"], r["first_learner"]])
        completions = sorted(f["completed"] for f in assigned if "completed" in f)
        needed = math.ceil(0.8 * len(assigned) - 1e-9)
        r["completed_80"] = (
            completions[needed - 1] if assigned and len(completions) >= needed else None
        )
        r["assigned"] = len(assigned)
    return requests


# --------------------------------------------------------------------------------- tests


async def test_planted_stage_delays_are_recovered(data: Built) -> None:
    body = run(data, as_of=END, view="requests")
    requests = {r["activity_id"]: r for r in body["requests"]}
    for slug, activity in (("sales-mastery", SALES), ("compliance-2024", COMPLIANCE)):
        planned = data.context.deployments[slug]
        got = requests[activity]
        assert got["request_id"] == planned.request_id
        assert _iso(got["requested"]) == datetime.fromtimestamp(planned.requested_ms / 1000, UTC)
        assert got["deployed_by"] == "published"
        stages = got["stages"]
        approval = (planned.approved_ms - planned.requested_ms) / DAY
        deployment = (planned.published_ms - planned.approved_ms) / DAY
        assert stages["approval"] == pytest.approx(approval, abs=TOL)
        assert stages["deployment"] == pytest.approx(deployment, abs=TOL)
        assert stages["request_to_deployment"] == pytest.approx(approval + deployment, abs=TOL)
    # The planted delays show: sales-mastery waits for approval, compliance for publication.
    sales, compliance = requests[SALES]["stages"], requests[COMPLIANCE]["stages"]
    assert sales["approval"] >= APPROVE_DELAY_DAYS
    assert compliance["approval"] < APPROVE_DELAY_DAYS / 2
    assert compliance["deployment"] >= PUBLISH_DELAY_DAYS
    assert compliance["deployment"] > sales["deployment"]


async def test_request_milestones_match_an_independent_computation(data: Built) -> None:
    body = run(data, as_of=END, view="requests")
    expected = requests_reference(data)
    got = {r["request_id"] or r["activity_id"]: r for r in body["requests"]}
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        for name in ("requested", "approved", "deployed", "first_learner", "completed_80"):
            assert _iso(row[name]) == want.get(name), (key, name)
        assert row["assigned_learners"] == _cell(want["assigned"])
        assert row["open"] is (want["completed_80"] is None)
    # The pilot's request has no id: linked by its activity; its few learners are not shown.
    pilot = got[PILOT]
    assert pilot["request_id"] is None
    assert pilot["approved"] is not None
    assert pilot["deployed_by"] == "published"
    assert pilot["assigned_learners"] is None
    # The backlog request was never approved: its approval stage is open.
    backlog = got["req-backlog"]
    assert backlog["approved"] is None
    assert backlog["stages"]["approval"] is None
    assert backlog["open"] is True


def _status(times: Mapping[str, datetime | None], start: str, end: str, assigned: int) -> str:
    """A stage's status (ANALYTICS.md section 3): done, open (censored), or left out."""
    order = ["requested", "approved", "deployed", "first_learner", "completed_80"]
    if end == "completed_80" and assigned == 0:
        return "not_applicable"
    if times.get(start) is None:
        return "not_started"
    if times.get(end) is not None:
        return "done"
    if any(times.get(m) is not None for m in order[order.index(end) + 1 :]):
        return "skipped"
    return "open"


STAGES = (
    ("approval", "requested", "approved"),
    ("deployment", "approved", "deployed"),
    ("first_learner", "deployed", "first_learner"),
    ("completion", "first_learner", "completed_80"),
    ("request_to_deployment", "requested", "deployed"),
    ("end_to_end", "requested", "completed_80"),
)


async def test_stage_summary_censors_open_requests(data: Built) -> None:
    body = run(data, as_of=END, view="requests")
    expected = requests_reference(data)
    summary = {s["stage"]: s for s in body["request_summary"]}
    for name, start, end in STAGES:
        durations, events = [], []
        for key, want in expected.items():
            status = _status(want, start, end, want["assigned"])
            row = next(r for r in body["requests"] if (r["request_id"] or r["activity_id"]) == key)
            assert row["stage_status"][name] == status, (key, name)
            if status == "done":
                durations.append(max(0.0, days(want[end], want[start])))
                events.append(True)
            elif status == "open":
                durations.append(days(END, want[start]))
                events.append(False)
        stage = summary[name]
        assert (stage["requests"], stage["done"], stage["open"]) == (
            len(durations),
            sum(events),
            len(events) - sum(events),
        )
        kmf = KaplanMeierFitter().fit(durations, event_observed=events)
        curve = kmf.survival_function_.iloc[:, 0]
        for field, level in (("median_days", 0.5), ("p90_days", 0.1)):
            # The documented quantile: the smallest time with S(t) <= level (lifelines' own
            # qth_survival_time takes S(t) < level: they differ when S lands on the level).
            reached = curve[curve <= level + 1e-12]
            if reached.empty:
                assert stage[field] is None
            else:
                assert stage[field] == pytest.approx(float(reached.index[0]), abs=TOL)
    # The backlog request and the relaunch's tied one (no learners: never deployed).
    assert summary["approval"]["open"] == 2
    assert summary["end_to_end"]["open"] >= 1  # the pilot: a third of its learners completed


async def test_requests_of_one_program_and_a_cutoff(data: Built) -> None:
    planned = data.context.deployments["sales-mastery"]
    approved = datetime.fromtimestamp(planned.approved_ms / 1000, UTC)
    cutoff = approved - timedelta(days=1)
    body = run(data, program=SALES, as_of=cutoff, view="requests")
    (request,) = body["requests"]
    assert request["approved"] is None
    assert request["open"] is True
    requested = datetime.fromtimestamp(planned.requested_ms / 1000, UTC)
    (approval,) = [s for s in body["request_summary"] if s["stage"] == "approval"]
    assert (approval["requests"], approval["done"], approval["open"]) == (1, 0, 1)
    assert approval["median_days"] is None
    assert "funnel" not in body
    later = run(data, program=SALES, as_of=END, view="requests")["requests"][0]
    assert later["stages"]["approval"] == pytest.approx(days(approved, requested), abs=TOL)


@pytest.mark.parametrize("program", [COMPLIANCE, SALES])
async def test_program_funnels_match_an_independent_computation(data: Built, program: str) -> None:
    body = run(data, program=program, as_of=END, view="funnel")
    expected = funnel_reference(data, program=program)
    check_funnel(body, expected)
    rows = {r["activity_id"]: r for r in body["funnel"]}
    assert body["funnel"][0]["activity_id"] == program
    assert rows[program]["is_program"] is True
    assert rows[program]["assigned"] > 30
    assert rows[program]["with_due_date"] == rows[program]["assigned"]
    if program == SALES:
        assert rows[ASSESSMENT]["passed"] > 0
        assert rows[ASSESSMENT]["assigned"] == rows[program]["assigned"]  # inherited


@pytest.mark.parametrize(
    ("scope", "as_of", "threshold"),
    [
        ({"program": COMPLIANCE}, END, 0.8),
        ({"program": COMPLIANCE}, datetime(2024, 5, 20, tzinfo=UTC), 0.8),
        ({"program": SALES}, datetime(2024, 9, 1, tzinfo=UTC), 0.5),
        ({"program": SALES}, END, 0.95),
        ({"program": SALES, "activity": COURSE}, datetime(2024, 8, 1, tzinfo=UTC), 0.8),
        ({"activity": ASSESSMENT}, END, 0.9),
        ({"program": RENEWAL}, datetime(2024, 3, 24, tzinfo=UTC), 0.8),
        ({"program": RENEWAL}, END, 0.8),
        ({"program": RELAUNCH}, END, 0.8),
        ({"program": RELAUNCH}, datetime(2024, 7, 23, tzinfo=UTC), 0.8),
    ],
)
async def test_the_sync_kept_facts_answer_like_the_statements(
    data: Built, scope: dict[str, str], as_of: datetime, threshold: float
) -> None:
    """With the default extensions, friction reads the sync-kept per-learner facts
    (``learner_scope``); with extensions named by the caller, the statements themselves. At
    any cut-off and pass threshold, both give the same requests, stages and funnels."""
    base = data.config.base_iri
    named = {
        "due_date_extension": project_extension(base, DUE_DATE),
        "request_extension": project_extension(base, REQUEST_ID),
    }
    common = {**scope, "as_of": as_of, "threshold": threshold}
    facts, statements = run(data, **common), run(data, **common, **named)
    for part in ("requests", "request_summary", "funnel"):
        assert facts[part] == statements[part], part
    assert facts["funnel"], "a funnel to compare"
    if scope.get("program") == RENEWAL:
        # Six learners, each due 10 days after the first assignment, then 60 days after
        # the second (30 days later): overdue at the first cut-off by the first due date,
        # not yet by the second.
        (row,) = facts["funnel"]
        assert (row["assigned"], row["with_due_date"]) == (6, 6)
        assert row["overdue_open"] == 6
    if scope.get("program") == RELAUNCH and as_of == END:
        first, second, tied = facts["requests"]
        assert [r["request_id"] for r in facts["requests"]] == [
            "req-relaunch-1",
            "req-relaunch-2",
            "req-relaunch-9",
        ]
        assert (tied["assigned_learners"], tied["first_learner"]) == (0, None)
        assert (first["assigned_learners"], first["completed_learners"]) == (6, 5)
        assert (second["assigned_learners"], second["completed_learners"]) == (6, 6)
        assert first["first_learner"] < second["requested"] < second["first_learner"]
        assert second["first_learner"] == "2024-07-21T21:00:00Z"  # the first six's relaunch


async def test_named_extensions_read_the_statements_like_the_default_suffixes(
    data: Built,
) -> None:
    """The default extensions are read from columns flattened at sync time; extensions named
    by the caller are read from the statements' extensions text. Both agree (and the funnel
    matches the independent computation)."""
    base = data.config.base_iri
    named = {
        "due_date_extension": project_extension(base, DUE_DATE),
        "request_extension": project_extension(base, REQUEST_ID),
    }
    for program in (COMPLIANCE, SALES):
        default = run(data, program=program, as_of=END)
        explicit = run(data, program=program, as_of=END, **named)
        assert explicit["requests"] == default["requests"]
        assert explicit["funnel"] == default["funnel"]
        assert any(r["request_id"] is not None for r in default["requests"])
        assert any(f["with_due_date"] for f in default["funnel"])
        check_funnel(explicit, funnel_reference(data, program=program))
    # An extension nobody sends: no due dates, requests identified by their activity.
    other = run(data, program=SALES, as_of=END, due_date_extension=base + "/x/none")
    assert all(not f["with_due_date"] for f in other["funnel"])


async def test_activity_funnels_with_and_without_the_program(data: Built) -> None:
    inherited = run(data, activity=COURSE, program=SALES, as_of=END, view="funnel")
    check_funnel(inherited, funnel_reference(data, activity=COURSE, program=SALES))
    alone = run(data, activity=ASSESSMENT, as_of=END, view="funnel", stalled_days=30)
    check_funnel(alone, funnel_reference(data, activity=ASSESSMENT, stalled_days=30))
    (row,) = alone["funnel"]
    assert row["assigned"] == 0  # nobody is assigned the assessment itself
    assert row["self_started"] > 0
    (course,) = inherited["funnel"]
    assert course["assigned"] > 0
    assert course["passed"] > 0  # the course is satisfied (a proficient role)


async def test_stalled_and_overdue_depend_on_the_cutoff(data: Built) -> None:
    cutoff = datetime(2024, 6, 15, tzinfo=UTC)
    stalled = {}
    for n in (7, 30):
        body = run(data, program=COMPLIANCE, as_of=cutoff, view="funnel", stalled_days=n)
        expected = funnel_reference(data, program=COMPLIANCE, as_of=cutoff, stalled_days=n)
        check_funnel(body, expected)
        stalled[n] = expected[COMPLIANCE]["counts"]["stalled"]
        assert body["definitions"]["stalled_days"] == n
    assert stalled[7] > stalled[30]
    assert stalled[7] >= 5
    assert (body["funnel"][0]["overdue_open"] or 0) > 0


async def test_small_cells_are_suppressed(data: Built) -> None:
    body = run(data, program=PILOT, as_of=END)
    check_funnel(body, funnel_reference(data, program=PILOT))
    pilot = body["funnel"][0]
    assert pilot["activity_id"] == PILOT
    assert pilot["assigned"] is None
    assert {"assigned", "launched", "completed"} <= set(pilot["suppressed"])
    assert pilot["conversion"]["launched"] is None
    assert pilot["lead_times"]["assigned_to_launched"]["median_days"] is None
    (request,) = body["requests"]
    assert request["assigned_learners"] is None


async def test_csv_tables(data: Built) -> None:
    body = run(data, program=SALES, as_of=END)
    requests = table(body, "requests")
    assert len(requests) == 1
    assert set(requests[0]) <= set(REQUEST_COLUMNS)
    assert requests[0]["approval_days"] == body["requests"][0]["stages"]["approval"]
    funnel = table(body, "funnel")
    assert [r["activity_id"] for r in funnel] == [r["activity_id"] for r in body["funnel"]]
    assert set(funnel[0]) <= set(FUNNEL_COLUMNS)
    first = body["funnel"][0]
    assert funnel[0]["conversion_launched"] == first["conversion"]["launched"]
    lead = first["lead_times"]["assigned_to_launched"]["median_days"]
    assert funnel[0]["assigned_to_launched_median_days"] == lead


# ------------------------------------------------------------------------------------ HTTP


@pytest.fixture
def settings(tmp_path: Path, data: Built) -> Settings:
    """The app reads the friction data set's warehouse."""
    return warehouse_settings(tmp_path, data.warehouse)


@pytest.fixture
async def reader(services: Services) -> dict[str, str]:
    created = await services.credentials.create("analyst", "analytics/read")
    return basic(created.key, created.secret)


URL = "/analytics/friction"


async def test_http_json_and_csv(client: Any, reader: dict[str, str], data: Built) -> None:
    query = {"program": SALES, "as_of": "2025-01-01"}
    response = await client.get(URL, params=query, headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"as_of", "high_water_mark", "definitions", "requests", "funnel"} <= set(body)
    assert body["definitions"]["stalled_days"] == 14
    check_funnel(body, funnel_reference(data, program=SALES))

    response = await client.get(URL, params={**query, "view": "funnel", "format": "csv"},
                                headers=reader)  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["activity_id"] for r in rows] == [r["activity_id"] for r in body["funnel"]]
    assert int(rows[0]["assigned"]) == body["funnel"][0]["assigned"]

    response = await client.get(
        URL, params={"view": "requests", "as_of": "2025-01-01"},
        headers={**reader, "Accept": "text/csv"},
    )  # fmt: skip
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == ",".join(REQUEST_COLUMNS)
    assert len(lines) == 1 + len(requests_reference(data))


async def test_http_needs_analytics_read(client: Any, services: Services) -> None:
    response = await client.get(URL, params={"program": SALES})
    assert response.status_code == 401
    created = await services.credentials.create("writer", "statements/write")
    response = await client.get(
        URL, params={"program": SALES}, headers=basic(created.key, created.secret)
    )
    assert response.status_code == 403


def _bad_queries() -> Iterator[tuple[dict[str, str], str]]:
    yield {"program": SALES, "format": "csv"}, "view"
    yield {"view": "funnel"}, "program"
    yield {"view": "everything"}, "view"
    yield {"program": "sales mastery"}, "IRI"
    yield {"activity": "x"}, "IRI"
    yield {"program": SALES, "due_date_extension": "due date"}, "IRI"
    yield {"program": SALES, "stalled_days": "-1"}, "stalled_days"
    yield {"program": SALES, "stalled_days": "two weeks"}, "stalled_days"
    yield {"program": SALES, "threshold": "2"}, "threshold"
    yield {"program": SALES, "as_of": "soon"}, "as_of"


async def test_http_bad_parameters_are_400(client: Any, reader: dict[str, str]) -> None:
    for query, word in _bad_queries():
        response = await client.get(URL, params=query, headers=reader)
        assert response.status_code == 400, (query, response.text)
        assert word in response.json()["error"]["message"], query
