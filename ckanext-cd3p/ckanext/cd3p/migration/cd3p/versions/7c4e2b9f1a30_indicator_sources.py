"""Indicator sources registered by sysadmins: a partner dataset's DataStore table and the indicators
computed from it.

Revision ID: 7c4e2b9f1a30
Revises: 5a1c0d3e9b21
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "7c4e2b9f1a30"
down_revision = "5a1c0d3e9b21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_indicator_source",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("dataset", sa.UnicodeText, nullable=False),
        sa.Column("resource", sa.UnicodeText, nullable=False),
        sa.Column("key", sa.UnicodeText, nullable=False),
        sa.Column("level", sa.UnicodeText, nullable=False),
        sa.Column("vintage", sa.UnicodeText, nullable=False),
        sa.Column("citation", sa.UnicodeText, nullable=False),
        sa.Column("indicators", JSONB, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.UnicodeText),
        sa.CheckConstraint("level = 'tract'", name="cd3p_indicator_source_level_check"),
    )


def downgrade() -> None:
    op.drop_table("cd3p_indicator_source")
