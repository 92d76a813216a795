"""SQLAlchemy Core tables. The Alembic revisions create exactly these (a test checks drift).

Times are stored as integer microseconds since the Unix epoch (UTC): one portable, compact,
totally ordered representation on PostgreSQL and SQLite. The statement JSON is stored as text,
exactly as it will be served with ``format=exact``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (auto-increment); Postgres wants
# a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

credentials = Table(
    "credentials",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("secret_hash", String(255), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("authority", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
)

statements = Table(
    "statements",
    metadata,
    # Time-ordered key: orders results, bounds paging cursors (DESIGN.md principle 4).
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("stored_us", BigInteger, nullable=False),
    Column("timestamp_us", BigInteger, nullable=False),
    Column("verb_id", Text, nullable=False),
    Column("registration", String(36), nullable=True),
    Column("statement_ref_id", String(36), nullable=True),
    Column("voided", Boolean, nullable=False, default=False),
    Column("is_voiding", Boolean, nullable=False, default=False),
    Column("authority_key", Text, nullable=True),
    Column("version", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    # For a StatementRef: the target's verb and registration, copied at write time (or when the
    # target arrives) so that "Filter Conditions for StatementRefs" are index lookups too.
    Column("target_verb_id", Text, nullable=True),
    Column("target_registration", String(36), nullable=True),
    # Results are ordered by (stored, seq) (Communication 2.1.3: newest stored first), so every
    # filter's index ends with those two columns and since/until are ranges of the same index.
    Index("ix_statements_stored", "stored_us", "seq"),
    Index("ix_statements_verb_id_stored", "verb_id", "stored_us", "seq"),
    Index("ix_statements_registration_stored", "registration", "stored_us", "seq"),
    Index(
        "ix_statements_statement_ref_id",
        "statement_ref_id",
        postgresql_where=text("statement_ref_id IS NOT NULL"),
        sqlite_where=text("statement_ref_id IS NOT NULL"),
    ),
    Index("ix_statements_authority_key_stored", "authority_key", "stored_us", "seq"),
    Index(
        "ix_statements_target_verb_id_stored",
        "target_verb_id",
        "stored_us",
        "seq",
        postgresql_where=text("target_verb_id IS NOT NULL"),
        sqlite_where=text("target_verb_id IS NOT NULL"),
    ),
    Index(
        "ix_statements_target_registration_stored",
        "target_registration",
        "stored_us",
        "seq",
        postgresql_where=text("target_registration IS NOT NULL"),
        sqlite_where=text("target_registration IS NOT NULL"),
    ),
)

# Usages the plain `agent` / `activity` filters match (lrs.xapi.index AGENT_USAGES_DIRECT and
# ACTIVITY_USAGES_DIRECT); partial indexes on them keep those queries off the other rows.
DIRECT_AGENT_USAGES = ("Actor", "ActorMember", "Object", "ObjectMember")
DIRECT_ACTIVITY_USAGES = ("Object",)


def _in_list(values: tuple[str, ...]) -> str:
    return "usage IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _link_table(name: str, key: str, direct: tuple[str, ...]) -> Table:
    """(statement, key, usage) rows: every agent or activity a statement mentions, and where."""
    # The primary key is the query order: a key's rows newest first are one index range (the
    # statement's stored time is copied here for that). It is unique because stored_us is a
    # function of statement_seq.
    return Table(
        name,
        metadata,
        Column(key, Text, primary_key=True),
        Column("stored_us", BigInteger, primary_key=True),
        Column(
            "statement_seq",
            BigId,
            ForeignKey("statements.seq", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("usage", String(24), primary_key=True),
        Index(
            f"ix_{name}_{key}_stored_direct",
            key,
            "stored_us",
            "statement_seq",
            postgresql_where=text(_in_list(direct)),
            sqlite_where=text(_in_list(direct)),
        ),
    )


statement_agents = _link_table("statement_agents", "agent_key", DIRECT_AGENT_USAGES)
statement_activities = _link_table("statement_activities", "activity_id", DIRECT_ACTIVITY_USAGES)
# The same for the target of a StatementRef, recorded on the referencing statement.
statement_ref_agents = _link_table("statement_ref_agents", "agent_key", DIRECT_AGENT_USAGES)
statement_ref_activities = _link_table(
    "statement_ref_activities", "activity_id", DIRECT_ACTIVITY_USAGES
)

attachments = Table(
    "attachments",
    metadata,
    Column("sha2", String(128), primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("activity_id", Text, primary_key=True),
    Column("definition", Text, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    # The analytics sync copies the definitions changed since its last run.
    Index("ix_activities_updated", "updated_us"),
)

agents = Table(
    "agents",
    metadata,
    Column("agent_key", Text, primary_key=True),
    Column("ifi", Text, nullable=False),
)

agent_names = Table(
    "agent_names",
    metadata,
    Column("agent_key", Text, primary_key=True),
    Column("name", Text, primary_key=True),
)

documents = Table(
    "documents",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    # 'state', 'activity_profile' or 'agent_profile'; unused key parts are '' (not NULL) so that
    # the unique constraint holds on both databases.
    Column("kind", String(20), nullable=False),
    Column("activity_id", Text, nullable=False),
    Column("agent_key", Text, nullable=False),
    Column("registration", String(36), nullable=False),
    Column("doc_id", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("kind", "activity_id", "agent_key", "registration", "doc_id"),
)

# Uploaded analytics tables (ANALYTICS.md section 1). They live in the LRS database, not in the
# DuckDB warehouse, so that the warehouse keeps a single writer: the sync copies them over.
analytics_roster = Table(
    "analytics_roster",
    metadata,
    Column("learner_key", Text, primary_key=True),
    Column("hr_id", Text, nullable=True),
    Column("name", Text, nullable=True),
    Column("hire_date", Date, nullable=True),
    Column("leave_date", Date, nullable=True),
    Column("team", Text, nullable=True),
    Column("role", Text, nullable=True),
    Column("region", Text, nullable=True),
    Column("manager", Text, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
)

analytics_outcomes = Table(
    "analytics_outcomes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # 'learner' (subject is a learner key) or 'team' (subject is a roster team name).
    Column("subject_type", String(16), nullable=False),
    Column("subject", Text, nullable=False),
    Column("metric_id", Text, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("value", Double, nullable=False),
    Column("target", Double, nullable=True),
    Column("baseline", Double, nullable=True),
    Column("unit", Text, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint(
        "subject_type",
        "subject",
        "metric_id",
        "period_start",
        "period_end",
        name="uq_analytics_outcomes_key",
    ),
)

# KPI and OKR definitions (ANALYTICS.md section 5): configuration, like the roster, so they
# live in the LRS database and survive warehouse rebuilds. Filters, options and lists are JSON
# text in the shapes the analytics API takes.
analytics_kpis = Table(
    "analytics_kpis",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("measure", String(64), nullable=False),
    Column("filters", Text, nullable=False),
    Column("options", Text, nullable=False),
    Column("target", Double, nullable=False),
    # 'higher_is_better' or 'lower_is_better'.
    Column("direction", String(20), nullable=False),
    Column("green", Double, nullable=False),
    Column("amber", Double, nullable=False),
    # 'week', 'month' or 'quarter'.
    Column("period", String(16), nullable=False),
    Column("trend_periods", Integer, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

analytics_okrs = Table(
    "analytics_okrs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("objective", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

analytics_key_results = Table(
    "analytics_key_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "okr_id",
        BigId,
        ForeignKey("analytics_okrs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    # 'outcome' (metric is an outcome metric id) or 'measure' (a built-in measure name).
    Column("metric_type", String(16), nullable=False),
    Column("metric", Text, nullable=False),
    Column("aggregation", String(16), nullable=True),
    Column("filters", Text, nullable=False),
    Column("options", Text, nullable=False),
    Column("baseline", Double, nullable=False),
    Column("target", Double, nullable=False),
    Column("direction", String(20), nullable=False),
    Column("linked_activities", Text, nullable=False),
    Column("owner_team", Text, nullable=True),
    Column("owner_learners", Text, nullable=False),
    UniqueConstraint("okr_id", "position"),
)
