"""Template helpers of the checks before loading: a resource's latest check, its suppression, and
the labels of load phases and findings."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import privacy
from ckanext.cd3p.common.i18n import Text
from ckanext.cd3p.ingestion import suppression


def cd3p_resource_check(resource_id: str) -> dict[str, Any] | None:
    """The latest check of a resource's file as the visitor may see it (editors of the dataset and
    sysadmins), or None."""
    try:
        return tk.get_action("cd3p_resource_check_show")(
            {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}, {"id": resource_id}
        )
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None


def cd3p_suppression(resource: dict[str, Any], package: dict[str, Any]) -> dict[str, Any] | None:
    """Small-cell suppression of a resource's table, for its page: None when its counts are never
    suppressed, else its count ``columns``, the ``threshold`` and whether the visitor sees the
    exact values (``raw``: the partner tier, the dataset's organization, sysadmins)."""
    if not suppression.applies(package, resource):
        return None
    user = tk.current_user.name if tk.current_user.is_authenticated else ""
    return {
        "columns": suppression.count_columns(resource),
        "threshold": privacy.threshold(package),
        "raw": privacy.sees_raw({"user": user}, package),
    }


# Words for the codes a load's progress and a check's findings are recorded with.
LABELS: dict[str, dict[str, str]] = {
    "load_phase": {
        "starting": Text("Starting"),
        "copying": Text("Copying rows"),
        "converting": Text("Converting column types"),
        "replacing": Text("Replacing the previous table"),
        "indexing": Text("Building the search index"),
    },
    "finding": {
        "person_name": Text("names of people"),
        "birth_date": Text("dates of birth"),
        "ssn": Text("social security numbers"),
        "email": Text("e-mail addresses"),
        "phone": Text("phone numbers"),
        "street_address": Text("street addresses"),
        "exact_age": Text("exact ages"),
    },
}


def cd3p_load_phase(phase: str) -> str:
    """A running load's phase in words."""
    labels = LABELS["load_phase"]
    return tk._(labels.get(phase, phase))


def cd3p_finding_label(kind: str) -> str:
    """What a finding of the personal-data screening is, in words."""
    labels = LABELS["finding"]
    return tk._(labels.get(kind, kind))
