"""Data requests, their comments and their followers.

Revision ID: e3b7c9a5f1d2
Revises: d8a4f6b2c1e7
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e3b7c9a5f1d2"
down_revision = "d8a4f6b2c1e7"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cd3p_data_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("description", sa.UnicodeText, nullable=False),
        sa.Column("places", sa.UnicodeText),
        sa.Column("dataset_id", sa.UnicodeText),
        sa.Column("purpose", sa.UnicodeText),
        sa.Column("addressed_to", sa.UnicodeText),
        sa.Column("requester_id", sa.UnicodeText, nullable=False),
        sa.Column("requester_name", sa.UnicodeText, nullable=False),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("fulfilled_dataset_id", sa.UnicodeText),
        sa.Column("decline_reason", sa.UnicodeText),
        sa.Column("duplicate_of", sa.UnicodeText),
        sa.Column("closed_by", sa.UnicodeText),
        _when("created", nullable=False),
        _when("first_response"),
        _when("closed"),
        _when("updated", nullable=False),
        sa.CheckConstraint("kind IN ('new_data', 'access')", name="cd3p_data_request_kind_check"),
        sa.CheckConstraint(
            "state IN ('open', 'assigned', 'in_progress', 'fulfilled', 'declined', 'duplicate')",
            name="cd3p_data_request_state_check",
        ),
    )
    for column in ("dataset_id", "requester_id", "organization_id"):
        op.create_index(f"ix_cd3p_data_request_{column}", "cd3p_data_request", [column])
    op.create_table(
        "cd3p_data_request_comment",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("request_id", sa.UnicodeText, nullable=False),
        sa.Column("author_id", sa.UnicodeText, nullable=False),
        sa.Column("author_name", sa.UnicodeText, nullable=False),
        sa.Column("text", sa.UnicodeText, nullable=False),
        _when("created", nullable=False),
    )
    op.create_index("ix_cd3p_data_request_comment_request_id", "cd3p_data_request_comment", ["request_id"])
    op.create_table(
        "cd3p_data_request_follower",
        sa.Column("request_id", sa.UnicodeText, primary_key=True),
        sa.Column("user_id", sa.UnicodeText, primary_key=True),
        _when("created", nullable=False),
    )
    op.create_index("ix_cd3p_data_request_follower_user_id", "cd3p_data_request_follower", ["user_id"])


def downgrade() -> None:
    op.drop_table("cd3p_data_request_follower")
    op.drop_table("cd3p_data_request_comment")
    op.drop_table("cd3p_data_request")
