"""Auth functions of data requests: one per action. Who may see a request is ``requests/rules.py``
(a new-data request is public; an access request is its requester's, its dataset's organization
admins' and sysadmins').

CKAN lets sysadmins through every auth function, so "sysadmins" is never written below. An id that
names no request passes (once the caller is logged in, where the action needs it), so that the
action answers it with ObjectNotFound (404) rather than a refusal. Whether the request's state
allows the change is the action's to say (a ValidationError naming ``id``).
"""

from __future__ import annotations

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth, inputs
from ckanext.cd3p.requests import grants, rules


def _seen(context: Context, data_dict: DataDict | None, login: bool = True) -> AuthResult:
    """Logged in (unless not ``login``), and the request, if there is one, is visible to the caller."""
    if login:
        logged_in = auth.logged_in(context)
        if not logged_in["success"]:
            return logged_in
    row = rules.get((data_dict or {}).get("id"))
    if row is not None and not rules.may_see(context.get("user"), row):
        return auth.refuse(tk._("Not authorized to see this data request"))
    return auth.ALLOWED


def cd3p_data_request_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user."""
    return auth.logged_in(context)


@tk.auth_allow_anonymous_access
def cd3p_data_request_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone, for a new-data request; an access request: its requester, the admins of its
    dataset's organization."""
    return _seen(context, data_dict, login=False)


@tk.auth_allow_anonymous_access
def cd3p_data_request_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone: the list holds the requests the caller may see (``mine`` and ``followed`` need a
    login, which the action asks for)."""
    return auth.ALLOWED


def cd3p_data_request_queue(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Sysadmins, and the admins of at least one organization (the queue of those they administer;
    the action refuses an organization the caller does not administer)."""
    logged_in = auth.logged_in(context)
    if not logged_in["success"]:
        return logged_in
    found = rules.user(context.get("user"))
    administers = found is not None and model.Session.query(rules.admin_org_ids(found.id).exists()).scalar()
    if not administers:
        return auth.refuse(tk._("Only organization admins have a queue of data requests"))
    return auth.ALLOWED


def cd3p_data_request_update(context: Context, data_dict: DataDict | None) -> AuthResult:
    """The requester (the action allows it while the request is open)."""
    denied = _seen(context, data_dict)
    if not denied["success"]:
        return denied
    row = rules.get((data_dict or {}).get("id"))
    found = rules.user(context.get("user"))
    if row is not None and (found is None or found.id != row.requester_id):
        return auth.refuse(tk._("Only the requester can change a data request"))
    return auth.ALLOWED


def cd3p_data_request_assign(context: Context, data_dict: DataDict | None) -> AuthResult:
    """An organization's admin claims a request for that organization (``organization_id``): a
    new-data request addressed to the City or to that organization, not yet assigned elsewhere; an
    access request to a dataset of that organization. Sysadmins assign a request to any
    organization (an access request, only to its dataset's: the action checks that)."""
    denied = _seen(context, data_dict)
    if not denied["success"]:
        return denied
    data = data_dict or {}
    admin = auth.org_admin(context, data.get("organization_id"))
    if not admin["success"]:
        return admin
    row = rules.get(data.get("id"))
    if row is None:
        return auth.ALLOWED
    org_id = model.Group.get(inputs.text_id(data.get("organization_id"))).id
    if row.kind == "new_data" and row.addressed_to not in (None, org_id):
        return auth.refuse(
            tk._("This request is addressed to another organization; a sysadmin may assign it")
        )
    if row.organization_id not in (None, org_id):
        return auth.refuse(
            tk._("This request is assigned to another organization; a sysadmin may reassign it")
        )
    return auth.ALLOWED


def _decider(context: Context, data_dict: DataDict | None, also_requester: bool = False) -> AuthResult:
    denied = _seen(context, data_dict)
    if not denied["success"]:
        return denied
    row = rules.get((data_dict or {}).get("id"))
    if row is None or rules.may_decide(context.get("user"), row):
        return auth.ALLOWED
    found = rules.user(context.get("user"))
    if also_requester and found is not None and found.id == row.requester_id:
        return auth.ALLOWED
    return auth.refuse(tk._("Only the admins of the organization the request is assigned to can do this"))


def cd3p_data_request_close(context: Context, data_dict: DataDict | None) -> AuthResult:
    """The admins of the organization the request is assigned to (an access request: of its
    dataset's organization, assigned or not). An unassigned new-data request is closed by a
    sysadmin, or claimed first."""
    return _decider(context, data_dict)


def cd3p_data_request_reopen(context: Context, data_dict: DataDict | None) -> AuthResult:
    """The requester, and those who may close it."""
    return _decider(context, data_dict, also_requester=True)


def cd3p_data_request_comment(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user who may see the request."""
    return _seen(context, data_dict)


def cd3p_data_request_follow(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user who may see the request."""
    return _seen(context, data_dict)


def cd3p_data_request_unfollow(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user who may see the request."""
    return _seen(context, data_dict)


# --- access grants ---------------------------------------------------------------------------------


def cd3p_access_grant_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user: the list holds their own grants, those of the datasets of the
    organizations they administer, and every grant for sysadmins."""
    return auth.logged_in(context)


def cd3p_access_grant_revoke(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Sysadmins, and the admins of the organization that owns the granted dataset."""
    denied = auth.logged_in(context)
    if not denied["success"]:
        return denied
    row = grants.get((data_dict or {}).get("id"))
    if row is None:
        return auth.refuse(tk._("Access grant not found"))
    found = rules.user(context.get("user"))
    pkg = model.Package.get(row.dataset_id)
    if found is not None and (
        found.sysadmin or (pkg is not None and rules.is_admin(found.name, pkg.owner_org))
    ):
        return auth.ALLOWED
    return auth.refuse(tk._("Only the admins of the dataset's organization can revoke its grants"))
