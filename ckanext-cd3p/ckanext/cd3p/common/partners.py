"""The partner tier, one rule: sysadmins, and members of an organization with a current signature
who acknowledged the version it signed (or the active one). Datasets whose access level is
``partners`` carry the label :data:`PARTNER_LABEL`, and so do the users in the tier."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ckan import authz, model
from ckan.lib.plugins import get_permission_labels
from ckan.types import Context

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.common.memo import forget_on_write, remembered


def in_partner_tier(context: Context) -> bool:
    """Sysadmins and members of an organization with a current signature (who acknowledged it)."""
    name = context.get("user") or ""

    def decide() -> bool:
        user = model.User.get(name) if name else None
        if user is None:
            return False
        if authz.is_sysadmin(user.name):
            return True
        return PARTNER_LABEL in get_permission_labels().get_user_dataset_labels(user)

    return remembered(_MEMO, name, decide)


_MEMO = "partners"
forget_on_write(_MEMO)


# --- partner tier -------------------------------------------------------------------------------

PARTNER_LABEL = "cd3p-partners"


def current_partner(user_id: str, org_ids: Iterable[str]) -> bool:
    """Whether the user belongs to an organization with a current signature and acknowledged the
    version it signed or the active one."""
    ids = list(org_ids)
    if not ids:
        return False
    facts = ledger.tier_facts(user_id, ids)  # one statement
    versions = set(facts.current_versions)
    if not versions:
        return False
    if facts.active_id is not None:
        versions.add(facts.active_id)
    return bool(versions & facts.acknowledged)


def partner_dataset_labels(dataset_obj: Any) -> list[str]:
    """The partner label for an active, private dataset whose access level is "partners"."""
    if (
        dataset_obj.state == "active"
        and dataset_obj.private
        and dataset_obj.extras.get("access_level") == "partners"
    ):
        return [PARTNER_LABEL]
    return []


def partner_user_labels(user_obj: Any, labels: list[str]) -> list[str]:
    """The partner label for a member of an organization with a current signature who has personally
    acknowledged the version that organization signed (or the active one).

    Reads the organizations from CKAN's own ``member-<org id>`` labels, so it costs one statement.
    """
    if not user_obj or user_obj.is_anonymous:
        return []
    org_ids = [label.removeprefix("member-") for label in labels if label.startswith("member-")]
    return [PARTNER_LABEL] if current_partner(user_obj.id, org_ids) else []
