"""The SQL that flattens a batch of statements into the BI tables (ANALYTICS.md section 6).

All of it runs inside DuckDB, vectorised and in parallel: the batch is scanned straight from
Arrow, each payload parsed once (``json_transform`` into the typed structure :data:`PAYLOAD`),
and nothing but the keys is copied before the flat rows are built. A batch records the keys it
touched in the ``dirty_*`` tables; :data:`REFRESH` recomputes the derived tables (``actor``,
``activity``, ``learner_activity``) for those keys once per sync run.
"""

from __future__ import annotations

import json
from typing import Any, Final

from analytics.warehouse import scope_facts
from analytics.warehouse.schema import (
    ADL,
    BI_TABLES,
    CLOSED_SALE,
    DUE_DATE_SUFFIX,
    INTERNAL_COLUMNS,
    KEY_RESULT_TYPE_SUFFIX,
    LAUNCHED,
    MASTERY_SCORE,
    MONETARY_VALUE,
    REQUEST_ID_SUFFIX,
)

# The parts of a statement the BI tables need: json_transform parses each payload once,
# straight into these typed columns. Sub-objects kept as JSON (extensions,
# context activities, language maps) stay JSON text.
_AGENT: Final[dict[str, Any]] = {
    "objectType": "VARCHAR",
    "name": "VARCHAR",
    "mbox": "VARCHAR",
    "mbox_sha1sum": "VARCHAR",
    "openid": "VARCHAR",
    "account": {"homePage": "VARCHAR", "name": "VARCHAR"},
}
PAYLOAD: Final[dict[str, Any]] = {
    "actor": _AGENT,
    "verb": {"id": "VARCHAR", "display": {"en-US": "VARCHAR"}},
    "object": {
        **_AGENT,
        "id": "VARCHAR",
        "definition": {"type": "VARCHAR", "name": {"en-US": "VARCHAR"}},
    },
    "result": {
        "score": {"scaled": "DOUBLE", "raw": "DOUBLE", "min": "DOUBLE", "max": "DOUBLE"},
        "success": "BOOLEAN",
        "completion": "BOOLEAN",
        "duration": "VARCHAR",
        "extensions": "JSON",
    },
    "context": {
        "registration": "VARCHAR",
        "platform": "VARCHAR",
        "language": "VARCHAR",
        "extensions": "JSON",
        "contextActivities": "JSON",
    },
    "authority": {"name": "VARCHAR"},
    "version": "VARCHAR",
}


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# The batch arrives as the Arrow table ``arrow_batch`` (seq, id, stored_us, timestamp_us,
# voided, is_voiding, statement_ref_id, authority_key, payload text), in record batches of
# ARROW_CHUNK rows so that DuckDB parses the payloads on every core.
ARROW_CHUNK: Final = 8192
KEYS: Final = (
    "seq, id, stored_us, timestamp_us, voided, is_voiding, statement_ref_id, authority_key"
)
_PARSED = f"{KEYS}, json_transform(payload, {_q(json.dumps(PAYLOAD))}) AS payload"


def _lang(en_us: str, path: str) -> str:
    """A language map's en-US entry, read by the one parse; only a statement without one is
    parsed again for the fallback (the smallest language tag's entry)."""
    fallback = f"lrs_lang(json_extract(i.text, {_q(path)}))"
    return f"CASE WHEN {en_us} IS NOT NULL THEN {en_us} ELSE {fallback} END"


def _key(agent: str) -> str:
    return (
        f"lrs_learner_key({agent}.mbox, {agent}.mbox_sha1sum, {agent}.openid, "
        f"{agent}.account.homePage, {agent}.account.name)"
    )


STATEMENT_COLUMNS: Final = ", ".join(name for name, _ in BI_TABLES["statement"])

# 1. The batch minus what the warehouse has seen (re-read margin, re-run after a crash): ids
#    in `statement` (same stored time, so the zone maps skip older row groups) or excluded.
#    Only the keys are materialised; payloads stay in the Arrow batch.
NEW_ROWS: Final = f"""
CREATE OR REPLACE TEMP TABLE batch AS
SELECT {", ".join("i." + k for k in KEYS.split(", "))}
FROM arrow_batch i
ANTI JOIN (SELECT statement_id FROM statement WHERE stored_time >= lrs_time($1)) s
    ON s.statement_id = i.id
ANTI JOIN statement_excluded e ON e.statement_id = i.id
"""

# 2. Voiding statements and voided ones are seen but never enter `statement`.
EXCLUDE: Final = """
INSERT INTO statement_excluded
SELECT id, stored_us, CASE WHEN is_voiding THEN 'voiding' ELSE 'voided' END
FROM batch WHERE is_voiding OR voided
"""

# The rows to flatten, their payloads parsed: the whole batch when all of it is new (the usual
# case), else its new rows.
SOURCE_ALL: Final = f"(SELECT {_PARSED}, payload AS text FROM arrow_batch)"
SOURCE_NEW: Final = (
    f"(SELECT {_PARSED}, payload AS text FROM arrow_batch n SEMI JOIN batch b ON b.id = n.id)"
)

# 3. Typed columns. The authority's key is derived from the store's column, once per distinct
#    authority.
FLAT: Final = f"""
CREATE OR REPLACE TEMP TABLE flat AS
WITH authorities AS (
    SELECT DISTINCT authority_key AS store_key, lrs_from_store_key(authority_key) AS key
    FROM batch
)
SELECT
    i.id AS statement_id,
    i.seq,
    lrs_time(i.timestamp_us) AS event_time,
    lrs_time(i.stored_us) AS stored_time,
    coalesce(p.actor.objectType, 'Agent') AS actor_type,
    {_key("p.actor")} AS actor_key,
    p.actor.name AS actor_name,
    p.verb.id AS verb_id,
    {_lang('p.verb.display."en-US"', "$.verb.display")} AS verb_display,
    coalesce(p.object.objectType, 'Activity') AS object_type,
    CASE WHEN p.object.objectType IN ('Agent', 'Group') THEN {_key("p.object")}
         ELSE p.object.id END AS object_id,
    p.object.definition.type AS activity_type,
    {_lang('p.object.definition.name."en-US"', "$.object.definition.name")} AS object_name,
    p.result.score.scaled AS score_scaled,
    p.result.score.raw AS score_raw,
    p.result.score.min AS score_min,
    p.result.score.max AS score_max,
    p.result.success AS success,
    p.result.completion AS completion,
    CASE WHEN p.result.duration IS NOT NULL THEN lrs_duration(p.result.duration)
         END AS duration_seconds,
    p.context.registration AS registration,
    json_extract_string(p.context.contextActivities, '$.parent[0].id') AS parent_id,
    json_extract_string(p.context.contextActivities, '$.grouping[0].id') AS grouping_id,
    p.context.platform AS platform,
    p.context.language AS language,
    a.key AS authority_key,
    p.authority.name AS authority_name,
    p.result.extensions::VARCHAR AS result_extensions,
    p.context.extensions::VARCHAR AS context_extensions,
    p.version AS version,
    p.context.contextActivities::VARCHAR AS context_activities
FROM (SELECT *, payload AS p FROM __SOURCE__) i
LEFT JOIN authorities a ON a.store_key IS NOT DISTINCT FROM i.authority_key
WHERE NOT i.voided AND NOT i.is_voiding
"""


def json_path(iri: str) -> str:
    """The JSON path of an object member named ``iri``."""
    return '$."' + iri.replace("\\", "\\\\").replace('"', '\\"') + '"'


def extension_sql(column: str, iri: str | None, suffix: str) -> str:
    """A context extension's value as text, from the JSON text ``column``: the extension
    ``iri``, else the first one whose IRI ends with ``suffix`` (ANALYTICS.md section 3)."""
    if iri is not None:
        return f"json_extract_string({column}, {_q(json_path(iri))})"
    key = f"list_filter(json_keys({column}), lambda k: k LIKE {_q('%' + suffix)})[1]"
    return f"json_extract_string({column}, '$.\"' || {key} || '\"')"


def due_sql(text: str) -> str:
    """A due date's text as an instant: a date without a time is the end of that day (UTC)."""
    return f"""CASE WHEN length({text}) = 10
        THEN try_cast({text} AS DATE)::TIMESTAMPTZ + INTERVAL 1 DAY
        ELSE try_cast({text} AS TIMESTAMPTZ) END"""


def mastery_sql(column: str) -> str:
    """The cmi5 masteryscore context extension as a number (ANALYTICS.md section 1)."""
    return f"try_cast(json_extract_string({column}, {_q(json_path(MASTERY_SCORE))}) AS DOUBLE)"


# The internal columns (schema.INTERNAL_COLUMNS), from the extensions text: a substring test
# first, so that only the few statements that may have the extension parse it (a key is in the
# text as it is unless the text has an escape: then the test lets it through).
_QUOTE = '"'


def _may_have(text: str) -> str:
    return f"(contains(context_extensions, {_q(text)}) OR contains(context_extensions, '\\'))"


INTERNAL_STATEMENT: Final = f"""
    CASE WHEN {_may_have(MASTERY_SCORE.rsplit("/", 1)[1] + _QUOTE)}
         THEN {mastery_sql("context_extensions")} END AS mastery_score,
    CASE WHEN {_may_have(REQUEST_ID_SUFFIX + _QUOTE)}
         THEN {extension_sql("context_extensions", None, REQUEST_ID_SUFFIX)} END AS request_id,
    {due_sql("due_text")} AS due_at"""
_DUE_TEXT = (
    f"CASE WHEN {_may_have(DUE_DATE_SUFFIX + _QUOTE)} "
    f"THEN {extension_sql('context_extensions', None, DUE_DATE_SUFFIX)} END AS due_text"
)
INTERNAL_STATEMENT_COLUMNS: Final = ", ".join(name for name, _ in INTERNAL_COLUMNS["statement"])

INSERT_STATEMENTS: Final = (
    f"INSERT INTO statement ({STATEMENT_COLUMNS}, {INTERNAL_STATEMENT_COLUMNS}) "
    f"SELECT {STATEMENT_COLUMNS}, {INTERNAL_STATEMENT} FROM (SELECT *, {_DUE_TEXT} FROM flat)"
)

_CA_STRUCT = (
    "{"
    + ", ".join(
        f'"{u}": [{{"id": "VARCHAR"}}]' for u in ("parent", "grouping", "category", "other")
    )
    + "}"
)
INSERT_CONTEXT_ACTIVITIES: Final = (
    "CREATE OR REPLACE TEMP TABLE flat_ca AS\n"
    + "WITH c AS MATERIALIZED (SELECT statement_id, seq, event_time, "
    + f"json_transform(context_activities, '{_CA_STRUCT}') AS ca "
    + "FROM flat WHERE context_activities IS NOT NULL)\n"
    + "\nUNION ALL\n".join(
        f"""SELECT statement_id, event_time, '{usage}' AS usage,
       unnest(range(len(ca.{usage})))::INTEGER AS position,
       unnest(ca.{usage}).id AS activity_id, seq
FROM c WHERE len(ca.{usage}) > 0"""
        for usage in ("parent", "grouping", "category", "other")
    ),
    "INSERT INTO statement_context_activity "
    "(statement_id, event_time, usage, position, activity_id, seq) "
    "SELECT statement_id, event_time, usage, position, activity_id, seq FROM flat_ca",
)

# 4. Outcome statements (ANALYTICS.md section 1): a closed sale with a monetary value, or a
#    key-result check-in (score.raw about a key-result activity). The subject is the learner,
#    or the team a Group actor names.
INSERT_STATEMENT_OUTCOMES: Final = f"""
INSERT INTO outcome
SELECT 'statement:' || statement_id, 'statement', statement_id, subject_type, subject,
       metric_id, event_time::DATE, event_time::DATE, value, NULL, NULL, unit
FROM (
    SELECT statement_id, event_time,
        CASE WHEN actor_type = 'Group' THEN 'team' ELSE 'learner' END AS subject_type,
        CASE WHEN actor_type = 'Group' THEN actor_name ELSE actor_key END AS subject,
        CASE WHEN verb_id = {_q(CLOSED_SALE)} THEN verb_id ELSE object_id END AS metric_id,
        CASE WHEN verb_id = {_q(CLOSED_SALE)}
             THEN coalesce(try_cast(mv AS DOUBLE),
                           CASE WHEN json_valid(mv)
                                THEN try_cast(json_extract_string(mv, '$.amount') AS DOUBLE) END)
             ELSE score_raw END AS value,
        CASE WHEN verb_id = {_q(CLOSED_SALE)} THEN coalesce(
            CASE WHEN json_valid(mv) THEN json_extract_string(mv, '$.currency') END,
            json_extract_string(context_extensions, '$."' || list_filter(
                json_keys(context_extensions), lambda k: k LIKE '%/currency')[1] || '"'))
        END AS unit
    FROM (
        SELECT *, json_extract_string(result_extensions, '$."{MONETARY_VALUE}"') AS mv
        FROM flat
        WHERE verb_id = {_q(CLOSED_SALE)}
           OR (object_type = 'Activity' AND activity_type LIKE '%{KEY_RESULT_TYPE_SUFFIX}')
    )
)
WHERE value IS NOT NULL AND subject IS NOT NULL
"""

# 5. Voiding: the targets leave every table; their keys are recomputed below.
VOIDED_NOW: Final = """
CREATE OR REPLACE TEMP TABLE voided_now AS
SELECT DISTINCT statement_ref_id AS statement_id FROM batch
WHERE is_voiding AND statement_ref_id IS NOT NULL
"""
REMOVED: Final = """
CREATE OR REPLACE TEMP TABLE removed AS
SELECT statement_id, stored_time, actor_type, actor_key, object_type, object_id, registration,
    seq, verb_id
FROM statement
WHERE statement_id IN (SELECT statement_id FROM voided_now)
"""
# The same, empty, without scanning `statement` (a batch without voiding statements).
NOTHING_REMOVED: Final = REMOVED.replace(
    "WHERE statement_id IN (SELECT statement_id FROM voided_now)", "LIMIT 0"
)
REMOVE_VOIDED: Final = (
    scope_facts.MARK_REMOVED,
    "DELETE FROM statement WHERE statement_id IN (SELECT statement_id FROM voided_now)",
    "DELETE FROM statement_context_activity "
    "WHERE statement_id IN (SELECT statement_id FROM voided_now)",
    "DELETE FROM outcome WHERE source = 'statement' "
    "AND statement_id IN (SELECT statement_id FROM voided_now)",
    # Seen, and now excluded. (A target not synced yet is voided when the sync reads it.)
    "INSERT INTO statement_excluded SELECT statement_id, epoch_us(stored_time), 'voided' "
    "FROM removed",
)

# Ties on event time are broken by statement id, so a rebuild gives the same rows.
_NEWEST = "{'t': event_time, 'id': statement_id}"


# 5b. Activities as statement objects: the batch's rows merge into activity_object; the
#     activities of removed rows are recounted from `statement`.
def _object_stats(source: str) -> str:
    return f"""SELECT object_id, min(event_time), max(event_time), count(*),
        arg_max(activity_type, {_NEWEST}), max({_NEWEST}) FILTER (WHERE activity_type IS NOT NULL),
        arg_max(object_name, {_NEWEST}), max({_NEWEST}) FILTER (WHERE object_name IS NOT NULL)
    FROM {source}
    WHERE object_type = 'Activity' AND object_id IS NOT NULL
    GROUP BY object_id"""


def _newer(column: str, at: str) -> str:
    return (
        f"{column} = CASE WHEN b.{at} IS NOT NULL AND (o.{at} IS NULL "
        f"OR b.{at} > o.{at}) THEN b.{column} ELSE o.{column} END"
    )


_OBJECT_COLUMNS = (
    "activity_id, first_event_time, last_event_time, statements, activity_type, type_at, "
    "name, name_at"
)
# No index on activity_object (DuckDB rewrites an index whole at each checkpoint): a hash join
# updates the known activities, an anti join inserts the new ones.
MERGE_OBJECTS: Final = (
    f"CREATE OR REPLACE TEMP TABLE batch_objects ({_OBJECT_COLUMNS}) AS " + _object_stats("flat"),
    f"""UPDATE activity_object o SET
        first_event_time = least(o.first_event_time, b.first_event_time),
        last_event_time = greatest(o.last_event_time, b.last_event_time),
        statements = o.statements + b.statements,
        {_newer("activity_type", "type_at")},
        type_at = greatest(o.type_at, b.type_at),
        {_newer("name", "name_at")},
        name_at = greatest(o.name_at, b.name_at)
    FROM batch_objects b WHERE o.activity_id = b.activity_id""",
    "INSERT INTO activity_object SELECT b.* FROM batch_objects b "
    "ANTI JOIN activity_object o ON o.activity_id = b.activity_id",
    "DROP TABLE batch_objects",
)
RECOUNT_OBJECTS: Final = (
    """CREATE OR REPLACE TEMP TABLE recount AS
       SELECT DISTINCT object_id FROM removed
       WHERE object_type = 'Activity' AND object_id IS NOT NULL""",
    "DELETE FROM activity_object WHERE activity_id IN (SELECT object_id FROM recount)",
    "INSERT INTO activity_object "
    + _object_stats("(SELECT * FROM statement WHERE object_id IN (SELECT object_id FROM recount))"),
    "DROP TABLE recount",
)

# 6. The keys this batch touched (new rows and removed ones) become dirty.
MARK_DIRTY: Final = (
    """CREATE OR REPLACE TEMP TABLE touched AS
       SELECT actor_type, actor_key, object_type, object_id, registration FROM flat
       UNION ALL
       SELECT actor_type, actor_key, object_type, object_id, registration FROM removed""",
    """INSERT INTO dirty_learner_activity
       SELECT DISTINCT actor_key, object_id, coalesce(registration, '') FROM touched
       WHERE actor_type = 'Agent' AND object_type = 'Activity'
         AND actor_key IS NOT NULL AND object_id IS NOT NULL""",
    "INSERT INTO dirty_actor SELECT DISTINCT actor_key FROM touched WHERE actor_key IS NOT NULL",
    """INSERT INTO dirty_activity SELECT DISTINCT object_id FROM touched
       WHERE object_type = 'Activity' AND object_id IS NOT NULL""",
    scope_facts.MARK_NEW,
)

# 7. Derived tables, recomputed from `statement` for the dirty keys (once per run).
_ROLES = """(
    SELECT verb_id,
        bool_or(role = 'engage') AS engage, bool_or(role = 'complete') AS complete,
        bool_or(role = 'proficient') AS proficient, bool_or(role = 'fail') AS fail,
        bool_or(role = 'waived') AS waived, bool_or(role = 'session_end') AS session_end
    FROM verb_role GROUP BY verb_id
)"""
_ATTEMPT_VERBS = ", ".join(_q(ADL + v) for v in ("passed", "failed", "mastered"))

REFRESH: Final = (
    """CREATE OR REPLACE TEMP TABLE touched_la AS
       SELECT DISTINCT learner_key, activity_id, reg FROM dirty_learner_activity""",
    """DELETE FROM learner_activity la USING touched_la t
       WHERE la.learner_key = t.learner_key AND la.activity_id = t.activity_id
         AND coalesce(la.registration, '') = t.reg""",
    f"""INSERT INTO learner_activity
    SELECT s.actor_key, s.object_id, s.registration,
        min(s.event_time), max(s.event_time), count(*),
        min(s.event_time) FILTER (WHERE s.verb_id = {_q(LAUNCHED)}),
        min(s.event_time) FILTER (WHERE r.engage),
        min(s.event_time) FILTER (WHERE r.complete OR s.completion),
        min(s.event_time) FILTER (WHERE r.proficient AND s.success IS DISTINCT FROM false),
        min(s.event_time) FILTER (WHERE r.fail),
        min(s.event_time) FILTER (WHERE r.waived),
        count(*) FILTER (WHERE s.verb_id = {_q(LAUNCHED)}),
        count(*) FILTER (WHERE s.verb_id IN ({_ATTEMPT_VERBS})),
        count(*) FILTER (WHERE r.fail),
        max(s.score_scaled),
        sum(s.duration_seconds) FILTER (WHERE r.session_end)
    FROM statement s
    SEMI JOIN touched_la t
        ON s.actor_key = t.learner_key AND s.object_id = t.activity_id
       AND coalesce(s.registration, '') = t.reg
    LEFT JOIN {_ROLES} r ON r.verb_id = s.verb_id
    WHERE s.actor_type = 'Agent' AND s.object_type = 'Activity'
    GROUP BY s.actor_key, s.object_id, s.registration""",
    """CREATE OR REPLACE TEMP TABLE touched_actor AS
       SELECT DISTINCT actor_key FROM dirty_actor""",
    "DELETE FROM actor WHERE actor_key IN (SELECT actor_key FROM touched_actor)",
    f"""INSERT INTO actor
    SELECT actor_key, arg_max(actor_type, {_NEWEST}), lrs_ifi_type(actor_key),
        arg_max(actor_name, {_NEWEST}), min(event_time), max(event_time), count(*)
    FROM statement WHERE actor_key IN (SELECT actor_key FROM touched_actor)
    GROUP BY actor_key""",
    """CREATE OR REPLACE TEMP TABLE touched_activity AS
       SELECT DISTINCT activity_id FROM dirty_activity""",
    "DELETE FROM activity WHERE activity_id IN (SELECT activity_id FROM touched_activity)",
    """INSERT INTO activity
    SELECT t.activity_id,
        coalesce(json_extract_string(d.definition, '$.type'), o.activity_type),
        coalesce(lrs_lang(json_extract_string(d.definition, '$.name')), o.name),
        lrs_lang(json_extract_string(d.definition, '$.description')),
        d.definition, o.first_event_time, o.last_event_time, coalesce(o.statements, 0)
    FROM touched_activity t
    LEFT JOIN activity_definition d ON d.activity_id = t.activity_id
    LEFT JOIN activity_object o ON o.activity_id = t.activity_id
    WHERE d.activity_id IS NOT NULL OR o.activity_id IS NOT NULL""",
    "DELETE FROM dirty_learner_activity",
    "DELETE FROM dirty_actor",
    "DELETE FROM dirty_activity",
    "DROP TABLE IF EXISTS touched_la",
    "DROP TABLE IF EXISTS touched_actor",
    "DROP TABLE IF EXISTS touched_activity",
)

DIRTY_COUNT: Final = f"""
SELECT (SELECT count(*) FROM dirty_learner_activity) + (SELECT count(*) FROM dirty_actor)
     + (SELECT count(*) FROM dirty_activity) + ({scope_facts.DIRTY.strip()})
"""

DROP_TEMP: Final = tuple(
    f"DROP TABLE IF EXISTS {name}"
    for name in ("batch", "flat", "flat_ca", "voided_now", "removed", "touched")
)
