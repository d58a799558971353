"""Data Sharing Agreement: agreements, the append-only signature ledger, partner applications and
membership requests.

Revision ID: 5a1c0d3e9b21
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1c0d3e9b21"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _text(name: str, nullable: bool = True, **kw: object) -> sa.Column:
    return sa.Column(name, sa.UnicodeText, nullable=nullable, **kw)


def upgrade() -> None:
    op.create_table(
        "cd3p_agreement",
        _text("id", primary_key=True),
        _text("version", False, unique=True),
        _text("title", False),
        _text("body", False),
        sa.Column("effective_date", sa.Date),
        _text("state", False),
        sa.Column("created", TZ, nullable=False),
        _text("created_by"),
        sa.Column("modified", TZ, nullable=False),
        sa.Column("activated", TZ),
        sa.Column("retired", TZ),
        sa.CheckConstraint("state IN ('draft', 'active', 'retired')", name="cd3p_agreement_state_check"),
    )
    # At most one active version, enforced by the database rather than hoped for.
    op.create_index(
        "cd3p_agreement_one_active",
        "cd3p_agreement",
        ["state"],
        unique=True,
        postgresql_where=sa.text("state = 'active'"),
    )

    op.create_table(
        "cd3p_signature",
        _text("id", primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        _text("kind", False),
        _text("agreement_id", False),
        _text("agreement_version", False),
        _text("text_sha256", False),
        _text("organization_id"),
        _text("organization_name"),
        _text("user_id", False),
        _text("user_name", False),
        _text("signatory_name"),
        _text("signatory_title"),
        _text("client_ip"),
        _text("revokes"),
        _text("reason"),
        sa.Column("created", TZ, nullable=False),
        _text("prev_hash", False),
        _text("entry_hash", False, unique=True),
        sa.CheckConstraint("kind IN ('sign', 'acknowledge', 'revoke')", name="cd3p_signature_kind_check"),
    )
    op.create_index("cd3p_signature_organization_id", "cd3p_signature", ["organization_id"])
    op.create_index("cd3p_signature_user_id", "cd3p_signature", ["user_id"])
    op.execute(
        """
        CREATE OR REPLACE FUNCTION cd3p_signature_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'cd3p_signature is an append-only ledger: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Revoke a signature by appending a revoke entry (cd3p_signature_revoke).';
        END
        $$;
        CREATE TRIGGER cd3p_signature_append_only
            BEFORE UPDATE OR DELETE ON cd3p_signature
            FOR EACH ROW EXECUTE FUNCTION cd3p_signature_append_only();
        """
    )

    op.create_table(
        "cd3p_partner_application",
        _text("id", primary_key=True),
        _text("user_id", False, index=True),
        _text("user_name", False),
        _text("organization_title", False),
        _text("organization_name", False),
        _text("sector", False),
        _text("website"),
        _text("contact_name", False),
        _text("contact_email", False),
        _text("contact_phone"),
        _text("data_description", False),
        _text("service_area"),
        sa.Column("focus_group", sa.Boolean, nullable=False),
        _text("state", False),
        _text("reason"),
        _text("organization_id"),
        sa.Column("created", TZ, nullable=False),
        sa.Column("decided", TZ),
        _text("decided_by"),
    )
    op.create_table(
        "cd3p_membership_request",
        _text("id", primary_key=True),
        _text("organization_id", False, index=True),
        _text("organization_name", False),
        _text("user_id", False, index=True),
        _text("user_name", False),
        _text("role", False),
        _text("message"),
        _text("acknowledgement_id"),
        _text("state", False),
        _text("reason"),
        sa.Column("created", TZ, nullable=False),
        sa.Column("decided", TZ),
        _text("decided_by"),
    )


def downgrade() -> None:
    op.drop_table("cd3p_membership_request")
    op.drop_table("cd3p_partner_application")
    op.execute("DROP TRIGGER IF EXISTS cd3p_signature_append_only ON cd3p_signature")
    op.execute("DROP FUNCTION IF EXISTS cd3p_signature_append_only()")
    op.drop_table("cd3p_signature")
    op.drop_index("cd3p_agreement_one_active", table_name="cd3p_agreement")
    op.drop_table("cd3p_agreement")
