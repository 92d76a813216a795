"""OKRs: objectives for a period with key results, checked against linked learning
(ANALYTICS.md section 5).

A key result has a metric, a baseline and a target, and optionally linked learning activities
and owners (learner keys or a roster team). Its report, as of a reference time ``R`` (the
snapshot's as-of unless the caller names another; the period runs from its start date's
midnight UTC to the end of its end date):

* **value**: for an *outcome* metric, the outcome rows of that metric id (uploaded rows and
  outcome statements such as key-result check-ins) that lie inside the period and were known
  at ``R`` (period start not after ``R``'s date; a statement's event time before ``R``),
  restricted to the owners (a team: the team's rows and its members' rows; learners: their
  rows), aggregated by ``aggregation``: ``latest`` (default: the row with the latest period
  end, then event time), ``sum``, ``mean``, ``min``, ``max`` or ``count``. For a *measure*
  metric, the built-in measure over ``[period start, min(R, period end))`` with the key
  result's filters and the owners as a learner or team filter (no small-cell suppression:
  owners are named in the OKR).
* **attainment** = clamp((value - baseline) / (target - baseline), 0, 1); **success** when
  attainment >= 0.7 (a stretch goal). When target == baseline (a "hold the line" key result)
  attainment is 1 when the value is at or beyond the target in the key result's direction
  (default: at or above), else 0.
* **leading indicator**: the share of owners who completed every linked activity (a
  completion with the activity as object, before ``R``) against the elapsed share of the
  period. Team owners are the roster members of the team employed during the period (hired on
  or before its end, not left before its start).
* **at risk** when the completion share is behind the elapsed share (the learning that should
  move the key result lags the calendar), or when attainment is behind the straight-line pace
  to success (attainment < 0.7 x elapsed share); each reason is given in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import duckdb

from analytics.metrics import measures
from analytics.metrics.common import envelope, finite
from analytics.metrics.kpis import (
    DIRECTIONS,
    MAX_NAME,
    MAX_TEXT,
    DefinitionInvalid,
    Problems,
    query_parts,
    reference_time,
)
from analytics.metrics.measures import Filters, MeasuresQuery, Options

SUCCESS: Final = 0.7
AGGREGATIONS: Final = ("latest", "sum", "mean", "min", "max", "count")
METRIC_TYPES: Final = ("outcome", "measure")
OKR_FIELDS: Final = ("objective", "description", "period", "key_results")
KR_FIELDS: Final = (
    "name",
    "metric",
    "baseline",
    "target",
    "direction",
    "linked_activities",
    "owners",
)
MAX_KEY_RESULTS: Final = 25
MAX_LIST: Final = 1000


@dataclass(frozen=True)
class KeyResult:
    """A validated key result; ``metric`` is an outcome metric id or a measure name."""

    name: str
    metric_type: str
    metric: str
    baseline: float
    target: float
    direction: str = "higher_is_better"
    aggregation: str = "latest"
    filters: Filters = field(default_factory=Filters)
    options: Options = field(default_factory=Options)
    linked_activities: tuple[str, ...] = ()
    owner_team: str | None = None
    owner_learners: tuple[str, ...] = ()
    id: int | None = None

    def metric_json(self) -> dict[str, Any]:
        if self.metric_type == "outcome":
            return {"type": "outcome", "id": self.metric, "aggregation": self.aggregation}
        return {
            "type": "measure",
            "measure": self.metric,
            "filters": self.filters.as_json(),
            "options": self.options.as_json(),
        }

    def owners_json(self) -> dict[str, Any] | None:
        if self.owner_team is not None:
            return {"team": self.owner_team}
        if self.owner_learners:
            return {"learners": list(self.owner_learners)}
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "metric": self.metric_json(),
            "baseline": self.baseline,
            "target": self.target,
            "direction": self.direction,
            "linked_activities": list(self.linked_activities),
            "owners": self.owners_json(),
        }


@dataclass(frozen=True)
class OkrDefinition:
    """A validated objective (:func:`parse_okr`); the period's end date is inclusive."""

    objective: str
    period_start: date
    period_end: date
    key_results: tuple[KeyResult, ...]
    description: str | None = None
    id: int | None = None
    created: datetime | None = None
    updated: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "objective": self.objective,
            "description": self.description,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "key_results": [kr.as_json() for kr in self.key_results],
            "created": _iso(self.created),
            "updated": _iso(self.updated),
        }


def _day(problems: Problems, raw: Mapping[str, Any], name: str, where: str) -> date | None:
    value = raw.get(name)
    if value is None:
        problems.add(where, "is required (YYYY-MM-DD)")
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    problems.add(where, f"must be a date (YYYY-MM-DD), not {value!r}")
    return None


def _strings(problems: Problems, value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.add(where, "must be a list of non-empty strings")
        return ()
    if len(value) > MAX_LIST:
        problems.add(where, f"may list at most {MAX_LIST} values")
        return ()
    return tuple(dict.fromkeys(value))


def _key_result(problems: Problems, raw: Any, where: str) -> KeyResult | None:
    if not isinstance(raw, Mapping):
        problems.add(where, "must be an object")
        return None
    before = len(problems.items)
    problems.unknown(raw, KR_FIELDS, f"{where}.")
    name = problems.text(raw, "name", required=True, limit=MAX_NAME, where=f"{where}.name")
    metric = raw.get("metric")
    metric_type = metric_id = None
    aggregation = "latest"
    filters, options = Filters(), Options()
    if not isinstance(metric, Mapping):
        problems.add(
            f"{where}.metric",
            'is required: {"type": "outcome", "id": ...} or {"type": "measure", "measure": ...}',
        )
    else:
        metric_type = metric.get("type")
        if metric_type == "outcome":
            problems.unknown(metric, ("type", "id", "aggregation"), f"{where}.metric.")
            metric_id = metric.get("id")
            if not isinstance(metric_id, str) or not metric_id:
                problems.add(f"{where}.metric.id", "is required: the outcome metric id")
                metric_id = None
            aggregation = metric.get("aggregation", "latest")
            if aggregation not in AGGREGATIONS:
                problems.add(
                    f"{where}.metric.aggregation",
                    f"must be one of {', '.join(AGGREGATIONS)}, not {aggregation!r}",
                )
        elif metric_type == "measure":
            problems.unknown(metric, ("type", "measure", "filters", "options"), f"{where}.metric.")
            metric_id = metric.get("measure")
            if metric_id not in measures.MEASURES:
                problems.add(
                    f"{where}.metric.measure",
                    f"must be one of {', '.join(measures.MEASURES)}, not {metric_id!r}",
                )
                metric_id = None
            filters, options = query_parts(problems, metric, metric_id, f"{where}.metric.")
            if filters.teams or filters.learners:
                problems.add(
                    f"{where}.metric.filters",
                    "team and learner filters are set by the key result's owners",
                )
        else:
            problems.add(f"{where}.metric.type", f"must be one of {', '.join(METRIC_TYPES)}")
    baseline = problems.number(raw, "baseline", f"{where}.baseline")
    target = problems.number(raw, "target", f"{where}.target")
    direction = raw.get("direction")
    if direction is None:
        direction = (
            "lower_is_better"
            if baseline is not None and target is not None and target < baseline
            else "higher_is_better"
        )
    elif direction not in DIRECTIONS:
        problems.add(f"{where}.direction", f"must be one of {', '.join(DIRECTIONS)}")
    elif (
        baseline is not None
        and target is not None
        and target != baseline
        and (target > baseline) != (direction == "higher_is_better")
    ):
        problems.add(
            f"{where}.direction",
            f"{direction} contradicts target {target} vs baseline {baseline}",
        )
    linked = _strings(problems, raw.get("linked_activities"), f"{where}.linked_activities")
    owners = raw.get("owners")
    team: str | None = None
    learners: tuple[str, ...] = ()
    if owners is not None:
        if (
            not isinstance(owners, Mapping)
            or len(owners) != 1
            or not ("team" in owners or "learners" in owners)
        ):
            problems.add(
                f"{where}.owners", 'must be {"team": "<team>"} or {"learners": [<learner keys>]}'
            )
        elif "team" in owners:
            if not isinstance(owners["team"], str) or not owners["team"]:
                problems.add(f"{where}.owners.team", "must be a team name")
            else:
                team = owners["team"]
        else:
            learners = _strings(problems, owners["learners"], f"{where}.owners.learners")
            if not learners:
                problems.add(f"{where}.owners.learners", "must list at least one learner key")
    if len(problems.items) > before:
        return None
    assert name is not None
    assert metric_type is not None
    assert metric_id is not None
    assert baseline is not None
    assert target is not None
    return KeyResult(
        name=name,
        metric_type=metric_type,
        metric=metric_id,
        baseline=baseline,
        target=target,
        direction=direction,
        aggregation=aggregation,
        filters=filters,
        options=options,
        linked_activities=linked,
        owner_team=team,
        owner_learners=learners,
    )


def parse_okr(body: Any) -> OkrDefinition:
    """Validate an objective with its key results (ANALYTICS.md section 5): one 400 that
    lists every problem by field (``key_results[1].target: must be a number``)."""
    if not isinstance(body, Mapping):
        raise DefinitionInvalid("OKR definition", [("body", "must be a JSON object")])
    problems = Problems()
    problems.unknown(body, OKR_FIELDS)
    objective = problems.text(body, "objective", required=True, limit=MAX_TEXT)
    description = problems.text(body, "description", required=False, limit=MAX_TEXT)
    period = body.get("period")
    start = end = None
    if not isinstance(period, Mapping):
        problems.add("period", 'is required: {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}')
    else:
        problems.unknown(period, ("start", "end"), "period.")
        start = _day(problems, period, "start", "period.start")
        end = _day(problems, period, "end", "period.end")
        if start is not None and end is not None and end < start:
            problems.add("period.end", "must not be before period.start")
    raw_krs = body.get("key_results")
    key_results: list[KeyResult] = []
    if not isinstance(raw_krs, list) or not raw_krs:
        problems.add("key_results", "must be a non-empty list")
    elif len(raw_krs) > MAX_KEY_RESULTS:
        problems.add("key_results", f"may hold at most {MAX_KEY_RESULTS} key results")
    else:
        for i, raw in enumerate(raw_krs):
            kr = _key_result(problems, raw, f"key_results[{i}]")
            if kr is not None:
                key_results.append(kr)
    problems.raise_if_any("OKR definition")
    assert objective is not None
    assert start is not None
    assert end is not None
    return OkrDefinition(
        objective=objective,
        period_start=start,
        period_end=end,
        key_results=tuple(key_results),
        description=description,
    )


# ---------------------------------------------------------------------------- the report


def attainment(kr: KeyResult, value: float | None) -> float | None:
    """clamp((value - baseline) / (target - baseline), 0, 1) (ANALYTICS.md section 5); a key
    result with target == baseline is attained (1) when the value is at or beyond the target
    in its direction, else 0."""
    if value is None:
        return None
    if kr.target == kr.baseline:
        reached = value >= kr.target if kr.direction == "higher_is_better" else value <= kr.target
        return 1.0 if reached else 0.0
    return finite(min(1.0, max(0.0, (value - kr.baseline) / (kr.target - kr.baseline))))


def elapsed_share(start: datetime, end: datetime, at: datetime) -> float:
    """The share of ``[start, end)`` before ``at``, in [0, 1]."""
    total = (end - start).total_seconds()
    return min(1.0, max(0.0, (at - start).total_seconds() / total))


_OUTCOME = """
SELECT {aggregate} AS value, count(*) AS observations, max(o.period_end) AS last_observed
FROM outcome o LEFT JOIN statement s ON o.source = 'statement' AND s.statement_id = o.statement_id
WHERE o.metric_id = $metric AND o.period_start >= $pstart AND o.period_end <= $pend
  AND o.period_start <= $rdate AND (s.event_time IS NULL OR s.event_time < $at) {owners}
"""
_AGGREGATE = {
    # Newest period end, then event time (an uploaded row counts as known at its period's end).
    "latest": "arg_max(o.value, {'e': o.period_end, "
    "'t': coalesce(s.event_time, (o.period_end + 1)::TIMESTAMPTZ), 'id': o.outcome_id})",
    "sum": "sum(o.value)",
    "mean": "avg(o.value)",
    "min": "min(o.value)",
    "max": "max(o.value)",
    "count": "count(*)",
}
_TEAM_ROWS = """ AND ((o.subject_type = 'team' AND o.subject = $team)
    OR (o.subject_type = 'learner' AND o.subject IN (SELECT learner_key FROM roster
                                                     WHERE team = $team)))"""
_LEARNER_ROWS = " AND o.subject_type = 'learner' AND o.subject IN (SELECT unnest($learners))"

_OWNERS_TEAM = """
SELECT learner_key AS learner FROM roster
WHERE team = $team AND (hire_date IS NULL OR hire_date <= $pend)
  AND (leave_date IS NULL OR leave_date >= $pstart)
"""
_COMPLETED = """
WITH owners AS ({owners}),
done AS (
    SELECT la.learner_key, count(DISTINCT la.activity_id) AS k
    FROM learner_activity la
    WHERE la.activity_id IN (SELECT unnest($linked)) AND la.completed_time < $at
      AND la.learner_key IN (SELECT learner FROM owners)
    GROUP BY la.learner_key
)
SELECT (SELECT count(DISTINCT learner) FROM owners), count(*) FILTER (WHERE k = $need) FROM done
"""


def _outcome_value(
    con: duckdb.DuckDBPyConnection, okr: OkrDefinition, kr: KeyResult, at: datetime
) -> tuple[float | None, int, date | None]:
    owners = ""
    params: dict[str, Any] = {
        "metric": kr.metric,
        "pstart": okr.period_start,
        "pend": okr.period_end,
        "rdate": (at - timedelta(microseconds=1)).date(),
        "at": at,
    }
    if kr.owner_team is not None:
        owners = _TEAM_ROWS
        params["team"] = kr.owner_team
    elif kr.owner_learners:
        owners = _LEARNER_ROWS
        params["learners"] = list(kr.owner_learners)
    sql = _OUTCOME.format(aggregate=_AGGREGATE[kr.aggregation], owners=owners)
    value, observations, last = con.execute(sql, params).fetchall()[0]
    if not observations:
        return None, 0, None
    return finite(float(value)), int(observations), last


def _measure_value(
    con: duckdb.DuckDBPyConnection,
    kr: KeyResult,
    start: datetime,
    upto: datetime,
    as_of: datetime,
) -> tuple[float | None, int]:
    if upto <= start:
        return None, 0
    filters = replace(
        kr.filters,
        start=start,
        end=upto,
        teams=(kr.owner_team,) if kr.owner_team is not None else (),
        learners=kr.owner_learners,
    )
    query = MeasuresQuery(measures=(kr.metric,), filters=filters, options=kr.options)
    found = measures.evaluate(con, query, as_of=as_of, suppress=False)
    row = found.rows[0]
    value = row.get(kr.metric)
    n = row.get(f"{kr.metric}_n", value if isinstance(value, int) else 0)
    return (None if value is None else float(value)), int(n or 0)


def _leading(
    con: duckdb.DuckDBPyConnection, okr: OkrDefinition, kr: KeyResult, at: datetime
) -> tuple[int, int] | None:
    """``(owners, owners who completed every linked activity)``; None without both."""
    if not kr.linked_activities or (kr.owner_team is None and not kr.owner_learners):
        return None
    params: dict[str, Any] = {
        "linked": list(kr.linked_activities),
        "need": len(kr.linked_activities),
        "at": at,
    }
    if kr.owner_team is not None:
        owners = _OWNERS_TEAM
        params.update(team=kr.owner_team, pstart=okr.period_start, pend=okr.period_end)
    else:
        owners = "SELECT unnest($learners) AS learner"
        params["learners"] = list(kr.owner_learners)
    total, completed = con.execute(_COMPLETED.format(owners=owners), params).fetchall()[0]
    return int(total), int(completed)


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def key_result_report(
    con: duckdb.DuckDBPyConnection,
    okr: OkrDefinition,
    kr: KeyResult,
    at: datetime,
    as_of: datetime,
) -> dict[str, Any]:
    """One key result's value, attainment, leading indicator and risk (ANALYTICS.md 5)."""
    start = datetime(
        okr.period_start.year, okr.period_start.month, okr.period_start.day, tzinfo=UTC
    )
    end = datetime(okr.period_end.year, okr.period_end.month, okr.period_end.day, tzinfo=UTC)
    end += timedelta(days=1)
    elapsed = elapsed_share(start, end, at)
    observed: dict[str, Any]
    if kr.metric_type == "outcome":
        value, observations, last = _outcome_value(con, okr, kr, at)
        observed = {
            "observations": observations,
            "last_observed": None if last is None else last.isoformat(),
        }
    else:
        value, n = _measure_value(con, kr, start, min(at, end), as_of)
        observed = {"n": n}
    reached = attainment(kr, value)
    leading = _leading(con, okr, kr, at)
    reasons: list[str] = []
    indicator: dict[str, Any] | None = None
    if leading is not None:
        owners, completed = leading
        share = completed / owners if owners else None
        indicator = {
            "owners": owners,
            "completed": completed,
            "completion_share": share,
            "elapsed_share": elapsed,
            "behind": share is not None and share < elapsed,
        }
        if share is not None and share < elapsed:
            reasons.append(
                f"Only {_pct(share)} of the owners ({completed} of {owners}) completed the "
                f"linked learning, but {_pct(elapsed)} of the period has elapsed."
            )
    if reached is not None and reached < SUCCESS * elapsed:
        reasons.append(
            f"Attainment is {reached:.2f}, behind the {SUCCESS * elapsed:.2f} a straight line "
            f"to the {SUCCESS} success level needs after {_pct(elapsed)} of the period."
        )
    notes = []
    if value is None:
        notes.append("No value measured in the period yet.")
    if kr.target == kr.baseline:
        notes.append(
            "Target equals baseline: attainment is 1 when the value is at or "
            f"{'above' if kr.direction == 'higher_is_better' else 'below'} the target, else 0."
        )
    return {
        **kr.as_json(),
        "value": value,
        **observed,
        "attainment": reached,
        "success": None if reached is None else reached >= SUCCESS,
        "leading_indicator": indicator,
        "at_risk": bool(reasons),
        "reasons": reasons,
        "notes": notes,
    }


@dataclass(frozen=True)
class OkrParams:
    """``GET /analytics/okrs/{id}``: the stored objective and the reference time."""

    okr: OkrDefinition
    at: datetime | None = None


DEFINITIONS: Final = {
    "value": "outcome metric: outcome rows of the metric inside the period, known at the "
    "reference time, of the owners (team rows and team members' rows, or the learners' rows), "
    "aggregated by the key result's aggregation (latest: latest period end, then event time). "
    "measure: the built-in measure over [period start, min(reference time, period end)) with "
    "the key result's filters and the owners as team or learner filter, not suppressed.",
    "attainment": "clamp((value - baseline) / (target - baseline), 0, 1); target == baseline: "
    "1 when the value is at or beyond the target in the key result's direction, else 0.",
    "success": f"attainment >= {SUCCESS}",
    "elapsed_share": "share of the period [start 00:00 UTC, end + 1 day) before the reference time",
    "leading_indicator": "owners who completed every linked activity (completion with the "
    "activity as object before the reference time) / owners; team owners are the roster "
    "members of the team employed during the period",
    "at_risk": "completion share < elapsed share, or attainment < "
    f"{SUCCESS} x elapsed share (behind the straight-line pace to success)",
}


def report(
    con: duckdb.DuckDBPyConnection, okr: OkrDefinition, at: datetime, as_of: datetime
) -> dict[str, Any]:
    start = datetime(
        okr.period_start.year, okr.period_start.month, okr.period_start.day, tzinfo=UTC
    )
    end = datetime(okr.period_end.year, okr.period_end.month, okr.period_end.day, tzinfo=UTC)
    krs = [key_result_report(con, okr, kr, at, as_of) for kr in okr.key_results]
    attained = [kr["attainment"] for kr in krs if kr["attainment"] is not None]
    score = finite(sum(attained) / len(attained)) if attained else None
    return {
        "okr": {
            "id": okr.id,
            "objective": okr.objective,
            "description": okr.description,
            "period": {"start": okr.period_start.isoformat(), "end": okr.period_end.isoformat()},
        },
        "elapsed_share": elapsed_share(start, end + timedelta(days=1), at),
        "attainment": score,
        "success": None if score is None else score >= SUCCESS,
        "at_risk": any(kr["at_risk"] for kr in krs),
        "key_results": krs,
    }


def compute(con: duckdb.DuckDBPyConnection, params: OkrParams) -> dict[str, Any]:
    """``GET /analytics/okrs/{id}`` (ANALYTICS.md section 5)."""
    at, as_of = reference_time(con, params.at)
    body = report(con, params.okr, at, as_of)
    used = {
        **DEFINITIONS,
        "reference_time": _iso(at),
        "okr_attainment": "mean attainment of the key results that have a value",
    }
    return envelope(con, used, {"at": _iso(at), **body})


def table(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The key results as a flat table for CSV."""
    rows = []
    for kr in body["key_results"]:
        lead = kr["leading_indicator"] or {}
        rows.append(
            {
                "id": kr["id"],
                "name": kr["name"],
                "value": kr["value"],
                "baseline": kr["baseline"],
                "target": kr["target"],
                "attainment": kr["attainment"],
                "success": kr["success"],
                "completion_share": lead.get("completion_share"),
                "elapsed_share": body["elapsed_share"],
                "at_risk": kr["at_risk"],
                "reasons": " ".join(kr["reasons"]),
            }
        )
    return rows


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
