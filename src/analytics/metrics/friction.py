"""Learning friction (ANALYTICS.md section 3): program friction per request, learner funnels.

**Program friction** (supply side). A request is a request-role statement about an activity
(the requested program), identified by its request-id context extension (default: any context
extension whose IRI ends in ``/request-id``); requests without one are identified by their
activity IRI, so id-less requests for the same activity are one request (its first
statement). Approve- and publish-role statements link to the request with the same request id,
or, without an id, to the latest request for the same activity at or before them. Per
request, each milestone is the first event at or after the request:

* requested; approved (first linked approve);
* deployed: the first of published (linked publish), the first assignment of a learner, and
  the first launch by any learner in the activity's scope (``deployed_by`` says which);
* first learner: the first launch (engage-role statement) by any learner in scope;
* 80 % completed: when the number of learners assigned under the request who completed the
  activity (complete role, ``result.completion`` true or a pass, with the activity as object)
  reaches ``ceil(0.8 x assigned)``; not applicable without assigned learners.

A learner statement belongs to the latest request for its activity at or before it (a
request's learners are those assigned between it and the next request for the activity; of
requests made at the same time, the one with the smallest key).

Stage durations in days: approval (requested -> approved), deployment (approved -> deployed),
first learner (deployed -> first learner), completion (first learner -> 80 % completed),
request to deployment, and end to end (requested -> 80 % completed). A stage whose start is
reached but not its end is **open**: right-censored at the cut-off; a stage skipped (a later
milestone reached without it, e.g. no approval recorded) is left out of that stage. The
summary is Kaplan-Meier per stage (:mod:`analytics.metrics.survival`): median and p90 days
counting open requests as censored.

**Learner friction** per activity: the funnel assigned -> launched -> completed -> passed.
Assigned: an assign-role statement in the activity's scope (an activity listed under a
program inherits the program's assignment and its due date when it has none of its own).
Launched: the first engage-role statement in scope. Completed: the first complete-role
statement, ``result.completion`` true or pass with the activity as object. Passed: the first
proficient-role statement about the activity that meets the scored-pass rule. A later step
implies the earlier ones (a completion with no recorded launch counts as the launch). Each
step counts assigned learners who reached it; conversion rates are step / previous step and
step / assigned; lead times are the days between steps (median and p90 over the learners who
made the step, interpolated quantiles). Stalled: assigned at least ``stalled_days`` before
the cut-off and not launched. Overdue: assigned with a due date (the due-date context extension
of the learner's latest assignment carrying one; default: any extension whose IRI ends in
``/due-date``; a date without a time means the end of that day, UTC) that passed without a
completion by then (``overdue_open`` still not completed, ``completed_late`` completed after
it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import duckdb

from analytics.metrics import scope_facts, survival
from analytics.metrics.common import SUPPRESS_BELOW, envelope, finite, iso, literal
from analytics.metrics.proficiency import Roles, cutoff_of, passed_sql, scoped_sql
from analytics.warehouse.flatten import due_sql, extension_sql
from analytics.warehouse.schema import DUE_DATE_SUFFIX as DUE_DATE_SUFFIX
from analytics.warehouse.schema import REQUEST_ID_SUFFIX as REQUEST_ID_SUFFIX

View = Literal["all", "requests", "funnel"]
VIEWS: Final[tuple[str, ...]] = ("all", "requests", "funnel")
COMPLETION_SHARE: Final = 0.8
DEFAULT_STALLED_DAYS: Final = 14
DEFAULT_THRESHOLD: Final = 0.8

STAGES: Final[tuple[tuple[str, str, str], ...]] = (
    ("approval", "requested", "approved"),
    ("deployment", "approved", "deployed"),
    ("first_learner", "deployed", "first_learner"),
    ("completion", "first_learner", "completed_80"),
    ("request_to_deployment", "requested", "deployed"),
    ("end_to_end", "requested", "completed_80"),
)
MILESTONES: Final[tuple[str, ...]] = (
    "requested",
    "approved",
    "deployed",
    "first_learner",
    "completed_80",
)


@dataclass(frozen=True)
class FrictionParams:
    """The request (ANALYTICS.md section 3). ``program`` and ``activity`` are optional: with
    neither, every request is listed and there is no funnel."""

    program: str | None = None
    activity: str | None = None
    view: View = "all"
    request_extension: str | None = None
    due_date_extension: str | None = None
    stalled_days: int = DEFAULT_STALLED_DAYS
    threshold: float = DEFAULT_THRESHOLD
    as_of: datetime | None = None


def _due(params: FrictionParams) -> str:
    """An assignment's due date: the flattened ``due_at`` for the default extension, else
    the caller's extension read from the statement's extensions text."""
    if params.due_date_extension is None:
        return "s.due_at"
    raw = extension_sql("s.context_extensions", params.due_date_extension, DUE_DATE_SUFFIX)
    return f"(SELECT {due_sql('d')} FROM (SELECT {raw} AS d))"


def _request_id(params: FrictionParams) -> str:
    if params.request_extension is None:
        return "s.request_id"
    return extension_sql("s.context_extensions", params.request_extension, REQUEST_ID_SUFFIX)


# ------------------------------------------------------------------------- learner events


def _extra(params: FrictionParams, roles: Roles) -> str:
    """What the learner statements add to :meth:`Roles.columns`: the due date of
    assignments."""
    return f", CASE WHEN {roles.test('assign')} THEN {_due(params)} END AS due"


def _request_of(requests: Sequence[Mapping[str, Any]]) -> str:
    """SQL for the request a learner statement ``r`` belongs to: the latest request for its
    target activity at or before it (request times bound as ``$requested<i>``); a CASE over
    the few requests is far cheaper than an ASOF join over every statement."""
    if not requests:
        return "NULL::VARCHAR"
    order = sorted(range(len(requests)), key=lambda i: requests[i]["requested"], reverse=True)
    branches = "\n        ".join(
        f"WHEN r.activity = {literal(requests[i]['activity'])} AND r.t >= $requested{i} "
        f"THEN {literal(requests[i]['key'])}"
        for i in order
    )
    return f"CASE\n        {branches}\n    END"


def _learner_events_sql(
    targets: Sequence[str],
    roles: Roles,
    extra: str,
    requests: Sequence[Mapping[str, Any]],
    *,
    detail: bool,
) -> str:
    """Learner statements in the scope of ``targets`` (:func:`scoped_sql`), aggregated per
    target ``activity``, learner and request (``req_key``: the latest request for the
    activity at or before the statement, null before any): first assignment, first launch
    (engage role), first completion of the activity itself (``completed_here``). With
    ``detail`` (for the funnels), also per statement object, first parent and grouping: the
    due date of the latest assignment carrying one (and its time), first completion
    (``done``: complete role, ``result.completion`` or a pass, about the object) and first
    pass."""
    passed = passed_sql("r", "$threshold")
    scoped = scoped_sql(targets, roles, "s.event_time <= $as_of", extra)
    keys = "activity, learner, req_key"
    more = ""
    if detail:
        keys += ", object_id, parent_id, grouping_id"
        more = """,
    any_value(object_type) AS object_type,
    max(t) FILTER (WHERE is_assign AND due IS NOT NULL) AS due_at,
    arg_max(due, t) FILTER (WHERE is_assign AND due IS NOT NULL) AS due,
    min(t) FILTER (WHERE is_done) AS done,
    min(t) FILTER (WHERE is_pass) AS passed"""
    return f"""
WITH
ev AS (
    SELECT r.*, {_request_of(requests)} AS req_key, {passed} AS is_pass,
        r.is_complete OR coalesce(r.completion, false) OR {passed} AS is_done
    FROM ({scoped}) r
    WHERE r.learner IS NOT NULL
)
SELECT {keys},
    min(t) FILTER (WHERE is_assign) AS assigned,
    min(t) FILTER (WHERE is_engage) AS launched,
    min(t) FILTER (WHERE is_done AND object_id = activity) AS completed_here{more}
FROM ev
GROUP BY {keys}
"""


# ------------------------------------------------------------------------------- requests


def _requests_query(params: FrictionParams, roles: Roles) -> str:
    """Requests with their first approval and publication (one scan per verb: these
    statements are few, and a scan for one verb reads their columns alone; the request id is
    the flattened ``request_id`` column unless the caller names the extension)."""
    scope = params.program or params.activity
    rid = _request_id(params)
    activity = "s.object_id" if scope is None else literal(scope)
    columns = f"""{activity} AS req_activity, s.event_time AS t,
        {roles.test("request")} AS is_request, {roles.test("approve")} AS is_approve,
        {roles.test("publish")} AS is_publish, {rid} AS request_id"""
    where = "s.event_time <= $as_of AND s.object_type = 'Activity'"
    verbs = sorted(
        {v for role in ("request", "approve", "publish") for v in roles.verbs.get(role, ())}
    )
    columns += ", s.seq, s.object_id, s.parent_id, s.grouping_id"
    scans = [
        f"SELECT {columns} FROM statement s WHERE s.verb_id = {literal(v)} AND {where}"
        for v in verbs
    ] or [f"SELECT {columns} FROM statement s WHERE false"]
    source = "\n    UNION ALL\n".join(scans)
    stage = "stage_all"
    if scope is not None:
        # Few statements have these roles: the scope is tested on them alone.
        target = literal(scope)
        in_scope = f"object_id = {target} OR parent_id = {target} OR grouping_id = {target}"
        in_scope += f""" OR seq IN (
                SELECT c.seq FROM statement_context_activity c
                WHERE c.activity_id = {target} AND c.usage IN ('parent', 'grouping')
                    AND c.position > 0)"""
        stage = f"(SELECT * FROM stage_all WHERE {in_scope})"
    return f"""
WITH
stage_all AS MATERIALIZED ({source}),
stage_ev AS (SELECT * FROM {stage}),
requests AS (
    SELECT coalesce(request_id, req_activity) AS key, any_value(request_id) AS request_id,
        arg_min(req_activity, t) AS activity, min(t) AS requested
    FROM stage_ev WHERE is_request
    GROUP BY 1
),
linked AS (
    SELECT CASE WHEN e.request_id IS NOT NULL THEN e.request_id ELSE r.key END AS key,
        e.is_approve, e.is_publish, e.t
    FROM (SELECT * FROM stage_ev WHERE is_approve OR is_publish) e
    ASOF LEFT JOIN requests r ON e.req_activity = r.activity AND e.t >= r.requested
),
stages AS (
    SELECT r.key,
        min(l.t) FILTER (WHERE l.is_approve) AS approved,
        min(l.t) FILTER (WHERE l.is_publish) AS published
    FROM requests r JOIN linked l ON l.key = r.key AND l.t >= r.requested
    GROUP BY r.key
)
SELECT r.key, r.request_id, r.activity, a.name, r.requested, st.approved, st.published
FROM requests r
LEFT JOIN stages st ON st.key = r.key
LEFT JOIN activity a ON a.activity_id = r.activity
ORDER BY r.requested, r.key
"""


# Per request, from learner events (:func:`_learner_events_sql`) in table ``events``.
REQUEST_LEARNERS: Final = """
WITH per_learner AS (
    SELECT req_key, learner,
        min(assigned) AS assigned,
        min(launched) AS launched,
        min(completed_here) AS completed
    FROM {events} WHERE req_key IS NOT NULL
    GROUP BY req_key, learner
)
SELECT req_key AS key,
    count(assigned) AS assigned,
    count(*) FILTER (WHERE assigned IS NOT NULL AND completed IS NOT NULL) AS completed,
    min(assigned) AS first_assignment,
    min(launched) AS first_launch,
    -- The completion that brings the assigned learners' completions to the share (its
    -- rank: ceil(share x assigned)); null while fewer have completed.
    list(completed ORDER BY completed)
        FILTER (WHERE assigned IS NOT NULL AND completed IS NOT NULL)
        [ceil({share} * count(assigned) - 1e-9)::BIGINT] AS completed_80
FROM per_learner
GROUP BY req_key
"""


def _days(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds() / 86400.0)


def _request_rows(
    found: Sequence[Mapping[str, Any]],
    learners: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Per request: milestones, stage durations, learner counts."""
    cutoff: datetime = values["as_of"]
    out: list[dict[str, Any]] = []
    for r in found:
        people = learners.get(r["key"], {})
        assigned = int(people.get("assigned") or 0)
        completed = int(people.get("completed") or 0)
        first_assignment = people.get("first_assignment")
        first_launch = people.get("first_launch")
        candidates = [
            (r["published"], "published"),
            (first_assignment, "assignment"),
            (first_launch, "launch"),
        ]
        reached = [c for c in candidates if c[0] is not None]
        deployed, deployed_by = min(reached, key=lambda c: c[0]) if reached else (None, None)
        completed_80 = people.get("completed_80") if assigned > 0 else None
        times = {
            "requested": r["requested"],
            "approved": r["approved"],
            "deployed": deployed,
            "first_learner": first_launch,
            "completed_80": completed_80,
        }
        stages: dict[str, dict[str, Any]] = {}
        for name, start, end in STAGES:
            stages[name] = _stage(times, name, start, end, assigned, cutoff)
        out.append(
            {
                "request_id": r["request_id"],
                "activity_id": r["activity"],
                "activity_name": r["name"],
                **{k: iso(v) for k, v in times.items()},
                "deployed_by": deployed_by,
                "published": iso(r["published"]),
                "first_assignment": iso(first_assignment),
                "assigned_learners": _cell(assigned),
                "completed_learners": _cell(completed),
                "open": completed_80 is None,
                "stages": {k: v["days"] for k, v in stages.items()},
                "stage_status": {k: v["status"] for k, v in stages.items()},
                "_stages": stages,
            }
        )
    return out


def _stage(
    times: Mapping[str, datetime | None],
    name: str,
    start: str,
    end: str,
    assigned: int,
    cutoff: datetime,
) -> dict[str, Any]:
    """One stage of one request: its duration in days, or open (censored at the cut-off), or
    not applicable (its start not reached, skipped, or no assigned learners for the 80 %
    milestone)."""
    begin, finish = times[start], times[end]
    if end == "completed_80" and assigned == 0:
        return {"days": None, "status": "not_applicable"}
    if begin is None:
        return {"days": None, "status": "not_started"}
    if finish is not None:
        return {"days": _days(finish, begin), "status": "done"}
    later = MILESTONES[MILESTONES.index(end) + 1 :]
    if any(times[m] is not None for m in later):
        return {"days": None, "status": "skipped"}
    return {"days": None, "status": "open", "open_days": _days(cutoff, begin)}


def _summary(
    con: duckdb.DuckDBPyConnection, requests: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Kaplan-Meier median and p90 per stage over the requests, open ones censored."""
    durations: list[tuple[int, float, bool]] = []
    for request in requests:
        for g, (name, _, _) in enumerate(STAGES):
            stage = request["_stages"][name]
            if stage["status"] == "done":
                durations.append((g, stage["days"], True))
            elif stage["status"] == "open":
                durations.append((g, stage["open_days"], False))
    estimates = survival.estimate_groups(con, durations)
    out = []
    for g, (name, start, end) in enumerate(STAGES):
        est = estimates.get(g)
        out.append(
            {
                "stage": name,
                "from": start,
                "to": end,
                "requests": 0 if est is None else est.n,
                "done": 0 if est is None else est.events,
                "open": 0 if est is None else est.censored,
                "median_days": None if est is None else finite(est.median),
                "p90_days": None if est is None else finite(est.p90),
            }
        )
    return out


# --------------------------------------------------------------------------------- funnel


def _funnel_query(params: FrictionParams, roles: Roles, events: str, inherit: str | None) -> str:
    """One row per activity: the funnel, lead times, stalled and overdue counts, from the
    learner events table ``events`` (:func:`_learner_events_sql`); ``inherit`` is the events
    table of the program whose assignments the activity inherits."""
    if params.activity is not None:
        target = literal(params.activity)
        targets = f"SELECT {target} AS activity"
        attributed = f"SELECT {target} AS target, e.* EXCLUDE (activity) FROM {events} e"
    else:
        assert params.program is not None
        target = literal(params.program)
        # Every statement in the program's scope counts for the program and for the
        # activities it is about: its object, first parent and first grouping activity.
        targets = f"""SELECT {target} AS activity
            UNION SELECT DISTINCT object_id FROM {events} WHERE object_type = 'Activity'"""
        attributed = f"""SELECT u.target, e.* EXCLUDE (activity)
            FROM {events} e,
                unnest(list_distinct([{target}, e.object_id, e.parent_id, e.grouping_id]))
                    AS u(target)
            SEMI JOIN targets t ON t.activity = u.target"""
    if inherit is not None:
        inherited = f"""SELECT learner, min(assigned) AS assigned,
                arg_max(due, due_at) FILTER (WHERE due IS NOT NULL) AS due
            FROM {inherit} WHERE assigned IS NOT NULL GROUP BY learner"""
    elif params.activity is None:
        inherited = f"SELECT learner, assigned, due FROM per WHERE activity = {target}"
    else:
        inherited = (
            "SELECT NULL::VARCHAR AS learner, NULL::TIMESTAMPTZ AS assigned, "
            "NULL::TIMESTAMPTZ AS due WHERE false"
        )
    day = 86400000000.0

    def days(a: str, b: str) -> str:
        return f"greatest(0.0, (epoch_us({a}) - epoch_us({b})) / {day})"

    reached = "assigned IS NOT NULL AND launched IS NOT NULL"
    return f"""
WITH
targets AS ({targets}),
fev AS ({attributed}),
per AS (
    SELECT target AS activity, learner,
        min(assigned) AS assigned,
        arg_max(due, due_at) FILTER (WHERE due IS NOT NULL) AS due,
        min(launched) AS launched,
        min(done) FILTER (WHERE object_id = target) AS completed,
        min(passed) FILTER (WHERE object_id = target) AS passed
    FROM fev
    GROUP BY target, learner
),
inherited AS (
    SELECT learner, assigned, due,
        assigned IS NOT NULL AS i_assigned,
        assigned IS NOT NULL AND assigned <= $as_of - to_days($stalled_days) AS i_stalled,
        assigned IS NOT NULL AND due IS NOT NULL AS i_with_due_date,
        assigned IS NOT NULL AND due < $as_of AS i_overdue_open
    FROM ({inherited})
),
-- Every inherited learner counts for every target: those without events about it (no row in
-- per) are assigned, not launched, so they count in assigned, stalled, with_due_date and
-- overdue_open alone: all inherited learners' counts, less those of the ones with a row.
inherited_total AS (
    SELECT count(*) FILTER (WHERE i_assigned) AS assigned,
        count(*) FILTER (WHERE i_stalled) AS stalled,
        count(*) FILTER (WHERE i_with_due_date) AS with_due_date,
        count(*) FILTER (WHERE i_overdue_open) AS overdue_open
    FROM inherited
),
people AS (
    SELECT x.activity, x.learner,
        coalesce(x.assigned, i.assigned) AS assigned,
        coalesce(x.due, i.due) AS due,
        least(x.launched, x.completed, x.passed) AS launched,
        least(x.completed, x.passed) AS completed,
        x.passed AS passed,
        coalesce(i.i_assigned, false) AS i_assigned,
        coalesce(i.i_stalled, false) AS i_stalled,
        coalesce(i.i_with_due_date, false) AS i_with_due_date,
        coalesce(i.i_overdue_open, false) AS i_overdue_open
    FROM per x
    LEFT JOIN inherited i ON i.learner = x.learner
),
counted AS (
    SELECT activity,
        count(assigned) AS assigned,
        count(*) FILTER (WHERE {reached}) AS launched,
        count(*) FILTER (WHERE {reached} AND completed IS NOT NULL) AS completed,
        count(*) FILTER (WHERE {reached} AND completed IS NOT NULL AND passed IS NOT NULL)
            AS passed,
        count(*) FILTER (WHERE assigned IS NULL AND launched IS NOT NULL) AS self_started,
        quantile_cont({days("launched", "assigned")}, [0.5, 0.9])
            FILTER (WHERE {reached}) AS assigned_to_launched,
        quantile_cont({days("completed", "launched")}, [0.5, 0.9])
            FILTER (WHERE {reached} AND completed IS NOT NULL) AS launched_to_completed,
        quantile_cont({days("passed", "completed")}, [0.5, 0.9])
            FILTER (WHERE {reached} AND completed IS NOT NULL AND passed IS NOT NULL)
            AS completed_to_passed,
        quantile_cont({days("completed", "assigned")}, [0.5, 0.9])
            FILTER (WHERE {reached} AND completed IS NOT NULL) AS assigned_to_completed,
        count(*) FILTER (WHERE assigned IS NOT NULL AND launched IS NULL
            AND assigned <= $as_of - to_days($stalled_days)) AS stalled,
        count(*) FILTER (WHERE assigned IS NOT NULL AND due IS NOT NULL) AS with_due_date,
        count(*) FILTER (WHERE assigned IS NOT NULL AND due < $as_of AND completed IS NULL)
            AS overdue_open,
        count(*) FILTER (WHERE assigned IS NOT NULL AND completed > due) AS completed_late,
        count(*) FILTER (WHERE i_assigned) AS i_assigned,
        count(*) FILTER (WHERE i_stalled) AS i_stalled,
        count(*) FILTER (WHERE i_with_due_date) AS i_with_due_date,
        count(*) FILTER (WHERE i_overdue_open) AS i_overdue_open
    FROM people
    GROUP BY activity
),
funnel AS (
    SELECT t.activity,
        coalesce(c.assigned, 0) + it.assigned - coalesce(c.i_assigned, 0) AS assigned,
        c.launched, c.completed, c.passed, c.self_started,
        c.assigned_to_launched, c.launched_to_completed, c.completed_to_passed,
        c.assigned_to_completed,
        coalesce(c.stalled, 0) + it.stalled - coalesce(c.i_stalled, 0) AS stalled,
        coalesce(c.with_due_date, 0) + it.with_due_date - coalesce(c.i_with_due_date, 0)
            AS with_due_date,
        coalesce(c.overdue_open, 0) + it.overdue_open - coalesce(c.i_overdue_open, 0)
            AS overdue_open,
        c.completed_late
    FROM targets t CROSS JOIN inherited_total it
    LEFT JOIN counted c ON c.activity = t.activity
)
SELECT t.activity, a.name, a.activity_type, f.* EXCLUDE (activity)
FROM targets t
LEFT JOIN funnel f ON f.activity = t.activity
LEFT JOIN activity a ON a.activity_id = t.activity
ORDER BY t.activity IS DISTINCT FROM {literal(params.program or params.activity or "")},
    t.activity
"""


STEPS: Final[tuple[str, ...]] = ("assigned", "launched", "completed", "passed")
LEAD_TIMES: Final[tuple[tuple[str, str], ...]] = (
    ("assigned_to_launched", "launched"),
    ("launched_to_completed", "completed"),
    ("completed_to_passed", "passed"),
    ("assigned_to_completed", "completed"),
)
COUNTS: Final[tuple[str, ...]] = (
    *STEPS,
    "self_started",
    "stalled",
    "with_due_date",
    "overdue",
    "overdue_open",
    "completed_late",
)


def _cell(count: int) -> int | None:
    """Small-cell suppression: 1 to 4 people are not shown (0 is)."""
    return None if 0 < count < SUPPRESS_BELOW else count


def _rate(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _funnel_row(row: Mapping[str, Any], program: str | None) -> dict[str, Any]:
    raw = {k: int(row.get(k) or 0) for k in COUNTS if k != "overdue"}
    raw["overdue"] = raw["overdue_open"] + raw["completed_late"]
    shown = {k: _cell(v) for k, v in raw.items()}
    suppressed = [k for k in COUNTS if shown[k] is None]
    conversion = {
        "launched": _rate(shown["launched"], shown["assigned"]),
        "completed": _rate(shown["completed"], shown["launched"]),
        "passed": _rate(shown["passed"], shown["completed"]),
        "assigned_to_completed": _rate(shown["completed"], shown["assigned"]),
        "assigned_to_passed": _rate(shown["passed"], shown["assigned"]),
    }
    lead_times: dict[str, Any] = {}
    for name, step in LEAD_TIMES:
        quantiles = row.get(name)
        median = p90 = None
        if raw[step] >= SUPPRESS_BELOW and quantiles is not None:
            median, p90 = finite(quantiles[0]), finite(quantiles[1])
        lead_times[name] = {"n": shown[step], "median_days": median, "p90_days": p90}
    return {
        "activity_id": row["activity"],
        "name": row.get("name"),
        "activity_type": row.get("activity_type"),
        "is_program": program is not None and row["activity"] == program,
        **shown,
        "conversion": conversion,
        "lead_times": lead_times,
        "suppressed": suppressed,
    }


# -------------------------------------------------------------------------------- compute


def _definitions(params: FrictionParams, cutoff: datetime) -> dict[str, Any]:
    return {
        "section": "ANALYTICS.md section 3 (learning friction)",
        "program": params.program,
        "activity": params.activity,
        "as_of": iso(cutoff),
        "scope": "statements whose object is the activity IRI or that have it in "
        "context.contextActivities parent or grouping; statements after as_of are ignored",
        "request_link": "a request is a request-role statement; its id is the context "
        + (
            f"extension {params.request_extension}"
            if params.request_extension
            else f"extension whose IRI ends in {REQUEST_ID_SUFFIX}"
        )
        + ", else its activity IRI (id-less requests for one activity are one request); "
        "approve/publish statements link by that id, else to the latest request for the same "
        "activity at or before them",
        "request_learners": "a learner statement belongs to the latest request for its "
        "activity at or before it (of requests made at the same time, the one with the "
        "smallest key)",
        "milestones": {
            "approved": "first linked approve-role statement at or after the request",
            "deployed": "first of: linked publish-role statement, first learner assignment, "
            "first launch by any learner (deployed_by names it)",
            "first_learner": "first engage-role statement by any learner in scope",
            "completed_80": f"when {COMPLETION_SHARE:.0%} of the learners assigned at or after "
            "the request have completed the activity (complete role, result.completion or a "
            "pass, about the activity itself); not applicable without assigned learners",
        },
        "stages": {name: f"{start} -> {end}" for name, start, end in STAGES},
        "stage_summary": "Kaplan-Meier over requests per stage: open stages are right-censored "
        "at as_of, skipped ones (a later milestone without this one) are left out; "
        + survival.QUANTILE_DEFINITION,
        "funnel": "assigned -> launched (first engage-role statement in scope) -> completed "
        "(complete role, result.completion or a pass about the activity) -> passed "
        "(proficient role with the scored-pass rule, about the activity); a later step "
        "implies the earlier ones; steps count assigned learners; self_started counts "
        "learners who launched without an assignment",
        "assignment": "first assign-role statement in the activity's scope; activities "
        "listed under a program (or given with program=) use the program's assignment and "
        "due date where they have none of their own",
        "threshold": params.threshold,
        "conversion": "step / previous step, and completed or passed / assigned",
        "lead_times": "days between steps (negative gaps count as 0); median and p90 are "
        "interpolated quantiles over the learners who made the step",
        "stalled_days": params.stalled_days,
        "stalled": f"assigned at least {params.stalled_days} days before as_of and not launched",
        "due_date": "due-date context extension of the learner's latest assignment carrying "
        "one: "
        + (
            params.due_date_extension
            if params.due_date_extension
            else f"any extension whose IRI ends in {DUE_DATE_SUFFIX}"
        )
        + " (a date without a time is the end of that day, UTC); the roster has no due dates",
        "overdue": "due date before as_of and not completed by it: overdue_open (not "
        "completed) + completed_late (completed after the due date)",
        "suppression": f"counts of 1 to {SUPPRESS_BELOW - 1} learners are null (listed in "
        "suppressed), and so are rates and lead times computed from them",
    }


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _request_learners_from_facts(
    con: duckdb.DuckDBPyConnection,
    scope: str,
    requests: Sequence[Mapping[str, Any]],
    roles: Roles,
    params: FrictionParams,
    cutoff: datetime,
) -> list[dict[str, Any]]:
    """:data:`REQUEST_LEARNERS` from the sync-kept facts: each request owns the statements from
    its time to the next request's (a request tied in time with one of a smaller key owns
    none, as in :func:`_request_of`). The first launch in a window is at or before the earliest
    first engagement the facts show in it; only the engage statements before that bound are
    read."""
    ordered = sorted(requests, key=lambda r: (r["requested"], r["key"]))
    values: dict[str, Any] = {
        "as_of": cutoff,
        "threshold": params.threshold,
        "share": COMPLETION_SHARE,
    }
    for i, r in enumerate(ordered):
        values[f"key{i}"] = r["key"]
        values[f"requested{i}"] = r["requested"]
    found = _rows(con.execute(scope_facts.request_learners_sql(scope, len(ordered)), values))
    by_key = {row["key"]: row for row in found}
    windows: dict[str, Any] = {"as_of": cutoff}
    for i, r in enumerate(ordered):
        later = [o["requested"] for o in ordered if o["requested"] > r["requested"]]
        tied_before = any(o["requested"] == r["requested"] and o["key"] < r["key"] for o in ordered)
        until = r["requested"] if tied_before else min(later, default=None)
        bound = by_key[r["key"]]["launch_bound"]
        windows[f"from{i}"] = r["requested"]
        windows[f"to{i}"] = bound if bound is not None else until
    # Engage statements in the scope, in the windows' span (a filter pushed into the scans).
    ends = [windows[f"to{i}"] for i in range(len(ordered))]
    where = f"s.event_time <= $as_of AND s.event_time >= {_timestamp(ordered[0]['requested'])}"
    if None not in ends:
        where += f" AND s.event_time < {_timestamp(max(ends))}"
    where += f" AND {roles.test('engage')}"
    launches = f"SELECT t FROM ({scoped_sql([scope], roles, where)}) WHERE learner IS NOT NULL"
    (firsts,) = con.execute(
        scope_facts.first_launches_sql(launches, len(ordered)), windows
    ).fetchone() or ([],)
    for i, r in enumerate(ordered):
        row = by_key[r["key"]]
        candidates = [t for t in (row.pop("launch_bound"), firsts[i]) if t is not None]
        row["first_launch"] = min(candidates) if candidates else None
    return found


def _timestamp(value: datetime) -> str:
    """A TIMESTAMPTZ literal (a constant DuckDB pushes into the scan, where a bound parameter
    is compared row by row)."""
    return f"'{value.isoformat()}'::TIMESTAMPTZ"


def compute(con: duckdb.DuckDBPyConnection, params: FrictionParams) -> dict[str, Any]:
    """Program friction per request and learner funnels (ANALYTICS.md section 3).

    About a program or activity with the default request-id and due-date extensions, the
    learners' part reads the sync-kept facts (:mod:`analytics.metrics.scope_facts`); otherwise
    (extensions named by the caller, or every request listed) the learner statements in scope
    are read once, into a temporary table the per-request statistics and the funnel query.
    Both give the same numbers (the tests compare them).
    """
    cutoff = cutoff_of(con, params.as_of)
    roles = Roles.of(con)
    scope = params.program or params.activity
    extra = _extra(params, roles)
    want_requests = params.view in ("all", "requests")
    want_funnel = params.view in ("all", "funnel") and scope is not None
    body: dict[str, Any] = {"program": params.program, "activity": params.activity}
    requests: list[dict[str, Any]] = []
    if want_requests:
        requests = _rows(con.execute(_requests_query(params, roles), {"as_of": cutoff}))
    bound: dict[str, Any] = {"as_of": cutoff, "threshold": params.threshold}
    for i, r in enumerate(requests):
        bound[f"requested{i}"] = r["requested"]
    created: list[str] = []
    # The sync-kept facts answer every query about a program or activity with the default
    # request-id and due-date extensions (as common CTEs: a small temp table would be read
    # by one thread); others read the statements once, into temp tables.
    facts = (
        scope is not None and params.request_extension is None and params.due_date_extension is None
    )
    ctes: dict[str, str] = {}

    def events(name: str, targets: Sequence[str], detail: bool) -> str:
        if facts:  # (the facts answer the requests themselves: only funnels ask here)
            ctes[name] = scope_facts.events_sql(targets)
        else:
            sql = _learner_events_sql(targets, roles, extra, requests, detail=detail)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", bound)
            created.append(name)
        return name

    def run(sql: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """``sql`` (starting with WITH) with the facts CTEs it names."""
        used = [name for name in ctes if name in sql]
        if used:
            defined = ", ".join(f"{n} AS MATERIALIZED ({ctes[n]})" for n in used)
            sql = sql.replace("WITH", f"WITH {defined},", 1)
            values = {**values, "as_of": cutoff, "threshold": params.threshold}
        return _rows(con.execute(sql, values))

    try:
        learners: dict[str, Mapping[str, Any]] = {}
        scoped_events = None
        if scope is not None and (want_funnel or (requests and not facts)):
            scoped_events = events("friction_scope_events", [scope], want_funnel)
        if requests and facts:
            assert scope is not None
            for row in _request_learners_from_facts(con, scope, requests, roles, params, cutoff):
                learners[row["key"]] = row
        elif requests:
            source = scoped_events or events(
                "friction_request_events", sorted({r["activity"] for r in requests}), False
            )
            query = REQUEST_LEARNERS.format(events=source, share=COMPLETION_SHARE)
            for row in run(query, {}):
                learners[row["key"]] = row
        if want_requests:
            rows = _request_rows(requests, learners, {"as_of": cutoff})
            body["requests"] = [{k: v for k, v in r.items() if k != "_stages"} for r in rows]
            body["request_summary"] = _summary(con, rows)
        if want_funnel:
            assert scoped_events is not None
            funnel_events, inherit = scoped_events, None
            if params.activity is not None and params.program is not None:
                # The requests and the program's assignments are the program's; the funnel
                # is the activity's.
                funnel_events = events("friction_activity_events", [params.activity], True)
                inherit = scoped_events
            found = run(
                _funnel_query(params, roles, funnel_events, inherit),
                {"as_of": cutoff, "stalled_days": params.stalled_days},
            )
            body["funnel"] = [_funnel_row(r, params.program) for r in found]
        elif params.view in ("all", "funnel"):
            body["funnel"] = []
    finally:
        for name in created:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    definitions = {**_definitions(params, cutoff), "verb_roles": roles.as_json()}
    return envelope(con, definitions, body)


REQUEST_COLUMNS: Final[tuple[str, ...]] = (
    "request_id",
    "activity_id",
    "activity_name",
    *MILESTONES,
    "deployed_by",
    "published",
    "first_assignment",
    "assigned_learners",
    "completed_learners",
    "open",
    *(f"{name}_days" for name, _, _ in STAGES),
)
FUNNEL_COLUMNS: Final[tuple[str, ...]] = (
    "activity_id",
    "name",
    "activity_type",
    "is_program",
    *COUNTS,
    *(f"conversion_{k}" for k in ("launched", "completed", "passed")),
    "conversion_assigned_to_completed",
    "conversion_assigned_to_passed",
    *(f"{name}_{q}_days" for name, _ in LEAD_TIMES for q in ("median", "p90")),
)


def table(body: Mapping[str, Any], view: str) -> list[dict[str, Any]]:
    """The CSV rows: one per request (``view`` requests) or per activity (``funnel``)."""
    rows: list[dict[str, Any]] = []
    if view == "requests":
        for r in body.get("requests", []):
            row = {k: r.get(k) for k in REQUEST_COLUMNS if k in r}
            for name, days in r["stages"].items():
                row[f"{name}_days"] = days
            rows.append(row)
    else:
        for f in body.get("funnel", []):
            row = {k: f.get(k) for k in FUNNEL_COLUMNS if k in f}
            for name, rate in f["conversion"].items():
                row[f"conversion_{name}"] = rate
            for name, lead in f["lead_times"].items():
                row[f"{name}_median_days"] = lead["median_days"]
                row[f"{name}_p90_days"] = lead["p90_days"]
            rows.append(row)
    return rows
