"""The table of resilience: ``cd3p_index_pending``, one row per dataset written while Solr could not
be reached. The write itself was kept (the row is committed with it); the recovery job
(``resilience/recovery.py``) indexes the dataset once Solr answers again, and removes the row."""

from __future__ import annotations

import sqlalchemy as sa

from ckanext.cd3p.common import model


class IndexPending(model.Base, model.Dictizable):
    __tablename__ = "cd3p_index_pending"

    dataset_id = sa.Column(sa.UnicodeText, primary_key=True)
    queued = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
