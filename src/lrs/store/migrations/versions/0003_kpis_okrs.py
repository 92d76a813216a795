"""KPI and OKR definitions (ANALYTICS.md section 5).

Configuration, like the roster: stored in the LRS database so that it survives warehouse
rebuilds. ``analytics_kpis`` holds one KPI per row; ``analytics_okrs`` one objective per row
with its key results in ``analytics_key_results`` (deleted with their objective). Filters,
options and lists are JSON text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_kpis",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("measure", sa.String(64), nullable=False),
        sa.Column("filters", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("target", sa.Double, nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("green", sa.Double, nullable=False),
        sa.Column("amber", sa.Double, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("trend_periods", sa.Integer, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_kpis"),
    )
    op.create_table(
        "analytics_okrs",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("objective", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_okrs"),
    )
    op.create_table(
        "analytics_key_results",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("okr_id", BigId, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("metric_type", sa.String(16), nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("aggregation", sa.String(16), nullable=True),
        sa.Column("filters", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("baseline", sa.Double, nullable=False),
        sa.Column("target", sa.Double, nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("linked_activities", sa.Text, nullable=False),
        sa.Column("owner_team", sa.Text, nullable=True),
        sa.Column("owner_learners", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_key_results"),
        sa.ForeignKeyConstraint(
            ["okr_id"],
            ["analytics_okrs.id"],
            name="fk_analytics_key_results_okr_id_analytics_okrs",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("okr_id", "position", name="uq_analytics_key_results_okr_id_position"),
    )
    op.create_index("ix_analytics_key_results_okr_id", "analytics_key_results", ["okr_id"])


def downgrade() -> None:
    op.drop_index("ix_analytics_key_results_okr_id", table_name="analytics_key_results")
    op.drop_table("analytics_key_results")
    op.drop_table("analytics_okrs")
    op.drop_table("analytics_kpis")
