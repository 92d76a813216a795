"""Index StatementRef targets on the referencing statement; usage-aware link indexes.

The "Filter Conditions for StatementRefs" (Communication 2.1.3) become index lookups: each
StatementRef statement carries its target's verb and registration and, in two new link tables,
its target's agents and activities. Link indexes now cover usage, with partial indexes for the
usages the plain agent/activity filters match.

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


def _direct(usages: tuple[str, ...]) -> sa.TextClause:
    return sa.text("usage IN (" + ", ".join(f"'{u}'" for u in usages) + ")")


def _link_indexes(table: str, key: str, usages: tuple[str, ...]) -> None:
    op.create_index(f"ix_{table}_{key}_seq_usage", table, [key, "statement_seq", "usage"])
    op.create_index(
        f"ix_{table}_{key}_seq_direct",
        table,
        [key, "statement_seq"],
        postgresql_where=_direct(usages),
        sqlite_where=_direct(usages),
    )


def upgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("target_verb_id", sa.Text, nullable=True))
        batch.add_column(sa.Column("target_registration", sa.String(36), nullable=True))
    for column in ("target_verb_id", "target_registration"):
        op.create_index(
            f"ix_statements_{column}_seq",
            "statements",
            [column, "seq"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    for table, key, usages in LINKS:
        op.drop_index(f"ix_{table}_{key}_seq", table_name=table)
        _link_indexes(table, key, usages)
        ref_table = table.replace("statement_", "statement_ref_")
        op.create_table(
            ref_table,
            sa.Column("statement_seq", BigId, nullable=False),
            sa.Column(key, sa.Text, nullable=False),
            sa.Column("usage", sa.String(24), nullable=False),
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
        op.drop_index(f"ix_{table}_{key}_seq_direct", table_name=table)
        op.drop_index(f"ix_{table}_{key}_seq_usage", table_name=table)
        op.create_index(f"ix_{table}_{key}_seq", table, [key, "statement_seq"])
    for column in ("target_verb_id", "target_registration"):
        op.drop_index(f"ix_statements_{column}_seq", table_name="statements")
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("target_registration")
        batch.drop_column("target_verb_id")
