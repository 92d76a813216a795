"""Built-in learning measures and their small query language (ANALYTICS.md section 5).

A query is ``{"measures": [...], "group_by": [...], "filters": {...}, "options": {...}}`` and
the answer is a tidy table: one row per combination of the group values that has data, one
column per group dimension, then per measure its value and (for rates, averages and
per-learner figures) ``<measure>_n``, the count the value rests on.

Two kinds of measure:

* **Statement measures** (``statements``, ``active_learners``, ``learning_hours_per_learner``)
  count statements by their event time.
* **Learner-activity measures** (everything else) look at one unit per learner and activity
  (ANALYTICS.md section 1: never raw statements, a learner who retries five times weighs once).
  Each unit has an *anchor* event that places it in time: the assignment, the first
  engagement, the first attempt, the due date, the certification or the first proficiency
  (see :data:`MEASURES`). The time filter selects units by their anchor (``from`` inclusive,
  ``to`` exclusive) and nothing after ``to`` is ever seen, so a completion counts when it
  happened before ``to`` (a cohort reading: "of the people assigned in March, how many have
  completed by the end of the window").

Time is the statement's event time (``timestamp``, else ``stored``) in UTC; time buckets are
UTC days, ISO weeks (from Monday), months and quarters, labelled by their first day.

Everything is computed in DuckDB on the read-only snapshot. Each family of measures is one
query; the families of a request run side by side, each on its own cursor. Relations that are
constants of a snapshot and cost a scan of scattered rows (the statements with an assign,
proficient or fail role, the scored statements, the activity hierarchy) are computed once per
snapshot (:class:`SnapshotCache`). :func:`evaluate` is the entry point the KPI and OKR reports
share.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import duckdb

from analytics.metrics.common import (
    SUPPRESS_BELOW,
    envelope,
    finite,
    stable,
    verb_roles,
    warehouse_info,
)
from lrs.errors import BadRequest

MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
DEFAULT_THRESHOLD: Final = 0.8
FAR_PAST: Final = datetime(1, 1, 2, tzinfo=UTC)
FAR_FUTURE: Final = datetime(9999, 12, 30, tzinfo=UTC)
DAYS_PER_MONTH: Final = 365.2425 / 12


@dataclass(frozen=True)
class Measure:
    """A built-in measure: its family (one query computes a family), its definition as
    reported in ``definitions``, and what ``<name>_n`` counts (None: no such column)."""

    family: str
    definition: str
    n: str | None


# ANALYTICS.md section 5, "Built-in measures". The texts are the definitions the responses
# carry; the OpenAPI description repeats them.
MEASURES: Final[dict[str, Measure]] = {
    "statements": Measure(
        "statement",
        "Number of statements (voided and voiding statements excluded), placed by event time.",
        None,
    ),
    "active_learners": Measure(
        "statement",
        "Distinct learners (Agent actors) with at least one learning statement: a verb with "
        "the engage, complete, proficient, fail or session_end role, or result.completion = "
        "true. Assignments, registrations, requests and outcome statements do not make a "
        "learner active.",
        None,
    ),
    "learning_hours_per_learner": Measure(
        "statement",
        "Sum of session durations (result.duration of session_end-role statements: ADL "
        "terminated, abandoned), in hours, divided by the active learners of the same cell; "
        "sessions are placed by the time they ended. n: active learners.",
        "active learners",
    ),
    "completion_rate_assigned": Measure(
        "assigned",
        "Completers / assigned. Unit: a learner and an assigned activity (assign-role "
        "statement; the learner is its Agent actor, or its Agent object for "
        "activitystrea.ms/assign, whose activity is then the first parent, else grouping, "
        "context activity). Anchor: the first assignment. Completed: a completion (complete "
        "role or result.completion = true) with the activity as object at any time before "
        "the end of the window. n: assigned units.",
        "assigned learner-activities",
    ),
    "completion_rate_started": Measure(
        "started",
        "Completers / starters. Unit: a learner and an activity they started: their first "
        "engage-role statement about the activity or about an activity that statements list "
        "under it (context parent or grouping). Anchor: that first engagement. Completed: a "
        "completion with the activity as object before the end of the window. n: started "
        "units.",
        "started learner-activities",
    ),
    "first_attempt_pass_rate": Measure(
        "attempts",
        "Share of learner-activities whose first attempt passed. Attempts: fail-role "
        "statements and proficient-role statements that are not also completion verbs "
        "(satisfied records a move-on rule, not an attempt), with the activity as object. "
        "An attempt passes under the scored-pass rule: proficient role, result.success not "
        "false, and result.score.scaled (when present) at least the cmi5 masteryscore "
        "context extension, else the mastery_threshold option. Anchor: the first attempt. "
        "n: attempted units.",
        "attempted learner-activities",
    ),
    "eventual_pass_rate": Measure(
        "attempts",
        "Share of learner-activities with at least one passing attempt (same attempts and "
        "scored-pass rule as first_attempt_pass_rate) before the end of the window. "
        "Anchor: the first attempt. n: attempted units.",
        "attempted learner-activities",
    ),
    "avg_best_score": Measure(
        "scores",
        "Average best scaled score: the best result.score.scaled per learner, activity "
        "(as object) and registration; then one value per learner (the mean of their "
        "registrations' bests in the cell); then the mean over learners. Anchor: the "
        "registration's first scored statement. n: learners.",
        "learners",
    ),
    "compliance_adherence": Measure(
        "compliance",
        "Required assignments completed by their due date / assignments due. Required: an "
        "assignment (as for completion_rate_assigned) carrying a due date in a context "
        "extension (option due_date_extension; by default any extension whose IRI ends in "
        "due-date, due_date or duedate). The first assignment with a due date counts; a "
        "date without a time means the end of that day (UTC). Due: the due date lies in the "
        "window and is not after the snapshot's as-of (or the window end); learners who "
        "left (roster leave date) before the due date are not due. On time: a completion "
        "with the activity as object at or before the due date. Anchor: the due date. "
        "n: assignments due.",
        "assignments due",
    ),
    "certification_speed": Measure(
        "certification",
        "Median days from a learner's first assignment of an activity to their first "
        "proficiency event in its scope (object, context parent or grouping) at or after "
        "the assignment: a proficient-role statement that passes the scored-pass rule. The "
        "plain median over those certified in the cell, no censoring (use "
        "/analytics/time-to-proficiency for the Kaplan-Meier estimate). Anchor: the "
        "certification. n: certified learner-activities.",
        "certified learner-activities",
    ),
    "skill_acquisition_rate": Measure(
        "acquisition",
        "Proficiency events per active learner per month: each learner and activity (as "
        "object) counts once, at its first proficiency event (scored-pass rule); divided by "
        "the active learners of the same cell and by the cell's length in calendar months "
        "(a month's share is its covered days / its days), the cell being its time bucket "
        "(or the window) clipped to the window, the first statement and the as-of. "
        "n: active learners.",
        "active learners",
    ),
}
STATEMENT_MEASURES: Final = tuple(n for n, m in MEASURES.items() if m.family == "statement")
VERB_MEASURES: Final = ("statements", "active_learners")
LEARNING_ROLES: Final = ("engage", "complete", "proficient", "fail", "session_end")
# Measures whose value describes the people of a cell: suppressed under SUPPRESS_BELOW people.
PEOPLE_MEASURES: Final = tuple(n for n, m in MEASURES.items() if m.n is not None)

TIME_BUCKETS: Final = ("day", "week", "month", "quarter")
GROUPS: Final = (*TIME_BUCKETS, "activity", "verb", "team", "cohort")
COHORTS: Final = ("team", "role", "region", "manager", "hire_month", "hire_quarter", "hire_year")
FILTERS: Final = (
    "from",
    "to",
    "activity",
    "activity_scope",
    "activity_type",
    "verb",
    "team",
    "learner",
)
ACTIVITY_SCOPES: Final = ("scope", "object")
OPTIONS: Final = ("cohort", "mastery_threshold", "due_date_extension")
QUERY_KEYS: Final = ("measures", "group_by", "filters", "options")
MAX_LIST: Final = 1000


# ---------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class Filters:
    """Which records a measure sees (ANALYTICS.md section 5: time range, activity, team).

    ``start``/``end``: the window ``[start, end)`` (UTC). ``activities``: the activity
    filter; with ``activity_scope`` "scope" a statement matches when one of them is its
    object, context parent or grouping (ANALYTICS.md section 1), and a learner-activity when
    its activity is one of them or appears as the object of statements that list one of them
    as parent or grouping; with "object" only the listed activities themselves match.
    """

    start: datetime | None = None
    end: datetime | None = None
    activities: tuple[str, ...] = ()
    activity_scope: str = "scope"
    activity_types: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    learners: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.start is not None:
            out["from"] = _iso(self.start)
        if self.end is not None:
            out["to"] = _iso(self.end)
        if self.activities:
            out["activity"] = list(self.activities)
            out["activity_scope"] = self.activity_scope
        for key, values in (
            ("activity_type", self.activity_types),
            ("verb", self.verbs),
            ("team", self.teams),
            ("learner", self.learners),
        ):
            if values:
                out[key] = list(values)
        return out


@dataclass(frozen=True)
class Options:
    """``cohort``: what the ``cohort`` group is; ``mastery_threshold``: the scored-pass
    threshold when a statement has no cmi5 masteryscore; ``due_date_extension``: the IRI of
    the due-date context extension (None: any extension IRI ending in due-date)."""

    cohort: str = "hire_quarter"
    mastery_threshold: float = DEFAULT_THRESHOLD
    due_date_extension: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "mastery_threshold": self.mastery_threshold,
            "due_date_extension": self.due_date_extension,
        }


@dataclass(frozen=True)
class MeasuresQuery:
    """A validated query (:func:`parse_query`)."""

    measures: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)
    options: Options = field(default_factory=Options)

    def as_json(self) -> dict[str, Any]:
        return {
            "measures": list(self.measures),
            "group_by": list(self.group_by),
            "filters": self.filters.as_json(),
            "options": self.options.as_json(),
        }


@dataclass(frozen=True)
class MeasuresParams:
    """What :func:`compute` gets from the router."""

    query: MeasuresQuery


class QueryError(BadRequest):
    """400: the query names something unknown or breaks a rule; the message says which."""


def _valid(names: Iterable[str]) -> str:
    return ", ".join(names)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise QueryError(f"{where} must be a JSON object.")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple without duplicates."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise QueryError(f"{where} must be a non-empty string or a list of non-empty strings.")
    if len(items) > MAX_LIST:
        raise QueryError(f"{where} may list at most {MAX_LIST} values.")
    return tuple(dict.fromkeys(items))


def parse_instant(value: Any, where: str) -> datetime:
    """An ISO 8601 instant, or a date (its midnight UTC); without a zone, UTC."""
    if not isinstance(value, str):
        raise QueryError(f"{where} must be an ISO 8601 date or time string.")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{where} must be an ISO 8601 date or time, not {value!r}.") from None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_filters(value: Any, where: str = "filters", *, time: bool = True) -> Filters:
    """The ``filters`` object (ANALYTICS.md section 5). ``time`` False: from/to are refused
    (a KPI's or OKR's period sets the window)."""
    raw = _object(value, where)
    unknown = [k for k in raw if k not in FILTERS]
    if unknown:
        raise QueryError(f"Unknown filter {where}.{unknown[0]}; valid filters: {_valid(FILTERS)}.")
    if not time:
        for key in ("from", "to"):
            if key in raw:
                raise QueryError(f"{where}.{key} is not allowed here: the period sets the window.")
    start = parse_instant(raw["from"], f"{where}.from") if raw.get("from") is not None else None
    end = parse_instant(raw["to"], f"{where}.to") if raw.get("to") is not None else None
    if start is not None and end is not None and end <= start:
        raise QueryError(f"{where}.to must be after {where}.from.")
    scope = raw.get("activity_scope", "scope")
    if scope not in ACTIVITY_SCOPES:
        raise QueryError(
            f"{where}.activity_scope must be one of {_valid(ACTIVITY_SCOPES)}, not {scope!r}."
        )

    def listed(key: str) -> tuple[str, ...]:
        return _strings(raw[key], f"{where}.{key}") if raw.get(key) is not None else ()

    return Filters(
        start=start,
        end=end,
        activities=listed("activity"),
        activity_scope=scope,
        activity_types=listed("activity_type"),
        verbs=listed("verb"),
        teams=listed("team"),
        learners=listed("learner"),
    )


def parse_options(value: Any, where: str = "options") -> Options:
    raw = _object(value, where)
    unknown = [k for k in raw if k not in OPTIONS]
    if unknown:
        raise QueryError(f"Unknown option {where}.{unknown[0]}; valid options: {_valid(OPTIONS)}.")
    cohort = raw.get("cohort", "hire_quarter")
    if cohort not in COHORTS:
        raise QueryError(f"{where}.cohort must be one of {_valid(COHORTS)}, not {cohort!r}.")
    threshold = raw.get("mastery_threshold", DEFAULT_THRESHOLD)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not -1.0 <= threshold <= 1.0
    ):
        raise QueryError(f"{where}.mastery_threshold must be a number from -1 to 1 (scaled).")
    extension = raw.get("due_date_extension")
    if extension is not None and (not isinstance(extension, str) or ":" not in extension):
        raise QueryError(f"{where}.due_date_extension must be an IRI.")
    return Options(cohort=cohort, mastery_threshold=float(threshold), due_date_extension=extension)


def parse_measure(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in MEASURES:
        shown = repr(value) if not isinstance(value, str) else value
        raise QueryError(f"Unknown measure {shown} in {where}; valid measures: {_valid(MEASURES)}.")
    return value


def check(query: MeasuresQuery) -> MeasuresQuery:
    """The rules across fields: verbs only for statement counts, one time bucket."""
    buckets = [g for g in query.group_by if g in TIME_BUCKETS]
    if len(buckets) > 1:
        raise QueryError(f"group_by may hold one time bucket, not {', '.join(buckets)}.")
    if "verb" in query.group_by or query.filters.verbs:
        other = [m for m in query.measures if m not in VERB_MEASURES]
        if other:
            what = "group_by verb" if "verb" in query.group_by else "filters.verb"
            raise QueryError(
                f"{what} applies only to the measures {_valid(VERB_MEASURES)} (a learner-"
                f"activity spans many verbs); not to {', '.join(other)}."
            )
    return query


def parse_query(body: Any) -> MeasuresQuery:
    """Validate a measures query (ANALYTICS.md section 5); every problem is a 400 that names
    the field and lists the valid values."""
    if not isinstance(body, Mapping):
        raise QueryError("The body must be a JSON object with measures, group_by, filters.")
    unknown = [k for k in body if k not in QUERY_KEYS]
    if unknown:
        raise QueryError(f"Unknown field {unknown[0]!r}; valid fields: {_valid(QUERY_KEYS)}.")
    raw_measures = body.get("measures")
    if isinstance(raw_measures, str):
        raw_measures = [raw_measures]
    if not isinstance(raw_measures, list) or not raw_measures:
        raise QueryError(f"measures must be a non-empty list; valid measures: {_valid(MEASURES)}.")
    measures = tuple(
        dict.fromkeys(parse_measure(m, f"measures[{i}]") for i, m in enumerate(raw_measures))
    )
    raw_groups = body.get("group_by") or []
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    if not isinstance(raw_groups, list):
        raise QueryError("group_by must be a list of group names.")
    for i, g in enumerate(raw_groups):
        if not isinstance(g, str) or g not in GROUPS:
            raise QueryError(
                f"Unknown group {g!r} in group_by[{i}]; valid groups: {_valid(GROUPS)}."
            )
    query = MeasuresQuery(
        measures=measures,
        group_by=tuple(dict.fromkeys(raw_groups)),
        filters=parse_filters(body.get("filters")),
        options=parse_options(body.get("options")),
    )
    return check(query)


# ---------------------------------------------------------------------------- the SQL

# The scored-pass rule (ANALYTICS.md section 1, proficient) on a statement ``s`` of
# ``lrs_role_rows`` whose verb has the proficient role: success not false, and the scaled
# score (when present) at least the statement's cmi5 masteryscore, else the option's threshold.
PASSES: Final = """(s.success IS DISTINCT FROM false
    AND (s.score_scaled IS NULL OR s.score_scaled >= coalesce(s.mastery, $threshold)))"""

# Context activities after the first of their list (parent_id / grouping_id hold the first):
# one equality per usage, so that DuckDB filters the scan itself.
LATER_CONTEXT: Final = " UNION ALL ".join(
    "SELECT statement_id, activity_id FROM statement_context_activity "
    f"WHERE position > 0 AND usage = '{usage}'"
    for usage in ("parent", "grouping")
)
# The statements the learner-activity families start from: those whose verb has the assign,
# proficient or fail role (a few percent of all), with the cmi5 masteryscore read once, and
# the context extensions kept for assignments only (their due dates).
ROLE_ROWS: Final = f"""
SELECT s.statement_id, s.verb_id, s.actor_type, s.actor_key, s.object_type, s.object_id,
    s.parent_id, s.grouping_id, s.event_time, s.registration, s.success, s.score_scaled,
    try_cast(json_extract_string(s.context_extensions, '$."{MASTERY_SCORE}"') AS DOUBLE)
        AS mastery,
    CASE WHEN s.verb_id IN (SELECT verb_id FROM verb_role WHERE role = 'assign')
        THEN s.context_extensions END AS context_extensions,
    CASE WHEN s.verb_id IN (SELECT verb_id FROM verb_role WHERE role = 'assign')
        THEN json_extract_string(s.context_extensions, '$."' || list_filter(
            json_keys(s.context_extensions),
            lambda k: regexp_matches(lower(k), '[/#:]due[-_]?date$'))[1] || '"')
        END AS due_text
FROM statement s
WHERE s.verb_id IN (SELECT verb_id FROM verb_role WHERE role IN ('assign', 'proficient', 'fail'))
"""
# Scored statements of learners about activities (avg_best_score).
SCORED_ROWS: Final = """
SELECT s.actor_key, s.object_id, s.registration, s.event_time, s.score_scaled
FROM statement s
WHERE s.score_scaled IS NOT NULL AND s.actor_type = 'Agent' AND s.object_type = 'Activity'
  AND s.actor_key IS NOT NULL
"""


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def by_verb(verbs: Iterable[str], where: str) -> str:
    """The rows of ``lrs_role_rows`` with one of ``verbs`` that match ``where``."""
    chosen = sorted(set(verbs))
    listed = ", ".join(_literal(v) for v in chosen) or "NULL"
    return f"SELECT * FROM lrs_role_rows s WHERE s.verb_id IN ({listed}) AND ({where})"


# Assignments (assign role): the learner is the Agent actor, or the Agent object (then the
# activity is the statement's first parent, else grouping, context activity).
ASSIGNMENTS: Final = """assign_raw AS (
    SELECT
        CASE WHEN s.object_type = 'Agent' THEN s.object_id
             WHEN s.actor_type = 'Agent' THEN s.actor_key END AS learner,
        CASE WHEN s.object_type = 'Agent' THEN coalesce(s.parent_id, s.grouping_id)
             WHEN s.object_type = 'Activity' THEN s.object_id END AS activity,
        s.event_time AS t,
        {due} AS due
    FROM ({assign_rows}) s
),
assigned AS (
    SELECT learner, activity, min(t) AS t, arg_min(due, t) FILTER (WHERE due IS NOT NULL) AS due
    FROM assign_raw
    WHERE learner IS NOT NULL AND activity IS NOT NULL {unit_filter}
    GROUP BY learner, activity
)"""

# The due-date context extension's value as an instant (a bare date: the end of that day).
_DUE_VALUE = """(CASE WHEN regexp_full_match(v, '\\d{4}-\\d{2}-\\d{2}')
        THEN (v::DATE + 1)::TIMESTAMPTZ - INTERVAL 1 MICROSECOND
        ELSE try_cast(v AS TIMESTAMPTZ) END)"""
DUE_NAMED: Final = (
    "list_transform([json_extract_string(s.context_extensions, '$.\"' || $due_ext || '\"')], "
    f"lambda v: {_DUE_VALUE})[1]"
)
# Without a named extension: the first one whose IRI ends in due-date (read by ROLE_ROWS).
DUE_ANY: Final = f"list_transform([s.due_text], lambda v: {_DUE_VALUE})[1]"

# First completion (complete role or result.completion, as object) per learner-activity of
# the units in ``{units}``: learner_activity holds it per registration.
COMPLETIONS: Final = """{name} AS (
    SELECT la.learner_key AS learner, la.activity_id AS activity, min(la.completed_time) AS done
    FROM learner_activity la
    SEMI JOIN {units} u ON u.learner = la.learner_key AND u.activity = la.activity_id
    WHERE la.completed_time IS NOT NULL
    GROUP BY la.learner_key, la.activity_id
)"""

# Proficiency events that pass the scored-pass rule, by learners, before the window's end.
PROFICIENT: Final = f"""prof AS (
    SELECT s.statement_id, s.actor_key AS learner, s.object_type, s.object_id, s.parent_id,
        s.grouping_id, s.event_time AS t
    FROM ({{proficient_rows}}) s
    WHERE {PASSES}
)"""
PROFICIENT_WHERE: Final = (
    "s.actor_type = 'Agent' AND s.actor_key IS NOT NULL AND s.event_time < $end"
)

# The same events once per activity whose scope they are in (object, parent, grouping).
PROFICIENT_SCOPE: Final = """prof_scope AS (
    SELECT learner, object_id AS activity, t FROM prof WHERE object_type = 'Activity'
    UNION ALL
    SELECT learner, parent_id, t FROM prof WHERE parent_id IS NOT NULL
    UNION ALL
    SELECT learner, grouping_id, t FROM prof WHERE grouping_id IS NOT NULL
    UNION ALL
    SELECT p.learner, c.activity_id, p.t
    FROM prof p JOIN lrs_later c ON c.statement_id = p.statement_id
)"""

# Activity -> the activities statements about it list as parent or grouping (any position).
HIERARCHY: Final = """
SELECT DISTINCT activity, ancestor FROM (
    SELECT object_id AS activity, parent_id AS ancestor FROM statement
    WHERE object_type = 'Activity' AND parent_id IS NOT NULL
    UNION ALL
    SELECT object_id, grouping_id FROM statement
    WHERE object_type = 'Activity' AND grouping_id IS NOT NULL
    UNION ALL
    SELECT s.object_id, c.activity_id
    FROM lrs_later c JOIN statement s ON s.statement_id = c.statement_id
    WHERE s.object_type = 'Activity'
)
WHERE activity IS NOT NULL AND ancestor IS NOT NULL AND activity <> ancestor
"""


def _database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return None if not rows else rows[0][0]


class SnapshotCache:
    """Small relations derived from a snapshot, kept per snapshot file (a snapshot never
    changes; each sync publishes a new file, and the current and the previous one are kept):
    the statements with an assign, proficient or fail role (``lrs_role_rows``), the scored
    statements (``lrs_scored``), the context activities after the first of their list
    (``lrs_later``) and the activity hierarchy (``lrs_hierarchy``). Each is a few percent of
    the rows at most, but those rows are scattered over the tables, so selecting them
    decompresses whole columns: the first request on a snapshot pays for that, not every
    request. A relation too large to keep (a data set unlike any LRS's) is recomputed per
    request; the results are the same either way."""

    KEEP: Final = 2
    MAX_ROWS: Final = 2_000_000
    SQL: Final = {
        "lrs_role_rows": ROLE_ROWS,
        "lrs_scored": SCORED_ROWS,
        "lrs_later": LATER_CONTEXT,
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def table(self, con: duckdb.DuckDBPyConnection, name: str) -> Any:
        """The relation ``name`` as an Arrow table."""
        path = _database_path(con)
        if path is not None:
            with self._lock:
                found = self._tables.get(path, {}).get(name)
                if found is not None:
                    self._tables.move_to_end(path)
                    return found
        if name == "lrs_hierarchy":
            later = self.table(con, "lrs_later")
            cursor = con.cursor()
            try:
                cursor.register("lrs_later", later)
                result = cursor.sql(HIERARCHY).to_arrow_table()
            finally:
                cursor.close()
        else:
            result = con.sql(self.SQL[name]).to_arrow_table()
        if path is not None and result.num_rows <= self.MAX_ROWS:
            with self._lock:
                self._tables.setdefault(path, {})[name] = result
                self._tables.move_to_end(path)
                while len(self._tables) > self.KEEP:
                    self._tables.popitem(last=False)
        return result


SNAPSHOT_CACHE: Final = SnapshotCache()


@dataclass
class _Sql:
    """Builds the family queries of one request: filters, group dimensions, parameters."""

    query: MeasuresQuery
    horizon: datetime
    roles: Mapping[str, Sequence[str]]
    per_bucket: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.query.filters
        self.params = {
            "start": f.start or FAR_PAST,
            "end": f.end or FAR_FUTURE,
            "horizon": self.horizon,
            "threshold": self.query.options.mastery_threshold,
            "acts": list(f.activities),
            "types": list(f.activity_types),
            "verbs": list(f.verbs),
            "teams": list(f.teams),
            "learners": list(f.learners),
            "due_ext": self.query.options.due_date_extension,
        }

    # -- filters -------------------------------------------------------------------------

    def learner_filter(self, column: str) -> str:
        f = self.query.filters
        parts = []
        if f.learners:
            parts.append(f"{column} IN (SELECT unnest($learners))")
        if f.teams:
            parts.append(
                f"{column} IN (SELECT learner_key FROM roster "
                "WHERE team IN (SELECT unnest($teams)))"
            )
        return "".join(f" AND {p}" for p in parts)

    def unit_filter(self, learner: str, activity: str) -> str:
        """Filters of a learner-activity unit: its learner, its activity (or scope)."""
        f = self.query.filters
        parts = []
        if f.activities:
            if f.activity_scope == "object":
                parts.append(f"{activity} IN (SELECT unnest($acts))")
            else:
                parts.append(f"{activity} IN (SELECT activity FROM scope_set)")
        if f.activity_types:
            parts.append(
                f"{activity} IN (SELECT activity_id FROM activity "
                "WHERE activity_type IN (SELECT unnest($types)))"
            )
        return "".join(f" AND {p}" for p in parts) + self.learner_filter(learner)

    def statement_filter(self) -> str:
        """Filters of a statement ``s``: scope (object, parent, grouping), type, verb, learner."""
        f = self.query.filters
        parts = []
        if f.activities:
            acts = "(SELECT unnest($acts))"
            if f.activity_scope == "object":
                parts.append(f"s.object_id IN {acts}")
            else:
                parts.append(
                    f"(s.object_id IN {acts} OR s.parent_id IN {acts} OR s.grouping_id IN {acts}"
                    " OR s.statement_id IN (SELECT statement_id FROM lrs_later c"
                    f" WHERE c.activity_id IN {acts}))"
                )
        if f.activity_types:
            parts.append(
                "s.object_id IN (SELECT activity_id FROM activity "
                "WHERE activity_type IN (SELECT unnest($types)))"
            )
        if f.verbs:
            parts.append("s.verb_id IN (SELECT unnest($verbs))")
        return "".join(f" AND {p}" for p in parts) + self.learner_filter("s.actor_key")

    def verb_set(self, *roles: str, without: Sequence[str] = ()) -> set[str]:
        """The verbs of ``roles`` minus those of ``without``."""
        chosen = {v for role in roles for v in self.roles.get(role, ())}
        return chosen - {v for role in without for v in self.roles.get(role, ())}

    def verb_flags(self) -> str:
        """The learning and session-end verbs as a constant relation ``(verb_id, learning,
        session_end)``: a hash join with it costs less than testing a list on every row."""
        learning = self.verb_set(*LEARNING_ROLES)
        session = self.verb_set("session_end")
        rows = [
            f"({_literal(v)}, {str(v in learning).lower()}, {str(v in session).lower()})"
            for v in sorted(learning | session)
        ]
        if not rows:
            return "SELECT NULL::VARCHAR AS verb_id, false AS learning, false AS session_end"
        return f"SELECT * FROM (VALUES {', '.join(rows)}) v(verb_id, learning, session_end)"

    def verbs(self, *roles: str, without: Sequence[str] = ()) -> str:
        """The verbs of ``roles`` (minus those of ``without``) as an SQL list of literals."""
        chosen = self.verb_set(*roles, without=without)
        if not chosen:
            return "(NULL)"
        return "(" + ", ".join(_literal(v) for v in sorted(chosen)) + ")"

    def ctes(self, *extra: str) -> str:
        parts: list[str] = []
        f = self.query.filters
        if f.activities and f.activity_scope == "scope":
            parts.append(
                """scope_set AS (
                SELECT unnest($acts) AS activity
                UNION SELECT activity FROM lrs_hierarchy
                WHERE ancestor IN (SELECT unnest($acts)))"""
            )
        parts.extend(extra)
        return "WITH " + ",\n".join(parts) if parts else ""

    # -- grouping ------------------------------------------------------------------------

    @property
    def needs_roster(self) -> bool:
        return any(g in ("team", "cohort") for g in self.query.group_by)

    def dims(self) -> list[str]:
        """SELECT expressions of the group dimensions over facts ``f`` and roster ``ro``."""
        out = []
        for group in self.query.group_by:
            if group in TIME_BUCKETS:
                out.append(f"date_trunc('{group}', make_timestamp(epoch_us(f.t)))::DATE AS {group}")
            elif group == "activity":
                out.append("f.activity AS activity")
            elif group == "verb":
                out.append("f.verb AS verb")
            elif group == "team":
                out.append("ro.team AS team")
            else:
                out.append(f"{_cohort_sql(self.query.options.cohort)} AS cohort")
        return out

    def aggregate(self, facts: str, aggregates: Sequence[str], ctes: str) -> str:
        dims = self.dims()
        roster = "LEFT JOIN roster ro ON ro.learner_key = f.learner" if self.needs_roster else ""
        group = f"GROUP BY {', '.join(self.query.group_by)}" if dims else ""
        select = ", ".join([*dims, *aggregates])
        return f"{ctes}\nSELECT {select} FROM ({facts}) f {roster} {group}"

    def cutoff(self, anchor: str) -> str:
        """Until when a unit anchored at ``anchor`` may succeed: the window's end, or with
        ``per_bucket`` also the end of the anchor's time bucket (each bucket then rests on
        its own data alone, as if queried with from/to set to the bucket)."""
        bucket = next((g for g in self.query.group_by if g in TIME_BUCKETS), None)
        if not self.per_bucket or bucket is None:
            return "$end"
        step = {"day": "1 DAY", "week": "7 DAY", "month": "1 MONTH", "quarter": "3 MONTH"}
        bucket_end = (
            f"(date_trunc('{bucket}', make_timestamp(epoch_us({anchor}))) "
            f"+ INTERVAL {step[bucket]})::TIMESTAMPTZ"
        )
        return f"least($end, {bucket_end})"

    # -- families ------------------------------------------------------------------------

    def statement_family(self) -> str:
        """Statements, active learners and session time per cell, in two steps: first per
        learner and statement-level dimensions (time bucket, activity, verb), then per cell
        (the roster joined to the few per-learner rows, not to every statement); counting
        the per-learner rows that have a learning statement gives the distinct learners."""
        inner: list[str] = []
        outer: list[str] = []
        for group in self.query.group_by:
            if group in TIME_BUCKETS:
                inner.append(
                    f"date_trunc('{group}', make_timestamp(epoch_us(s.event_time)))::DATE "
                    f"AS {group}"
                )
                outer.append(f"f.{group} AS {group}")
            elif group == "activity":
                inner.append(
                    "CASE WHEN s.object_type = 'Activity' THEN s.object_id END AS activity"
                )
                outer.append("f.activity AS activity")
            elif group == "verb":
                inner.append("s.verb_id AS verb")
                outer.append("f.verb AS verb")
            elif group == "team":
                outer.append("ro.team AS team")
            else:
                outer.append(f"{_cohort_sql(self.query.options.cohort)} AS cohort")
        inner_names = [expr.rsplit(" AS ", 1)[1] for expr in inner]
        per_learner = f"""
        SELECT {", ".join([*inner, "s.actor_key AS learner"])},
            count(*) AS n,
            bool_or(s.actor_type = 'Agent' AND s.actor_key IS NOT NULL
                AND (coalesce(r.learning, false) OR coalesce(s.completion, false))) AS learning,
            sum(CASE WHEN s.actor_type = 'Agent' AND r.session_end
                THEN s.duration_seconds END) AS session_seconds
        FROM statement s LEFT JOIN ({self.verb_flags()}) r ON r.verb_id = s.verb_id
        WHERE s.event_time >= $start AND s.event_time < $end {self.statement_filter()}
        GROUP BY {", ".join([*inner_names, "s.actor_key"])}"""
        roster = "LEFT JOIN roster ro ON ro.learner_key = f.learner" if self.needs_roster else ""
        group = f"GROUP BY {', '.join(self.query.group_by)}" if outer else ""
        select = ", ".join(
            [
                *outer,
                "coalesce(sum(f.n), 0) AS statements",
                "count(*) FILTER (WHERE f.learning) AS active_learners",
                "sum(f.session_seconds) AS session_seconds",
            ]
        )
        return f"{self.ctes()}\nSELECT {select} FROM ({per_learner}) f {roster} {group}"

    def _assignments(self, *, due_dates: bool = False) -> str:
        due = DUE_NAMED if self.query.options.due_date_extension else DUE_ANY
        return ASSIGNMENTS.format(
            due=due if due_dates else "NULL",
            assign_rows=by_verb(self.verb_set("assign"), "s.event_time < $end"),
            unit_filter=self.unit_filter("learner", "activity"),
        )

    def assigned_family(self) -> str:
        ctes = self.ctes(self._assignments(), COMPLETIONS.format(name="comp", units="assigned"))
        facts = f"""
        SELECT u.learner, u.activity, u.t, coalesce(c.done < {self.cutoff("u.t")}, false) AS ok
        FROM assigned u LEFT JOIN comp c ON c.learner = u.learner AND c.activity = u.activity
        WHERE u.t >= $start"""
        return self.aggregate(facts, _RATE_AGGREGATES, ctes)

    def started_family(self) -> str:
        # One pass over learner_activity: a unit's start is the first engagement with the
        # activity or an activity under it; its completion, a completion of the activity
        # itself (the rows of the activity carry both).
        starts = f"""starts AS (
            SELECT learner, activity, min(t) AS t, min(done) AS done FROM (
                SELECT learner_key AS learner, activity_id AS activity,
                    CASE WHEN first_engaged_time < $end THEN first_engaged_time END AS t,
                    completed_time AS done
                FROM learner_activity
                WHERE first_engaged_time < $end OR completed_time IS NOT NULL
                UNION ALL
                SELECT la.learner_key, h.ancestor, la.first_engaged_time, NULL
                FROM learner_activity la JOIN lrs_hierarchy h
                    ON h.activity = la.activity_id
                WHERE la.first_engaged_time < $end
            ) x
            WHERE true {self.unit_filter("learner", "activity")}
            GROUP BY learner, activity
        )"""
        facts = f"""
        SELECT u.learner, u.activity, u.t, coalesce(u.done < {self.cutoff("u.t")}, false) AS ok
        FROM starts u
        WHERE u.t >= $start"""
        return self.aggregate(facts, _RATE_AGGREGATES, self.ctes(starts))

    def attempts_family(self) -> str:
        proficient = self.verb_set("proficient", without=("complete",))
        rows = by_verb(
            self.verb_set("fail") | proficient,
            "s.actor_type = 'Agent' AND s.object_type = 'Activity' AND s.actor_key IS NOT NULL"
            " AND s.event_time < $end",
        )
        listed = (
            "(" + ", ".join(_literal(v) for v in sorted(proficient)) + ")"
            if proficient
            else "(NULL)"
        )
        attempts = f"""attempts AS (
            SELECT s.actor_key AS learner, s.object_id AS activity, s.event_time AS t,
                s.statement_id,
                s.verb_id IN {listed} AND {PASSES} AS pass
            FROM ({rows}) s
            WHERE true {self.unit_filter("s.actor_key", "s.object_id")}
        ),
        attempts_first AS (
            SELECT *, min(t) OVER (PARTITION BY learner, activity) AS first_t FROM attempts
        ),
        attempted AS (
            SELECT learner, activity, min(t) AS t,
                arg_min(pass, {{'t': t, 'id': statement_id}}) AS first_pass,
                bool_or(pass AND t < {self.cutoff("first_t")}) AS any_pass
            FROM attempts_first GROUP BY learner, activity
        )"""
        facts = "SELECT * FROM attempted u WHERE u.t >= $start"
        return self.aggregate(
            facts,
            [
                "count(*) AS n",
                "count(*) FILTER (WHERE f.first_pass) AS first_ok",
                "count(*) FILTER (WHERE f.any_pass) AS any_ok",
                "count(DISTINCT f.learner) AS people",
            ],
            self.ctes(attempts),
        )

    def scores_family(self) -> str:
        best = f"""scored AS (
            SELECT s.actor_key AS learner, s.object_id AS activity, s.registration,
                s.event_time AS t, s.score_scaled,
                min(s.event_time) OVER (
                    PARTITION BY s.actor_key, s.object_id, s.registration) AS first_t
            FROM lrs_scored s
            WHERE s.event_time < $end {self.unit_filter("s.actor_key", "s.object_id")}
        ),
        best AS (
            SELECT learner, activity, min(t) AS t,
                max(score_scaled) FILTER (WHERE t < {self.cutoff("first_t")}) AS best
            FROM scored
            GROUP BY learner, activity, registration
        )"""
        # Two levels: per learner (and cell) the mean of their registrations' bests, then the
        # mean over learners.
        dims = self.dims()
        roster = "LEFT JOIN roster ro ON ro.learner_key = f.learner" if self.needs_roster else ""
        groups = list(self.query.group_by)
        inner_select = ", ".join([*dims, "f.learner AS learner", "avg(f.best) AS score"])
        inner_group = ", ".join([*groups, "f.learner"])
        outer_select = ", ".join([*groups, "avg(score) AS score", "count(*) AS n"])
        outer_group = f"GROUP BY {', '.join(groups)}" if groups else ""
        return f"""{self.ctes(best)}
        SELECT {outer_select} FROM (
            SELECT {inner_select}
            FROM (SELECT * FROM best WHERE t >= $start) f {roster}
            GROUP BY {inner_group}
        ) per_learner {outer_group}"""

    def compliance_family(self) -> str:
        ctes = self.ctes(
            self._assignments(due_dates=True),
            "due_units AS (SELECT * FROM assigned WHERE due IS NOT NULL)",
            COMPLETIONS.format(name="comp", units="due_units"),
        )
        facts = """
        SELECT u.learner, u.activity, u.due AS t, coalesce(c.done <= u.due, false) AS ok
        FROM due_units u
        LEFT JOIN comp c ON c.learner = u.learner AND c.activity = u.activity
        LEFT JOIN roster lv ON lv.learner_key = u.learner
        WHERE u.due >= $start AND u.due < $end AND u.due <= $horizon
          AND (lv.leave_date IS NULL OR lv.leave_date::TIMESTAMPTZ >= u.due)"""
        return self.aggregate(facts, _RATE_AGGREGATES, ctes)

    def certification_family(self) -> str:
        cert = """cert AS (
            SELECT u.learner, u.activity, u.t AS assigned_at, min(p.t) AS t
            FROM assigned u JOIN prof_scope p
                ON p.learner = u.learner AND p.activity = u.activity AND p.t >= u.t
            GROUP BY u.learner, u.activity, u.t
        )"""
        prof = PROFICIENT.format(
            proficient_rows=by_verb(self.verb_set("proficient"), PROFICIENT_WHERE)
        )
        ctes = self.ctes(self._assignments(), prof, PROFICIENT_SCOPE, cert)
        facts = """
        SELECT learner, activity, t,
            (epoch_us(t) - epoch_us(assigned_at)) / 86400000000.0 AS days
        FROM cert WHERE t >= $start"""
        return self.aggregate(
            facts,
            [
                "count(*) AS n",
                "quantile_cont(f.days, 0.5) AS median_days",
                "count(DISTINCT f.learner) AS people",
            ],
            ctes,
        )

    def acquisition_family(self) -> str:
        first = f"""first_prof AS (
            SELECT learner, object_id AS activity, min(t) AS t FROM prof
            WHERE object_type = 'Activity' {self.unit_filter("learner", "object_id")}
            GROUP BY learner, object_id
        )"""
        prof = PROFICIENT.format(
            proficient_rows=by_verb(self.verb_set("proficient"), PROFICIENT_WHERE)
        )
        ctes = self.ctes(prof, first)
        facts = "SELECT * FROM first_prof WHERE t >= $start"
        return self.aggregate(facts, ["count(*) AS events"], ctes)


_RATE_AGGREGATES: Final = (
    "count(*) AS n",
    "count(*) FILTER (WHERE f.ok) AS ok",
    "count(DISTINCT f.learner) AS people",
)


def _cohort_sql(cohort: str) -> str:
    if cohort == "hire_month":
        return "strftime(ro.hire_date, '%Y-%m')"
    if cohort == "hire_quarter":
        return (
            "CAST(year(ro.hire_date) AS VARCHAR) || '-Q' || CAST(quarter(ro.hire_date) AS VARCHAR)"
        )
    if cohort == "hire_year":
        return "CAST(year(ro.hire_date) AS VARCHAR)"
    return f"ro.{cohort}"


_PARAM = re.compile(r"\$([a-z_]+)")


def _run(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    used = {name: params[name] for name in dict.fromkeys(_PARAM.findall(sql))}
    cursor = con.execute(sql, used)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class MeasureTable:
    """The tidy result: ``columns``, ``rows`` (one object per row) and how many measure
    cells were suppressed (fewer than ``SUPPRESS_BELOW`` people)."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    suppressed: int
    horizon: datetime
    data_start: datetime | None


def columns_of(query: MeasuresQuery) -> tuple[str, ...]:
    cols: list[str] = list(query.group_by)
    for name in query.measures:
        cols.append(name)
        if MEASURES[name].n is not None:
            cols.append(f"{name}_n")
    return tuple(cols)


def evaluate(
    con: duckdb.DuckDBPyConnection,
    query: MeasuresQuery,
    *,
    as_of: datetime | None = None,
    suppress: bool = True,
    per_bucket: bool = False,
) -> MeasureTable:
    """Compute ``query`` on the snapshot (ANALYTICS.md section 5).

    ``as_of``: the snapshot's as-of (read from it when None); assignments come due and the
    skill-acquisition months end no later than ``min(to, as_of)``. ``suppress``: null the
    values of cells with fewer than :data:`SUPPRESS_BELOW` people (section 4 guardrail).
    ``per_bucket``: a completion or pass counts only before the end of the unit's time bucket
    too, so that every bucket equals the query with from/to set to that bucket (the KPI
    trends: a past period's value stays fixed).
    """
    if as_of is None:
        as_of = warehouse_info(con).as_of or datetime.now(UTC)
    filters = query.filters
    horizon = min(filters.end, as_of) if filters.end is not None else as_of
    families = {MEASURES[m].family for m in query.measures}
    if "acquisition" in families:
        families.add("statement")
    scope = bool(filters.activities) and filters.activity_scope == "scope"
    sql = _Sql(query, horizon, verb_roles(con), per_bucket=per_bucket)
    # The snapshot's derived relations the family queries read (registered on each cursor).
    relations: dict[str, Any] = {}
    if families & {"assigned", "attempts", "compliance", "certification", "acquisition"}:
        relations["lrs_role_rows"] = SNAPSHOT_CACHE.table(con, "lrs_role_rows")
    if "scores" in families:
        relations["lrs_scored"] = SNAPSHOT_CACHE.table(con, "lrs_scored")
    if "certification" in families or scope:
        relations["lrs_later"] = SNAPSHOT_CACHE.table(con, "lrs_later")
    if "started" in families or scope:
        relations["lrs_hierarchy"] = SNAPSHOT_CACHE.table(con, "lrs_hierarchy")
    ordered = sorted(families)
    # The families are independent queries: each runs on its own cursor (a connection to the
    # same snapshot), side by side, so one request uses the cores DuckDB leaves idle in the
    # single-threaded phases of each query.
    if len(ordered) == 1:
        results = {ordered[0]: _run_family(con, sql, ordered[0], relations)}
    else:
        found = _POOL.map(lambda family: _run_family(con, sql, family, relations), ordered)
        results = dict(zip(ordered, found, strict=True))
    data_start = None
    if "acquisition" in families:
        data_start = con.execute("SELECT min(event_time) FROM statement").fetchall()[0][0]
    return _assemble(query, results, horizon, data_start, suppress)


_POOL: Final = ThreadPoolExecutor(max_workers=4, thread_name_prefix="measures")


def _run_family(
    con: duckdb.DuckDBPyConnection, sql: _Sql, family: str, relations: Mapping[str, Any]
) -> list[dict[str, Any]]:
    cursor = con.cursor()
    try:
        cursor.execute("SET TimeZone = 'UTC'")
        for name, table in relations.items():
            cursor.register(name, table)
        return _run(cursor, getattr(sql, f"{family}_family")(), sql.params)
    finally:
        cursor.close()


def _key_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _assemble(
    query: MeasuresQuery,
    results: Mapping[str, list[dict[str, Any]]],
    horizon: datetime,
    data_start: datetime | None,
    suppress: bool,
) -> MeasureTable:
    groups = query.group_by
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for family, rows in results.items():
        for found_row in rows:
            key = tuple(found_row[g] for g in groups)
            cells.setdefault(key, {})[family] = found_row
    # An ungrouped query has one row even when nothing matches.
    if not groups and not cells:
        cells[()] = {}
    bucket = next((g for g in groups if g in TIME_BUCKETS), None)
    out: list[dict[str, Any]] = []
    suppressed = 0
    for key in sorted(cells, key=_sort_key):
        found = cells[key]
        row: dict[str, Any] = {g: _key_value(v) for g, v in zip(groups, key, strict=True)}
        stmt = found.get("statement", {})
        active = int(stmt.get("active_learners") or 0)
        for name in query.measures:
            value, n, people = _measure_value(
                name, found, stmt, active, key, groups, bucket, query, horizon, data_start
            )
            hidden = suppress and name in PEOPLE_MEASURES and people < SUPPRESS_BELOW
            if hidden and value is not None:
                value = None
                suppressed += 1
            row[name] = value
            if MEASURES[name].n is not None:
                row[f"{name}_n"] = n
        out.append(row)
    return MeasureTable(columns_of(query), tuple(out), suppressed, horizon, data_start)


def _measure_value(
    name: str,
    found: Mapping[str, Mapping[str, Any]],
    stmt: Mapping[str, Any],
    active: int,
    key: tuple[Any, ...],
    groups: Sequence[str],
    bucket: str | None,
    query: MeasuresQuery,
    horizon: datetime,
    data_start: datetime | None,
) -> tuple[Any, int, int]:
    """``(value, n, people)`` of one measure in one cell."""
    if name == "statements":
        return int(stmt.get("statements") or 0), 0, 0
    if name == "active_learners":
        return active, 0, 0
    if name == "learning_hours_per_learner":
        seconds = stmt.get("session_seconds")
        if not active:
            return None, 0, 0
        return stable(float(seconds or 0.0) / 3600.0 / active), active, active
    family = MEASURES[name].family
    row = found.get(family)
    if family in ("assigned", "started", "compliance"):
        if not row or not row["n"]:
            return None, 0, 0
        return finite(row["ok"] / row["n"]), int(row["n"]), int(row["people"])
    if family == "attempts":
        if not row or not row["n"]:
            return None, 0, 0
        ok = row["first_ok"] if name == "first_attempt_pass_rate" else row["any_ok"]
        return finite(ok / row["n"]), int(row["n"]), int(row["people"])
    if family == "scores":
        if not row or not row["n"]:
            return None, 0, 0
        return stable(row["score"]), int(row["n"]), int(row["n"])
    if family == "certification":
        if not row or not row["n"]:
            return None, 0, 0
        return finite(row["median_days"]), int(row["n"]), int(row["people"])
    # skill_acquisition_rate
    events = int(row["events"]) if row else 0
    if not active:
        return None, 0, 0
    start = query.filters.start or data_start or horizon
    end = horizon
    if bucket is not None:
        index = list(groups).index(bucket)
        first = key[index]
        if isinstance(first, date):
            b_start = datetime(first.year, first.month, first.day, tzinfo=UTC)
            start = max(start, b_start)
            end = min(end, bucket_end(bucket, b_start))
    if data_start is not None:
        start = max(start, data_start)
    months = months_between(start, end)
    if months <= 0:
        return None, active, active
    return finite(events / active / months), active, active


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, "" if v is None else v) for v in key)


def bucket_end(bucket: str, start: datetime) -> datetime:
    """The exclusive end of the time bucket that starts at ``start``."""
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    months = 1 if bucket == "month" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1, day=1)


def bucket_start(bucket: str, instant: datetime) -> datetime:
    """The start of the UTC time bucket (day, ISO week, month, quarter) holding ``instant``."""
    moment = instant.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def months_between(start: datetime, end: datetime) -> float:
    """Calendar months covered by ``[start, end)``: each month counts its covered share."""
    if end <= start:
        return 0.0
    total = 0.0
    cursor = start
    while cursor < end:
        first = cursor.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        nxt = bucket_end("month", first)
        days = calendar.monthrange(first.year, first.month)[1]
        stop = min(end, nxt)
        total += (stop - cursor).total_seconds() / (days * 86400.0)
        cursor = stop
    return total


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------- the response


def definitions(query: MeasuresQuery, table: MeasureTable) -> dict[str, Any]:
    """What the numbers mean (the response's ``definitions``)."""
    used: dict[str, Any] = {
        "measures": {name: MEASURES[name].definition for name in query.measures},
        "time": "Event time (timestamp, else stored), UTC. Buckets: UTC day, ISO week (from "
        "Monday), month, quarter, labelled by their first day (YYYY-MM-DD). filters.from is "
        "inclusive, filters.to exclusive; a date means its midnight UTC. Learner-activity "
        "measures place each unit by its anchor event and see nothing after filters.to.",
        "window": {
            "from": _iso(query.filters.start) if query.filters.start else None,
            "to": _iso(query.filters.end) if query.filters.end else None,
            "horizon": _iso(table.horizon),
        },
        "activity_filter": "scope (default): a statement matches when the activity is its "
        "object, context parent or grouping; a learner-activity matches when its activity is "
        "the filter activity or the object of statements that list it as parent or grouping. "
        "object: the listed activities only.",
        "team": "The roster team of the learner (learner key); learners not on the roster "
        "have team null and never match a team filter.",
        "cohort": query.options.cohort,
        "cohort_values": "a roster column (team, role, region, manager), or the roster hire "
        "date's month (YYYY-MM), quarter (YYYY-Qn) or year",
        "mastery_threshold": query.options.mastery_threshold,
        "due_date_extension": query.options.due_date_extension
        or "any context extension whose IRI ends in due-date, due_date or duedate",
        "suppress_below": SUPPRESS_BELOW,
        "suppression": "Values of rates, averages and per-learner measures resting on fewer "
        f"than {SUPPRESS_BELOW} people are null (n stays); counts are never suppressed.",
    }
    return used


def compute(con: duckdb.DuckDBPyConnection, params: MeasuresParams) -> dict[str, Any]:
    """``POST /analytics/measures`` (ANALYTICS.md section 5): the tidy table and envelope."""
    table = evaluate(con, params.query)
    body = {
        "query": params.query.as_json(),
        "columns": list(table.columns),
        "rows": list(table.rows),
        "suppressed_cells": table.suppressed,
    }
    return envelope(con, definitions(params.query, table), body)


def with_window(
    query: MeasuresQuery, start: datetime | None, end: datetime | None
) -> MeasuresQuery:
    """``query`` with its time window replaced."""
    return replace(query, filters=replace(query.filters, start=start, end=end))
