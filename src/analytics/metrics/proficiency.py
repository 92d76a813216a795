"""Time to proficiency (ANALYTICS.md section 2): Kaplan-Meier per cohort with right-censoring.

Per learner and program:

* **Scope**: statements whose object is the program's activity IRI or that have it in
  ``context.contextActivities.parent`` or ``grouping`` (ANALYTICS.md section 1).
* **Learners**: Agent actors of statements in scope (the Agent object of an assign statement
  that names the learner as its object); groups are not learners. A learner with no start
  event (or a start after the cut-off) is counted as ``without_start`` and is not in the
  estimate.
* **start** (caller's choice): ``hire`` (roster hire date, midnight UTC, for learners with any
  statement in scope), ``assignment`` (first assign-role event in scope), ``registration``
  (first register-role event), ``first_engagement`` (first engage-role event).
* **end**: the first proficiency event in scope at or after start: a proficient-role statement
  whose ``result.success`` is not false and, when it carries ``result.score.scaled``, whose
  score reaches the cmi5 ``masteryscore`` context extension of the statement, else the
  request's threshold (the scored-pass rule).
* **Censoring**: not yet proficient -> censored at the earliest of the roster leave date
  (midnight UTC), the first leave-role event (``unregistered``) in scope at or after start,
  and the cut-off (``as_of``). Nobody is dropped; those censored by leaving are counted as
  leavers before proficiency.
* **Excluded, counted**: proficient before start (a qualifying event in scope before start);
  waived (a waived-role event in scope at or before their end, or before their censoring time
  when not proficient); left before start (roster leave date or ``unregistered`` before start).

All statements after the cut-off are ignored. Cohorts are a roster column (team, role,
region, manager) or the hire month / quarter; learners without a roster row form the cohort
``null``. The Kaplan-Meier arithmetic is :mod:`analytics.metrics.survival`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

import duckdb

from analytics.metrics import scope_facts, survival
from analytics.metrics.common import (
    SUPPRESS_BELOW,
    envelope,
    finite,
    iso,
    literal,
    verb_roles,
    warehouse_info,
)

StartBasis = Literal["hire", "assignment", "registration", "first_engagement"]
START_BASES: Final[tuple[str, ...]] = ("hire", "assignment", "registration", "first_engagement")
COHORTS: Final[tuple[str, ...]] = (
    "team",
    "role",
    "region",
    "manager",
    "hire_month",
    "hire_quarter",
)
RATE_DAYS: Final[tuple[int, ...]] = (30, 60, 90, 180)
DEFAULT_THRESHOLD: Final = 0.8

# -- statements in scope (what friction reads when the facts cannot answer) ------------------


@dataclass(frozen=True)
class Roles:
    """The snapshot's verb roles (ANALYTICS.md section 1) as SQL tests of a verb column: the
    verb lists are inlined, so a role filter is pushed into the scan."""

    verbs: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection) -> Roles:
        return cls({role: tuple(verbs) for role, verbs in verb_roles(con).items()})

    def test(self, role: str, column: str = "s.verb_id") -> str:
        verbs = self.verbs.get(role, ())
        if not verbs:
            return "false"
        return f"{column} IN ({', '.join(literal(v) for v in verbs)})"

    def as_json(self) -> dict[str, list[str]]:
        return {role: list(verbs) for role, verbs in self.verbs.items()}

    def learner(self) -> str:
        """The learner of a statement: the Agent object of an assign statement about the
        learner (``http://activitystrea.ms/assign``: the learner is the object), else the
        Agent actor; groups are not learners."""
        return f"""CASE
    WHEN {self.test("assign")} AND s.object_type IN ('Agent', 'Group')
        THEN CASE WHEN s.object_type = 'Agent' THEN s.object_id END
    WHEN s.actor_type = 'Agent' THEN s.actor_key
END"""

    def columns(self) -> str:
        """What the metrics read of a statement in scope: never the extensions text (the
        dearest column to read): the cmi5 masteryscore is flattened at sync time."""
        flags = ",\n    ".join(
            f"{self.test(role)} AS is_{role}"
            for role in ("assign", "register", "engage", "complete", "proficient", "waived")
        )
        return f"""{self.learner()} AS learner, s.event_time AS t, s.actor_key, s.object_id,
    s.verb_id, s.object_type, s.parent_id, s.grouping_id, s.success, s.score_scaled,
    s.completion, s.mastery_score AS mastery,
    {flags},
    {self.test("leave")} AS is_leave"""


def passed_sql(row: str, threshold: str) -> str:
    """The scored-pass rule (ANALYTICS.md section 1, proficient): a proficient-role statement
    whose ``result.success`` is not false and whose scaled score, when present, reaches the
    statement's cmi5 masteryscore, else ``threshold``. ``row`` has the columns of
    :meth:`Roles.columns` and ``mastery``."""
    return f"""CASE WHEN NOT {row}.is_proficient THEN false
    WHEN {row}.success IS NOT DISTINCT FROM false THEN false
    WHEN {row}.score_scaled IS NULL THEN true
    ELSE {row}.score_scaled >= coalesce({row}.mastery, {threshold})
END"""


def scoped_sql(targets: Sequence[str], roles: Roles, where: str, extra: str = "") -> str:
    """Statements in the scope of each activity of ``targets`` (ANALYTICS.md section 1: the
    activity is the statement's object, or in ``context.contextActivities.parent`` or
    ``grouping``), as rows ``activity,`` :meth:`Roles.columns` ``extra``: a statement once per
    target it is in scope of. ``where`` is over the statement ``s``; ``extra`` (empty, or
    starting with a comma) adds columns computed from ``s``.

    Scans with filters DuckDB pushes down find the statements whose object, first parent or
    first grouping activity is a target (the flat ``object_id``, ``parent_id`` and
    ``grouping_id`` columns); those that list a target later in ``parent`` or ``grouping``
    are found in ``statement_context_activity`` and joined on the statement's ``seq``.
    """
    if not targets:
        raise ValueError("no target activity")

    def not_object(column: str) -> str:
        """Not counted by the object branch already."""
        return (
            f"(s.object_id IS DISTINCT FROM {column} OR s.object_type IS DISTINCT FROM 'Activity')"
        )

    values = ", ".join(literal(t) for t in targets)
    columns = f"{roles.columns()}{extra}"
    not_first = """(activity IS DISTINCT FROM object_id OR object_type IS DISTINCT FROM 'Activity')
            AND activity IS DISTINCT FROM parent_id
            AND activity IS DISTINCT FROM grouping_id"""
    return f"""
    SELECT s.object_id AS activity, {columns}
    FROM statement s
    WHERE s.object_id IN ({values}) AND s.object_type = 'Activity' AND ({where})
    UNION ALL
    SELECT s.parent_id AS activity, {columns}
    FROM statement s
    WHERE s.parent_id IN ({values}) AND {not_object("s.parent_id")}
        AND ({where})
    UNION ALL
    SELECT s.grouping_id AS activity, {columns}
    FROM statement s
    WHERE s.grouping_id IN ({values}) AND {not_object("s.grouping_id")}
        AND s.parent_id IS DISTINCT FROM s.grouping_id AND ({where})
    UNION ALL
    SELECT * FROM (
        SELECT c.activity_id AS activity, {columns}
        FROM statement s JOIN (
            SELECT DISTINCT seq, activity_id FROM statement_context_activity
            WHERE activity_id IN ({values}) AND usage IN ('parent', 'grouping')
                AND position > 0
        ) c ON c.seq = s.seq
        WHERE ({where})
    ) WHERE {not_first}"""


@dataclass(frozen=True)
class ProficiencyParams:
    """The request (ANALYTICS.md section 2). ``start_from`` / ``start_to`` bound the start
    date (UTC, both inclusive); ``as_of`` None means the snapshot's as-of."""

    program: str
    start: StartBasis = "assignment"
    threshold: float = DEFAULT_THRESHOLD
    cohort: str | None = None
    as_of: datetime | None = None
    start_from: date | None = None
    start_to: date | None = None
    curve: bool = True


_START: Final[dict[str, str]] = {
    "hire": "ro.hire_date::TIMESTAMPTZ",
    "assignment": "p.assigned",
    "registration": "p.registered",
    "first_engagement": "p.engaged",
}
_COHORT: Final[dict[str, str]] = {
    "team": "ro.team",
    "role": "ro.role",
    "region": "ro.region",
    "manager": "ro.manager",
    "hire_month": "strftime(ro.hire_date, '%Y-%m')",
    "hire_quarter": "year(ro.hire_date)::VARCHAR || '-Q' || quarter(ro.hire_date)::VARCHAR",
}


def _query(params: ProficiencyParams) -> str:
    start = _START[params.start]
    cohort = "NULL::VARCHAR" if params.cohort is None else _COHORT[params.cohort]
    window = []
    if params.start_from is not None:
        window.append("start::DATE >= $start_from")
    if params.start_to is not None:
        window.append("start::DATE <= $start_to")
    in_window = " AND ".join(window) or "true"
    by_cohort = (
        ""
        if params.cohort is None
        else "SELECT 1 AS g, cohort, status, done, start, censor_at, left_at FROM classified "
        "UNION ALL"
    )
    # The curves are needed for the response, and for the log-rank test between cohorts.
    curve = params.curve or params.cohort is not None
    return f"""
WITH
per_learner AS ({scope_facts.per_learner_sql(params.program)}),
started AS (
    SELECT p.*, {start} AS start, {cohort} AS cohort,
        ro.leave_date::TIMESTAMPTZ AS leave_date
    FROM per_learner p
    LEFT JOIN (
        SELECT * FROM roster QUALIFY row_number() OVER (PARTITION BY learner_key) = 1
    ) ro ON ro.learner_key = p.learner
),
people AS (
    SELECT learner, cohort, start, waived,
        list_filter(passes, lambda x: x >= start)[1] AS done,
        len(list_filter(passes, lambda x: x < start)) > 0 AS pre,
        least(leave_date, list_filter(leaves, lambda x: x >= start)[1]) AS left_at
    FROM started
    WHERE start IS NULL OR ({in_window})
),
classified AS (
    SELECT *,
        least(left_at, $as_of) AS censor_at,
        CASE
            WHEN start IS NULL OR start > $as_of THEN 'without_start'
            WHEN waived IS NOT NULL AND waived <= coalesce(done, least(left_at, $as_of))
                THEN 'waived'
            WHEN pre THEN 'pre_proficient'
            WHEN done IS NULL AND left_at < start THEN 'left_before_start'
            ELSE 'estimate'
        END AS status
    FROM people
),
tagged AS (
    {by_cohort}
    SELECT 0 AS g, NULL::VARCHAR AS cohort, status, done, start, censor_at, left_at
    FROM classified
),
durations AS (
    SELECT g, cohort,
        (epoch_us(coalesce(done, censor_at)) - epoch_us(start)) / 86400000000.0 AS days,
        done IS NOT NULL AS event
    FROM tagged WHERE status = 'estimate'
),
{survival.km_ctes("durations")},
summary AS (
    SELECT g, cohort,
        {survival.km_summary_columns(RATE_DAYS, curve=curve)}
    FROM km GROUP BY g, cohort
),
counts AS (
    SELECT g, cohort,
        count(*) FILTER (WHERE status = 'estimate') AS in_estimate,
        count(*) FILTER (WHERE status = 'without_start') AS without_start,
        count(*) FILTER (WHERE status = 'pre_proficient') AS pre_proficient,
        count(*) FILTER (WHERE status = 'waived') AS waived,
        count(*) FILTER (WHERE status = 'left_before_start') AS left_before_start,
        count(*) FILTER (WHERE status = 'estimate' AND done IS NULL
                         AND left_at IS NOT NULL AND left_at < $as_of) AS leavers
    FROM tagged GROUP BY g, cohort
)
SELECT c.*, s.* EXCLUDE (g, cohort)
FROM counts c
LEFT JOIN summary s ON s.g = c.g AND s.cohort IS NOT DISTINCT FROM c.cohort
ORDER BY c.g, c.cohort NULLS LAST
"""


def _days(value: float | None) -> float | None:
    return finite(value)


def _group(row: dict[str, Any], curve: bool) -> dict[str, Any]:
    estimate = survival.read_estimate(row, RATE_DAYS)
    out: dict[str, Any] = {
        "cohort": row["cohort"],
        "n": estimate.n,
        "events": estimate.events,
        "censored": estimate.censored,
        "median_days": _days(estimate.median),
        "p90_days": _days(estimate.p90),
        "rates": [survival.rate_at(estimate, x) for x in RATE_DAYS],
        "leavers_before_proficiency": int(row["leavers"]),
        "pre_proficient": int(row["pre_proficient"]),
        "waived": int(row["waived"]),
        "left_before_start": int(row["left_before_start"]),
        "without_start": int(row["without_start"]),
    }
    if curve:
        out["curve"] = survival.curve_json(estimate)
    return out


def _definitions(params: ProficiencyParams, cutoff: datetime) -> dict[str, Any]:
    return {
        "section": "ANALYTICS.md section 2 (time to proficiency)",
        "program": params.program,
        "scope": "statements whose object is the program IRI or that have it in "
        "context.contextActivities parent or grouping",
        "start": params.start,
        "start_definition": {
            "hire": "roster hire date (midnight UTC), for learners with any statement in scope",
            "assignment": "first assign-role statement in scope",
            "registration": "first register-role statement in scope",
            "first_engagement": "first engage-role statement in scope",
        }[params.start],
        "without_start": "learners with statements in scope but no start (or a start after "
        "as_of) are not in the estimate; they are counted as without_start",
        "end": "first proficient-role statement in scope at or after start, with "
        "result.success not false and, when result.score.scaled is present, scaled >= the "
        "statement's cmi5 masteryscore context extension, else >= threshold",
        "threshold": params.threshold,
        "as_of": iso(cutoff),
        "censoring": "not yet proficient: right-censored at min(roster leave date at midnight "
        "UTC, first leave-role (unregistered) statement in scope at or after start, as_of); "
        "censored by leaving counts in leavers_before_proficiency; statements after as_of "
        "are ignored",
        "excluded": "pre_proficient (a qualifying proficiency statement in scope before "
        "start), waived (a waived-role statement in scope at or before the learner's end, or "
        "censoring time when not proficient), left_before_start; counted, not estimated",
        "start_window": {
            "from": None if params.start_from is None else params.start_from.isoformat(),
            "to": None if params.start_to is None else params.start_to.isoformat(),
            "definition": "start date (UTC) between from and to, both inclusive",
        },
        "cohort": params.cohort,
        "cohort_definition": "roster column (hire_month YYYY-MM, hire_quarter YYYY-Qn); "
        "learners without a roster row or value form the cohort null",
        "estimator": "Kaplan-Meier; days = (end or censoring time - start) / 86400 s",
        "quantiles": survival.QUANTILE_DEFINITION,
        "rates": "share proficient 1 - S(t) at "
        + ", ".join(str(x) for x in RATE_DAYS)
        + " days, null beyond the cohort's last observed time (unless S reached 0)",
        "confidence_interval": survival.CI_DEFINITION,
        "logrank": "log-rank test across the shown cohorts (chi-squared, k - 1 degrees of "
        "freedom) when there are two or more",
        "suppression": f"cohorts with fewer than {SUPPRESS_BELOW} learners in the estimate "
        "are not shown (counted under suppressed); the same holds for the overall group",
    }


def cutoff_of(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> datetime:
    """The cut-off: the caller's ``as_of``, else the snapshot's, else now."""
    if as_of is not None:
        return as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)
    info = warehouse_info(con)
    return info.as_of if info.as_of is not None else datetime.now(UTC)


def compute(con: duckdb.DuckDBPyConnection, params: ProficiencyParams) -> dict[str, Any]:
    """Time to proficiency per cohort and overall (ANALYTICS.md section 2), from the sync-kept
    per-learner facts of the program's scope (:mod:`analytics.metrics.scope_facts`)."""
    cutoff = cutoff_of(con, params.as_of)
    values: dict[str, Any] = {
        "threshold": params.threshold,
        "as_of": cutoff,
    }
    if params.start_from is not None:
        values["start_from"] = params.start_from
    if params.start_to is not None:
        values["start_to"] = params.start_to
    roles = Roles.of(con)
    cursor = con.execute(_query(params), values)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    overall_row = next((r for r in rows if r["g"] == 0), None)
    overall: dict[str, Any] | None = None
    suppressed = {"cohorts": 0, "learners": 0}
    if overall_row is not None and int(overall_row["in_estimate"]) >= SUPPRESS_BELOW:
        overall = _group(overall_row, params.curve)
    elif overall_row is not None:
        suppressed["learners"] = int(overall_row["in_estimate"])

    cohorts: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    if params.cohort is not None:
        for row in rows:
            if row["g"] != 1:
                continue
            if int(row["in_estimate"]) < SUPPRESS_BELOW:
                suppressed["cohorts"] += 1
                suppressed["learners"] += int(row["in_estimate"])
                continue
            cohorts.append(_group(row, params.curve))
            shown.append(row)

    logrank: dict[str, Any] | None = None
    if len(shown) >= 2:
        groups = []
        for row in shown:
            steps = row.get("curve") or {"t": [], "events": [], "at_risk": []}
            groups.append((steps["t"], steps["events"], steps["at_risk"]))
        result = survival.logrank(groups)
        logrank = {
            "chi2": finite(result.chi2),
            "df": result.df,
            "p_value": finite(result.p_value),
            "cohorts": [r["cohort"] for r in shown],
        }

    body = {
        "program": params.program,
        "start": params.start,
        "cohort": params.cohort,
        "overall": overall,
        "cohorts": cohorts,
        "suppressed": suppressed,
        "logrank": logrank,
    }
    definitions = {**_definitions(params, cutoff), "verb_roles": roles.as_json()}
    return envelope(con, definitions, body)


CSV_COLUMNS: Final[tuple[str, ...]] = (
    "level",
    "cohort",
    "n",
    "events",
    "censored",
    "median_days",
    "p90_days",
    *(f"rate_{x}{suffix}" for x in RATE_DAYS for suffix in ("", "_lower", "_upper")),
    "leavers_before_proficiency",
    "pre_proficient",
    "waived",
    "left_before_start",
    "without_start",
)


def table(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV table: one row per shown cohort summary, the overall row first."""
    rows: list[dict[str, Any]] = []
    groups: list[tuple[str, dict[str, Any]]] = []
    if body.get("overall") is not None:
        groups.append(("overall", body["overall"]))
    groups.extend(("cohort", g) for g in body.get("cohorts", []))
    for level, group in groups:
        row = {k: group.get(k) for k in CSV_COLUMNS if k in group}
        row["level"] = level
        for rate in group["rates"]:
            x = rate["days"]
            row[f"rate_{x}"] = rate["proficient"]
            ci = rate["ci"] or [None, None]
            row[f"rate_{x}_lower"], row[f"rate_{x}_upper"] = ci
        rows.append(row)
    return rows
