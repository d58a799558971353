"""Access grants: which stand, one rule, and the permission labels that make search, the dataset
page, downloads and the DataStore agree on them.

A grant and its revocation are entries of the agreement ledger (``grant`` and ``revoke``,
append-only and hash-chained, ``agreements/ledger.py``); ``cd3p_access_grant`` is the index of
grants by user and dataset, whose id is its ledger entry's. A grant stands while it is not
expired and no ``revoke`` entry names it (:func:`standing`, with the ledger's "not revoked"),
checked whenever a user's labels are worked out: an expired or revoked grant stops access at once,
with nothing to re-index. Every private dataset carries the label of its own grants
(``cd3p-grant-<dataset id>``); a user carries it for each dataset a standing grant opens to them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model

from ckanext.cd3p import config
from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.agreements.model import Agreement, LedgerEntry
from ckanext.cd3p.common import inputs
from ckanext.cd3p.common.memo import forget_request_memo, remembered
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.requests.model import AccessGrant

LABEL_PREFIX = "cd3p-grant-"


def standing(now: dt.datetime | None = None) -> Any:
    """The filter of the grants that stand: not expired, and not revoked in the ledger."""
    return sa.and_(ledger.not_revoked(AccessGrant.id), AccessGrant.expires > (now or utcnow()))


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


def grant(
    dataset: model.Package, user: model.User, request_id: str, granted_by: model.User, agreement: Agreement
) -> AccessGrant:
    """A new grant of ``grant_days``, and its ``grant`` entry in the ledger under the agreement the
    grantee acknowledged (in the caller's transaction, committed by the caller)."""
    org = model.Group.get(dataset.owner_org) if dataset.owner_org else None
    now = utcnow()
    entry = ledger.append(
        kind="grant",
        agreement_id=agreement.id,
        agreement_version=agreement.version,
        text_sha256=ledger.text_sha256(agreement.body),
        organization_id=org.id if org else None,
        organization_name=org.name if org else None,
        user_id=granted_by.id,
        user_name=granted_by.name,
        dataset_id=dataset.id,
        dataset_name=dataset.name,
        grantee_id=user.id,
        grantee_name=user.name,
        request_id=request_id,
        created=now,
        expires=now + dt.timedelta(days=config.grant_days()),
    )
    row = AccessGrant(
        id=entry.id,
        dataset_id=dataset.id,
        user_id=user.id,
        user_name=user.name,
        request_id=request_id,
        granted_by=granted_by.name,
        created=entry.created,
        expires=entry.expires,
    )
    model.Session.add(row)
    model.Session.flush()
    return row


_COPIED = (
    "agreement_id", "agreement_version", "text_sha256", "organization_id", "organization_name",
    "dataset_id", "dataset_name", "grantee_id", "grantee_name", "request_id",
)  # fmt: skip


def revoke(row: AccessGrant, by: model.User, reason: str) -> LedgerEntry:
    """Ends a grant now: a ``revoke`` entry naming its ``grant`` entry (in the caller's transaction,
    committed by the caller); the index row keeps when, by whom and why, for its pages."""
    granted = model.Session.get(LedgerEntry, row.id)
    if granted is None or granted.kind != "grant":
        raise LookupError(f"access grant {row.id} has no grant entry in the ledger")
    entry = ledger.append(
        kind="revoke",
        **{k: getattr(granted, k) for k in _COPIED},
        user_id=by.id,
        user_name=by.name,
        revokes=granted.id,
        reason=reason,
    )
    row.revoked = entry.created
    row.revoked_by = by.name
    row.revoke_reason = reason
    return entry


def forget_memo() -> None:
    """After a grant or revocation, the request's remembered grants are out of date."""
    forget_request_memo("grants")
