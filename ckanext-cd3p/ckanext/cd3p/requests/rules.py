"""Who may see and act on a data request, one function each, for the auth functions and the
actions alike.

- A **new-data** request is public, in every state: anyone may read it, its comments and its
  number of followers.
- An **access** request names a dataset its requester may not read and says why they want it, so
  it is seen only by its requester, the admins of the organization that owns the dataset (who
  decide) and sysadmins.
- The organization that acts on a request is the one it is **assigned** to; for an access request,
  always the dataset's owner (an access request can be assigned to no other).
"""

from __future__ import annotations

import sqlalchemy as sa
from ckan import authz, model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import inputs
from ckanext.cd3p.requests.model import DataRequest


def get(ref: object) -> DataRequest | None:
    """The request with this id, or None (also for a value that cannot be an id)."""
    text = inputs.text_id(ref)
    return model.Session.get(DataRequest, text) if text else None


def user(name: str | None) -> model.User | None:
    found = model.User.get(name or "") if name else None
    return found if found is not None and found.state == "active" else None


def reads(user_name: str, dataset_id: str) -> bool:
    """Whether the user may read the dataset now (``package_show``'s auth, so the partner tier,
    membership and access grants all count)."""
    try:
        tk.check_access("package_show", {"user": user_name}, {"id": dataset_id})
    except tk.NotAuthorized:
        return False
    return True


def dataset_org(row: DataRequest) -> str | None:
    """The organization that decides an access request: the dataset's owner now (or, for a
    dataset since purged, the organization it was addressed to)."""
    pkg = model.Package.get(row.dataset_id) if row.dataset_id else None
    return pkg.owner_org if pkg is not None and pkg.owner_org else row.addressed_to


def is_admin(name: str | None, org_id: str | None) -> bool:
    return bool(name and org_id) and authz.users_role_for_group_or_org(org_id, name) == "admin"


def deciding_org(row: DataRequest) -> str | None:
    """The organization whose admins act on the request: the assigned one; for an access request,
    the dataset's owner."""
    return dataset_org(row) if row.kind == "access" else row.organization_id


def may_see(name: str | None, row: DataRequest) -> bool:
    if row.kind == "new_data":
        return True
    found = user(name)
    if found is None:
        return False
    return found.sysadmin or found.id == row.requester_id or is_admin(found.name, dataset_org(row))


def may_decide(name: str | None, row: DataRequest) -> bool:
    """Sysadmins, and the admins of the deciding organization."""
    found = user(name)
    return found is not None and (found.sysadmin or is_admin(found.name, deciding_org(row)))


def admin_org_ids(user_id: str) -> sa.Select:
    """The organizations the user is an admin of (a subquery)."""
    return sa.select(model.Member.group_id).where(
        model.Member.table_name == "user",
        model.Member.table_id == user_id,
        model.Member.capacity == "admin",
        model.Member.state == "active",
    )


def visible(query: sa.orm.Query, found: model.User | None) -> sa.orm.Query:
    """The query's requests that the user (None: a visitor) may see (:func:`may_see`)."""
    if found is not None and found.sysadmin:
        return query
    seen = DataRequest.kind == "new_data"
    if found is not None:
        decided = sa.select(model.Package.id).where(model.Package.owner_org.in_(admin_org_ids(found.id)))
        seen = sa.or_(seen, DataRequest.requester_id == found.id, DataRequest.dataset_id.in_(decided))
    return query.filter(seen)
