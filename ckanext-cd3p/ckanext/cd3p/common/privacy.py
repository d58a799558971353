"""Privacy rules that several features apply, each in one function: the small-cell threshold of a
dataset, and who reads a dataset's raw rows rather than its suppressed ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ckan import authz
from ckan.types import Context

from ckanext.cd3p.common import partners

DEFAULT_THRESHOLD = 11


def threshold(dataset: dict[str, Any]) -> int:
    """The dataset's small-cell threshold (``small_cell_threshold``; 11 when unset or invalid)."""
    try:
        value = int(dataset.get("small_cell_threshold") or DEFAULT_THRESHOLD)
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD
    return value if value >= 1 else DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Cells:
    """How one caller sees one dataset's small cells: its threshold, and whether the caller reads
    raw rows (:func:`sees_raw`)."""

    threshold: int
    raw: bool

    def hidden(self, count: float) -> bool:
        """A count (or a denominator) above 0 and below the threshold is hidden, unless the caller
        reads raw rows. Zero is not a small cell."""
        return not self.raw and 0 < count < self.threshold


def sees_raw(context: Context, dataset: dict[str, Any]) -> bool:
    """Whether the caller reads the raw table: internal calls (``ignore_auth``), sysadmins, members
    of the dataset's organization (any capacity) and the partner tier. Everyone else (visitors,
    registered users, members of organizations that have not signed) reads the public view."""
    if context.get("ignore_auth"):
        return True
    user = context.get("user") or ""
    if not user:
        return False
    if authz.is_sysadmin(user):
        return True
    owner = dataset.get("owner_org")
    if owner and authz.users_role_for_group_or_org(owner, user) is not None:
        return True
    return partners.in_partner_tier(context)
