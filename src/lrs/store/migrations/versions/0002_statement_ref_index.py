"""Statement queries as ordered index ranges; StatementRef targets indexed on the referrer.

- Results are ordered by (stored, seq): every filter index ends with those columns, and the link
  tables carry the statement's stored time, so a page (with since/until) is one index range.
- Link indexes cover usage, with partial indexes for the usages the plain agent/activity
  filters match.
- "Filter Conditions for StatementRefs" (Communication 2.1.3) become index lookups: a
  StatementRef statement carries its target's verb and registration and, in two new link
  tables, its target's agents and activities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LINKS = (
    ("statement_agents", "agent_key", ("Actor", "ActorMember", "Object", "ObjectMember")),
    ("statement_activities", "activity_id", ("Object",)),
)
OLD_STATEMENT_INDEXES = {
    "ix_statements_stored_us": ["stored_us"],
    "ix_statements_verb_id_seq": ["verb_id", "seq"],
    "ix_statements_registration_seq": ["registration", "seq"],
    "ix_statements_authority_key_seq": ["authority_key", "seq"],
}
NEW_STATEMENT_INDEXES = {
    "ix_statements_stored": ["stored_us", "seq"],
    "ix_statements_verb_id_stored": ["verb_id", "stored_us", "seq"],
    "ix_statements_registration_stored": ["registration", "stored_us", "seq"],
    "ix_statements_authority_key_stored": ["authority_key", "stored_us", "seq"],
}


def _direct(usages: tuple[str, ...]) -> sa.TextClause:
    return sa.text("usage IN (" + ", ".join(f"'{u}'" for u in usages) + ")")


def _link_indexes(table: str, key: str, usages: tuple[str, ...]) -> None:
    op.create_index(
        f"ix_{table}_{key}_stored_usage", table, [key, "stored_us", "statement_seq", "usage"]
    )
    op.create_index(
        f"ix_{table}_{key}_stored_direct",
        table,
        [key, "stored_us", "statement_seq"],
        postgresql_where=_direct(usages),
        sqlite_where=_direct(usages),
    )


def upgrade() -> None:
    for name in OLD_STATEMENT_INDEXES:
        op.drop_index(name, table_name="statements")
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("target_verb_id", sa.Text, nullable=True))
        batch.add_column(sa.Column("target_registration", sa.String(36), nullable=True))
    for name, columns in NEW_STATEMENT_INDEXES.items():
        op.create_index(name, "statements", columns)
    for column in ("target_verb_id", "target_registration"):
        op.create_index(
            f"ix_statements_{column}_stored",
            "statements",
            [column, "stored_us", "seq"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    for table, key, usages in LINKS:
        op.drop_index(f"ix_{table}_{key}_seq", table_name=table)
        op.add_column(table, sa.Column("stored_us", sa.BigInteger, nullable=True))
        op.execute(
            f"UPDATE {table} SET stored_us = "
            f"(SELECT stored_us FROM statements WHERE statements.seq = {table}.statement_seq)"
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("stored_us", existing_type=sa.BigInteger, nullable=False)
        _link_indexes(table, key, usages)
        ref_table = table.replace("statement_", "statement_ref_")
        op.create_table(
            ref_table,
            sa.Column("statement_seq", BigId, nullable=False),
            sa.Column(key, sa.Text, nullable=False),
            sa.Column("usage", sa.String(24), nullable=False),
            sa.Column("stored_us", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint("statement_seq", key, "usage", name=f"pk_{ref_table}"),
            sa.ForeignKeyConstraint(
                ["statement_seq"],
                ["statements.seq"],
                name=f"fk_{ref_table}_statement_seq_statements",
                ondelete="CASCADE",
            ),
        )
        _link_indexes(ref_table, key, usages)


def downgrade() -> None:
    for table, key, _usages in LINKS:
        op.drop_table(table.replace("statement_", "statement_ref_"))
        op.drop_index(f"ix_{table}_{key}_stored_direct", table_name=table)
        op.drop_index(f"ix_{table}_{key}_stored_usage", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("stored_us")
        op.create_index(f"ix_{table}_{key}_seq", table, [key, "statement_seq"])
    for column in ("target_verb_id", "target_registration"):
        op.drop_index(f"ix_statements_{column}_stored", table_name="statements")
    for name in NEW_STATEMENT_INDEXES:
        op.drop_index(name, table_name="statements")
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("target_registration")
        batch.drop_column("target_verb_id")
    for name, columns in OLD_STATEMENT_INDEXES.items():
        op.create_index(name, "statements", columns)
