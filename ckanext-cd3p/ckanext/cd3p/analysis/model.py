"""Tables of the analysis workspace.

- ``cd3p_saved_query``: a query a user saved under their profile, with a name; its link can be
  shared (the spec is shown to whoever has the link; what it returns is always what they may read).
- ``cd3p_derived_resource``: a resource saved from a query's result: the spec (canonical JSON), the
  source tables with the versions they had when it was computed, who saved it and when, and when
  it was last refreshed. Its id is the resource's.
- ``cd3p_derived_refresh``: the log of each refresh of a derived resource: when, what caused it,
  the outcome (``refreshed``, ``failed``: the previous result kept) and a message.

Rows refer to users, datasets and resources by id without foreign keys (``common/model.py``); names
are kept as they were when the row was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from ckan.model.types import make_uuid

from ckanext.cd3p.common import model

REFRESH_OUTCOMES = ("refreshed", "failed")


class SavedQuery(model.Base, model.Dictizable):
    __tablename__ = "cd3p_saved_query"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    user_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    user_name = sa.Column(sa.UnicodeText, nullable=False)
    name = sa.Column(sa.UnicodeText, nullable=False)
    spec = sa.Column(sa.UnicodeText, nullable=False)  # canonical JSON (analysis.spec.canonical)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)


class DerivedResource(model.Base, model.Dictizable):
    __tablename__ = "cd3p_derived_resource"

    id = sa.Column(sa.UnicodeText, primary_key=True)  # the resource's id
    package_id = sa.Column(sa.UnicodeText, nullable=False)
    spec = sa.Column(sa.UnicodeText, nullable=False)  # canonical JSON
    sources = sa.Column(sa.UnicodeText, nullable=False)  # JSON: [{resource_id, version}]
    saved_by_id = sa.Column(sa.UnicodeText, nullable=False)
    saved_by = sa.Column(sa.UnicodeText, nullable=False)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    refreshed = sa.Column(sa.DateTime(timezone=True))


class DerivedRefresh(model.Base, model.Dictizable):
    __tablename__ = "cd3p_derived_refresh"

    id = sa.Column(sa.BigInteger, sa.Identity(), primary_key=True)
    resource_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    started = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    cause = sa.Column(sa.UnicodeText, nullable=False)  # "source <id> changed", "asked by <user>"
    outcome = sa.Column(sa.UnicodeText, nullable=False)
    message = sa.Column(sa.UnicodeText)
    sources = sa.Column(sa.UnicodeText)  # JSON: the versions it read

    __table_args__ = (
        sa.CheckConstraint("outcome IN ('refreshed', 'failed')", name="cd3p_derived_refresh_outcome_check"),
    )
