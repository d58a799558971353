"""Access grants and their revocations are entries of the ledger: a ``grant`` kind, and the columns
that say what it opens (the dataset, the grantee, the request, the expiry).

Revision ID: a9b2c4d6e8f1
Revises: f4c8d0b6a2e3
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a9b2c4d6e8f1"
down_revision = "f4c8d0b6a2e3"
branch_labels = None
depends_on = None

_COLUMNS = ("dataset_id", "dataset_name", "grantee_id", "grantee_name", "request_id")


def upgrade() -> None:
    # ADD COLUMN and the constraint are DDL: the append-only row triggers do not fire, and every
    # entry already written keeps its hash (a new column is hashed only where it holds a value).
    op.drop_constraint("cd3p_signature_kind_check", "cd3p_signature", type_="check")
    op.create_check_constraint(
        "cd3p_signature_kind_check", "cd3p_signature", "kind IN ('sign', 'acknowledge', 'revoke', 'grant')"
    )
    for name in _COLUMNS:
        op.add_column("cd3p_signature", sa.Column(name, sa.UnicodeText))
    op.add_column("cd3p_signature", sa.Column("expires", sa.DateTime(timezone=True)))
    op.create_index("cd3p_signature_grantee_id", "cd3p_signature", ["grantee_id"])


def downgrade() -> None:
    op.drop_index("cd3p_signature_grantee_id", "cd3p_signature")
    for name in (*_COLUMNS, "expires"):
        op.drop_column("cd3p_signature", name)
    op.drop_constraint("cd3p_signature_kind_check", "cd3p_signature", type_="check")
    op.create_check_constraint(
        "cd3p_signature_kind_check", "cd3p_signature", "kind IN ('sign', 'acknowledge', 'revoke')"
    )
