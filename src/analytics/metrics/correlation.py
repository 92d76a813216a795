"""Completion to outcome (ANALYTICS.md section 4): do the people (or teams) who completed a
module have better outcomes in a period than those who did not?

The pipeline, all over the warehouse snapshot:

1. **Units** (one DuckDB query, :func:`unit_rows`): the population (the roster, or the learners
   assigned the module) crossed with each module; per unit whether it is *exposed* (completed,
   completed within W days of the period start, passed) or its continuous exposure (days to
   complete, best score); and its outcome: the outcome rows of the metric inside the period,
   aggregated per unit (sum or mean), or attained (value >= target) for a binary outcome.
   They go to a connection-local TEMP table.
2. **Descriptives and correlations** in DuckDB SQL over that table: group sizes, means,
   standard deviations, medians, the point-biserial correlation (``corr``), Spearman's rho (on
   average ranks), breakdown cells.
3. **Inference** (:mod:`analytics.metrics.inference`): Welch's t-test, a seeded bootstrap and
   a seeded permutation test (numpy, vectorised), Cohen's d and Hedges' g, Fisher-z
   intervals; for binary outcomes Newcombe's interval and Fisher's exact test; in scan mode
   Benjamini-Hochberg adjusted p-values.

Guardrails: a compared group under :data:`~analytics.metrics.common.MIN_GROUP` gives status
``insufficient_data`` and no statistics; under :data:`~analytics.metrics.common.WARN_GROUP`
a warning; breakdown cells under :data:`~analytics.metrics.common.SUPPRESS_BELOW` people are
suppressed; every response carries :data:`~analytics.metrics.common.CAUSATION_CAVEAT`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

import duckdb
import numpy as np

from analytics.metrics import inference
from analytics.metrics.common import (
    CAUSATION_CAVEAT,
    MIN_GROUP,
    SUPPRESS_BELOW,
    WARN_GROUP,
    envelope,
    finite,
)
from lrs.errors import BadRequest

Scope = Literal["object", "parent", "grouping"]
Exposure = Literal["completed", "completed_within", "passed", "days_to_complete", "best_score"]
Unit = Literal["learner", "team"]
Population = Literal["roster", "assigned"]
Employed = Literal["whole_period", "any"]
Aggregation = Literal["sum", "mean"]
Missing = Literal["exclude", "zero"]
Breakdown = Literal["team", "role", "region", "none"]

SCOPES: Final[tuple[Scope, ...]] = ("object", "parent", "grouping")
EXPOSURES: Final[tuple[Exposure, ...]] = (
    "completed",
    "completed_within",
    "passed",
    "days_to_complete",
    "best_score",
)
CONTINUOUS: Final = frozenset({"days_to_complete", "best_score"})
UNITS: Final[tuple[Unit, ...]] = ("learner", "team")
POPULATIONS: Final[tuple[Population, ...]] = ("roster", "assigned")
EMPLOYED: Final[tuple[Employed, ...]] = ("whole_period", "any")
AGGREGATIONS: Final[tuple[Aggregation, ...]] = ("sum", "mean")
MISSING: Final[tuple[Missing, ...]] = ("exclude", "zero")
BREAKDOWNS: Final[tuple[Breakdown, ...]] = ("team", "role", "region", "none")

DEFAULT_RESAMPLES: Final = 2000
"""Bootstrap resamples and permutations of a single-module request."""
MAX_RESAMPLES: Final = 20_000
MAX_SCAN_MODULES: Final = 500
MAX_SCAN_RESAMPLING: Final = 1_000_000
"""A scan draws at most this many bootstrap resamples and permutations over all modules."""
CONFIDENCE: Final = 0.95
DEFAULT_TEAM_SHARE: Final = 0.5
MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"

_DEPTH: Final[dict[Scope, int]] = {"object": 0, "parent": 1, "grouping": 2}
_AGG_SQL: Final[dict[Aggregation, str]] = {"sum": "sum", "mean": "avg"}
_GROUP_SQL: Final[dict[Breakdown, str]] = {
    "team": "u.team",
    "role": "u.role",
    "region": "u.region",
    "none": "NULL::VARCHAR",
}
_TABLE: Final = "correlation_units"


@dataclass(frozen=True)
class CorrelationParams:
    """One request (ANALYTICS.md section 4); invalid combinations raise ``BadRequest``."""

    modules: tuple[str, ...]
    metric: str
    period_start: date
    period_end: date
    activity_type: str | None = None
    scope: Scope = "object"
    exposure: Exposure = "completed"
    within_days: int | None = None
    threshold: float | None = None
    unit: Unit = "learner"
    population: Population = "roster"
    employed: Employed = "whole_period"
    teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    aggregation: Aggregation = "sum"
    missing: Missing = "exclude"
    binary: bool = False
    target: float | None = None
    team_share: float = DEFAULT_TEAM_SHARE
    breakdown: Breakdown = "team"
    bootstrap: int = DEFAULT_RESAMPLES
    permutations: int = DEFAULT_RESAMPLES
    seed: int = 0
    fdr: float = 0.05

    def __post_init__(self) -> None:
        if not self.modules and self.activity_type is None:
            raise BadRequest("At least one module (activity IRI) or an activity_type is needed.")
        if len(self.modules) > MAX_SCAN_MODULES:
            raise BadRequest(f"At most {MAX_SCAN_MODULES} modules can be scanned at once.")
        if self.period_end < self.period_start:
            raise BadRequest("period_end must not be before period_start.")
        if self.exposure == "completed_within":
            if self.within_days is None:
                raise BadRequest("exposure=completed_within needs within_days (W >= 0).")
            if self.within_days < 0:
                raise BadRequest("within_days must be at least 0.")
        elif self.within_days is not None:
            raise BadRequest("within_days applies only to exposure=completed_within.")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise BadRequest("threshold (a scaled score) must be between 0 and 1.")
        if self.target is not None and not self.binary:
            raise BadRequest("target applies only to a binary outcome (binary=true).")
        if not 0.0 < self.team_share <= 1.0:
            raise BadRequest("team_share must be above 0 and at most 1.")
        for name in ("bootstrap", "permutations"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_RESAMPLES:
                raise BadRequest(f"{name} must be between 0 and {MAX_RESAMPLES}, not {value}.")
        if not 0.0 < self.fdr < 1.0:
            raise BadRequest("fdr must be between 0 and 1 (exclusive).")

    @property
    def start_ts(self) -> datetime:
        """The period's first instant: period_start at 00:00 UTC."""
        return datetime.combine(self.period_start, time(0), UTC)

    @property
    def end_ts(self) -> datetime:
        """The instant the period ends: the day after period_end at 00:00 UTC (exclusive)."""
        return datetime.combine(self.period_end + timedelta(days=1), time(0), UTC)

    @property
    def cutoff(self) -> datetime:
        """Exposure events must happen before this instant."""
        if self.exposure == "completed_within":
            assert self.within_days is not None
            return min(self.start_ts + timedelta(days=self.within_days), self.end_ts)
        return self.end_ts


# --- 1. Units -----------------------------------------------------------------------------

_ROLES: Final = """roles AS (
    SELECT verb_id,
        bool_or(role = 'complete') AS complete,
        bool_or(role = 'proficient') AS proficient,
        bool_or(role = 'assign') AS assign
    FROM verb_role GROUP BY verb_id
)"""

# Statements in a module's scope (ANALYTICS.md section 1): the module as the object (depth 0),
# in contextActivities.parent (1) or grouping (2); with the columns the exposures need.
_SCOPE_COLUMNS: Final = (
    "s.actor_type, s.actor_key, s.object_type, s.event_time, s.verb_id, s.success, s.completion, "
    "s.score_scaled, s.score_raw, s.score_min, s.score_max, s.context_extensions"
)
_SCOPE_OBJECT: Final = f"""SELECT s.object_id AS module, 0 AS depth, {_SCOPE_COLUMNS}
    FROM statement s
    WHERE s.object_type = 'Activity' AND s.object_id IN (SELECT module FROM mods)
      AND ({{relevant}})"""
# The context rows are found first (materialised: a small hash table that the statements probe).
_CONTEXT_HITS: Final = """context_hits AS MATERIALIZED (
    SELECT statement_id, activity_id AS module, CASE usage WHEN 'parent' THEN 1 ELSE 2 END AS depth
    FROM statement_context_activity
    WHERE usage IN ('parent', 'grouping') AND activity_id IN (SELECT module FROM mods)
)"""
_SCOPE_CONTEXT: Final = f"""SELECT c.module, c.depth, {_SCOPE_COLUMNS}
    FROM context_hits c
    JOIN (SELECT * FROM statement s WHERE {{relevant}}) s ON s.statement_id = c.statement_id"""


def _relevant(p: CorrelationParams) -> str:
    """Only the statements an exposure can use go through the scope join (the join is the
    costly part): completions, proficiencies or scores, and assignments for that population;
    every statement for days to complete (its start is the first statement of any kind)."""
    if p.exposure == "days_to_complete":
        return "true"
    roles = {"passed": "proficient"}.get(p.exposure, "complete")
    if p.population == "assigned":
        roles += " OR assign"
    verbs = f"s.verb_id IN (SELECT verb_id FROM roles WHERE {roles})"
    if p.exposure == "best_score":
        return f"s.score_scaled IS NOT NULL OR s.score_raw IS NOT NULL OR {verbs}"
    if p.exposure == "passed":
        return verbs
    return f"s.completion OR {verbs}"


# Per (module, learner): first statement in the whole scope, first completion, first
# proficiency (success not false; a scored pass needs the cmi5 masteryscore or the threshold),
# best scaled score before the period ends, first assignment. Registrations are folded: first
# and best values, never raw statements (ANALYTICS.md section 1).
_LEARNER: Final = f"""events AS (
    SELECT s.module, s.depth, s.actor_key AS learner_key, s.event_time, s.success, s.completion,
        coalesce(r.complete, false) AS complete,
        coalesce(r.proficient, false) AS proficient,
        -- The learner is the actor of an assignment only when the object is an activity (an
        -- Agent object is the learner: see object_assigned).
        coalesce(r.assign, false) AND s.object_type = 'Activity' AS assign,
        coalesce(s.score_scaled, CASE WHEN s.score_max > s.score_min
            THEN (s.score_raw - s.score_min) / (s.score_max - s.score_min) END) AS score,
        CASE WHEN r.proficient THEN try_cast(json_extract_string(
            s.context_extensions, '$."{MASTERY_SCORE}"') AS DOUBLE) END AS mastery
    FROM scope s
    LEFT JOIN roles r ON r.verb_id = s.verb_id
    WHERE s.actor_type = 'Agent' AND s.actor_key IS NOT NULL
),
learner AS MATERIALIZED (
    SELECT module, learner_key,
        min(event_time) AS first_time,
        min(event_time) FILTER (WHERE depth <= $depth AND (complete OR completion))
            AS completed_time,
        min(event_time) FILTER (WHERE depth <= $depth AND proficient
            AND success IS DISTINCT FROM false
            AND (score IS NULL OR score >= coalesce(mastery, $threshold::DOUBLE, score)))
            AS passed_time,
        max(score) FILTER (WHERE depth <= $depth AND event_time < $end_ts) AS best_score,
        min(event_time) FILTER (WHERE depth <= $depth AND assign) AS assigned_time
    FROM events
    GROUP BY module, learner_key
)"""

_PEOPLE: Final = """people AS (
    SELECT learner_key, team, role, region FROM roster
    WHERE {employment}
      AND (len($teams::VARCHAR[]) = 0 OR list_contains($teams::VARCHAR[], team))
      AND (len($roles::VARCHAR[]) = 0 OR list_contains($roles::VARCHAR[], role))
)"""
_EMPLOYMENT: Final[dict[Employed, str]] = {
    "whole_period": "(hire_date IS NULL OR hire_date <= $start_date)"
    " AND (leave_date IS NULL OR leave_date >= $end_date)",
    "any": "(hire_date IS NULL OR hire_date <= $end_date)"
    " AND (leave_date IS NULL OR leave_date >= $start_date)",
}

_POPULATION_ROSTER: Final = """population AS (
    SELECT m.module, p.learner_key, p.team, p.role, p.region
    FROM mods m CROSS JOIN people p
)"""
# Assigned learners: an assign-role statement in scope with the learner as actor, or with the
# learner as the object and the module anywhere in its context activities; before the period
# ends. On the roster they must pass its filters; off it they count only without filters.
_POPULATION_ASSIGNED: Final = """object_assigned AS (
    SELECT c.activity_id AS module, s.object_id AS learner_key,
        min(s.event_time) AS assigned_time
    FROM statement_context_activity c
    JOIN statement s ON s.statement_id = c.statement_id
    JOIN roles r ON r.verb_id = s.verb_id
    WHERE r.assign AND s.object_type = 'Agent' AND s.object_id IS NOT NULL
      AND c.activity_id IN (SELECT module FROM mods)
    GROUP BY c.activity_id, s.object_id
),
assigned AS (
    SELECT module, learner_key, min(assigned_time) AS assigned_time
    FROM (
        SELECT module, learner_key, assigned_time FROM learner WHERE assigned_time IS NOT NULL
        UNION ALL
        SELECT module, learner_key, assigned_time FROM object_assigned
    )
    GROUP BY module, learner_key
),
population AS (
    SELECT a.module, a.learner_key, p.team, p.role, p.region
    FROM assigned a
    LEFT JOIN people p ON p.learner_key = a.learner_key
    LEFT JOIN (SELECT DISTINCT learner_key FROM roster) k ON k.learner_key = a.learner_key
    WHERE a.assigned_time < $end_ts
      AND (p.learner_key IS NOT NULL OR (k.learner_key IS NULL AND $unfiltered))
)"""

_EXPOSED: Final[dict[Exposure, str]] = {
    "completed": "coalesce(l.completed_time < $cutoff, false)",
    "completed_within": "coalesce(l.completed_time < $cutoff, false)",
    "passed": "coalesce(l.passed_time < $cutoff, false)",
    "days_to_complete": "coalesce(l.completed_time < $cutoff, false)",
    "best_score": "l.best_score IS NOT NULL",
}
_VALUE: Final[dict[Exposure, str]] = {
    "completed": "NULL::DOUBLE",
    "completed_within": "NULL::DOUBLE",
    "passed": "NULL::DOUBLE",
    "days_to_complete": "CASE WHEN l.completed_time < $cutoff THEN "
    "date_diff('microsecond', l.first_time, l.completed_time) / 86400000000.0 END",
    "best_score": "l.best_score",
}

_UNITS: Final = """units AS (
    SELECT u.module, u.learner_key AS unit, u.team, {group} AS grp,
        {exposed} AS exposed, {value} AS value
    FROM population u
    LEFT JOIN learner l ON l.module = u.module AND l.learner_key = u.learner_key
)"""

_OUTCOME_ROWS: Final = """metric_id = $metric
      AND period_start >= $start_date AND period_end <= $end_date"""

_LEARNER_OUTCOMES: Final = f"""outcomes AS (
    SELECT subject AS unit, {{agg}}(value) AS outcome, {{agg}}(target) AS target
    FROM outcome
    WHERE subject_type = 'learner' AND {_OUTCOME_ROWS}
    GROUP BY subject
),
joined AS (
    SELECT u.module, u.unit, u.grp, u.exposed, u.value, NULL::BIGINT AS members,
        o.unit IS NULL AS no_outcome, o.outcome, o.target
    FROM units u LEFT JOIN outcomes o ON o.unit = u.unit
)"""

# A team is exposed when at least team_share of its population members are; its value is that
# share (binary exposures) or its members' mean value (continuous exposures).
_TEAMS: Final = """teams AS (
    SELECT module, team AS unit, NULL::VARCHAR AS grp,
        avg(exposed::INTEGER) >= $team_share AS exposed,
        {value} AS value, count(*) AS members
    FROM units WHERE team IS NOT NULL
    GROUP BY module, team
)"""
_TEAM_ROW_OUTCOMES: Final = f"""outcomes AS (
    SELECT subject AS unit, {{agg}}(value) AS outcome, {{agg}}(target) AS target
    FROM outcome
    WHERE subject_type = 'team' AND {_OUTCOME_ROWS}
    GROUP BY subject
),
joined AS (
    SELECT t.module, t.unit, t.grp, t.exposed, t.value, t.members,
        o.unit IS NULL AS no_outcome, o.outcome, o.target
    FROM teams t LEFT JOIN outcomes o ON o.unit = t.unit
)"""
_MEMBER_ROW_OUTCOMES: Final = """outcomes AS (
    SELECT u.module, u.team AS unit, {agg}(o.value) AS outcome, {agg}(o.target) AS target
    FROM units u
    JOIN outcome o ON o.subject = u.unit AND o.subject_type = 'learner'
    WHERE u.team IS NOT NULL AND o.metric_id = $metric
      AND o.period_start >= $start_date AND o.period_end <= $end_date
    GROUP BY u.module, u.team
),
joined AS (
    SELECT t.module, t.unit, t.grp, t.exposed, t.value, t.members,
        o.unit IS NULL AS no_outcome, o.outcome, o.target
    FROM teams t LEFT JOIN outcomes o ON o.module = t.module AND o.unit = t.unit
)"""

_FINAL: Final = """SELECT module, unit, grp, exposed, value, members, no_outcome, outcome, target,
    {y} AS y
FROM (
    SELECT module, unit, grp, exposed, value, members, no_outcome,
        coalesce(outcome, CASE WHEN $missing_zero THEN 0.0 END) AS outcome,
        coalesce($target::DOUBLE, target) AS target
    FROM joined
)
ORDER BY module, unit"""
_Y_BINARY: Final = (
    "CASE WHEN outcome IS NOT NULL AND target IS NOT NULL "
    "THEN (outcome >= target)::INTEGER::DOUBLE END"
)


def _has_team_rows(con: duckdb.DuckDBPyConnection, p: CorrelationParams) -> bool:
    row = con.execute(
        f"SELECT count(*) FROM outcome WHERE subject_type = 'team' AND {_OUTCOME_ROWS}",
        {"metric": p.metric, "start_date": p.period_start, "end_date": p.period_end},
    ).fetchone()
    return row is not None and int(row[0]) > 0


def _units_sql(p: CorrelationParams, team_rows: bool) -> str:
    needs_context = _DEPTH[p.scope] > 0 or p.exposure == "days_to_complete"
    relevant = _relevant(p)
    scope = _SCOPE_OBJECT.format(relevant=relevant)
    if needs_context:
        scope += "\n    UNION ALL\n    " + _SCOPE_CONTEXT.format(relevant=relevant)
    ctes = [
        "mods AS (SELECT DISTINCT unnest($modules::VARCHAR[]) AS module)",
        _ROLES,
        *([_CONTEXT_HITS] if needs_context else []),
        f"scope AS (\n    {scope}\n)",
        _LEARNER,
        _PEOPLE.format(employment=_EMPLOYMENT[p.employed]),
        _POPULATION_ROSTER if p.population == "roster" else _POPULATION_ASSIGNED,
        _UNITS.format(
            group=_GROUP_SQL[p.breakdown if p.unit == "learner" else "none"],
            exposed=_EXPOSED[p.exposure],
            value=_VALUE[p.exposure],
        ),
    ]
    agg = _AGG_SQL[p.aggregation]
    if p.unit == "learner":
        ctes.append(_LEARNER_OUTCOMES.format(agg=agg))
    else:
        value = "avg(value)" if p.exposure in CONTINUOUS else "avg(exposed::INTEGER)::DOUBLE"
        ctes.append(_TEAMS.format(value=value))
        ctes.append((_TEAM_ROW_OUTCOMES if team_rows else _MEMBER_ROW_OUTCOMES).format(agg=agg))
    final = _FINAL.format(y=_Y_BINARY if p.binary else "outcome")
    return "WITH " + ",\n".join(ctes) + "\n" + final


def _arguments(sql: str, p: CorrelationParams) -> dict[str, Any]:
    every: dict[str, Any] = {
        "modules": list(p.modules),
        "metric": p.metric,
        "start_date": p.period_start,
        "end_date": p.period_end,
        "end_ts": p.end_ts,
        "cutoff": p.cutoff,
        "depth": _DEPTH[p.scope],
        "threshold": p.threshold,
        "teams": list(p.teams),
        "roles": list(p.roles),
        "unfiltered": not p.teams and not p.roles,
        "team_share": p.team_share,
        "missing_zero": p.missing == "zero",
        "target": p.target,
    }
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return {name: value for name, value in every.items() if name in used}


def unit_rows(con: duckdb.DuckDBPyConnection, params: CorrelationParams) -> list[dict[str, Any]]:
    """The analysis units of ANALYTICS.md section 4, one dict per (module, unit): ``exposed``,
    the continuous exposure ``value``, the aggregated ``outcome`` and ``target``, and ``y``
    (the outcome analysed: the value, or 1/0 attained for a binary outcome; None when the unit
    has no outcome, or no target for a binary one). Individual-level: for tests and
    diagnostics, never served as such."""
    _prepare(con, params, params.unit == "team" and _has_team_rows(con, params))
    try:
        cursor = con.execute(f"SELECT * FROM {_TABLE} ORDER BY module, unit")
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TABLE}")


def _prepare(con: duckdb.DuckDBPyConnection, p: CorrelationParams, team_rows: bool) -> None:
    sql = _units_sql(p, team_rows)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS {sql}", _arguments(sql, p))


# --- 2. Descriptives and correlations in SQL ----------------------------------------------

_SUMMARY: Final = f"""
SELECT module,
    count(*) AS units,
    count(*) FILTER (WHERE outcome IS NULL) AS no_outcome,
    count(*) FILTER (WHERE outcome IS NOT NULL AND y IS NULL) AS no_target,
    count(y) FILTER (WHERE exposed) AS n1,
    avg(y) FILTER (WHERE exposed) AS mean1,
    var_samp(y) FILTER (WHERE exposed) AS var1,
    median(y) FILTER (WHERE exposed) AS median1,
    sum(y) FILTER (WHERE exposed) AS sum1,
    count(y) FILTER (WHERE NOT exposed) AS n0,
    avg(y) FILTER (WHERE NOT exposed) AS mean0,
    var_samp(y) FILTER (WHERE NOT exposed) AS var0,
    median(y) FILTER (WHERE NOT exposed) AS median0,
    sum(y) FILTER (WHERE NOT exposed) AS sum0,
    corr(y, exposed::INTEGER::DOUBLE) FILTER (WHERE y IS NOT NULL) AS r_pb,
    avg(value) FILTER (WHERE y IS NOT NULL AND exposed) AS value_mean1,
    median(value) FILTER (WHERE y IS NOT NULL AND exposed) AS value_median1
FROM {_TABLE}
GROUP BY module
"""

# Spearman's rho: Pearson's r of the average ranks (ties share the mean of their ranks).
_SPEARMAN: Final = f"""
WITH v AS (SELECT module, y, value FROM {_TABLE} WHERE y IS NOT NULL AND value IS NOT NULL),
ranked AS (
    SELECT module,
        rank() OVER (PARTITION BY module ORDER BY y)
            + (count(*) OVER (PARTITION BY module, y) - 1) / 2.0 AS ry,
        rank() OVER (PARTITION BY module ORDER BY value)
            + (count(*) OVER (PARTITION BY module, value) - 1) / 2.0 AS rv
    FROM v
)
SELECT module, corr(ry, rv) AS rho, count(*) AS n FROM ranked GROUP BY module
"""

_BREAKDOWN: Final = f"""
SELECT grp,
    count(y) FILTER (WHERE exposed) AS n1, avg(y) FILTER (WHERE exposed) AS mean1,
    count(y) FILTER (WHERE NOT exposed) AS n0, avg(y) FILTER (WHERE NOT exposed) AS mean0
FROM {_TABLE}
WHERE y IS NOT NULL
GROUP BY grp
ORDER BY grp NULLS LAST
"""

_ARRAYS: Final = (
    f"SELECT module, exposed, y FROM {_TABLE} WHERE y IS NOT NULL ORDER BY module, unit"
)


@dataclass
class _Module:
    """What SQL said about one module, and its outcome arrays (in unit order)."""

    module: str
    units: int = 0
    no_outcome: int = 0
    no_target: int = 0
    n1: int = 0
    n0: int = 0
    mean1: float | None = None
    mean0: float | None = None
    var1: float | None = None
    var0: float | None = None
    median1: float | None = None
    median0: float | None = None
    sum1: float = 0.0
    sum0: float = 0.0
    r_pb: float | None = None
    value_mean1: float | None = None
    value_median1: float | None = None
    rho: float | None = None
    rho_n: int = 0
    y1: inference.Array = field(default_factory=lambda: np.empty(0))
    y0: inference.Array = field(default_factory=lambda: np.empty(0))


def _collect(con: duckdb.DuckDBPyConnection, p: CorrelationParams) -> dict[str, _Module]:
    found = {m: _Module(m) for m in p.modules}
    cursor = con.execute(_SUMMARY)
    names = [d[0] for d in cursor.description or ()]
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        target = found[values.pop("module")]
        for name, value in values.items():
            if value is not None:
                setattr(target, name, value if isinstance(value, int) else float(value))
    if p.exposure in CONTINUOUS or p.unit == "team":
        for module, rho, n in con.execute(_SPEARMAN).fetchall():
            found[module].rho = None if rho is None else float(rho)
            found[module].rho_n = int(n)
    arrays = con.execute(_ARRAYS).fetchnumpy()
    modules = np.asarray(arrays["module"], dtype=object)
    exposed = np.asarray(arrays["exposed"], dtype=bool)
    y = np.asarray(arrays["y"], dtype=np.float64)
    for module, target in found.items():
        mine = modules == module
        target.y1 = y[mine & exposed]
        target.y0 = y[mine & ~exposed]
    return found


# --- 3. Inference ----------------------------------------------------------------------------


def _interval(bounds: tuple[float, float]) -> dict[str, float | None] | None:
    low, high = finite(bounds[0]), finite(bounds[1])
    if low is None or high is None:
        return None
    return {"low": low, "high": high}


def _warnings(m: _Module, p: CorrelationParams) -> list[str]:
    words = "teams" if p.unit == "team" else "people"
    notes = []
    for label, n in (("exposed", m.n1), ("not exposed", m.n0)):
        if n < MIN_GROUP:
            notes.append(
                f"Only {n} {words} {label} (fewer than {MIN_GROUP}): not enough data to "
                "compare, so no statistics are given."
            )
        elif n < WARN_GROUP:
            notes.append(
                f"Only {n} {words} {label} (fewer than {WARN_GROUP}): estimates are imprecise "
                "and the intervals wide; read them with care."
            )
    return notes


def _effect(m: _Module, p: CorrelationParams) -> dict[str, Any]:
    """Difference, lift, tests and effect sizes for a module with enough data in both groups
    (ANALYTICS.md section 4)."""
    assert m.mean1 is not None
    assert m.mean0 is not None
    g1 = inference.Moments(m.n1, m.mean1, m.var1 if m.var1 is not None else math.nan)
    g0 = inference.Moments(m.n0, m.mean0, m.var0 if m.var0 is not None else math.nan)
    difference = m.mean1 - m.mean0
    lift = difference / m.mean0 if m.mean0 > 0 else math.nan
    welch = inference.welch(g1, g0)
    d = inference.cohens_d(g1, g0)
    n = m.n1 + m.n0
    r = m.r_pb if m.r_pb is not None else math.nan
    effect: dict[str, Any] = {
        "difference": finite(difference),
        "relative_lift": finite(lift),
        "welch": {"t": finite(welch.t), "df": finite(welch.df), "p": finite(welch.p)},
        "cohens_d": finite(d),
        "hedges_g": finite(inference.hedges_g(d, m.n1, m.n0)),
        "point_biserial": {
            "r": finite(r),
            "p": finite(inference.correlation_p(r, n)),
            "ci": _interval(inference.fisher_z_interval(r, n, CONFIDENCE)),
        },
    }
    if p.bootstrap > 0:
        boot = inference.bootstrap_difference(
            m.y1, m.y0, resamples=p.bootstrap, seed=p.seed, confidence=CONFIDENCE
        )
        effect["difference_ci"] = _interval(boot.difference)
        effect["relative_lift_ci"] = _interval(boot.relative_lift) if m.mean0 > 0 else None
    else:
        effect["difference_ci"] = None
        effect["relative_lift_ci"] = None
    if p.permutations > 0:
        perm = inference.permutation_difference(m.y1, m.y0, resamples=p.permutations, seed=p.seed)
        effect["permutation"] = {"p": finite(perm.p), "resamples": perm.resamples}
    else:
        effect["permutation"] = None
    order = (
        "difference",
        "difference_ci",
        "relative_lift",
        "relative_lift_ci",
        "welch",
        "permutation",
        "cohens_d",
        "hedges_g",
        "point_biserial",
    )
    return {key: effect[key] for key in order}


def _proportions(m: _Module) -> dict[str, Any]:
    """Binary outcome: difference in proportions (Newcombe) and Fisher's exact test."""
    k1, k0 = round(m.sum1), round(m.sum0)
    diff = inference.newcombe_difference(k1, m.n1, k0, m.n0, CONFIDENCE)
    fisher = inference.fisher_exact(k1, m.n1, k0, m.n0)
    return {
        "exposed": {"attained": k1, "n": m.n1, "proportion": k1 / m.n1},
        "not_exposed": {"attained": k0, "n": m.n0, "proportion": k0 / m.n0},
        "difference": finite(diff.difference),
        "difference_ci": _interval((diff.low, diff.high)),
        "fisher_exact": {"p": finite(fisher.p), "odds_ratio": finite(fisher.odds_ratio)},
    }


def _association(m: _Module, p: CorrelationParams) -> dict[str, Any] | None:
    """Spearman's rho of the continuous exposure (or a team's exposed share) and the outcome."""
    if p.exposure not in CONTINUOUS and p.unit != "team":
        return None
    what = {
        "days_to_complete": "days to complete",
        "best_score": "best scaled score",
    }.get(p.exposure, "share of the team exposed")
    body: dict[str, Any] = {"exposure_value": what, "n": m.rho_n}
    if m.rho_n < MIN_GROUP or m.rho is None:
        body.update(spearman_rho=None, p=None, status="insufficient_data")
        return body
    body.update(
        spearman_rho=finite(m.rho),
        p=finite(inference.correlation_p(m.rho, m.rho_n)),
        status="ok",
    )
    if p.exposure in CONTINUOUS:
        body.update(
            exposed_mean_value=finite(m.value_mean1), exposed_median_value=finite(m.value_median1)
        )
    return body


def _group(
    label: str,
    n: int,
    mean: float | None,
    sd: float | None,
    median: float | None,
    attained: float,
    binary: bool,
) -> dict[str, Any]:
    shown = n >= SUPPRESS_BELOW
    row: dict[str, Any] = {
        "group": label,
        "n": n,
        "mean": finite(mean) if shown else None,
        "sd": finite(sd) if shown else None,
        "median": finite(median) if shown else None,
    }
    if binary:
        row["attained"] = round(attained) if shown else None
    row["suppressed"] = not shown
    return row


def _groups(m: _Module, p: CorrelationParams) -> list[dict[str, Any]]:
    def sd(var: float | None) -> float | None:
        return None if var is None or var < 0 else math.sqrt(var)

    return [
        _group("exposed", m.n1, m.mean1, sd(m.var1), m.median1, m.sum1, p.binary),
        _group("not_exposed", m.n0, m.mean0, sd(m.var0), m.median0, m.sum0, p.binary),
    ]


def _hidden(counts: Sequence[int]) -> list[bool]:
    """Which cells of one column to hide: every cell under SUPPRESS_BELOW people (primary), and
    when exactly one cell with people is hidden so, the next smallest (complementary: the
    column's total is shown, so one hidden cell could be recovered by subtraction)."""
    hidden = [n < SUPPRESS_BELOW for n in counts]
    sensitive = [i for i, n in enumerate(counts) if 0 < n < SUPPRESS_BELOW]
    if len(sensitive) == 1:
        shown = [i for i, h in enumerate(hidden) if not h]
        if shown:
            hidden[min(shown, key=lambda i: (counts[i], i))] = True
    return hidden


def _breakdown(con: duckdb.DuckDBPyConnection, p: CorrelationParams) -> dict[str, Any] | None:
    """Per roster group (ANALYTICS.md section 4): cells under SUPPRESS_BELOW people are never
    shown, nor a cell that would let one be recovered from the totals (see :func:`_hidden`)."""
    if p.unit != "learner" or p.breakdown == "none":
        return None
    cells = con.execute(_BREAKDOWN).fetchall()
    hide1 = _hidden([n1 for _, n1, _, _, _ in cells])
    hide0 = _hidden([n0 for _, _, _, n0, _ in cells])
    rows = []
    for (grp, n1, mean1, n0, mean0), h1, h0 in zip(cells, hide1, hide0, strict=True):
        rows.append(
            {
                p.breakdown: grp,
                "exposed_n": None if h1 else n1,
                "exposed_mean": None if h1 else finite(mean1),
                "not_exposed_n": None if h0 else n0,
                "not_exposed_mean": None if h0 else finite(mean0),
                "difference": None if h1 or h0 else finite(mean1 - mean0),
                "suppressed": h1 or h0,
            }
        )
    return {"by": p.breakdown, "rows": rows}


def _names(con: duckdb.DuckDBPyConnection, modules: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = dict.fromkeys(modules)
    for activity_id, name in con.execute(
        "SELECT activity_id, name FROM activity WHERE activity_id IN (SELECT unnest($m))",
        {"m": list(modules)},
    ).fetchall():
        found[activity_id] = name
    return found


def _common_warnings(con: duckdb.DuckDBPyConnection, p: CorrelationParams) -> list[str]:
    notes = []
    if p.population == "roster" or p.unit == "team" or p.teams or p.roles:
        row = con.execute("SELECT count(*) FROM roster").fetchone()
        if row is None or int(row[0]) == 0:
            notes.append(
                "The roster is empty: upload it (POST /analytics/roster); without it there is "
                "no population to compare (or use population=assigned)."
            )
    return notes


def definitions(p: CorrelationParams, *, team_rows: bool | None = None) -> dict[str, Any]:
    """The definitions a response used (ANALYTICS.md section 4 and what it leaves open)."""
    exposure: dict[str, Any] = {
        "kind": p.exposure,
        "scope": p.scope,
        "scope_means": {
            "object": "statements whose object is the module",
            "parent": "statements whose object is the module or whose context parent lists it",
            "grouping": "statements whose object is the module or whose context parent or "
            "grouping lists it",
        }[p.scope],
        "before": p.cutoff.isoformat().replace("+00:00", "Z"),
        "rule": {
            "completed": "first completion (complete-role verb or result.completion = true) "
            "in scope before the period ends (also before the period starts)",
            "completed_within": f"first completion in scope before {p.within_days} days after "
            "the period start (completions before the period count), and before it ends",
            "passed": "first proficiency in scope (proficient-role verb, success not false; a "
            "scored pass needs scaled score >= the cmi5 masteryscore, else the threshold) "
            "before the period ends",
            "days_to_complete": "exposed: completed before the period ends; value: days from "
            "the learner's first statement about the module (object, parent or grouping) to "
            "the first completion in scope",
            "best_score": "exposed: has a score; value: the best scaled score in scope before "
            "the period ends (raw rescaled by min/max when scaled is absent)",
        }[p.exposure],
        "threshold": p.threshold,
    }
    if p.exposure == "completed_within":
        exposure["within_days"] = p.within_days
    outcome: dict[str, Any] = {
        "metric": p.metric,
        "rows": "outcome rows of the metric whose period lies within the requested period",
        "aggregation": p.aggregation,
        "missing": p.missing,
        "missing_means": "units without an outcome row are left out"
        if p.missing == "exclude"
        else "units without an outcome row count as 0",
        "binary": p.binary,
    }
    if p.binary:
        outcome["attained"] = "aggregated value >= target"
        outcome["target"] = (
            p.target
            if p.target is not None
            else f"the {p.aggregation} of the rows' targets; units without one are left out"
        )
    population: dict[str, Any] = {
        "kind": p.population,
        "rule": "roster learners (non-starters count as not exposed)"
        if p.population == "roster"
        else "learners with an assign-role statement for the module before the period ends",
        "employed": p.employed,
        "employed_means": "hired on or before period_start and not left before period_end"
        if p.employed == "whole_period"
        else "employed on at least one day of the period",
        "teams": list(p.teams),
        "roles": list(p.roles),
    }
    unit: dict[str, Any] = {"kind": p.unit}
    if p.unit == "team":
        unit["exposed_when"] = f"at least {p.team_share:g} of its population members are exposed"
        unit["value"] = (
            "the members' mean exposure value"
            if p.exposure in CONTINUOUS
            else "the share of its members exposed"
        )
        if team_rows is not None:
            unit["outcome_from"] = (
                "team outcome rows" if team_rows else "its members' learner outcome rows"
            )
    return {
        "period": {
            "start": p.period_start.isoformat(),
            "end": p.period_end.isoformat(),
            "end_exclusive": p.end_ts.isoformat().replace("+00:00", "Z"),
        },
        "exposure": exposure,
        "outcome": outcome,
        "population": population,
        "unit": unit,
        "statistics": {
            "confidence": CONFIDENCE,
            "bootstrap": {
                "resamples": p.bootstrap,
                "seed": p.seed,
                "method": "percentile, each group resampled on its own; numpy default_rng",
            },
            "permutation": {
                "resamples": p.permutations,
                "seed": p.seed,
                "statistic": "difference of means, two-sided, p = (k + 1) / (B + 1)",
                "draw": "the smaller group as a random subset (numpy default_rng choice "
                "without replacement); every split when B covers them (exact)",
            },
            "welch": "unequal-variance t-test, Welch-Satterthwaite df",
            "cohens_d": "pooled standard deviation",
            "hedges_g": "d * (1 - 3 / (4 N - 9))",
            "point_biserial": "Pearson r of outcome and exposure (1/0), Fisher-z interval",
            "spearman": "continuous exposures and team shares: average ranks, t-distribution p",
            "proportions": "Newcombe hybrid score interval (Wilson), Fisher exact two-sided"
            if p.binary
            else None,
        },
        "guardrails": {
            "min_group": MIN_GROUP,
            "warn_group": WARN_GROUP,
            "suppress_below": SUPPRESS_BELOW,
        },
    }


def _insufficient(m: _Module) -> bool:
    return m.n1 < MIN_GROUP or m.n0 < MIN_GROUP


def compute(con: duckdb.DuckDBPyConnection, params: CorrelationParams) -> dict[str, Any]:
    """One module against one outcome (ANALYTICS.md section 4): the response body."""
    if len(params.modules) != 1:
        raise BadRequest("compute takes exactly one module; use the scan for several.")
    p = params
    team_rows = p.unit == "team" and _has_team_rows(con, p)
    _prepare(con, p, team_rows)
    try:
        module = _collect(con, p)[p.modules[0]]
        breakdown = _breakdown(con, p)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    name = _names(con, p.modules)[p.modules[0]]
    warnings = _common_warnings(con, p)
    if name is None and module.n1 == 0:
        warnings.append("No statement in the warehouse is about this module.")
    warnings += _warnings(module, p)
    insufficient = _insufficient(module)
    body: dict[str, Any] = {
        "status": "insufficient_data" if insufficient else "ok",
        "caveat": CAUSATION_CAVEAT,
        "warnings": warnings,
        "module": {"id": p.modules[0], "name": name},
        "metric": p.metric,
        "unit": p.unit,
        "population": {
            "units": module.units,
            "analysed": module.n1 + module.n0,
            "excluded_no_outcome": module.no_outcome,
            "excluded_no_target": module.no_target,
        },
        "groups": _groups(module, p),
        "effect": None if insufficient else _effect(module, p),
        "proportions": _proportions(module) if p.binary and not insufficient else None,
        "association": None if insufficient else _association(module, p),
        "breakdown": breakdown,
    }
    return envelope(con, definitions(p, team_rows=team_rows), body)


def scan_modules(con: duckdb.DuckDBPyConnection, params: CorrelationParams) -> tuple[str, ...]:
    """The modules a scan covers: those named, then every activity of ``activity_type``."""
    modules = list(params.modules)
    if params.activity_type is not None:
        rows = con.execute(
            "SELECT activity_id FROM activity WHERE activity_type = $t ORDER BY activity_id",
            {"t": params.activity_type},
        ).fetchall()
        modules += [row[0] for row in rows]
    found = tuple(dict.fromkeys(modules))
    if len(found) > MAX_SCAN_MODULES:
        raise BadRequest(
            f"The scan would cover {len(found)} modules; at most {MAX_SCAN_MODULES} at once."
        )
    return found


def scan(con: duckdb.DuckDBPyConnection, params: CorrelationParams) -> dict[str, Any]:
    """Many modules against one outcome, with Benjamini-Hochberg adjusted p-values over the
    modules that have enough data (ANALYTICS.md section 4): the response body."""
    modules_scanned = scan_modules(con, params)
    if not modules_scanned:
        raise BadRequest(f"No activity in the warehouse has the type {params.activity_type!r}.")
    p = replace(params, modules=modules_scanned)
    if len(p.modules) * (p.bootstrap + p.permutations) > MAX_SCAN_RESAMPLING:
        raise BadRequest(
            f"{len(p.modules)} modules x {p.bootstrap + p.permutations} resamples is more "
            f"than a scan may draw ({MAX_SCAN_RESAMPLING:,}); scan fewer modules or lower "
            "bootstrap/permutations."
        )
    team_rows = p.unit == "team" and _has_team_rows(con, p)
    _prepare(con, p, team_rows)
    try:
        modules = _collect(con, p)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    names = _names(con, p.modules)
    rows: list[dict[str, Any]] = []
    for module_id in p.modules:
        m = modules[module_id]
        insufficient = _insufficient(m)
        show1, show0 = m.n1 >= SUPPRESS_BELOW, m.n0 >= SUPPRESS_BELOW
        row: dict[str, Any] = {
            "module": module_id,
            "name": names[module_id],
            "status": "insufficient_data" if insufficient else "ok",
            "n_exposed": m.n1,
            "n_not_exposed": m.n0,
            "mean_exposed": finite(m.mean1) if show1 else None,
            "mean_not_exposed": finite(m.mean0) if show0 else None,
        }
        fields = (
            "difference",
            "difference_low",
            "difference_high",
            "relative_lift",
            "relative_lift_low",
            "relative_lift_high",
            "welch_p",
            "permutation_p",
            "fisher_exact_p",
            "cohens_d",
            "hedges_g",
            "point_biserial_r",
            "spearman_rho",
            "spearman_p",
            "p_value",
            "p_adjusted",
            "significant",
        )
        row.update(dict.fromkeys(fields))
        if not insufficient:
            effect = _effect(m, p)
            ci, lift_ci, perm = (
                effect["difference_ci"],
                effect["relative_lift_ci"],
                effect["permutation"],
            )
            row.update(
                difference=effect["difference"],
                difference_low=ci and ci["low"],
                difference_high=ci and ci["high"],
                relative_lift=effect["relative_lift"],
                relative_lift_low=lift_ci and lift_ci["low"],
                relative_lift_high=lift_ci and lift_ci["high"],
                welch_p=effect["welch"]["p"],
                permutation_p=perm and perm["p"],
                cohens_d=effect["cohens_d"],
                hedges_g=effect["hedges_g"],
                point_biserial_r=effect["point_biserial"]["r"],
            )
            if p.binary:
                row["fisher_exact_p"] = _proportions(m)["fisher_exact"]["p"]
            association = _association(m, p)
            if association is not None:
                row["spearman_rho"] = association["spearman_rho"]
                row["spearman_p"] = association["p"]
            row["p_value"] = row["fisher_exact_p"] if p.binary else row["welch_p"]
        rows.append(row)
    tested = [r for r in rows if r["p_value"] is not None]
    for row, adjusted in zip(
        tested, inference.benjamini_hochberg([r["p_value"] for r in tested]), strict=True
    ):
        row["p_adjusted"] = adjusted
        row["significant"] = adjusted <= p.fdr
    used = definitions(p, team_rows=team_rows)
    used["scan"] = {
        "activity_type": p.activity_type,
        "p_value": "Fisher's exact p (binary outcome)" if p.binary else "Welch t-test p",
        "adjustment": "Benjamini-Hochberg over the modules with status ok",
        "fdr": p.fdr,
    }
    warnings = _common_warnings(con, p)
    short = [r["module"] for r in rows if r["status"] != "ok"]
    if short:
        warnings.append(
            f"{len(short)} of {len(rows)} modules have fewer than {MIN_GROUP} units in a group: "
            "no statistics for them, and they are not part of the adjusted family."
        )
    body = {
        "status": "ok" if tested else "insufficient_data",
        "caveat": CAUSATION_CAVEAT,
        "warnings": warnings,
        "metric": p.metric,
        "unit": p.unit,
        "modules": rows,
    }
    return envelope(con, used, body)


def group_table(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The CSV table of a single-module response: one row per compared group."""
    module = body["module"]["id"]
    return [{"module": module, "metric": body["metric"], **row} for row in body["groups"]]
