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
SELECT * EXCLUDE (last_due, completed), last_due.t AS due_at, last_due.due AS due,
    least(completed, passed) AS done,
    CASE WHEN object_id = activity THEN least(completed, passed) END AS completed_here
FROM (
    SELECT f.scope_id AS activity, f.learner, NULL::VARCHAR AS req_key,
        f.object_id, f.parent_id, f.grouping_id, f.object_type,
        {ASSIGNED} AS assigned,
        {at_cutoff("engaged")} AS launched,
        {COMPLETED} AS completed,
        {passes()}[1] AS passed,
        list_filter(f.assigns, lambda x: x.t <= $as_of AND x.due IS NOT NULL)[-1] AS last_due
    FROM ({rows(targets)}) f
)"""


def request_learners_sql(scope: str, requests: int) -> str:
    """Per request of the scope activity (``$key<i>`` made at ``$requested<i>``; a request owns
    the statements from its time to the next request's, and of requests made at the same time
    the smallest key, as in :func:`analytics.metrics.friction._request_of`), the columns of
    :data:`analytics.metrics.friction.REQUEST_LEARNERS` but the first launch: learners assigned
    under it, those of them who completed the activity itself under it, the first assignment,
    the completion that brought the completions to the share ``$share`` of the assigned
    learners, and ``launch_bound``, the earliest first engagement of a fact row under it: the
    first launch is at or before it (:func:`first_launches_sql`).

    The few assignments and completions are unnested from the facts and given their request
    by an as-of join (cost: events, not events x requests)."""
    made = " UNION ALL ".join(
        f"SELECT $key{i}::VARCHAR, $requested{i}::TIMESTAMPTZ" for i in range(requests)
    )
    return f"""
WITH
reqs(key, requested) AS ({made}),
owners AS (SELECT requested, min(key) AS key FROM reqs GROUP BY requested),
facts AS MATERIALIZED ({rows([scope])}),
ev AS (
    SELECT learner, 'assigned' AS kind, a.t
    FROM (SELECT learner, unnest(assigns) AS a FROM facts) WHERE a.t <= $as_of
    UNION ALL
    SELECT learner, 'completed', x
    FROM (SELECT learner, unnest(completions) AS x FROM facts WHERE object_id = scope_id)
    WHERE x <= $as_of
    UNION ALL
    SELECT learner, 'completed', unnest({passes()}) FROM facts f WHERE object_id = scope_id
    UNION ALL
    SELECT learner, 'engaged', engaged FROM facts WHERE engaged <= $as_of
),
owned AS (SELECT o.key, ev.* FROM ev ASOF JOIN owners o ON ev.t >= o.requested),
per_learner AS (
    SELECT key, learner,
        min(t) FILTER (WHERE kind = 'assigned') AS assigned,
        min(t) FILTER (WHERE kind = 'completed') AS completed
    FROM owned WHERE kind <> 'engaged'
    GROUP BY key, learner
),
launch AS (SELECT key, min(t) AS bound FROM owned WHERE kind = 'engaged' GROUP BY key)
SELECT q.key,
    count(p.assigned) AS assigned,
    count(p.assigned) FILTER (WHERE p.completed IS NOT NULL) AS completed,
    min(p.assigned) AS first_assignment,
    any_value(l.bound) AS launch_bound,
    list(p.completed ORDER BY p.completed)
        FILTER (WHERE p.assigned IS NOT NULL AND p.completed IS NOT NULL)
        [ceil($share * count(p.assigned) - 1e-9)::BIGINT] AS completed_80
FROM reqs q
LEFT JOIN per_learner p ON p.key = q.key
LEFT JOIN launch l ON l.key = q.key
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
