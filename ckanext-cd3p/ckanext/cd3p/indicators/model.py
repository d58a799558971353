"""``cd3p_indicator_source``: a partner dataset a sysadmin registered as an indicator source, with
the indicators computed from it (the shipped ones are in ``indicators.yaml``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ckanext.cd3p.common import model


class IndicatorSource(model.Base, model.Dictizable):
    """A DataStore table registered as an indicator source, and the indicators read from it.

    ``indicators`` holds their definitions in the shape of ``indicators.yaml``'s entries.
    """

    __tablename__ = "cd3p_indicator_source"

    id = sa.Column(sa.UnicodeText, primary_key=True)
    dataset = sa.Column(sa.UnicodeText, nullable=False)
    resource = sa.Column(sa.UnicodeText, nullable=False)
    key = sa.Column(sa.UnicodeText, nullable=False)
    level = sa.Column(sa.UnicodeText, nullable=False, default="tract")
    vintage = sa.Column(sa.UnicodeText, nullable=False)
    citation = sa.Column(sa.UnicodeText, nullable=False)
    indicators = sa.Column(JSONB, nullable=False, default=list)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    created_by = sa.Column(sa.UnicodeText)
