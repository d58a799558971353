"""Template helpers of the analysis workspace."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk


def cd3p_analysis_link(resource: dict[str, Any] | None) -> str | None:
    """The workspace opened on a resource's DataStore table; None when it has no table."""
    if not resource or not resource.get("datastore_active") or not resource.get("id"):
        return None
    return tk.h.url_for("cd3p_analysis.index", resource_id=resource["id"])


def cd3p_derived(resource_id: str) -> dict[str, Any] | None:
    """A derived resource's provenance as the visitor may see it (``cd3p_derived_show``), or None
    for a resource that is not derived from a query."""
    try:
        return tk.get_action("cd3p_derived_show")(
            {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}, {"id": resource_id}
        )
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None


def _labels() -> dict[str, str]:
    return {
        "eq": tk._("equals"),
        "in": tk._("is one of"),
        "gte": tk._("at least"),
        "lte": tk._("at most"),
        "between": tk._("between"),
        "contains": tk._("contains"),
        "empty": tk._("is empty"),
        "count": tk._("count"),
        "sum": tk._("sum"),
        "mean": tk._("mean"),
        "min": tk._("minimum"),
        "max": tk._("maximum"),
        "median": tk._("median"),
    }


def cd3p_analysis_label(code: str) -> str:
    """The label of a filter's condition or an aggregate's function (the code if it has none)."""
    return _labels().get(code, code)
