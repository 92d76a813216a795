"""An index on ``activities.updated_us``: the analytics sync copies the canonical activity
definitions changed since its last run (``lrs.store.analytics.read_activities_since``), a
range read instead of a scan of every activity.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activities_updated", "activities", ["updated_us"])


def downgrade() -> None:
    op.drop_index("ix_activities_updated", table_name="activities")
