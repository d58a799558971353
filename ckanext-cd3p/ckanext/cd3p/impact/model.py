"""``cd3p_outcome``: the checked rows of every programme's outcome reports, one per period, place
and measure, replaced as a whole when a report's new file passes its check and loads.

The DataStore keeps each report as its partner uploaded it (for preview and download); this table
keeps what the checks parsed from it (a quarter, a canonical place code, a number), with the
programme and organization it belongs to, so that reach against need is one query over every
programme rather than a read of each report's table."""

from __future__ import annotations

import sqlalchemy as sa

from ckanext.cd3p.common import model


class Outcome(model.Base):
    """One checked row of an outcome report. ``quarter_index`` is ``year * 4 + quarter - 1``, for
    ranges of quarters; ``count`` holds a median's dollars for ``median_earnings_q2``."""

    __tablename__ = "cd3p_outcome"

    id = sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    resource_id = sa.Column(sa.UnicodeText, nullable=False)
    package_id = sa.Column(sa.UnicodeText, nullable=False)
    organization = sa.Column(sa.UnicodeText, nullable=False)
    row = sa.Column(sa.Integer, nullable=False)
    quarter = sa.Column(sa.UnicodeText, nullable=False)
    quarter_index = sa.Column(sa.Integer, nullable=False)
    month = sa.Column(sa.SmallInteger)
    geo_level = sa.Column(sa.UnicodeText, nullable=False)
    geo_id = sa.Column(sa.UnicodeText, nullable=False)
    measure = sa.Column(sa.UnicodeText, nullable=False)
    count = sa.Column(sa.Float, nullable=False)
    cost = sa.Column(sa.Float)
    target = sa.Column(sa.BigInteger)
    loaded = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)

    __table_args__ = (
        sa.Index("cd3p_outcome_measure", "measure", "package_id", "quarter_index"),
        sa.Index("cd3p_outcome_resource", "resource_id"),
    )
