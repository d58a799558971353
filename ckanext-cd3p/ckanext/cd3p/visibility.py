"""Who may see what: the partner tier, and a dataset's data steward contact.

Partner tier: a dataset whose access level is "partners" is private (so CKAN's own rules give it to
the owning organization and sysadmins) and carries one more permission label, ``cd3p-partners``, which
every member of an organization with a current signature of the Data Sharing Agreement holds. Solr
filters searches by those labels and package_show (hence resource downloads and the DataStore's
searches) checks the same labels, so every way in gives one answer.

Steward contact: the steward's name and e-mail are for the owning organization's members and
sysadmins. The fields are removed from what package_show returns to others, and from every
package_search result, so pages (which read through those actions) and the API give the same answer.
"""

from __future__ import annotations

from typing import Any

from ckan import authz
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p import gate

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


def partner_dataset_labels(dataset_obj: Any) -> list[str]:
    """The partner label for an active, private dataset whose access level is "partners"."""
    if (
        dataset_obj.state == "active"
        and dataset_obj.private
        and dataset_obj.extras.get("access_level") == "partners"
    ):
        return [gate.PARTNER_LABEL]
    return []


def partner_user_labels(user_obj: Any, labels: list[str]) -> list[str]:
    """The partner label for a member of an organization with a current signature who has personally
    acknowledged the version that organization signed (or the active one).

    Reads the organizations from CKAN's own ``member-<org id>`` labels, so it costs two ledger queries.
    """
    if not user_obj or user_obj.is_anonymous:
        return []
    org_ids = [label.removeprefix("member-") for label in labels if label.startswith("member-")]
    return [gate.PARTNER_LABEL] if gate.current_partner(user_obj.id, org_ids) else []
