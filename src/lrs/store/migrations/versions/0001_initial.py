"""Initial schema: credentials, statements with agent/activity link tables (and those of
StatementRef targets), attachments, canonical activities and agents, documents.

Statement queries are ordered index ranges: results are ordered by (stored, seq), every filter
index ends with those columns, and link rows carry their statement's stored time.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AGENT_DIRECT = ("Actor", "ActorMember", "Object", "ObjectMember")
LINKS = (
    ("statement_agents", "agent_key", _AGENT_DIRECT),
    ("statement_activities", "activity_id", ("Object",)),
    # The agents and activities of a StatementRef's target, recorded on the referrer.
    ("statement_ref_agents", "agent_key", _AGENT_DIRECT),
    ("statement_ref_activities", "activity_id", ("Object",)),
)


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("authority", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint("key", name="uq_credentials_key"),
    )
    op.create_table(
        "statements",
        sa.Column("seq", BigId, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("stored_us", sa.BigInteger, nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
        sa.Column("verb_id", sa.Text, nullable=False),
        sa.Column("registration", sa.String(36), nullable=True),
        sa.Column("statement_ref_id", sa.String(36), nullable=True),
        sa.Column("voided", sa.Boolean, nullable=False),
        sa.Column("is_voiding", sa.Boolean, nullable=False),
        sa.Column("authority_key", sa.Text, nullable=True),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("target_verb_id", sa.Text, nullable=True),
        sa.Column("target_registration", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_statements"),
        sa.UniqueConstraint("id", name="uq_statements_id"),
    )
    for name, columns in {
        "ix_statements_stored": ["stored_us", "seq"],
        "ix_statements_verb_id_stored": ["verb_id", "stored_us", "seq"],
        "ix_statements_registration_stored": ["registration", "stored_us", "seq"],
        "ix_statements_authority_key_stored": ["authority_key", "stored_us", "seq"],
    }.items():
        op.create_index(name, "statements", columns)
    op.create_index(
        "ix_statements_statement_ref_id",
        "statements",
        ["statement_ref_id"],
        postgresql_where=sa.text("statement_ref_id IS NOT NULL"),
        sqlite_where=sa.text("statement_ref_id IS NOT NULL"),
    )
    for column in ("target_verb_id", "target_registration"):
        op.create_index(
            f"ix_statements_{column}_stored",
            "statements",
            [column, "stored_us", "seq"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    for table, key, direct in LINKS:
        # Primary key = query order (key, stored, seq); partial index for the plain filters.
        op.create_table(
            table,
            sa.Column(key, sa.Text, nullable=False),
            sa.Column("stored_us", sa.BigInteger, nullable=False),
            sa.Column("statement_seq", BigId, nullable=False),
            sa.Column("usage", sa.String(24), nullable=False),
            sa.PrimaryKeyConstraint(key, "stored_us", "statement_seq", "usage", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["statement_seq"],
                ["statements.seq"],
                name=f"fk_{table}_statement_seq_statements",
                ondelete="CASCADE",
            ),
        )
        predicate = sa.text("usage IN (" + ", ".join(f"'{u}'" for u in direct) + ")")
        op.create_index(
            f"ix_{table}_{key}_stored_direct",
            table,
            [key, "stored_us", "statement_seq"],
            postgresql_where=predicate,
            sqlite_where=predicate,
        )
    op.create_table(
        "attachments",
        sa.Column("sha2", sa.String(128), nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("sha2", name="pk_attachments"),
    )
    op.create_table(
        "activities",
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=True),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("activity_id", name="pk_activities"),
    )
    op.create_table(
        "agents",
        sa.Column("agent_key", sa.Text, nullable=False),
        sa.Column("ifi", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("agent_key", name="pk_agents"),
    )
    op.create_table(
        "agent_names",
        sa.Column("agent_key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("agent_key", "name", name="pk_agent_names"),
    )
    op.create_table(
        "documents",
        sa.Column("seq", BigId, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("agent_key", sa.Text, nullable=False),
        sa.Column("registration", sa.String(36), nullable=False),
        sa.Column("doc_id", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_documents"),
        sa.UniqueConstraint(
            "kind",
            "activity_id",
            "agent_key",
            "registration",
            "doc_id",
            name="uq_documents_kind_activity_id_agent_key_registration_doc_id",
        ),
    )


def downgrade() -> None:
    for table in (
        "documents",
        "agent_names",
        "agents",
        "activities",
        "attachments",
        "statement_ref_activities",
        "statement_ref_agents",
        "statement_activities",
        "statement_agents",
        "statements",
        "credentials",
    ):
        op.drop_table(table)
