"""How CD3P datasets are indexed in Solr and faceted.

Multi-valued fields go into CKAN's multi-valued ``vocab_*`` Solr fields, one value per entry, so a
facet for "telehealth" counts exactly the datasets that list it. Facet items get the readable
labels of the schema's choices, for the search page and the API alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import inputs
from ckanext.cd3p.common.i18n import Text, text_or_none
from ckanext.cd3p.common.memo import forget_request_memo, remembered
from ckanext.cd3p.feeds import changes, freshness

# Facet field in Solr -> dataset field whose choices label it (None: not a choice field).
# Titles are Text: extracted for translation, shown in the reader's language.
FACETS: dict[str, tuple[str, str | None]] = {
    "vocab_equity_topics": (Text("Equity topic"), "equity_topics"),
    "geography_level": (Text("Geography level"), "geography_level"),
    "vocab_demographic_dimensions": (Text("Demographic dimension"), "demographic_dimensions"),
    "access_level": (Text("Access level"), "access_level"),
    "partner_sector": (Text("Partner sector"), None),
    "vocab_temporal_years": (Text("Year covered"), None),
    "freshness": (Text("Freshness"), None),
    "organization": (Text("Organizations"), None),
    "res_format": (Text("Formats"), None),
    "tags": (Text("Tags"), None),
}
MULTI_VALUED = ("equity_topics", "demographic_dimensions")


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    try:
        parsed = inputs.parse_json(value)
    except ValueError:
        return [value]
    return parsed if isinstance(parsed, list) else [parsed]


def _years(start: Any, end: Any) -> list[int]:
    try:
        first, last = int(str(start)[:4]), int(str(end or start)[:4])
    except ValueError:
        return []
    return list(range(first, last + 1)) if first <= last else []


def organization_sectors() -> dict[str, str]:
    """Every organization's sector code by organization id, read once per request (outside one, kept
    30 seconds: a rebuild asks per dataset).

    Indexing asks for the owning organization's sector once per dataset, and organization lists
    once per item; both read this map. Creating or changing an organization clears it
    (forget_organization_sectors), so a later look-up in the same request sees the change.
    """

    def read() -> dict[str, str]:
        # One query, whatever the number of organizations (organization_list would read each one's
        # extras). Scheming keeps an organization's fields as group extras in CKAN 2.11, the
        # version requirements.txt pins.
        rows = model.Session.execute(
            sa.select(model.GroupExtra.group_id, model.GroupExtra.value)
            .join(model.Group, model.Group.id == model.GroupExtra.group_id)
            .where(
                model.GroupExtra.key == "sector",
                model.GroupExtra.state == "active",
                model.Group.state == "active",
                model.Group.is_organization.is_(True),
            )
        )
        return {group_id: value for group_id, value in rows if value}

    return remembered("sectors", "sectors", read, outside_for=30)


def forget_organization_sectors() -> None:
    forget_request_memo("sectors")


def sector_labels() -> dict[str, str]:
    org_schema = tk.h.scheming_get_organization_schema("organization") or {}
    return _labels("sector", {f["field_name"]: f for f in org_schema.get("fields", [])})


def index_fields(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Adds the facet fields to the document CKAN is about to send to Solr."""
    for field in MULTI_VALUED:
        values = _as_list(pkg_dict.get(field) or pkg_dict.get(f"extras_{field}"))
        pkg_dict.pop(field, None)  # the JSON string would land in a single-valued field
        pkg_dict[f"vocab_{field}"] = values
    start = pkg_dict.get("temporal_start") or pkg_dict.get("extras_temporal_start")
    end = pkg_dict.get("temporal_end") or pkg_dict.get("extras_temporal_end")
    if start:
        pkg_dict["vocab_temporal_years"] = [str(y) for y in _years(start, end)]
    sector = organization_sectors().get(pkg_dict.get("owner_org") or "")
    if sector:
        pkg_dict["partner_sector"] = sector
    pkg_dict["freshness"] = freshness.of_index(pkg_dict, changes.recorded_change(pkg_dict["id"]))
    return fit_terms(pkg_dict)


# Solr refuses a document with a term over 32,766 bytes, and every field of CKAN's schema that is not
# text (``url``, ``res_url``, ``res_format``, and through the ``*`` dynamic field each of our own) is
# indexed whole as one term: a long value is kept in full in the stored dataset, and indexed cut.
MAX_TERM_BYTES = 32_000
# Stored and not indexed, or tokenised as text (config/solr/configsets/ckan/conf/schema.xml): whole.
_WHOLE = frozenset(
    {"data_dict", "validated_data_dict", "text", "title", "notes", "urls", "res_name", "res_description"}
    | {"author", "author_email", "maintainer", "maintainer_email"}
    # GeoJSON that ckanext-spatial's hook (after ours) parses and replaces with its bbox fields
    | {"spatial"}
)
_WHOLE_PREFIXES = ("extras_", "res_extras_")


def _fit(value: str) -> str:
    encoded = value.encode("utf-8")
    if len(encoded) <= MAX_TERM_BYTES:
        return value
    return encoded[:MAX_TERM_BYTES].decode("utf-8", errors="ignore")


def fit_terms(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Cuts every value indexed as one term to :data:`MAX_TERM_BYTES` (the stored dataset and the
    tokenised text fields are left whole)."""
    for key, value in pkg_dict.items():
        if key in _WHOLE or key.startswith(_WHOLE_PREFIXES):
            continue
        if isinstance(value, str):
            pkg_dict[key] = _fit(value)
        elif isinstance(value, list):
            pkg_dict[key] = [_fit(v) if isinstance(v, str) else v for v in value]
    return pkg_dict


def _labels(dataset_field: str | None, schema_fields: dict[str, dict[str, Any]]) -> dict[str, str]:
    field = schema_fields.get(dataset_field or "")
    if not field:
        return {}
    return {c["value"]: text_or_none(c["label"]) for c in tk.h.scheming_field_choices(field) or []}


def label_facets(search_results: dict[str, Any]) -> dict[str, Any]:
    """Replaces facet item names with the choices' labels (sector labels from the org schema)."""
    facets = search_results.get("search_facets") or {}
    if not facets:
        return search_results
    dataset_schema = tk.h.scheming_get_dataset_schema("dataset") or {}
    fields = {f["field_name"]: f for f in dataset_schema.get("dataset_fields", [])}
    for solr_field, (title, dataset_field) in FACETS.items():
        facet = facets.get(solr_field)
        if not facet:
            continue
        if solr_field == "freshness":
            labels = freshness.labels()
        else:
            labels = sector_labels() if solr_field == "partner_sector" else _labels(dataset_field, fields)
        facet["title"] = title
        for item in facet.get("items", []):
            item["display_name"] = labels.get(item["name"], item["display_name"])
    return search_results
