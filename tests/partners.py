"""Building partners the way the portal does: through the cd3p actions, never by writing rows."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.agreements.defaults import DEFAULT_AGREEMENT
from tests import factories


def site_user() -> str:
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def active_agreement(version: str = "template-1") -> dict[str, Any]:
    """Creates and activates an agreement version (sysadmin)."""
    context = {"user": site_user()}
    call_action(
        "cd3p_agreement_create",
        context,
        version=version,
        title=f"CD3P Data Sharing Agreement {version}",
        body=DEFAULT_AGREEMENT.read_text(encoding="utf-8") + f"\n\nVersion {version}.\n",
    )
    return call_action("cd3p_agreement_activate", context, id=version)


def sign(org: dict[str, Any], admin: dict[str, Any], **fields: Any) -> dict[str, Any]:
    current = call_action("cd3p_agreement_show", {}, id="current")
    data = {
        "organization_id": org["id"],
        "agreement_id": current["id"],
        "signatory_name": "Alex Morgan",
        "signatory_title": "Executive Director",
        "confirm_authority": True,
        **fields,
    }
    return call_action("cd3p_agreement_sign", {"user": admin["name"]}, **data)


def acknowledge(user: dict[str, Any]) -> dict[str, Any]:
    return call_action("cd3p_agreement_acknowledge", {"user": user["name"]})


def organization(
    first_admin: dict[str, Any] | None = None, signed: bool = True, **fields: Any
) -> dict[str, Any]:
    """A partner organization created by a sysadmin, with its first admin, signed unless told not to."""
    org = factories.Organization(**fields)
    if first_admin is not None:
        call_action(
            "organization_member_create",
            {"user": site_user()},
            id=org["id"],
            username=first_admin["name"],
            role="admin",
        )
        if signed:
            sign(org, first_admin)
    return org


def join(org: dict[str, Any], user: dict[str, Any], role: str = "member") -> None:
    """The user acknowledges the agreement and a sysadmin adds them (the organization must be signed)."""
    acknowledge(user)
    call_action(
        "organization_member_create", {"user": site_user()}, id=org["id"], username=user["name"], role=role
    )


def apply(applicant: dict[str, Any], title: str, **fields: Any) -> dict[str, Any]:
    """The user applies to make an organization a partner (a grassroots group, Lee its contact)."""
    data = {
        "organization_title": title,
        "sector": "grassroots",
        "contact_name": "Lee",
        "contact_email": "lee@techtown.example",
        "data_description": "Device lending records",
        **fields,
    }
    return call_action("cd3p_partner_application_create", {"user": applicant["name"]}, **data)
