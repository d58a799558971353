"""The Data Sharing Agreement gate: who may join an organization and which organizations may publish.

Both rules read the ledger (:mod:`ckanext.cd3p.agreements.ledger`). Membership is checked in the chained
``member_create``, ``organization_create`` and ``organization_update`` actions, because CKAN skips auth
functions for sysadmins and the rule holds for them too (apart from the first admin). Publishing is
checked in chained auth functions, so sysadmins, the xloader worker (a sysadmin token) and internal
``ignore_auth`` calls pass, and the web forms and the API give the same answer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.agreements.model import Agreement
from ckanext.cd3p.common import inputs
from ckanext.cd3p.common.memo import forget_on_write, remembered

# An organization's standing, remembered for the request (publishing_check) until it writes.
STANDING_MEMO = "standing"
forget_on_write(STANDING_MEMO)


def _url(endpoint: str, **kw: Any) -> str:
    """A full URL; CKAN's url_for builds one outside a request too (CLI, worker)."""
    return tk.url_for(endpoint, _external=True, **kw)


def sign_url(org: model.Group) -> str:
    return _url("cd3p.organization_agreement", id=org.name)


def join_url(org: model.Group) -> str:
    return _url("cd3p.organization_join", id=org.name)


def unsigned_message(org: model.Group, standing: ledger.Standing) -> str:
    if standing.stale:
        reason = tk._(
            "{org}'s signature of the Data Sharing Agreement is for version {old}; the grace "
            "period to sign version {new} ended on {end}."
        ).format(
            org=org.title or org.name,
            old=standing.signature.agreement_version if standing.signature else "",
            new=standing.active.version if standing.active else "",
            end=standing.grace_end.date().isoformat() if standing.grace_end else "",
        )
    else:
        reason = tk._("{org} has not signed the Data Sharing Agreement.").format(org=org.title or org.name)
    return reason + " " + tk._("An admin of the organization can sign it at {url}").format(url=sign_url(org))


# --- membership ---------------------------------------------------------------------------------


def has_partner_admin(org_id: str) -> bool:
    """Whether the organization already has an admin who is not a sysadmin."""
    admin_ids = authz.get_group_or_org_admin_ids(org_id)
    return bool(admin_ids) and (
        model.Session.query(model.User.id)
        .filter(model.User.id.in_(admin_ids), model.User.sysadmin.is_(False))
        .first()
        is not None
    )


def first_admin_allowed(context: Context, org: model.Group | None, capacity: str) -> bool:
    """The one addition allowed before an organization signs: its first admin, added by a sysadmin."""
    return (
        authz.is_sysadmin(context.get("user"))
        and capacity == "admin"
        and (org is None or not has_partner_admin(org.id))
    )


def is_member(org_id: str, user: model.User) -> bool:
    return authz.users_role_for_group_or_org(org_id, user.name) is not None


def check_new_members(context: Context, org: model.Group | None, users: Iterable[tuple[str, str]]) -> None:
    """Raises NotAuthorized unless every (user, capacity) may be added to the organization.

    ``org`` is None for an organization being created. A sysadmin may add the organization's first
    admin before it has signed (so that someone can sign); users who are sysadmins are never gated;
    a change of role of an existing member is not an addition.
    """
    first_admin_open = True  # one per call at most
    standing = ledger.standing(org.id) if org is not None else None
    active = standing.active if standing is not None else Agreement.active()
    for user_ref, capacity in users:
        ref = inputs.text_id(user_ref)
        user = model.User.get(ref) if ref else None
        if user is None or user.sysadmin:
            continue  # CKAN reports unknown users itself
        if org is not None and is_member(org.id, user):
            continue
        if first_admin_open and first_admin_allowed(context, org, capacity):
            first_admin_open = False
            continue
        name = org.title or org.name if org is not None else tk._("A new organization")
        if standing is None or not standing.current:
            if org is None:
                raise tk.NotAuthorized(
                    tk._(
                        "{org} has not signed the Data Sharing Agreement: only its first admin can be added "
                        "before it signs."
                    ).format(org=name)
                )
            raise tk.NotAuthorized(
                tk._("{user} cannot join: ").format(user=user.name) + unsigned_message(org, standing)
            )
        if active is None or not ledger.has_acknowledged(user.id, active.id):
            raise tk.NotAuthorized(
                tk._(
                    "{user} has not acknowledged the active Data Sharing Agreement{version}; they can do it "
                    "at {url} or by asking to join {org} from its page."
                ).format(
                    user=user.name,
                    version=tk._(" (version {n})").format(n=active.version) if active else "",
                    url=_url("cd3p.agreement_read"),
                    org=name,
                )
            )


# --- publishing ---------------------------------------------------------------------------------


def _organization_of_package(ref: Any) -> str | None:
    ref = inputs.text_id(ref)
    pkg = model.Package.get(ref) if ref else None
    return pkg.owner_org if pkg else None


def _organization_of_resource(ref: Any) -> str | None:
    ref = inputs.text_id(ref)
    res = model.Resource.get(ref) if ref else None
    return _organization_of_package(res.package_id) if res else None


def publishing_check(context: Context, result: AuthResult, org_ids: Iterable[str | None]) -> AuthResult:
    """Refuses when an organization involved has no current signature.

    An authorised result becomes a refusal. A refusal from core (e.g. resource_create, which asks
    package_update and words its own message) keeps its verdict but, when the user's role would have
    allowed the change, says why: the agreement, with the link to the signing page.
    """
    user = context.get("user") or ""
    for org_id in {inputs.text_id(o) for o in org_ids} - {None}:
        org = model.Group.get(org_id)
        if org is None or not org.is_organization:
            continue
        # Asked in every nested auth check of a write (3 per package_patch): once per request,
        # until the request writes something (the signature may be what it writes).
        standing = remembered(STANDING_MEMO, org.id, functools.partial(ledger.standing, org.id))
        if standing.current:
            continue
        if result.get("success") or authz.has_user_permission_for_group_or_org(
            org.id, user, "update_dataset"
        ):
            return {"success": False, "msg": unsigned_message(org, standing)}
    return result


def orgs_for_package(data_dict: dict[str, Any]) -> list[str | None]:
    return [
        _organization_of_package(data_dict.get("id") or data_dict.get("name")),
        data_dict.get("owner_org"),
    ]


def orgs_for_resource(data_dict: dict[str, Any]) -> list[str | None]:
    return [
        _organization_of_resource(data_dict.get("id")),
        _organization_of_package(data_dict.get("package_id")),
    ]


def orgs_for_datastore(data_dict: dict[str, Any]) -> list[str | None]:
    resource = data_dict.get("resource") if isinstance(data_dict.get("resource"), dict) else {}
    return [
        _organization_of_resource(data_dict.get("resource_id")),
        _organization_of_package(resource.get("package_id")),
    ]
