"""Freshness: each dataset's last data change and the state last told about.

Revision ID: c7e9a1b3d5f6
Revises: b4d6f8a0c2e5
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c7e9a1b3d5f6"
down_revision = "b4d6f8a0c2e5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_data_change",
        sa.Column("dataset_id", sa.UnicodeText, primary_key=True),
        sa.Column("last_change", sa.DateTime(timezone=True)),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="fresh"),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('fresh', 'due', 'overdue', 'delinquent')", name="cd3p_data_change_state_check"
        ),
    )


def downgrade() -> None:
    op.drop_table("cd3p_data_change")
