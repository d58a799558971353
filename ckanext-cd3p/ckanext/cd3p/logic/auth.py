"""Auth functions: one per cd3p action, and the publishing gate chained onto core's.

CKAN lets sysadmins through every auth function (unless decorated with ``auth_sysadmins_check``), so
"sysadmins only" is written as "nobody else".
"""

from __future__ import annotations

from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from ckanext.cd3p import gate, suppression
from ckanext.cd3p.common import inputs
from ckanext.cd3p.model import Agreement, MembershipRequest, PartnerApplication

__all__ = [
    "cd3p_agreement_acknowledge",
    "cd3p_agreement_activate",
    "cd3p_agreement_create",
    "cd3p_agreement_delete",
    "cd3p_agreement_list",
    "cd3p_agreement_show",
    "cd3p_agreement_sign",
    "cd3p_agreement_status",
    "cd3p_agreement_update",
    "cd3p_indicator_list",
    "cd3p_indicator_refresh",
    "cd3p_indicator_show",
    "cd3p_indicator_source_create",
    "cd3p_indicator_source_delete",
    "cd3p_indicator_source_list",
    "cd3p_ledger_checkpoint",
    "cd3p_ledger_verify",
    "cd3p_membership_request_approve",
    "cd3p_membership_request_create",
    "cd3p_membership_request_list",
    "cd3p_membership_request_reject",
    "cd3p_partner_application_approve",
    "cd3p_partner_application_create",
    "cd3p_partner_application_list",
    "cd3p_partner_application_reject",
    "cd3p_partner_application_show",
    "cd3p_place_show",
    "cd3p_resource_check_list",
    "cd3p_resource_check_release",
    "cd3p_resource_check_run",
    "cd3p_resource_check_show",
    "cd3p_resource_mark_personal",
    "cd3p_signature_list",
    "cd3p_signature_revoke",
    "datastore_create",
    "datastore_delete",
    "datastore_search_sql",
    "datastore_upsert",
    "package_create",
    "package_delete",
    "package_update",
    "resource_create",
    "resource_delete",
    "resource_update",
]

ALLOWED: AuthResult = {"success": True}


def _refuse(msg: str) -> AuthResult:
    return {"success": False, "msg": msg}


def _sysadmins_only(context: Context, data_dict: DataDict | None) -> AuthResult:
    return _refuse(tk._("Only sysadmins can do this"))


def _logged_in(context: Context) -> AuthResult:
    user = model.User.get(context.get("user") or "")
    if user is not None and user.state == "active":
        return ALLOWED
    return _refuse(tk._("You must be logged in"))


def _org_admin(context: Context, org_ref: Any) -> AuthResult:
    ref = inputs.text_id(org_ref)
    org = model.Group.get(ref) if ref else None
    if org is None:
        return _refuse(tk._("Organization not found"))
    if authz.users_role_for_group_or_org(org.id, context.get("user")) == "admin":
        return ALLOWED
    return _refuse(tk._("Only admins of {org} can do this").format(org=org.title or org.name))


# --- agreements ---------------------------------------------------------------------------------


@tk.auth_allow_anonymous_access
def cd3p_agreement_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone: partners read the agreement before they apply (drafts are filtered by the action)."""
    return ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_agreement_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone may read active and retired versions; drafts are for sysadmins."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    agreement = Agreement.get(ref) if ref and ref != "current" else None
    if agreement is not None and agreement.state == "draft":
        return _refuse(tk._("Drafts are visible to sysadmins only"))
    return ALLOWED


cd3p_agreement_create = _sysadmins_only
cd3p_agreement_update = _sysadmins_only
cd3p_agreement_activate = _sysadmins_only
cd3p_agreement_delete = _sysadmins_only


@tk.auth_sysadmins_check
def cd3p_agreement_sign(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Admins of the organization, sysadmins included only when they are one: the signature binds the
    organization, so the city's own administrators cannot sign on a partner's behalf."""
    return _org_admin(context, (data_dict or {}).get("organization_id"))


def cd3p_agreement_acknowledge(context: Context, data_dict: DataDict | None) -> AuthResult:
    return _logged_in(context)


@tk.auth_allow_anonymous_access
def cd3p_agreement_status(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Public: which partners have signed, and which version, is part of the city's promise."""
    return ALLOWED


# --- indicators ---------------------------------------------------------------------------------


@tk.auth_allow_anonymous_access
def cd3p_indicator_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    return ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_indicator_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; the values come through datastore_search in the caller's name, which checks the
    source tables' own access."""
    return ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_place_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; indicators whose source the caller may not read are withheld by the action."""
    return ALLOWED


cd3p_indicator_refresh = _sysadmins_only
# Registering a source changes what every visitor's pages compute: the City's data team decides.
cd3p_indicator_source_create = _sysadmins_only
cd3p_indicator_source_delete = _sysadmins_only
cd3p_indicator_source_list = _sysadmins_only


# --- checks before loading -----------------------------------------------------------------------


def _resource_editor(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Those who may change the resource's dataset (its organization's editors and admins, sysadmins):
    the check's report names columns that look personal, so it is not for every reader."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    resource = model.Resource.get(ref) if ref else None
    if resource is None:
        return _refuse(tk._("Resource not found"))
    try:
        tk.check_access("package_update", dict(context), {"id": resource.package_id})
    except tk.NotAuthorized:
        return _refuse(tk._("Only editors of the dataset can see or act on its file checks"))
    return ALLOWED


cd3p_resource_check_show = _resource_editor
cd3p_resource_check_run = _resource_editor
cd3p_resource_mark_personal = _resource_editor
cd3p_resource_check_list = _sysadmins_only
cd3p_resource_check_release = _sysadmins_only


# --- the ledger ---------------------------------------------------------------------------------


def cd3p_signature_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Sysadmins: everything. Organization admins: their organization's entries."""
    org_ref = (data_dict or {}).get("organization_id")
    if not org_ref:
        return _refuse(tk._("Only sysadmins can list the whole ledger; pass organization_id"))
    return _org_admin(context, org_ref)


cd3p_signature_revoke = _sysadmins_only
cd3p_ledger_verify = _sysadmins_only
cd3p_ledger_checkpoint = _sysadmins_only


# --- partner applications -----------------------------------------------------------------------


def cd3p_partner_application_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    return _logged_in(context)


def cd3p_partner_application_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Logged-in users see their own applications (the action filters); sysadmins all."""
    return _logged_in(context)


def cd3p_partner_application_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """The applicant and sysadmins."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    application = model.Session.get(PartnerApplication, ref) if ref else None
    user = model.User.get(context.get("user") or "")
    if application is not None and user is not None and application.user_id == user.id:
        return ALLOWED
    return _refuse(tk._("Not authorized to see this application"))


cd3p_partner_application_approve = _sysadmins_only
cd3p_partner_application_reject = _sysadmins_only


# --- membership requests ------------------------------------------------------------------------


def cd3p_membership_request_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    return _logged_in(context)


def cd3p_membership_request_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """An organization's queue: its admins. Without organization_id: one's own requests."""
    org_ref = (data_dict or {}).get("organization_id")
    if org_ref:
        return _org_admin(context, org_ref)
    return _logged_in(context)


def _request_admin(context: Context, data_dict: DataDict | None) -> AuthResult:
    ref = inputs.text_id((data_dict or {}).get("id"))
    row = model.Session.get(MembershipRequest, ref) if ref else None
    if row is None:
        return _refuse(tk._("Membership request not found"))
    return _org_admin(context, row.organization_id)


cd3p_membership_request_approve = _request_admin
cd3p_membership_request_reject = _request_admin


# --- the publishing gate, chained onto core's auth functions -----------------------------------


@tk.chained_auth_function
def package_create(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    data = data_dict or {}
    return gate.publishing_check(context, next_auth(context, data_dict), [data.get("owner_org")])


@tk.chained_auth_function
def package_update(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_package(data_dict or {})
    )


@tk.chained_auth_function
def package_delete(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_package(data_dict or {})
    )


@tk.chained_auth_function
def resource_create(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_resource(data_dict or {})
    )


@tk.chained_auth_function
def resource_update(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_resource(data_dict or {})
    )


@tk.chained_auth_function
def resource_delete(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_resource(data_dict or {})
    )


@tk.chained_auth_function
def datastore_create(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_datastore(data_dict or {})
    )


@tk.chained_auth_function
def datastore_upsert(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_datastore(data_dict or {})
    )


@tk.chained_auth_function
def datastore_delete(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    return gate.publishing_check(
        context, next_auth(context, data_dict), gate.orgs_for_datastore(data_dict or {})
    )


# --- small-cell suppression ---------------------------------------------------------------------


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    """Core's check (read access to every table the query's plan reads, given as ``table_names``),
    after ours: outside the partner tier and the dataset's organization, a table with suppressed
    small counts is read through its public view only (see :func:`suppression.refused_tables`)."""
    sql = str((data_dict or {}).get("sql") or "")
    refused = suppression.refused_tables(context, context.get("table_names") or [], sql)
    if refused:
        return _refuse(
            tk._("This table has suppressed small counts; query its public view {name} instead.").format(
                name=suppression.view_name(refused[0])
            )
        )
    return next_auth(context, data_dict)
