"""``cd3p_resource_check``: each check of an uploaded or linked file before it may be loaded into
the DataStore (personal data, geography codes, a readable file), with its report."""

from __future__ import annotations

import sqlalchemy as sa
from ckan.model.types import make_uuid
from sqlalchemy.dialects.postgresql import JSONB

from ckanext.cd3p.common import model

CHECK_STATES = ("pending", "passed", "held", "failed")


class ResourceCheck(model.Base, model.Dictizable):
    """One check of one version of a resource's file (``fingerprint``); the latest row is current."""

    __tablename__ = "cd3p_resource_check"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    resource_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    package_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    fingerprint = sa.Column(sa.UnicodeText, nullable=False)
    state = sa.Column(sa.UnicodeText, nullable=False, default="pending")
    report = sa.Column(JSONB, nullable=False, default=dict)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    finished = sa.Column(sa.DateTime(timezone=True))
    # Written every few seconds by the check job while it runs (ingestion/checks.py): a pending
    # check whose heartbeat stopped lost its worker, and the recovery job starts it again.
    heartbeat = sa.Column(sa.DateTime(timezone=True))
