"""Template helpers, registered with the `cd3p_` prefix."""

from __future__ import annotations

from typing import Any

from ckanext.cd3p.catalog import search
from ckanext.cd3p.common import geography


def cd3p_geographic_coverage_choices(field: dict[str, Any]) -> list[dict[str, str]]:
    """Choices of the geographic coverage select: the city, its districts and neighborhoods."""
    return geography.coverage_choices()


def cd3p_facet_label(item: dict[str, Any]) -> str:
    """A facet item's full label (set from the schema's choices by the search hook)."""
    return item["display_name"]


def cd3p_about_groups(
    schema: dict[str, Any], pkg_dict: dict[str, Any]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The groups of the "About this data" block (the schema's ``about_groups``: headings and the
    fields under each), each with the schema fields that have a value.

    Fields the caller may not see (the steward's contact) are already absent from ``pkg_dict``.
    """
    fields = {f["field_name"]: f for f in schema.get("dataset_fields", [])}
    groups = []
    for group in schema.get("about_groups", []):  # the schema's own (dataset.yaml, programme.yaml)
        title, names = group["title"], group["fields"]
        present = [fields[n] for n in names if n in fields and pkg_dict.get(n) not in (None, "", [])]
        if present:
            groups.append((title, present))
    return groups


def cd3p_organization_sector(organization: dict[str, Any]) -> str | None:
    """The readable sector of an organization, for lists and pages.

    Organization lists come without extras, so the sector comes from the per-request map of all
    organizations' sectors (no query per listed organization).
    """
    code = organization.get("sector") or search.organization_sectors().get(organization.get("id", ""))
    return search.sector_labels().get(code, code) if code else None


# --- the Data Sharing Agreement pages -----------------------------------------------------------


def cd3p_sector_options() -> list[dict[str, str]]:
    """The organization schema's sectors, as options of CKAN's select macro."""
    return [{"value": code, "text": label} for code, label in search.sector_labels().items()]


def cd3p_sector_label(code: str | None) -> str:
    """A sector code's label (the code itself when unknown)."""
    return search.sector_labels().get(code or "", code or "")


def cd3p_district_options(field: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Detroit's council districts as choices (``value``, ``label``): the organization schema's
    ``service_area`` takes them (``choices_helper``), and the validator accepts the same codes."""
    return [{"value": p.code, "label": p.label} for p in geography.council_districts()]


def cd3p_district_labels(value: str | list[str] | None) -> list[str]:
    """Labels of a service area stored comma-separated (or given as a list)."""
    if not value:
        return []
    codes = value if isinstance(value, list) else value.split(",")
    labels = {c["value"]: c["label"] for c in cd3p_district_options()}
    return [labels.get(code, code) for code in codes]
