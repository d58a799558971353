"""The checked rows of programmes' outcome reports.

Revision ID: d8a4f6b2c1e7
Revises: c5e7a9d1b3f2
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d8a4f6b2c1e7"
down_revision = "c5e7a9d1b3f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_outcome",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.UnicodeText, nullable=False),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("organization", sa.UnicodeText, nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("quarter", sa.UnicodeText, nullable=False),
        sa.Column("quarter_index", sa.Integer, nullable=False),
        sa.Column("month", sa.SmallInteger),
        sa.Column("geo_level", sa.UnicodeText, nullable=False),
        sa.Column("geo_id", sa.UnicodeText, nullable=False),
        sa.Column("measure", sa.UnicodeText, nullable=False),
        sa.Column("count", sa.Float, nullable=False),
        sa.Column("cost", sa.Float),
        sa.Column("target", sa.BigInteger),
        sa.Column("loaded", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count >= 0 AND (cost IS NULL OR cost >= 0)", name="cd3p_outcome_count_check"),
        sa.CheckConstraint(
            "geo_level IN ('tract', 'council_district', 'neighborhood', 'zip', 'city')",
            name="cd3p_outcome_level_check",
        ),
    )
    op.create_index("cd3p_outcome_measure", "cd3p_outcome", ["measure", "package_id", "quarter_index"])
    op.create_index("cd3p_outcome_resource", "cd3p_outcome", ["resource_id"])


def downgrade() -> None:
    op.drop_table("cd3p_outcome")
