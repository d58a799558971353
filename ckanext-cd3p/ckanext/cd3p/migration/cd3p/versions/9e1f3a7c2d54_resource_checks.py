"""Checks of uploaded and linked files before they are loaded into the DataStore.

Revision ID: 9e1f3a7c2d54
Revises: 7c4e2b9f1a30
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "9e1f3a7c2d54"
down_revision = "7c4e2b9f1a30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_resource_check",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("resource_id", sa.UnicodeText, nullable=False),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("fingerprint", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("report", JSONB, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "state IN ('pending', 'passed', 'held', 'failed')", name="cd3p_resource_check_state_check"
        ),
    )
    op.create_index("cd3p_resource_check_resource", "cd3p_resource_check", ["resource_id", "created"])
    op.create_index("cd3p_resource_check_package", "cd3p_resource_check", ["package_id"])
    op.create_index("cd3p_resource_check_state", "cd3p_resource_check", ["state"])


def downgrade() -> None:
    op.drop_table("cd3p_resource_check")
