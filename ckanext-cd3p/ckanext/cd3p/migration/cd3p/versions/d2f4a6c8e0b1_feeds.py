"""Feeds: each resource's refresh schedule and its fetches.

Revision ID: d2f4a6c8e0b1
Revises: c7e9a1b3d5f6
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d2f4a6c8e0b1"
down_revision = "c7e9a1b3d5f6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_feed",
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("dataset_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("frequency", sa.UnicodeText, nullable=False),
        sa.Column("url", sa.UnicodeText, nullable=False),
        sa.Column("etag", sa.UnicodeText),
        sa.Column("last_modified", sa.UnicodeText),
        sa.Column("sha256", sa.UnicodeText),
        sa.Column("last_fetch", sa.DateTime(timezone=True)),
        sa.Column("next_fetch", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("notified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "frequency IN ('hourly', 'daily', 'weekly', 'monthly')", name="cd3p_feed_frequency_check"
        ),
    )
    op.create_table(
        "cd3p_feed_fetch",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("resource_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("outcome", sa.UnicodeText, nullable=False),
        sa.Column("message", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.UnicodeText),
        sa.Column("check_id", sa.UnicodeText),
        sa.Column("by", sa.UnicodeText),
        sa.CheckConstraint(
            "outcome IN ('unchanged', 'loaded', 'held', 'failed')", name="cd3p_feed_fetch_outcome_check"
        ),
    )


def downgrade() -> None:
    op.drop_table("cd3p_feed_fetch")
    op.drop_table("cd3p_feed")
