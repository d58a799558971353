"""Template helpers, registered with the `cd3p_` prefix."""

from __future__ import annotations

from typing import Any

from ckanext.cd3p import geography

__all__ = ["cd3p_facet_label", "cd3p_geographic_coverage_choices"]


def cd3p_geographic_coverage_choices(field: dict[str, Any]) -> list[dict[str, str]]:
    """Choices of the geographic coverage select: the city, its districts and neighborhoods."""
    return geography.coverage_choices()


def cd3p_facet_label(item: dict[str, Any]) -> str:
    """A facet item's full label (set from the schema's choices by the search hook)."""
    return item["display_name"]
