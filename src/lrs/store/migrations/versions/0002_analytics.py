"""Analytics: uploaded roster and outcome tables; on PostgreSQL, flattened statement views.

The roster and outcomes (ANALYTICS.md section 1) are uploaded into the LRS database, so that the
DuckDB warehouse keeps a single writer (the sync copies them over).

On PostgreSQL only, ``analytics_statement`` and ``analytics_statement_context_activity`` are
views of the non-voided statements flattened like the warehouse's ``statement`` and
``statement_context_activity`` tables (ANALYTICS.md section 6), for BI tools that connect to
PostgreSQL directly. They parse the payload on every query: for heavy analysis use the
warehouse or its exports. Two helper functions come with them: ``analytics_learner_key(jsonb)``
(the ANALYTICS.md section 1 learner key of an Agent or Group) and
``analytics_duration_seconds(text)`` (an ISO 8601 duration in seconds).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The learner key of ANALYTICS.md section 1: mbox (scheme and domain lower-cased),
# mbox_sha1sum (lower-cased), openid, or account as name@homePage. NULL: anonymous group.
_LEARNER_KEY = r"""
CREATE FUNCTION analytics_learner_key(agent jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN agent->>'mbox' IS NOT NULL THEN 'mbox::' || (
            SELECT CASE
                WHEN position('@' IN m) = 0 THEN m
                ELSE substring(m FROM '^(.*@)[^@]*$') || lower(substring(m FROM '@([^@]*)$'))
            END
            FROM (SELECT CASE WHEN lower(left(agent->>'mbox', 7)) = 'mailto:'
                         THEN 'mailto:' || substr(agent->>'mbox', 8)
                         ELSE agent->>'mbox' END AS m) AS normalised)
        WHEN agent->>'mbox_sha1sum' IS NOT NULL
            THEN 'mbox_sha1sum::' || lower(agent->>'mbox_sha1sum')
        WHEN agent->>'openid' IS NOT NULL THEN 'openid::' || (agent->>'openid')
        WHEN agent->'account' IS NOT NULL THEN
            'account::' || (agent->'account'->>'name') || '@' || (agent->'account'->>'homePage')
    END
$$
"""

# ISO 8601 durations (xAPI result.duration); a year is 365 days, a month 30.
_DURATION = r"""
CREATE FUNCTION analytics_duration_seconds(duration text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL ELSE
        coalesce(p[1]::float8, 0) * 31536000 + coalesce(p[2]::float8, 0) * 2592000
        + coalesce(p[3]::float8, 0) * 604800 + coalesce(p[4]::float8, 0) * 86400
        + coalesce(p[5]::float8, 0) * 3600 + coalesce(p[6]::float8, 0) * 60
        + coalesce(p[7]::float8, 0)
    END
    FROM (SELECT regexp_match(duration,
        '^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?'
        '(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$') AS p) AS parsed
$$
"""

# A language map's en-US entry, else the entry of the smallest language tag.
_LANG = "coalesce({m}->>'en-US', (SELECT value FROM jsonb_each_text({m}) ORDER BY key LIMIT 1))"

_STATEMENT_VIEW = f"""
CREATE VIEW analytics_statement AS
SELECT
    s.seq,
    s.id AS statement_id,
    timestamptz 'epoch' + s.timestamp_us * interval '1 microsecond' AS event_time,
    timestamptz 'epoch' + s.stored_us * interval '1 microsecond' AS stored_time,
    coalesce(p->'actor'->>'objectType', 'Agent') AS actor_type,
    analytics_learner_key(p->'actor') AS actor_key,
    p->'actor'->>'name' AS actor_name,
    s.verb_id,
    {_LANG.format(m="(p->'verb'->'display')")} AS verb_display,
    coalesce(p->'object'->>'objectType', 'Activity') AS object_type,
    CASE WHEN p->'object'->>'objectType' IN ('Agent', 'Group')
         THEN analytics_learner_key(p->'object') ELSE p->'object'->>'id' END AS object_id,
    p->'object'->'definition'->>'type' AS activity_type,
    {_LANG.format(m="(p->'object'->'definition'->'name')")} AS object_name,
    (p->'result'->'score'->>'scaled')::float8 AS score_scaled,
    (p->'result'->'score'->>'raw')::float8 AS score_raw,
    (p->'result'->'score'->>'min')::float8 AS score_min,
    (p->'result'->'score'->>'max')::float8 AS score_max,
    (p->'result'->>'success')::boolean AS success,
    (p->'result'->>'completion')::boolean AS completion,
    analytics_duration_seconds(p->'result'->>'duration') AS duration_seconds,
    s.registration,
    p->'context'->'contextActivities'->'parent'->0->>'id' AS parent_id,
    p->'context'->'contextActivities'->'grouping'->0->>'id' AS grouping_id,
    p->'context'->>'platform' AS platform,
    p->'context'->>'language' AS language,
    analytics_learner_key(p->'authority') AS authority_key,
    p->'authority'->>'name' AS authority_name,
    p->'result'->'extensions' AS result_extensions,
    p->'context'->'extensions' AS context_extensions,
    s.version
FROM statements s CROSS JOIN LATERAL (SELECT s.payload::jsonb AS p) AS j
WHERE NOT s.voided AND NOT s.is_voiding
"""

_CONTEXT_VIEW = """
CREATE VIEW analytics_statement_context_activity AS
SELECT
    s.id AS statement_id,
    timestamptz 'epoch' + s.timestamp_us * interval '1 microsecond' AS event_time,
    u.usage,
    (a.ordinality - 1)::integer AS position,
    a.value->>'id' AS activity_id
FROM statements s
CROSS JOIN LATERAL (VALUES ('parent'), ('grouping'), ('category'), ('other')) AS u(usage)
CROSS JOIN LATERAL jsonb_array_elements(
    coalesce(s.payload::jsonb->'context'->'contextActivities'->u.usage, '[]'::jsonb)
) WITH ORDINALITY AS a(value, ordinality)
WHERE NOT s.voided AND NOT s.is_voiding
"""


def upgrade() -> None:
    op.create_table(
        "analytics_roster",
        sa.Column("learner_key", sa.Text, nullable=False),
        sa.Column("hr_id", sa.Text, nullable=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("hire_date", sa.Date, nullable=True),
        sa.Column("leave_date", sa.Date, nullable=True),
        sa.Column("team", sa.Text, nullable=True),
        sa.Column("role", sa.Text, nullable=True),
        sa.Column("region", sa.Text, nullable=True),
        sa.Column("manager", sa.Text, nullable=True),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("learner_key", name="pk_analytics_roster"),
    )
    op.create_table(
        "analytics_outcomes",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("metric_id", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("target", sa.Double, nullable=True),
        sa.Column("baseline", sa.Double, nullable=True),
        sa.Column("unit", sa.Text, nullable=True),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_outcomes"),
        sa.UniqueConstraint(
            "subject_type",
            "subject",
            "metric_id",
            "period_start",
            "period_end",
            name="uq_analytics_outcomes_key",
        ),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Driver SQL: the bodies hold colons that SQLAlchemy would read as bind parameters.
        for sql in (_LEARNER_KEY, _DURATION, _STATEMENT_VIEW, _CONTEXT_VIEW):
            bind.exec_driver_sql(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW IF EXISTS analytics_statement_context_activity")
        op.execute("DROP VIEW IF EXISTS analytics_statement")
        op.execute("DROP FUNCTION IF EXISTS analytics_duration_seconds(text)")
        op.execute("DROP FUNCTION IF EXISTS analytics_learner_key(jsonb)")
    op.drop_table("analytics_outcomes")
    op.drop_table("analytics_roster")
