"""Access grants: which stand, one rule, and the permission labels that make search, the dataset
page, downloads and the DataStore agree on them.

A grant stands while it is neither revoked nor expired (:func:`standing`), checked whenever a
user's labels are worked out: an expired or revoked grant stops access at once, with nothing to
re-index. Every private dataset carries the label of its own grants (``cd3p-grant-<dataset id>``);
a user carries it for each dataset a standing grant opens to them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model

from ckanext.cd3p import config
from ckanext.cd3p.common import inputs
from ckanext.cd3p.common.memo import forget_request_memo, remembered
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.requests.model import AccessGrant

LABEL_PREFIX = "cd3p-grant-"


def standing(now: dt.datetime | None = None) -> Any:
    """The filter of the grants that stand: not revoked, not expired."""
    return sa.and_(AccessGrant.revoked.is_(None), AccessGrant.expires > (now or utcnow()))


def get(ref: object) -> AccessGrant | None:
    """The grant with this id, or None (also for a value that cannot be an id)."""
    text = inputs.text_id(ref)
    return model.Session.get(AccessGrant, text) if text else None


def granted_datasets(user_id: str) -> set[str]:
    """The datasets standing grants open to the user (once per request)."""

    def read() -> set[str]:
        query = model.Session.query(AccessGrant.dataset_id).filter(AccessGrant.user_id == user_id, standing())
        return {dataset_id for (dataset_id,) in query}

    return remembered("grants", user_id, read)


def dataset_labels(dataset_obj: Any) -> list[str]:
    """The grant label of an active private dataset."""
    if dataset_obj.state == "active" and dataset_obj.private:
        return [LABEL_PREFIX + dataset_obj.id]
    return []


def user_labels(user_obj: Any) -> list[str]:
    """The grant labels of a user: one per dataset opened to them."""
    if not user_obj or user_obj.is_anonymous:
        return []
    return [LABEL_PREFIX + dataset_id for dataset_id in sorted(granted_datasets(user_obj.id))]


def grant(dataset_id: str, user: model.User, request_id: str, granted_by: str) -> AccessGrant:
    """A new grant of ``grant_days`` (in the caller's transaction, committed by the caller)."""
    now = utcnow()
    row = AccessGrant(
        dataset_id=dataset_id,
        user_id=user.id,
        user_name=user.name,
        request_id=request_id,
        granted_by=granted_by,
        created=now,
        expires=now + dt.timedelta(days=config.grant_days()),
    )
    model.Session.add(row)
    model.Session.flush()
    return row


def forget_memo() -> None:
    """After a grant or revocation, the request's remembered grants are out of date."""
    forget_request_memo("grants")
