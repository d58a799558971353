"""Template helpers of programme impact: the choices of the programme form (its services, and the
measures a target is set for), from the measure registry; and a place's and an organization's
programmes and reach, through the actions in the visitor's name, for the pages of other features."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import pages
from ckanext.cd3p.impact import reach, registry


def cd3p_programme_service_choices(field: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The services a programme may offer, as scheming choices."""
    return [{"value": s.id, "label": s.title} for s in registry.SERVICES.values()]


def cd3p_measure_choices(field: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The outcome measures, as scheming choices."""
    return [{"value": m.id, "label": m.title} for m in registry.MEASURES.values()]


def cd3p_impact_place(level: str, id: str) -> dict[str, Any] | None:
    """Programme reach in a place, as the visitor may see it (``cd3p_impact_place_show``), for the
    place pages; None for a place that has none (a ZIP code, an unknown place)."""
    if level not in reach.PLACE_LEVELS:
        return None
    try:
        return pages.call("cd3p_impact_place_show", {"level": level, "id": id})
    except (tk.ObjectNotFound, tk.ValidationError):
        return None


def cd3p_organization_programmes(organization: str) -> list[dict[str, Any]]:
    """The organization's programmes the visitor may see, with their totals
    (``cd3p_programme_list``), for its page."""
    try:
        return pages.call("cd3p_programme_list", {"organization": organization})
    except tk.ValidationError:
        return []


def cd3p_measure_title(measure_id: str) -> str:
    """A measure's title (its id when unknown)."""
    m = registry.MEASURES.get(measure_id)
    return m.title if m else measure_id
