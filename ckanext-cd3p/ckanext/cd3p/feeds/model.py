"""The table of freshness.

- ``cd3p_data_change``: one row per dataset whose data changed since the table exists: when its
  data last changed (a DataStore table of it loaded, a DataStore write), and the freshness
  ``state`` the daily job last saw (and told about), so that each change of state is told once.

A dataset without a row has not changed since; its last change is then its newest resource's
(``feeds/freshness.py``). Rows refer to datasets by id without foreign keys (``common/model.py``).
"""

from __future__ import annotations

import sqlalchemy as sa

from ckanext.cd3p.common import model


class DataChange(model.Base, model.Dictizable):
    __tablename__ = "cd3p_data_change"

    dataset_id = sa.Column(sa.UnicodeText, primary_key=True)
    last_change = sa.Column(sa.DateTime(timezone=True))
    state = sa.Column(sa.UnicodeText, nullable=False, default="fresh")
    updated = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('fresh', 'due', 'overdue', 'delinquent')", name="cd3p_data_change_state_check"
        ),
    )
