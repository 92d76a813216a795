"""The warehouse schema: the BI tables of ANALYTICS.md section 6 and the sync's bookkeeping.

Every BI table is flat and snake_case. Times are ``TIMESTAMPTZ`` in UTC (the connection's time
zone is UTC), dates are ``DATE``, JSON sub-objects (extensions, definitions) are JSON text.
Learner keys follow ANALYTICS.md section 1 (``mbox::mailto:a@b.c``, ``mbox_sha1sum::<hex>``,
``openid::<uri>``, ``account::<name>@<homePage>``).

``SCHEMA_VERSION`` changes whenever a table changes shape; a warehouse of another version is
rebuilt from the store by the next sync (it is a derived copy, nothing is lost).
"""

from __future__ import annotations

from typing import Final

from analytics.warehouse import scope_facts

SCHEMA_VERSION: Final = 3

# The BI tables, in export order, with their columns (name, DuckDB type). Exports and the
# README document exactly these.
BI_TABLES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    # One row per statement that is neither voided nor voiding (ANALYTICS.md section 1).
    "statement": (
        ("statement_id", "VARCHAR"),
        ("seq", "BIGINT"),
        ("event_time", "TIMESTAMPTZ"),
        ("stored_time", "TIMESTAMPTZ"),
        ("actor_type", "VARCHAR"),
        ("actor_key", "VARCHAR"),
        ("actor_name", "VARCHAR"),
        ("verb_id", "VARCHAR"),
        ("verb_display", "VARCHAR"),
        ("object_type", "VARCHAR"),
        ("object_id", "VARCHAR"),
        ("activity_type", "VARCHAR"),
        ("object_name", "VARCHAR"),
        ("score_scaled", "DOUBLE"),
        ("score_raw", "DOUBLE"),
        ("score_min", "DOUBLE"),
        ("score_max", "DOUBLE"),
        ("success", "BOOLEAN"),
        ("completion", "BOOLEAN"),
        ("duration_seconds", "DOUBLE"),
        ("registration", "VARCHAR"),
        ("parent_id", "VARCHAR"),
        ("grouping_id", "VARCHAR"),
        ("platform", "VARCHAR"),
        ("language", "VARCHAR"),
        ("authority_key", "VARCHAR"),
        ("authority_name", "VARCHAR"),
        ("result_extensions", "VARCHAR"),
        ("context_extensions", "VARCHAR"),
        ("version", "VARCHAR"),
    ),
    # Every context activity of a statement: usage parent/grouping/category/other, position in
    # its list (from 0).
    "statement_context_activity": (
        ("statement_id", "VARCHAR"),
        ("event_time", "TIMESTAMPTZ"),
        ("usage", "VARCHAR"),
        ("position", "INTEGER"),
        ("activity_id", "VARCHAR"),
    ),
    # Every actor (Agent or identified Group) of a statement.
    "actor": (
        ("actor_key", "VARCHAR"),
        ("actor_type", "VARCHAR"),
        ("ifi_type", "VARCHAR"),
        ("name", "VARCHAR"),
        ("first_event_time", "TIMESTAMPTZ"),
        ("last_event_time", "TIMESTAMPTZ"),
        ("statements", "BIGINT"),
    ),
    # Every activity the LRS knows (canonical definition, else the newest one seen in a
    # statement object), with its use as a statement object.
    "activity": (
        ("activity_id", "VARCHAR"),
        ("activity_type", "VARCHAR"),
        ("name", "VARCHAR"),
        ("description", "VARCHAR"),
        ("definition", "VARCHAR"),
        ("first_event_time", "TIMESTAMPTZ"),
        ("last_event_time", "TIMESTAMPTZ"),
        ("statements", "BIGINT"),
    ),
    # Per (learner, activity, registration): first/best values (ANALYTICS.md section 1: never
    # weigh raw statements). Learners are Agent actors; the activity is the statement object.
    "learner_activity": (
        ("learner_key", "VARCHAR"),
        ("activity_id", "VARCHAR"),
        ("registration", "VARCHAR"),
        ("first_event_time", "TIMESTAMPTZ"),
        ("last_event_time", "TIMESTAMPTZ"),
        ("statements", "BIGINT"),
        ("first_launch_time", "TIMESTAMPTZ"),
        ("first_engaged_time", "TIMESTAMPTZ"),
        ("completed_time", "TIMESTAMPTZ"),
        ("passed_time", "TIMESTAMPTZ"),
        ("first_failed_time", "TIMESTAMPTZ"),
        ("waived_time", "TIMESTAMPTZ"),
        ("launches", "BIGINT"),
        ("attempts", "BIGINT"),
        ("fails", "BIGINT"),
        ("best_score_scaled", "DOUBLE"),
        ("time_spent_seconds", "DOUBLE"),
    ),
    # Uploaded outcomes and outcome statements (ANALYTICS.md section 1).
    "outcome": (
        ("outcome_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("statement_id", "VARCHAR"),
        ("subject_type", "VARCHAR"),
        ("subject", "VARCHAR"),
        ("metric_id", "VARCHAR"),
        ("period_start", "DATE"),
        ("period_end", "DATE"),
        ("value", "DOUBLE"),
        ("target", "DOUBLE"),
        ("baseline", "DOUBLE"),
        ("unit", "VARCHAR"),
    ),
    # The uploaded roster (ANALYTICS.md section 1).
    "roster": (
        ("learner_key", "VARCHAR"),
        ("hr_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("hire_date", "DATE"),
        ("leave_date", "DATE"),
        ("team", "VARCHAR"),
        ("role", "VARCHAR"),
        ("region", "VARCHAR"),
        ("manager", "VARCHAR"),
    ),
}

# Internal columns some BI tables carry after their documented ones: flattened at sync time for
# the metrics' hot paths (ANALYTICS.md sections 2 and 3), never exported (exports select the
# BI_TABLES columns) and not in the PostgreSQL views.
MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
REQUEST_ID_SUFFIX: Final = "/request-id"
DUE_DATE_SUFFIX: Final = "/due-date"
INTERNAL_COLUMNS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "statement": (
        # The cmi5 masteryscore context extension as a number (the scored-pass rule).
        ("mastery_score", "DOUBLE"),
        # The first context extension whose IRI ends in REQUEST_ID_SUFFIX, as text.
        ("request_id", "VARCHAR"),
        # The first context extension whose IRI ends in DUE_DATE_SUFFIX as an instant (a date
        # without a time: the end of that day, UTC).
        ("due_at", "TIMESTAMPTZ"),
    ),
    # The statement's seq: a cheap key to join on (the statement id is dear to read).
    "statement_context_activity": (("seq", "BIGINT"),),
}

# Tables with an event time: exported to Parquet partitioned by event month.
PARTITIONED: Final = frozenset({"statement", "statement_context_activity"})

# Columns that hold learner keys (and so e-mail addresses): hashed in exports unless asked.
KEY_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "statement": ("actor_key", "authority_key"),
    "actor": ("actor_key",),
    "learner_activity": ("learner_key",),
    "roster": ("learner_key", "manager"),
}

# ANALYTICS.md section 1, "Verb roles" (defaults). Activity-streams verbs also in their old
# http://activitystrea.ms/schema/1.0/ form.
ADL: Final = "http://adlnet.gov/expapi/verbs/"
AS_OLD: Final = "http://activitystrea.ms/schema/1.0/"
DEFAULT_VERB_ROLES: Final[tuple[tuple[str, str], ...]] = (
    *((ADL + v, "engage") for v in ("launched", "initialized", "attempted", "experienced")),
    *((ADL + v, "engage") for v in ("progressed", "interacted", "answered")),
    ("https://w3id.org/xapi/video/verbs/played", "engage"),
    (ADL + "completed", "complete"),
    ("https://w3id.org/xapi/adl/verbs/satisfied", "complete"),
    (ADL + "satisfied", "complete"),
    (ADL + "passed", "proficient"),
    (ADL + "mastered", "proficient"),
    ("https://w3id.org/xapi/adl/verbs/satisfied", "proficient"),
    (ADL + "satisfied", "proficient"),
    (ADL + "failed", "fail"),
    ("https://w3id.org/xapi/adl/verbs/waived", "waived"),
    (ADL + "terminated", "session_end"),
    ("https://w3id.org/xapi/adl/verbs/abandoned", "session_end"),
    (ADL + "registered", "register"),
    ("http://id.tincanapi.com/verb/unregistered", "leave"),
    ("https://w3id.org/xapi/acrossx/verbs/was-assigned", "assign"),
    ("http://activitystrea.ms/assign", "assign"),
    (AS_OLD + "assign", "assign"),
    ("https://w3id.org/xapi/tla/verbs/assigned", "assign"),
    ("http://activitystrea.ms/request", "request"),
    (AS_OLD + "request", "request"),
    ("https://w3id.org/xapi/adb/verbs/requested", "request"),
    ("http://activitystrea.ms/approve", "approve"),
    (AS_OLD + "approve", "approve"),
    ("https://w3id.org/xapi/tla/verbs/approved", "approve"),
    ("https://w3id.org/xapi/dod-isd/verbs/published", "publish"),
)

LAUNCHED: Final = ADL + "launched"

# Outcome statements (ANALYTICS.md section 1).
CLOSED_SALE: Final = "http://id.tincanapi.com/verb/closed-sale"
MONETARY_VALUE: Final = "http://id.tincanapi.com/extension/monetary-value"
KEY_RESULT_TYPE_SUFFIX: Final = "/key-result"
"""A key-result check-in is a statement about an activity whose type IRI ends with this."""


def _columns(table: str) -> str:
    columns = (*BI_TABLES[table], *INTERNAL_COLUMNS.get(table, ()))
    return ", ".join(f"{name} {kind}" for name, kind in columns)


DDL: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS sync_state (
        id INTEGER PRIMARY KEY,
        schema_version INTEGER NOT NULL,
        hwm_stored_us BIGINT,
        hwm_seq BIGINT,
        activities_since_us BIGINT NOT NULL DEFAULT 0,
        roster_fingerprint VARCHAR,
        outcomes_fingerprint VARCHAR,
        last_sync_started_us BIGINT,
        last_sync_finished_us BIGINT,
        -- learner_scope is rebuilt whole by the next refresh (analytics.warehouse.scope_facts).
        scope_rebuild BOOLEAN NOT NULL DEFAULT true
    )""",
    *(f"CREATE TABLE IF NOT EXISTS {table} ({_columns(table)})" for table in BI_TABLES),
    # Ids the sync has seen but keeps out of `statement`: voiding statements, voided ones.
    """CREATE TABLE IF NOT EXISTS statement_excluded (
        statement_id VARCHAR, stored_us BIGINT, reason VARCHAR
    )""",
    # The LRS's canonical activity definitions (Communication 2.5), copied incrementally.
    """CREATE TABLE IF NOT EXISTS activity_definition (
        activity_id VARCHAR PRIMARY KEY, definition VARCHAR, updated_us BIGINT
    )""",
    "CREATE TABLE IF NOT EXISTS verb_role (verb_id VARCHAR, role VARCHAR)",
    # Each activity's use as a statement object, kept up to date batch by batch (sums and
    # extremes merge; a voided statement's activities are recounted), so that refreshing
    # `activity` never scans the whole statement table.
    """CREATE TABLE IF NOT EXISTS activity_object (
        activity_id VARCHAR,
        first_event_time TIMESTAMPTZ,
        last_event_time TIMESTAMPTZ,
        statements BIGINT,
        activity_type VARCHAR,
        type_at STRUCT(t TIMESTAMPTZ, id VARCHAR),
        name VARCHAR,
        name_at STRUCT(t TIMESTAMPTZ, id VARCHAR)
    )""",
    # Keys whose derived rows (actor, activity, learner_activity) are out of date: batches add
    # to them in their transaction, and one refresh at the end of a run empties them, so a
    # million-statement sync recomputes each key once, not once per batch.
    "CREATE TABLE IF NOT EXISTS dirty_actor (actor_key VARCHAR)",
    "CREATE TABLE IF NOT EXISTS dirty_activity (activity_id VARCHAR)",
    """CREATE TABLE IF NOT EXISTS dirty_learner_activity (
        learner_key VARCHAR, activity_id VARCHAR, reg VARCHAR
    )""",
    *scope_facts.DDL,
)

# Helpers every connection defines (TEMP: nothing of them is stored in the file).
MACROS: Final[tuple[str, ...]] = (
    # mailto: scheme and the domain lower-cased (xAPI Data 2.4.2.3; the local part is kept).
    """CREATE OR REPLACE TEMP MACRO lrs_mbox(m) AS (
        CASE WHEN strpos(m, '@') = 0 THEN m ELSE
            left(m, length(m) - strpos(reverse(m), '@') + 1)
            || lower(right(m, strpos(reverse(m), '@') - 1))
        END
    )""",
    """CREATE OR REPLACE TEMP MACRO lrs_learner_key(mbox, sha1, openid, home, name) AS (
        CASE
            WHEN mbox IS NOT NULL THEN 'mbox::' || CASE
                -- Fast path: already lower-case (scheme and domain need nothing).
                WHEN lower(mbox) = mbox THEN mbox
                ELSE lrs_mbox(CASE WHEN lower(left(mbox, 7)) = 'mailto:'
                                   THEN 'mailto:' || mbox[8:] ELSE mbox END)
            END
            WHEN sha1 IS NOT NULL THEN 'mbox_sha1sum::' || lower(sha1)
            WHEN openid IS NOT NULL THEN 'openid::' || openid
            WHEN home IS NOT NULL OR name IS NOT NULL THEN 'account::' || name || '@' || home
        END
    )""",
    # The store's agent key (lrs.xapi.ifi.agent_key) as a learner key: only the account form
    # differs, 'account::<len(homePage)>:<homePage>::<name>' -> 'account::<name>@<homePage>'.
    """CREATE OR REPLACE TEMP MACRO lrs_from_store_key(k) AS (
        CASE WHEN k LIKE 'account::%' THEN list_transform(
            [{'rest': k[10:], 'colon': strpos(k[10:], ':')}],
            lambda a: list_transform(
                [{'rest': a.rest, 'colon': a.colon,
                  'size': try_cast(a.rest[1:a.colon - 1] AS INTEGER)}],
                lambda b: 'account::' || b.rest[b.colon + b.size + 3:] || '@'
                    || b.rest[b.colon + 1:b.colon + b.size])[1])[1]
        ELSE k END
    )""",
    # An agent key's IFI type: mbox, mbox_sha1sum, openid or account.
    "CREATE OR REPLACE TEMP MACRO lrs_ifi_type(k) AS split_part(k, '::', 1)",
    # A language map's en-US entry, else the entry of the smallest language tag.
    """CREATE OR REPLACE TEMP MACRO lrs_lang(m) AS (
        coalesce(json_extract_string(m, '$."en-US"'),
                 json_extract_string(m, '$."' || list_min(json_keys(m)) || '"'))
    )""",
    # ISO 8601 duration in seconds (a year is 365 days, a month 30). The lambda binds the
    # parsed parts once.
    r"""CREATE OR REPLACE TEMP MACRO lrs_duration(duration_text) AS (
        list_transform([regexp_extract(duration_text,
            '^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?'
            || '(?:(\d+(?:\.\d+)?)D)?'
            || '(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$',
            ['py', 'pmo', 'pw', 'pd', 'ph', 'pmi', 'ps'])],
            lambda p: CASE
                WHEN coalesce(p.py || p.pmo || p.pw || p.pd || p.ph || p.pmi || p.ps, '') = ''
                THEN NULL
                ELSE coalesce(try_cast(p.py AS DOUBLE), 0) * 31536000
                   + coalesce(try_cast(p.pmo AS DOUBLE), 0) * 2592000
                   + coalesce(try_cast(p.pw AS DOUBLE), 0) * 604800
                   + coalesce(try_cast(p.pd AS DOUBLE), 0) * 86400
                   + coalesce(try_cast(p.ph AS DOUBLE), 0) * 3600
                   + coalesce(try_cast(p.pmi AS DOUBLE), 0) * 60
                   + coalesce(try_cast(p.ps AS DOUBLE), 0) END)[1]
    )""",
    # Microseconds since the epoch as an instant.
    "CREATE OR REPLACE TEMP MACRO lrs_time(us) AS make_timestamp(us)::TIMESTAMPTZ",
    # The export form of a learner key: an mbox becomes its xAPI mbox_sha1sum (SHA-1 of the
    # mailto IRI), so hashed keys still join across tables and with mbox_sha1sum learners.
    """CREATE OR REPLACE TEMP MACRO lrs_hash_key(k) AS (
        CASE WHEN k LIKE 'mbox::%' THEN 'mbox_sha1sum::' || sha1(k[7:]) ELSE k END
    )""",
)
