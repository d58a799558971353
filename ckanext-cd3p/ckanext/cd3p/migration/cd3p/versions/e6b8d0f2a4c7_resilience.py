"""Resilience: datasets written while Solr was down, waiting to be indexed; and the heartbeat of a
check job, by which a check whose worker died is told from one still running.

Revision ID: e6b8d0f2a4c7
Revises: d2f4a6c8e0b1
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e6b8d0f2a4c7"
down_revision = "d2f4a6c8e0b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_index_pending",
        sa.Column("dataset_id", sa.UnicodeText, primary_key=True),
        sa.Column("queued", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("cd3p_resource_check", sa.Column("heartbeat", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("cd3p_resource_check", "heartbeat")
    op.drop_table("cd3p_index_pending")
