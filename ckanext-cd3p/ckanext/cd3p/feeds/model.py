"""The tables of freshness and feeds.

- ``cd3p_data_change``: one row per dataset whose data changed since the table exists: when its
  data last changed (a DataStore table of it loaded, a DataStore write), and the freshness
  ``state`` the daily job last saw (and told about), so that each change of state is told once.

- ``cd3p_feed``: one row per resource with a refresh schedule (its ``refresh_frequency``): the
  URL it is for, the validators and hash of the content last taken, the last and next fetch, and
  the run of failures (``feeds/pull.py``).
- ``cd3p_feed_fetch``: each fetch of a feed and its outcome; the last ten of each feed are kept.

A dataset without a ``cd3p_data_change`` row has not changed since; its last change is then its
newest resource's (``feeds/freshness.py``). Rows refer to datasets by id without foreign keys
(``common/model.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from ckan.model.types import make_uuid

from ckanext.cd3p.common import model

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
OUTCOMES = ("unchanged", "loaded", "held", "failed")


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


class Feed(model.Base, model.Dictizable):
    """A resource's refresh schedule and where its fetching stands."""

    __tablename__ = "cd3p_feed"

    resource_id = sa.Column(sa.UnicodeText, primary_key=True)
    dataset_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    frequency = sa.Column(sa.UnicodeText, nullable=False)
    url = sa.Column(sa.UnicodeText, nullable=False)
    etag = sa.Column(sa.UnicodeText)
    last_modified = sa.Column(sa.UnicodeText)
    sha256 = sa.Column(sa.UnicodeText)
    last_fetch = sa.Column(sa.DateTime(timezone=True))
    next_fetch = sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0)
    notified = sa.Column(sa.Boolean, nullable=False, default=False)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "frequency IN ('hourly', 'daily', 'weekly', 'monthly')", name="cd3p_feed_frequency_check"
        ),
    )


class FeedFetch(model.Base, model.Dictizable):
    """One fetch of a feed: what came of it and why."""

    __tablename__ = "cd3p_feed_fetch"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    resource_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    started = sa.Column(sa.DateTime(timezone=True), nullable=False)
    seconds = sa.Column(sa.Float, nullable=False, default=0.0)
    outcome = sa.Column(sa.UnicodeText, nullable=False)
    message = sa.Column(sa.UnicodeText, nullable=False, default="")
    size = sa.Column(sa.BigInteger)
    sha256 = sa.Column(sa.UnicodeText)
    check_id = sa.Column(sa.UnicodeText)
    by = sa.Column(sa.UnicodeText)  # who asked (cd3p_feed_run), or null for the schedule

    __table_args__ = (
        sa.CheckConstraint(
            "outcome IN ('unchanged', 'loaded', 'held', 'failed')", name="cd3p_feed_fetch_outcome_check"
        ),
    )
