"""What the features' auth functions share: a refusal, sysadmins only, logged in, an organization's
admin."""

from __future__ import annotations

from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import inputs

ALLOWED: AuthResult = {"success": True}


def refuse(msg: str) -> AuthResult:
    return {"success": False, "msg": msg}


def sysadmins_only(context: Context, data_dict: DataDict | None) -> AuthResult:
    return refuse(tk._("Only sysadmins can do this"))


def logged_in(context: Context) -> AuthResult:
    user = model.User.get(context.get("user") or "")
    if user is not None and user.state == "active":
        return ALLOWED
    return refuse(tk._("You must be logged in"))


def org_admin(context: Context, org_ref: Any) -> AuthResult:
    ref = inputs.text_id(org_ref)
    org = model.Group.get(ref) if ref else None
    if org is None:
        return refuse(tk._("Organization not found"))
    if authz.users_role_for_group_or_org(org.id, context.get("user")) == "admin":
        return ALLOWED
    return refuse(tk._("Only admins of {org} can do this").format(org=org.title or org.name))
