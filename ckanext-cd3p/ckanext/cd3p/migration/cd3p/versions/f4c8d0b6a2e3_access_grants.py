"""Access grants: read access to one dataset for one user, from an approved access request.

Revision ID: f4c8d0b6a2e3
Revises: e3b7c9a5f1d2
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f4c8d0b6a2e3"
down_revision = "e3b7c9a5f1d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_access_grant",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("dataset_id", sa.UnicodeText, nullable=False),
        sa.Column("user_id", sa.UnicodeText, nullable=False),
        sa.Column("user_name", sa.UnicodeText, nullable=False),
        sa.Column("request_id", sa.UnicodeText, nullable=False),
        sa.Column("granted_by", sa.UnicodeText, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.UnicodeText),
        sa.Column("revoke_reason", sa.UnicodeText),
    )
    op.create_index("ix_cd3p_access_grant_dataset_id", "cd3p_access_grant", ["dataset_id"])
    op.create_index("ix_cd3p_access_grant_user_id", "cd3p_access_grant", ["user_id"])


def downgrade() -> None:
    op.drop_table("cd3p_access_grant")
