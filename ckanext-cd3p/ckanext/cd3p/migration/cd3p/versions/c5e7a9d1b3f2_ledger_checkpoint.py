"""The ledger cannot lose its tail: TRUNCATE refused, and a checkpoint of its head with each entry.

Revision ID: c5e7a9d1b3f2
Revises: 9e1f3a7c2d54
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c5e7a9d1b3f2"
down_revision = "9e1f3a7c2d54"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cd3p_ledger_checkpoint",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("entries", sa.BigInteger, nullable=False, unique=True),
        sa.Column("head_id", sa.UnicodeText, nullable=False),
        sa.Column("head_hash", sa.UnicodeText, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION cd3p_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is part of an append-only ledger: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER cd3p_signature_no_truncate
            BEFORE TRUNCATE ON cd3p_signature
            FOR EACH STATEMENT EXECUTE FUNCTION cd3p_ledger_append_only();
        CREATE TRIGGER cd3p_ledger_checkpoint_append_only
            BEFORE UPDATE OR DELETE ON cd3p_ledger_checkpoint
            FOR EACH ROW EXECUTE FUNCTION cd3p_ledger_append_only();
        CREATE TRIGGER cd3p_ledger_checkpoint_no_truncate
            BEFORE TRUNCATE ON cd3p_ledger_checkpoint
            FOR EACH STATEMENT EXECUTE FUNCTION cd3p_ledger_append_only();
        -- A ledger kept before this revision gets its first checkpoint: its head now.
        INSERT INTO cd3p_ledger_checkpoint (entries, head_id, head_hash, created)
        SELECT (SELECT count(*) FROM cd3p_signature), id, entry_hash, now()
        FROM cd3p_signature ORDER BY seq DESC LIMIT 1;
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS cd3p_signature_no_truncate ON cd3p_signature")
    op.drop_table("cd3p_ledger_checkpoint")
    op.execute("DROP FUNCTION IF EXISTS cd3p_ledger_append_only()")
