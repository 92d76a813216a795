"""``learner_scope``: per learner and scope activity, the facts time to proficiency and friction
read (ANALYTICS.md sections 1-3), kept up to date by the sync.

A statement is in the **scope** of an activity when the activity is its object, or is listed in
its ``context.contextActivities.parent`` or ``grouping`` (ANALYTICS.md section 1). A program's
scope can hold most of the warehouse (a compliance program: 700,000 of a million statements), so
the metrics read this table, one row per

    (scope activity, learner, statement object, first parent, first grouping)

instead of the statements themselves: about one row per 5 statements, fewer still for the
engage-heavy programs. The **learner** of a statement is the Agent object of an assign-role
statement about an Agent, else the Agent actor (groups are not learners).

Each row keeps what a query needs at *any* cut-off and pass threshold: first times (the first
time at or before a cut-off is the first time when that is at or before it, else none), and,
where a value depends on the threshold, on the latest event or on a time window (a request's),
the short lists themselves: assignments with their due dates, completions, proficient-role
attempts with their success, scaled score and cmi5 mastery score, leave events. Engagement, the
bulk of the statements, is kept as its first time only.

Upkeep, in the sync's transactions: a batch marks the (scope, learner) pairs of the statements it
adds or voids in ``dirty_learner_scope``; the run's refresh deletes and recomputes those pairs
from ``statement``. A new warehouse, or a change of verb roles (they decide learners and roles),
sets ``sync_state.scope_rebuild``: batches then mark nothing and the refresh rebuilds the whole
table, as it also does when more than :data:`REBUILD_ABOVE` pairs are dirty.
"""

from __future__ import annotations

from typing import Final

DDL: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS learner_scope (
        scope_id VARCHAR,
        learner VARCHAR,
        object_id VARCHAR,
        object_type VARCHAR,
        parent_id VARCHAR,
        grouping_id VARCHAR,
        -- first statement, registration, engagement, waiver
        first_t TIMESTAMPTZ,
        registered TIMESTAMPTZ,
        engaged TIMESTAMPTZ,
        waived TIMESTAMPTZ,
        -- every assignment (its due-date extension or null), completion (complete role or
        -- result.completion), proficient-role attempt and leave event, in time order
        assigns STRUCT(t TIMESTAMPTZ, due TIMESTAMPTZ)[],
        completions TIMESTAMPTZ[],
        proficient STRUCT(t TIMESTAMPTZ, success BOOLEAN, score DOUBLE, mastery DOUBLE)[],
        leaves TIMESTAMPTZ[]
    )""",
    # (scope, learner) pairs to recompute.
    "CREATE TABLE IF NOT EXISTS dirty_learner_scope (scope_id VARCHAR, learner VARCHAR)",
)

# More dirty pairs than this and the refresh rebuilds the table (cheaper than the joins then).
REBUILD_ABOVE = 200_000

# Per verb, the roles the facts use (ANALYTICS.md section 1; verb_role is editable).
_ROLES: Final = """(
    SELECT verb_id,
        bool_or(role = 'assign') AS assign, bool_or(role = 'register') AS register,
        bool_or(role = 'engage') AS engage, bool_or(role = 'complete') AS complete,
        bool_or(role = 'proficient') AS proficient, bool_or(role = 'waived') AS waived,
        bool_or(role = 'leave') AS leave
    FROM verb_role GROUP BY verb_id
)"""


def _learner(s: str, r: str) -> str:
    """The learner of statement ``s`` with role flags ``r`` (as
    :meth:`analytics.metrics.proficiency.Roles.learner`)."""
    return f"""CASE
        WHEN coalesce({r}.assign, false) AND {s}.object_type IN ('Agent', 'Group')
            THEN CASE WHEN {s}.object_type = 'Agent' THEN {s}.object_id END
        WHEN {s}.actor_type = 'Agent' THEN {s}.actor_key
    END"""


def _marks(rows: str, context: str) -> str:
    """Dirty pairs of the statements ``rows`` (columns of ``statement``) whose parent and
    grouping activities are the rows of ``context`` (``seq, usage, activity_id``)."""
    return f"""INSERT INTO dirty_learner_scope
WITH
p AS (
    SELECT f.seq, {_learner("f", "r")} AS learner
    FROM {rows} f LEFT JOIN {_ROLES} r ON r.verb_id = f.verb_id
    WHERE NOT (SELECT scope_rebuild FROM sync_state WHERE id = 1)
),
sc AS (
    SELECT object_id AS scope_id, seq FROM {rows} WHERE object_type = 'Activity'
    UNION ALL
    SELECT activity_id, seq FROM {context} WHERE usage IN ('parent', 'grouping')
)
SELECT DISTINCT sc.scope_id, p.learner FROM sc JOIN p ON p.seq = sc.seq
WHERE p.learner IS NOT NULL"""


# New statements of a batch (``flat``, their context activities in ``flat_ca``).
MARK_NEW: Final = _marks("flat", "flat_ca")
# Voided statements (``removed``), before their context rows are deleted.
MARK_REMOVED: Final = _marks(
    "removed",
    "(SELECT seq, usage, activity_id FROM statement_context_activity "
    "WHERE seq IN (SELECT seq FROM removed))",
)

_FACT_ROWS: Final = f"""
SELECT s.seq, {_learner("s", "r")} AS learner, s.event_time AS t,
    s.object_id, s.object_type, s.parent_id, s.grouping_id,
    s.success, s.score_scaled, s.completion, s.mastery_score, s.due_at,
    coalesce(r.assign, false) AS is_assign, coalesce(r.register, false) AS is_register,
    coalesce(r.engage, false) AS is_engage, coalesce(r.complete, false) AS is_complete,
    coalesce(r.proficient, false) AS is_proficient, coalesce(r.waived, false) AS is_waived,
    coalesce(r.leave, false) AS is_leave
FROM statement s LEFT JOIN {_ROLES} r ON r.verb_id = s.verb_id"""


def _insert(rows: str, pairs: str | None) -> str:
    """Facts of the statement rows ``rows`` (:data:`_FACT_ROWS` columns) in every scope, or, with
    ``pairs`` (a table of scope_id, learner), in those pairs alone.

    A statement listing the same activity twice (as parent and grouping, say) is counted twice
    in that scope: first times do not change, and the lists are only searched (first event in
    a window, latest due date), never counted. Lists are sorted whole (a struct sorts by its
    fields in order, time first), which also orders ties the same way in every run.
    """
    only = ctx_filter = ""
    if pairs is not None:
        only = f"SEMI JOIN {pairs} d ON d.scope_id = x.scope_id AND d.learner = x.learner"
        ctx_filter = "AND c.seq IN (SELECT seq FROM src)"
    return f"""
INSERT INTO learner_scope
WITH
src AS MATERIALIZED (SELECT * FROM {rows} WHERE learner IS NOT NULL),
scoped AS (
    SELECT s.object_id AS scope_id, s.* FROM src s WHERE s.object_type = 'Activity'
    UNION ALL
    SELECT c.activity_id, s.*
    FROM src s JOIN statement_context_activity c ON c.seq = s.seq
    WHERE c.usage IN ('parent', 'grouping') {ctx_filter}
        AND (c.activity_id IS DISTINCT FROM s.object_id
             OR s.object_type IS DISTINCT FROM 'Activity')
),
x AS (SELECT * FROM scoped x {only})
SELECT scope_id, learner, object_id, any_value(object_type), parent_id, grouping_id,
    min(t),
    min(t) FILTER (WHERE is_register),
    min(t) FILTER (WHERE is_engage),
    min(t) FILTER (WHERE is_waived),
    list_sort(list({{'t': t, 'due': due_at}}) FILTER (WHERE is_assign)),
    list_sort(list(t) FILTER (WHERE is_complete OR coalesce(completion, false))),
    list_sort(list({{'t': t, 'success': success, 'score': score_scaled,
                     'mastery': mastery_score}}) FILTER (WHERE is_proficient)),
    list_sort(list(t) FILTER (WHERE is_leave))
FROM x
GROUP BY scope_id, learner, object_id, parent_id, grouping_id"""


REBUILD: Final[tuple[str, ...]] = (
    "DELETE FROM learner_scope",
    _insert(f"({_FACT_ROWS})", None),
    "DELETE FROM dirty_learner_scope",
    "UPDATE sync_state SET scope_rebuild = false",
)

REFRESH: Final[tuple[str, ...]] = (
    "CREATE OR REPLACE TEMP TABLE ls_touched AS SELECT DISTINCT * FROM dirty_learner_scope",
    """DELETE FROM learner_scope f USING ls_touched t
       WHERE f.scope_id = t.scope_id AND f.learner = t.learner""",
    # The statements of the touched learners: their own, and assignments naming them.
    f"""CREATE OR REPLACE TEMP TABLE ls_rows AS
       SELECT * FROM (
           {_FACT_ROWS} SEMI JOIN ls_touched t ON t.learner = s.actor_key
           UNION ALL
           {_FACT_ROWS} SEMI JOIN ls_touched t ON t.learner = s.object_id
               ANTI JOIN ls_touched u ON u.learner = s.actor_key
           WHERE s.object_type = 'Agent'
       ) WHERE learner IN (SELECT learner FROM ls_touched)""",
    _insert("ls_rows", "ls_touched"),
    "DELETE FROM dirty_learner_scope",
    "DROP TABLE ls_touched",
    "DROP TABLE ls_rows",
)

DIRTY: Final = """
SELECT (SELECT count(*) FROM dirty_learner_scope)
     + CASE WHEN (SELECT scope_rebuild FROM sync_state WHERE id = 1) THEN 1 ELSE 0 END"""
# Parameter: REBUILD_ABOVE.
WANTS_REBUILD: Final = """
SELECT (SELECT scope_rebuild FROM sync_state WHERE id = 1)
    OR (SELECT count(*) FROM dirty_learner_scope) > ?"""
