"""Tables of data requests.

- ``cd3p_data_request``: a request, of one of two kinds: ``new_data`` ("we need X for these
  places"), addressed to the City (``addressed_to`` null) or to a partner organization; or
  ``access`` to an organization-only or partner-tier dataset (``dataset_id``), with its
  ``purpose``. Its state: open, assigned (to ``organization_id``), in progress, then fulfilled
  (``fulfilled_dataset_id``), declined (``decline_reason``) or duplicate (``duplicate_of``); a
  closed request can be reopened. ``first_response`` is the first comment or assignment by someone
  other than the requester; ``closed`` when it was last closed.
- ``cd3p_data_request_comment``: the comments on a request, oldest first.
- ``cd3p_data_request_follower``: who follows a request (one row per user and request); their
  number is the demand.

Rows refer to organizations, users and datasets by id without foreign keys (``common/model.py``);
the requester's and each author's name are kept as they were when the row was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from ckan.model.types import make_uuid

from ckanext.cd3p.common import model

KINDS = ("new_data", "access")


STATES = ("open", "assigned", "in_progress", "fulfilled", "declined", "duplicate")


OPEN_STATES = ("open", "assigned", "in_progress")


OUTCOMES = ("fulfilled", "declined", "duplicate")


class DataRequest(model.Base, model.Dictizable):
    __tablename__ = "cd3p_data_request"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    kind = sa.Column(sa.UnicodeText, nullable=False)
    title = sa.Column(sa.UnicodeText, nullable=False)
    description = sa.Column(sa.UnicodeText, nullable=False)  # Markdown, stored as text
    places = sa.Column(sa.UnicodeText)
    dataset_id = sa.Column(sa.UnicodeText, index=True)
    purpose = sa.Column(sa.UnicodeText)
    addressed_to = sa.Column(sa.UnicodeText)
    requester_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    requester_name = sa.Column(sa.UnicodeText, nullable=False)
    organization_id = sa.Column(sa.UnicodeText, index=True)
    state = sa.Column(sa.UnicodeText, nullable=False, default="open")
    fulfilled_dataset_id = sa.Column(sa.UnicodeText)
    decline_reason = sa.Column(sa.UnicodeText)
    duplicate_of = sa.Column(sa.UnicodeText)
    closed_by = sa.Column(sa.UnicodeText)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    first_response = sa.Column(sa.DateTime(timezone=True))
    closed = sa.Column(sa.DateTime(timezone=True))
    updated = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('new_data', 'access')", name="cd3p_data_request_kind_check"),
        sa.CheckConstraint(
            "state IN ('open', 'assigned', 'in_progress', 'fulfilled', 'declined', 'duplicate')",
            name="cd3p_data_request_state_check",
        ),
    )


class DataRequestComment(model.Base, model.Dictizable):
    __tablename__ = "cd3p_data_request_comment"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    request_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    author_id = sa.Column(sa.UnicodeText, nullable=False)
    author_name = sa.Column(sa.UnicodeText, nullable=False)
    text = sa.Column(sa.UnicodeText, nullable=False)  # Markdown, stored as text
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)


class DataRequestFollower(model.Base, model.Dictizable):
    __tablename__ = "cd3p_data_request_follower"

    request_id = sa.Column(sa.UnicodeText, primary_key=True)
    user_id = sa.Column(sa.UnicodeText, primary_key=True, index=True)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)


class AccessGrant(model.Base, model.Dictizable):
    """Read access to one dataset for one user, from an approved access request, until ``expires``
    or until ``revoked`` (``requests/grants.py`` holds the one rule of which grants stand)."""

    __tablename__ = "cd3p_access_grant"

    id = sa.Column(sa.UnicodeText, primary_key=True, default=make_uuid)
    dataset_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    user_id = sa.Column(sa.UnicodeText, nullable=False, index=True)
    user_name = sa.Column(sa.UnicodeText, nullable=False)
    request_id = sa.Column(sa.UnicodeText, nullable=False)
    granted_by = sa.Column(sa.UnicodeText, nullable=False)
    created = sa.Column(sa.DateTime(timezone=True), nullable=False, default=model.utcnow)
    expires = sa.Column(sa.DateTime(timezone=True), nullable=False)
    revoked = sa.Column(sa.DateTime(timezone=True))
    revoked_by = sa.Column(sa.UnicodeText)
    revoke_reason = sa.Column(sa.UnicodeText)
