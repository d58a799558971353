"""Template helpers of programme impact: the choices of the programme form (its services, and the
measures a target is set for), from the measure registry."""

from __future__ import annotations

from typing import Any

from ckanext.cd3p.impact import registry


def cd3p_programme_service_choices(field: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The services a programme may offer, as scheming choices."""
    return [{"value": s.id, "label": s.title} for s in registry.SERVICES.values()]


def cd3p_measure_choices(field: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The outcome measures, as scheming choices."""
    return [{"value": m.id, "label": m.title} for m in registry.MEASURES.values()]
