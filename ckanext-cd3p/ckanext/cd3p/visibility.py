"""Who may see a dataset's data steward contact.

The steward's name and e-mail are for partners, not the public. Until the Data Sharing Agreement
gate exists, "partners" means the owning organization's members; sysadmins see everything. The
fields are removed from what package_show returns to others, and from every package_search result,
so pages (which read through those actions) and the API give the same answer.
"""

from __future__ import annotations

from typing import Any

from ckan import authz
from ckan.plugins import toolkit as tk
from ckan.types import Context

STEWARD_FIELDS = ("steward_name", "steward_email")


def _user_org_ids(context: Context) -> set[str] | None:
    """The organizations the caller belongs to; None for a sysadmin or an internal call (sees all)."""
    if context.get("ignore_auth"):
        return None
    user = context.get("user") or ""
    if authz.is_sysadmin(user):
        return None
    if not user:
        return set()
    orgs = tk.get_action("organization_list_for_user")(
        {"user": user, "ignore_auth": True}, {"permission": "read", "include_dataset_count": False}
    )
    return {o["id"] for o in orgs}


def _strip(pkg_dict: dict[str, Any], org_ids: set[str] | None) -> None:
    if org_ids is not None and pkg_dict.get("owner_org") not in org_ids:
        for field in STEWARD_FIELDS:
            pkg_dict.pop(field, None)


def hide_steward(context: Context, pkg_dict: dict[str, Any]) -> None:
    """For package_show: one membership look-up."""
    if any(f in pkg_dict for f in STEWARD_FIELDS):
        _strip(pkg_dict, _user_org_ids(context))


def hide_steward_in_results(results: list[dict[str, Any]]) -> None:
    """For package_search, whose hooks get no caller: results never carry the steward contact.

    The dataset page and package_show give it to those who may see it.
    """
    for pkg_dict in results:
        for field in STEWARD_FIELDS:
            pkg_dict.pop(field, None)
