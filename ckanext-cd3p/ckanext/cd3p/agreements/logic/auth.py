"""Auth functions: one per cd3p action, and the publishing gate chained onto core's.

CKAN lets sysadmins through every auth function (unless decorated with ``auth_sysadmins_check``), so
"sysadmins only" is written as "nobody else".
"""

from __future__ import annotations

from collections.abc import Callable

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from ckanext.cd3p.agreements import gate
from ckanext.cd3p.agreements.model import Agreement, MembershipRequest, PartnerApplication
from ckanext.cd3p.common import auth, inputs

# --- agreements ---------------------------------------------------------------------------------


@tk.auth_allow_anonymous_access
def cd3p_agreement_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone: partners read the agreement before they apply (drafts are filtered by the action)."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_agreement_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone may read active and retired versions; drafts are for sysadmins."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    agreement = Agreement.get(ref) if ref and ref != "current" else None
    if agreement is not None and agreement.state == "draft":
        return auth.refuse(tk._("Drafts are visible to sysadmins only"))
    return auth.ALLOWED


cd3p_agreement_create = auth.sysadmins_only


cd3p_agreement_update = auth.sysadmins_only


cd3p_agreement_activate = auth.sysadmins_only


cd3p_agreement_delete = auth.sysadmins_only


@tk.auth_sysadmins_check
def cd3p_agreement_sign(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Admins of the organization, sysadmins included only when they are one: the signature binds the
    organization, so the city's own administrators cannot sign on a partner's behalf."""
    return auth.org_admin(context, (data_dict or {}).get("organization_id"))


def cd3p_agreement_acknowledge(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.logged_in(context)


@tk.auth_allow_anonymous_access
def cd3p_agreement_status(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Public: which partners have signed, and which version, is part of the city's promise."""
    return auth.ALLOWED


# --- the ledger ---------------------------------------------------------------------------------


def cd3p_signature_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Sysadmins: everything. Organization admins: their organization's entries."""
    org_ref = (data_dict or {}).get("organization_id")
    if not org_ref:
        return auth.refuse(tk._("Only sysadmins can list the whole ledger; pass organization_id"))
    return auth.org_admin(context, org_ref)


cd3p_signature_revoke = auth.sysadmins_only


cd3p_ledger_verify = auth.sysadmins_only


cd3p_ledger_checkpoint = auth.sysadmins_only


# --- partner applications -----------------------------------------------------------------------


def cd3p_partner_application_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.logged_in(context)


def cd3p_partner_application_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Logged-in users see their own applications (the action filters); sysadmins all."""
    return auth.logged_in(context)


def cd3p_partner_application_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """The applicant and sysadmins."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    application = model.Session.get(PartnerApplication, ref) if ref else None
    user = model.User.get(context.get("user") or "")
    if application is not None and user is not None and application.user_id == user.id:
        return auth.ALLOWED
    return auth.refuse(tk._("Not authorized to see this application"))


cd3p_partner_application_approve = auth.sysadmins_only


cd3p_partner_application_reject = auth.sysadmins_only


# --- membership requests ------------------------------------------------------------------------


def cd3p_membership_request_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.logged_in(context)


def cd3p_membership_request_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """An organization's queue: its admins. Without organization_id: one's own requests."""
    org_ref = (data_dict or {}).get("organization_id")
    if org_ref:
        return auth.org_admin(context, org_ref)
    return auth.logged_in(context)


def _request_admin(context: Context, data_dict: DataDict | None) -> AuthResult:
    ref = inputs.text_id((data_dict or {}).get("id"))
    row = model.Session.get(MembershipRequest, ref) if ref else None
    if row is None:
        return auth.refuse(tk._("Membership request not found"))
    return auth.org_admin(context, row.organization_id)


cd3p_membership_request_approve = _request_admin


cd3p_membership_request_reject = _request_admin


# --- the publishing gate, chained onto core's auth functions -----------------------------------


def _gated(organizations: Callable[[DataDict], list[str | None]]) -> AuthFunction:
    """Core's auth function, then the gate: each organization the call publishes to (as
    ``organizations`` finds them from its input) must have a current signature."""

    @tk.chained_auth_function
    def chained(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
        return gate.publishing_check(context, next_auth(context, data_dict), organizations(data_dict or {}))

    return chained


package_create = _gated(lambda data: [data.get("owner_org")])


package_update = _gated(gate.orgs_for_package)


package_delete = _gated(gate.orgs_for_package)


resource_create = _gated(gate.orgs_for_resource)


resource_update = _gated(gate.orgs_for_resource)


resource_delete = _gated(gate.orgs_for_resource)


datastore_create = _gated(gate.orgs_for_datastore)


datastore_upsert = _gated(gate.orgs_for_datastore)


datastore_delete = _gated(gate.orgs_for_datastore)
