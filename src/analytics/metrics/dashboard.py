"""What the dashboard needs beyond the metric endpoints (ANALYTICS.md sections 1, 4, 5).

The filter options (programs and courses, teams, outcome metrics, the span of event times), a
binned scatter of a continuous exposure against an outcome (the correlation endpoint reports
statistics, never per-person points), and the KPI report narrowed to the dashboard's team or
activity filter. Pure functions of a snapshot cursor, like every metric module.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Final

import duckdb

from analytics.metrics import kpis
from analytics.metrics.common import SUPPRESS_BELOW, envelope, finite, iso
from analytics.metrics.correlation import CorrelationParams, Exposure, unit_rows

# Programs and courses: the activities other statements name as their context parent or
# grouping (ANALYTICS.md section 1, "scope of a program or module"), with how many learners
# have a statement in their scope.
_SCOPES_SQL: Final = """
WITH scoped AS (
    SELECT DISTINCT ca.activity_id, s.actor_key
    FROM statement_context_activity ca JOIN statement s USING (statement_id)
    WHERE ca.usage IN ('parent', 'grouping') AND s.actor_type = 'Agent'
    UNION
    SELECT s.object_id, s.actor_key FROM statement s
    WHERE s.object_type = 'Activity' AND s.actor_type = 'Agent'
      AND s.object_id IN (SELECT activity_id FROM statement_context_activity
                          WHERE usage IN ('parent', 'grouping'))
)
SELECT sc.activity_id, any_value(a.name), any_value(a.activity_type), count(DISTINCT actor_key)
FROM scoped sc LEFT JOIN activity a USING (activity_id)
GROUP BY sc.activity_id
ORDER BY count(DISTINCT actor_key) DESC, sc.activity_id
"""
_TEAMS_SQL: Final = """
SELECT team, count(*) FROM roster WHERE team IS NOT NULL GROUP BY team ORDER BY team
"""
_OUTCOMES_SQL: Final = """
SELECT metric_id, subject_type, any_value(unit), count(*), min(period_start), max(period_end)
FROM outcome GROUP BY metric_id, subject_type ORDER BY count(*) DESC, metric_id
"""
_SPAN_SQL: Final = "SELECT min(event_time), max(event_time), count(*) FROM statement"


def _kind(activity_type: str | None) -> str:
    """``program``, ``course`` or ``activity``, from the activity type IRI's last segment."""
    last = (activity_type or "").rstrip("/").rsplit("/", 1)[-1].lower()
    return last if last in ("program", "course") else "activity"


def compute_options(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the dashboard's filters offer, from one snapshot (ANALYTICS.md sections 1 and 5:
    scope of a program, roster teams, outcome metrics); every list is in the envelope."""
    scopes = [
        {"id": activity_id, "name": name or activity_id, "kind": _kind(kind), "learners": n}
        for activity_id, name, kind, n in con.execute(_SCOPES_SQL).fetchall()
    ]
    order = {"program": 0, "course": 1, "activity": 2}
    scopes.sort(key=lambda s: (order[s["kind"]], s["name"].lower()))
    teams = [{"name": team, "people": n} for team, n in con.execute(_TEAMS_SQL).fetchall()]
    outcomes = [
        {
            "metric_id": metric_id,
            "subject_type": subject_type,
            "unit": unit,
            "rows": n,
            "first_period_start": first.isoformat() if first else None,
            "last_period_end": last.isoformat() if last else None,
        }
        for metric_id, subject_type, unit, n, first, last in con.execute(_OUTCOMES_SQL).fetchall()
    ]
    first_event, last_event, statements = con.execute(_SPAN_SQL).fetchone() or (None, None, 0)
    definitions = {
        "scopes": "activities other statements name as context parent or grouping (programs "
        "and courses), with the number of learners (Agent actors) with a statement in scope",
        "teams": "distinct roster teams with their head count",
        "outcome_metrics": "distinct (metric_id, subject_type) of the outcome table",
    }
    body = {
        "scopes": scopes,
        "teams": teams,
        "outcome_metrics": outcomes,
        "events": {"first": iso(first_event), "last": iso(last_event), "statements": statements},
    }
    return envelope(con, definitions, body, include_verb_roles=False)


CONTINUOUS_EXPOSURES: Final[tuple[Exposure, ...]] = ("days_to_complete", "best_score")
MAX_BINS: Final = 20


def exposure_bins(
    con: duckdb.DuckDBPyConnection, params: CorrelationParams, bins: int
) -> dict[str, Any]:
    """The scatter of a continuous exposure against the outcome (ANALYTICS.md section 4), as
    bins of exposed learners: the units of :func:`analytics.metrics.correlation.unit_rows`
    (same definitions as ``GET /analytics/correlation``) that have a value and an outcome,
    sorted by value and cut into at most ``bins`` groups of (nearly) equal size, never fewer
    than ``SUPPRESS_BELOW`` people each; no single person's outcome is ever shown. The not
    exposed units' mean outcome is the reference."""
    rows = unit_rows(con, params)
    points = sorted(
        (float(r["value"]), float(r["y"]))
        for r in rows
        if r["exposed"] and r["value"] is not None and r["y"] is not None
    )
    others = [float(r["y"]) for r in rows if not r["exposed"] and r["y"] is not None]
    count = min(bins, len(points) // SUPPRESS_BELOW)
    out = []
    for i in range(count):
        chunk = points[len(points) * i // count : len(points) * (i + 1) // count]
        xs, ys = [x for x, _ in chunk], [y for _, y in chunk]
        out.append(
            {
                "bin": i + 1,
                "n": len(chunk),
                "value_min": finite(xs[0]),
                "value_max": finite(xs[-1]),
                "value_mean": finite(sum(xs) / len(xs)),
                "outcome_mean": finite(sum(ys) / len(ys)),
            }
        )
    shown = len(others) >= SUPPRESS_BELOW
    definitions = {
        "exposure": params.exposure,
        "units": "as GET /analytics/correlation with the same parameters (unit=learner)",
        "bins": f"exposed learners with a value and an outcome, sorted by value, cut into at "
        f"most {bins} groups of nearly equal size with at least {SUPPRESS_BELOW} people each",
        "reference": "mean outcome of the learners not exposed",
    }
    body = {
        "module": params.modules[0],
        "metric": params.metric,
        "exposure": params.exposure,
        "n": len(points),
        "bins": out,
        "not_exposed": {
            "n": len(others),
            "outcome_mean": finite(sum(others) / len(others)) if shown else None,
        },
    }
    return envelope(con, definitions, body, include_verb_roles=False)


def narrow_kpi(
    kpi: kpis.KpiDefinition, team: str | None, activity: str | None
) -> kpis.KpiDefinition | None:
    """The KPI restricted to one team and/or one activity (the dashboard's filters), or None
    when its own filters exclude them (a KPI about other teams or activities)."""
    filters = kpi.filters
    if team is not None:
        if filters.teams and team not in filters.teams:
            return None
        filters = dataclasses.replace(filters, teams=(team,))
    if activity is not None:
        if filters.activities and activity not in filters.activities:
            return None
        scope = filters.activity_scope if filters.activities else "scope"
        filters = dataclasses.replace(filters, activities=(activity,), activity_scope=scope)
    return dataclasses.replace(kpi, filters=filters)


def narrowed_kpis(
    con: duckdb.DuckDBPyConnection,
    stored: tuple[kpis.KpiDefinition, ...],
    team: str | None,
    activity: str | None,
    at: datetime | None,
) -> dict[str, Any]:
    """``GET /analytics/kpis`` (ANALYTICS.md section 5) with every KPI narrowed to the team
    and/or activity (:func:`narrow_kpi`); the KPIs that cannot be are listed apart."""
    kept: list[kpis.KpiDefinition] = []
    excluded: list[dict[str, Any]] = []
    for kpi in stored:
        narrowed = narrow_kpi(kpi, team, activity)
        if narrowed is None:
            excluded.append({"id": kpi.id, "name": kpi.name, "filters": kpi.filters.as_json()})
        else:
            kept.append(narrowed)
    body = kpis.compute(con, kpis.KpiParams(kpis=tuple(kept), at=at))
    body["definitions"]["narrowed"] = (
        "each KPI's filters with team and/or activity replaced by the dashboard's (a KPI whose "
        "own filters name other teams or activities is listed under excluded)"
    )
    body["narrowed_by"] = {"team": team, "activity": activity}
    body["excluded"] = excluded
    return body
