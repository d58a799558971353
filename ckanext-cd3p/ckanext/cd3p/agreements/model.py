"""Tables of the Data Sharing Agreement gate.

- ``cd3p_agreement``: versioned agreement texts (draft, active, retired; one active at a time).
- ``cd3p_signature``: the ledger. Organization signatures, personal acknowledgements, access grants
  (``requests/grants.py``) and revocations, append-only: a trigger (created by the migration)
  refuses every UPDATE and DELETE, and each entry carries the SHA-256 of its content chained to the
  previous entry's, so a removal or an edit made around the trigger is detected by
  :func:`ckanext.cd3p.agreements.ledger.verify`. TRUNCATE is refused too.
- ``cd3p_ledger_checkpoint``: the ledger's head (entry count and newest hash) after each entry,
  append-only as well, so that removing the newest entries is detected; the head is printed for
  the City to publish (``ckan cd3p agreement checkpoint``).
- ``cd3p_partner_application``: step 1 of becoming a partner.
- ``cd3p_membership_request``: a registered user asking to join a partner organization.
- ``cd3p_indicator_source``: a partner dataset a sysadmin registered as an indicator source, with the
  indicators computed from it (the shipped ones are in ``indicators.yaml``).
- ``cd3p_resource_check``: each check of an uploaded or linked file before it may be loaded into the
  DataStore (personal data, geography codes, a readable file), with its report.

Rows refer to organizations and users by id without foreign keys, and keep their names as they were
when the row was written, so deleting or purging an organization or a user keeps its ledger.

The tables use their own MetaData rather than CKAN's: CKAN's test reset deletes the rows of every
table it knows, which the ledger refuses by design. The alembic migrations in
``migration/cd3p`` create them (``ckan db upgrade``).
"""

from __future__ import annotations

import sqlalchemy as sa
from ckan.model import Session
from ckan.model.types import make_uuid

from ckanext.cd3p.common import model

AGREEMENT_STATES = ("draft", "active", "retired")


ENTRY_KINDS = ("sign", "acknowledge", "revoke", "grant")


REQUEST_STATES = ("pending", "approved", "rejected")


class Agreement(model.Base, model.Dictizable):
    __tablename__ = "cd3p_agreement"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    version = sa.Column(sa.UnicodeText, nullable=False, unique=True)
    title = sa.Column(sa.UnicodeText, nullable=False)
    body = sa.Column(sa.UnicodeText, nullable=False)
    effective_date = sa.Column(sa.Date)
    state = sa.Column(sa.UnicodeText, nullable=False, default="draft")
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    created_by = sa.Column(sa.UnicodeText)
    modified = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    activated = sa.Column(sa.DateTime(timezone=True))
    retired = sa.Column(sa.DateTime(timezone=True))

    @classmethod
    def get(cls, id_or_version: str) -> Agreement | None:
        return (
            Session.query(cls)
            .filter(sa.or_(cls.id == id_or_version, cls.version == id_or_version))
            .one_or_none()
        )

    @classmethod
    def active(cls) -> Agreement | None:
        return Session.query(cls).filter(cls.state == "active").one_or_none()


class LedgerEntry(model.Base, model.Dictizable):
    """One line of the append-only ledger (table ``cd3p_signature``)."""

    __tablename__ = "cd3p_signature"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    seq = sa.Column(sa.BigInteger, sa.Identity(), nullable=False, unique=True)
    kind = sa.Column(sa.UnicodeText, nullable=False)
    agreement_id = sa.Column(sa.UnicodeText, nullable=False)
    agreement_version = sa.Column(sa.UnicodeText, nullable=False)
    text_sha256 = sa.Column(sa.UnicodeText, nullable=False)
    organization_id = sa.Column(sa.UnicodeText)
    organization_name = sa.Column(sa.UnicodeText)
    user_id = sa.Column(sa.UnicodeText, nullable=False)
    user_name = sa.Column(sa.UnicodeText, nullable=False)
    signatory_name = sa.Column(sa.UnicodeText)
    signatory_title = sa.Column(sa.UnicodeText)
    client_ip = sa.Column(sa.UnicodeText)
    revokes = sa.Column(sa.UnicodeText)
    reason = sa.Column(sa.UnicodeText)
    # A ``grant`` entry: read access to ``dataset_id`` for ``grantee_id`` until ``expires``, from an
    # approved access request; ``user_*`` is who granted it, as ``user_*`` is who made every entry.
    dataset_id = sa.Column(sa.UnicodeText)
    dataset_name = sa.Column(sa.UnicodeText)
    grantee_id = sa.Column(sa.UnicodeText)
    grantee_name = sa.Column(sa.UnicodeText)
    request_id = sa.Column(sa.UnicodeText)
    expires = sa.Column(sa.DateTime(timezone=True))
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    prev_hash = sa.Column(sa.UnicodeText, nullable=False)
    entry_hash = sa.Column(sa.UnicodeText, nullable=False, unique=True)


class Decision:
    """What a partner application and a membership request share: their id, and the decision a
    reviewer makes (pending, approved or rejected; when, by whom, and the reason the sender sees)."""

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    state = sa.Column(sa.UnicodeText, nullable=False, default="pending")
    reason = sa.Column(sa.UnicodeText)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    decided = sa.Column(sa.DateTime(timezone=True))
    decided_by = sa.Column(sa.UnicodeText)


class PartnerApplication(Decision, model.Base, model.Dictizable):
    __tablename__ = "cd3p_partner_application"

    user_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    user_name = sa.Column(sa.UnicodeText, nullable=False)
    organization_title = sa.Column(sa.UnicodeText, nullable=False)
    organization_name = sa.Column(sa.UnicodeText, nullable=False)
    sector = sa.Column(sa.UnicodeText, nullable=False)
    website = sa.Column(sa.UnicodeText)
    contact_name = sa.Column(sa.UnicodeText, nullable=False)
    contact_email = sa.Column(sa.UnicodeText, nullable=False)
    contact_phone = sa.Column(sa.UnicodeText)
    data_description = sa.Column(sa.UnicodeText, nullable=False)
    service_area = sa.Column(sa.UnicodeText)
    focus_group = sa.Column(sa.Boolean, nullable=False, default=False)
    organization_id = sa.Column(sa.UnicodeText)  # the organization made on approval


class MembershipRequest(Decision, model.Base, model.Dictizable):
    __tablename__ = "cd3p_membership_request"

    organization_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    organization_name = sa.Column(sa.UnicodeText, nullable=False)
    user_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    user_name = sa.Column(sa.UnicodeText, nullable=False)
    role = sa.Column(sa.UnicodeText, nullable=False)
    message = sa.Column(sa.UnicodeText)
    acknowledgement_id = sa.Column(sa.UnicodeText)


class LedgerCheckpoint(model.Base, model.Dictizable):
    """The ledger's head as it was when an entry was appended (table ``cd3p_ledger_checkpoint``,
    append-only too): how many entries the chain had and the hash of the newest. Removing the newest
    entries around the triggers leaves a valid chain, but not one that reaches the last checkpoint;
    and the head a checkpoint names can be published outside the portal (``ckan cd3p agreement
    checkpoint``) and checked later against the chain (:func:`ckanext.cd3p.agreements.ledger.verify`)."""

    __tablename__ = "cd3p_ledger_checkpoint"

    seq = sa.Column(sa.BigInteger, sa.Identity(), primary_key=True)
    entries = sa.Column(sa.BigInteger, nullable=False, unique=True)
    head_id = sa.Column(sa.UnicodeText, nullable=False)
    head_hash = sa.Column(sa.UnicodeText, nullable=False)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)

    @classmethod
    def latest(cls) -> LedgerCheckpoint | None:
        return Session.query(cls).order_by(cls.seq.desc()).first()
