"""Reading ``learner_scope`` (:mod:`analytics.warehouse.scope_facts`) at a cut-off and threshold.

Every fact is kept so that a query at any cut-off ``$as_of`` and pass threshold ``$threshold``
gets what it would get from the statements themselves: a first time counts when it is at or
before the cut-off (then it is also the first time among the statements up to the cut-off), and
the threshold- or latest-dependent values are computed from their short lists here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from analytics.metrics.common import literal

# The scored-pass rule (ANALYTICS.md section 1) on a kept proficient-role attempt ``x``, as
# :func:`analytics.metrics.proficiency.passed_sql` on a statement.
PASSED: Final = (
    "x.t <= $as_of AND x.success IS DISTINCT FROM false "
    "AND (x.score IS NULL OR x.score >= coalesce(x.mastery, $threshold))"
)


def at_cutoff(column: str) -> str:
    """A first time that counts at the cut-off, else null."""
    return f"CASE WHEN f.{column} <= $as_of THEN f.{column} END"


def passes() -> str:
    """The times of the fact row's passes up to the cut-off, in order (a list, maybe empty)."""
    kept = f"list_filter(f.proficient, lambda x: {PASSED})"
    return f"coalesce(list_transform({kept}, lambda x: x.t), [])"


# The first assignment and completion up to the cut-off.
ASSIGNED: Final = "list_filter(f.assigns, lambda x: x.t <= $as_of)[1].t"
COMPLETED: Final = "list_filter(f.completions, lambda x: x <= $as_of)[1]"


def rows(targets: Sequence[str]) -> str:
    """The fact rows of the scopes ``targets`` with a statement at or before the cut-off."""
    values = ", ".join(literal(t) for t in targets)
    return f"SELECT * FROM learner_scope WHERE scope_id IN ({values}) AND first_t <= $as_of"


def events_sql(targets: Sequence[str]) -> str:
    """The detailed learner events of :func:`analytics.metrics.friction._learner_events_sql`
    (what the funnels read), without the request (:func:`request_learners_sql` answers per
    request): per target ``activity``, learner, object, first parent and grouping (one fact
    row each), the first assignment, launch, completion and pass, the completion of the target
    itself and the latest due date (and its assignment's time)."""
    return f"""
SELECT * EXCLUDE (last_due), last_due.t AS due_at, last_due.due AS due,
    CASE WHEN object_id = activity THEN done END AS completed_here
FROM (
    SELECT f.scope_id AS activity, f.learner, NULL::VARCHAR AS req_key,
        f.object_id, f.parent_id, f.grouping_id, f.object_type,
        {ASSIGNED} AS assigned,
        {at_cutoff("engaged")} AS launched,
        least({COMPLETED}, {passes()}[1]) AS done,
        {passes()}[1] AS passed,
        list_filter(f.assigns, lambda x: x.t <= $as_of AND x.due IS NOT NULL)[-1] AS last_due
    FROM ({rows(targets)}) f
)"""


def request_learners_sql(scope: str, requests: int) -> str:
    """Per request of the scope activity (``$key<i>``, its window ``[$requested<i>,
    $until<i>)``: the statements it owns, as in :func:`analytics.metrics.friction._request_of`),
    the columns of :data:`analytics.metrics.friction.REQUEST_LEARNERS` but the first launch:
    learners assigned in the window, those of them who completed the activity itself in it, the
    first assignment, the completion that brought the completions to the share ``$share`` of
    the assigned learners, and ``launch_bound``, the earliest first engagement of a fact row in
    the window: the first launch is at or before it (:func:`first_launches_sql`)."""
    windows = " UNION ALL ".join(
        f"SELECT $key{i}::VARCHAR, $requested{i}::TIMESTAMPTZ, "
        f"coalesce($until{i}::TIMESTAMPTZ, 'infinity'::TIMESTAMPTZ)"
        for i in range(requests)
    )
    inside = "x >= q.requested AND x < q.until"
    return f"""
WITH
reqs(key, requested, until) AS ({windows}),
per_learner AS (
    SELECT q.key, f.learner,
        min(list_filter(f.assigns, lambda a: a.t <= $as_of
            AND a.t >= q.requested AND a.t < q.until)[1].t) AS assigned,
        min(least(
            list_filter(f.completions, lambda x: x <= $as_of AND {inside})[1],
            list_filter({passes()}, lambda x: {inside})[1]
        )) FILTER (WHERE f.object_id = f.scope_id) AS completed,
        min(f.engaged) FILTER (WHERE f.engaged <= $as_of AND f.engaged >= q.requested
            AND f.engaged < q.until) AS engaged
    FROM ({rows([scope])}) f CROSS JOIN reqs q
    GROUP BY q.key, f.learner
)
SELECT q.key,
    count(p.assigned) AS assigned,
    count(p.assigned) FILTER (WHERE p.completed IS NOT NULL) AS completed,
    min(p.assigned) AS first_assignment,
    min(p.engaged) AS launch_bound,
    list(p.completed ORDER BY p.completed)
        FILTER (WHERE p.assigned IS NOT NULL AND p.completed IS NOT NULL)
        [ceil($share * count(p.assigned) - 1e-9)::BIGINT] AS completed_80
FROM reqs q
LEFT JOIN per_learner p ON p.key = q.key
GROUP BY q.key
"""


def first_launches_sql(launches: str, windows: int) -> str:
    """The first time of ``launches`` (a query with a column ``t``) in each window ``[$from<i>,
    $to<i>)``, one pass: a list, a time or null per window."""
    firsts = ", ".join(
        f"min(t) FILTER (WHERE t >= $from{i} "
        f"AND t < coalesce($to{i}::TIMESTAMPTZ, 'infinity'::TIMESTAMPTZ))"
        for i in range(windows)
    )
    return f"SELECT [{firsts}] FROM ({launches})"


def per_learner_sql(program: str) -> str:
    """Per learner in the program's scope (time to proficiency): first assignment,
    registration, engagement and waiver, and the ordered times of passes and leave events, all
    at the cut-off."""
    return f"""
SELECT f.learner,
    min({ASSIGNED}) AS assigned,
    min({at_cutoff("registered")}) AS registered,
    min({at_cutoff("engaged")}) AS engaged,
    list_sort(flatten(list({passes()}))) AS passes,
    list_sort(flatten(list(coalesce(list_filter(f.leaves, lambda x: x <= $as_of), []))))
        AS leaves,
    min({at_cutoff("waived")}) AS waived
FROM ({rows([program])}) f
GROUP BY f.learner
"""
