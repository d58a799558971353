"""The analysis workspace: saved queries, derived resources and the log of their refreshes.

Revision ID: b4d6f8a0c2e5
Revises: a9b2c4d6e8f1
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b4d6f8a0c2e5"
down_revision = "a9b2c4d6e8f1"
branch_labels = None
depends_on = None


def _text(name: str, nullable: bool = True, **kw: object) -> sa.Column:
    return sa.Column(name, sa.UnicodeText, nullable=nullable, **kw)


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cd3p_saved_query",
        _text("id", primary_key=True),
        _text("user_id", False),
        _text("user_name", False),
        _text("name", False),
        _text("spec", False),
        _when("created", False),
    )
    op.create_index("ix_cd3p_saved_query_user_id", "cd3p_saved_query", ["user_id"])
    op.create_table(
        "cd3p_derived_resource",
        _text("id", primary_key=True),
        _text("package_id", False),
        _text("spec", False),
        _text("sources", False),
        _text("saved_by_id", False),
        _text("saved_by", False),
        _when("created", False),
        _when("refreshed"),
    )
    op.create_table(
        "cd3p_derived_refresh",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _text("resource_id", False),
        _when("started", False),
        _text("cause", False),
        _text("outcome", False),
        _text("message"),
        _text("sources"),
        sa.CheckConstraint("outcome IN ('refreshed', 'failed')", name="cd3p_derived_refresh_outcome_check"),
    )
    op.create_index("ix_cd3p_derived_refresh_resource_id", "cd3p_derived_refresh", ["resource_id"])


def downgrade() -> None:
    op.drop_table("cd3p_derived_refresh")
    op.drop_table("cd3p_derived_resource")
    op.drop_table("cd3p_saved_query")
