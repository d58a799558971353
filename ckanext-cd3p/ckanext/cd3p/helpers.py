"""Template helpers, registered with the `cd3p_` prefix."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Any

import bleach
from bleach import html5lib_shim
from ckan import model
from ckan.lib.helpers import MARKDOWN_ATTRIBUTES, MARKDOWN_TAGS
from ckan.plugins import toolkit as tk
from markupsafe import Markup

from ckanext.cd3p import geography, indicators, search, suppression
from ckanext.cd3p.logic import validators

__all__ = [
    "cd3p_about_groups",
    "cd3p_agreement_notices",
    "cd3p_district_labels",
    "cd3p_district_options",
    "cd3p_equity_level_label",
    "cd3p_equity_topic_label",
    "cd3p_facet_label",
    "cd3p_finding_label",
    "cd3p_format_count",
    "cd3p_format_moe",
    "cd3p_format_ratio",
    "cd3p_format_value",
    "cd3p_geographic_coverage_choices",
    "cd3p_http_url",
    "cd3p_indicators_fed_by",
    "cd3p_is_member",
    "cd3p_load_phase",
    "cd3p_markdown",
    "cd3p_organization_sector",
    "cd3p_resource_check",
    "cd3p_sector_label",
    "cd3p_sector_options",
    "cd3p_suppression",
    "cd3p_utc",
]


def cd3p_geographic_coverage_choices(field: dict[str, Any]) -> list[dict[str, str]]:
    """Choices of the geographic coverage select: the city, its districts and neighborhoods."""
    return geography.coverage_choices()


def cd3p_http_url(value: Any) -> str | None:
    """The value if it is a web link (http or https, see :func:`validators.http_url`), else None:
    a page links a URL field only then, and shows anything else (a value stored before URLs were
    checked) as text."""
    return validators.http_url(value)


class _ImagesAsText(html5lib_shim.Filter):
    """Each image becomes its alt text (escaped when the HTML is written out): no remote picture."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img":
                alt = token["data"].get((None, "alt"))  # as written in the HTML, entities and all
                if alt:
                    yield {"type": "Characters", "data": html.unescape(alt)}
                continue
            yield token


_WITHOUT_IMAGES = bleach.Cleaner(
    tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES, strip=True, filters=[_ImagesAsText]
)


def cd3p_markdown(text: str | None) -> Markup:
    """Markdown as CKAN renders it (``h.render_markdown``: raw HTML stripped, links to http(s) and
    mailto only), without images: each is shown as its alt text, so that a page never makes its
    reader's browser fetch a remote picture (a tracking pixel). For the agreement's text and the
    dataset's Markdown fields (``scheming/display_snippets/markdown.html``)."""
    if not text:
        return Markup("")
    rendered = tk.h.render_markdown(text, auto_link=False)
    return Markup(_WITHOUT_IMAGES.clean(str(rendered)))  # sanitized by bleach just now


def cd3p_facet_label(item: dict[str, Any]) -> str:
    """A facet item's full label (set from the schema's choices by the search hook)."""
    return item["display_name"]


# The dataset page's "About this data" block: headings and the schema fields under each.
ABOUT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What it covers", ("equity_topics", "demographic_dimensions", "universe")),
    ("Where and when", ("geography_level", "geographic_coverage", "temporal_start", "temporal_end")),
    (
        "How it was made",
        (
            "collection_method",
            "update_frequency",
            "source_citation",
            "url",
            "methodology",
            "limitations",
            "version",
        ),
    ),
    ("Access and privacy", ("access_level", "contains_personal_data", "small_cell_threshold")),
    ("Data steward", ("steward_name", "steward_email")),
)


def cd3p_about_groups(
    schema: dict[str, Any], pkg_dict: dict[str, Any]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The groups of the "About this data" block, each with the schema fields that have a value.

    Fields the caller may not see (the steward's contact) are already absent from ``pkg_dict``.
    """
    fields = {f["field_name"]: f for f in schema.get("dataset_fields", [])}
    groups = []
    for title, names in ABOUT_GROUPS:
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


def _district_choices() -> list[dict[str, str]]:
    org_schema = tk.h.scheming_get_organization_schema("organization") or {}
    field = next((f for f in org_schema.get("fields", []) if f["field_name"] == "service_area"), None)
    return list(tk.h.scheming_field_choices(field) or []) if field else []


def cd3p_district_options() -> list[dict[str, str]]:
    """The council districts of the organization schema's service area: ``value`` and ``label``."""
    return _district_choices()


def cd3p_district_labels(value: str | list[str] | None) -> list[str]:
    """Labels of a service area stored comma-separated (or given as a list)."""
    if not value:
        return []
    codes = value if isinstance(value, list) else value.split(",")
    labels = {c["value"]: c["label"] for c in _district_choices()}
    return [labels.get(code, code) for code in codes]


def cd3p_utc(value: str | dt.datetime | None, with_seconds: bool = True) -> str:
    """A timestamp in UTC, as the ledger records it: ``2026-05-01 14:03:09 UTC``."""
    if not value:
        return ""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    fmt = "%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC"
    return moment.astimezone(dt.UTC).strftime(fmt)


def _my_organizations() -> list[dict[str, Any]]:
    """Organizations the logged-in user is a member of, each with ``capacity`` (cached per request).

    For a sysadmin organization_list_for_user lists every organization as "admin"; only the ones
    they actually belong to count here.
    """
    user = tk.current_user
    if not user.is_authenticated:
        return []
    cached = getattr(tk.g, "_cd3p_my_organizations", None)
    if cached is not None:
        return cached
    orgs = tk.get_action("organization_list_for_user")(
        {"user": user.name}, {"id": user.name, "permission": "read"}
    )
    if user.sysadmin:
        # One query for the memberships they really have (not one role look-up per organization).
        roles = dict(
            model.Session.query(model.Member.group_id, model.Member.capacity).filter(
                model.Member.table_name == "user",
                model.Member.table_id == user.id,
                model.Member.state == "active",
            )
        )
        orgs = [{**org, "capacity": roles[org["id"]]} for org in orgs if org["id"] in roles]
    tk.g._cd3p_my_organizations = orgs
    return orgs


def cd3p_is_member(org_id: str) -> bool:
    """Whether the logged-in user belongs to the organization (id or name)."""
    return any(org_id in (org["id"], org["name"]) for org in _my_organizations())


def cd3p_agreement_notices() -> list[dict[str, Any]]:
    """What the banner says to the logged-in user about their organizations' signatures.

    Each notice has ``kind``: ``grace`` (signed an older version, rights kept until ``grace_end``;
    shown to every member), ``unsigned`` or ``lapsed`` (no rights; shown to the organization's
    admins, who can sign), plus ``organization`` (its dict), ``status`` (cd3p_agreement_status)
    and ``sign_url``.
    """
    user = tk.current_user
    if not user.is_authenticated:
        return []
    cached = getattr(tk.g, "_cd3p_agreement_notices", None)
    if cached is not None:
        return cached
    notices = []
    status_of = tk.get_action("cd3p_agreement_status")
    for org in sorted(_my_organizations(), key=lambda o: (o.get("title") or o["name"]).lower()):
        try:
            status = status_of({"user": user.name}, {"organization_id": org["id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            continue
        if not status.get("active_version"):
            continue  # nothing to sign yet
        if status["current"] and status["stale"]:
            kind = "grace"
        elif not status["current"] and org.get("capacity") == "admin":
            kind = "lapsed" if status["stale"] else "unsigned"
        else:
            continue
        notices.append(
            {
                "kind": kind,
                "organization": org,
                "status": status,
                "sign_url": tk.h.url_for("cd3p.organization_agreement", id=org["name"]),
            }
        )
    tk.g._cd3p_agreement_notices = notices
    return notices


# --- the digital-equity pages -------------------------------------------------------------------

EQUITY_LEVEL_LABELS = {
    "tract": "Census tract",
    "council_district": "Council district",
    "neighborhood": "Neighborhood",
    "city": "Whole city",
}
EQUITY_LEVEL_PLURALS = {
    "tract": "census tracts",
    "council_district": "council districts",
    "neighborhood": "neighborhoods",
    "city": "the whole city",
}
EQUITY_TOPIC_LABELS = {
    "devices": "Devices",
    "connectivity": "Connectivity",
    "education": "Education",
    "workforce": "Workforce",
    "income": "Income",
    "programmes": "Programme reach",
    "index": "Overall",
    "training": "Training and workforce",
}


def cd3p_format_value(value: float | int | None, unit: str) -> str:
    """An indicator value for reading: ``24.1%``, ``$45,123``, ``85.3 Mbps``, ``2.4`` (empty for None)."""
    if value is None:
        return ""
    number = float(value)
    if unit == "percent":
        return f"{number:,.1f}%"
    if unit == "dollars":
        return f"${number:,.0f}" if number >= 0 else f"-${-number:,.0f}"
    if unit in ("providers", "score"):
        return f"{number:,.1f}"
    return f"{number:,.1f} {unit}"


def cd3p_format_count(value: float | int | None) -> str:
    """A count (households, residents): whole, with thousands separators (empty for None)."""
    return "" if value is None else f"{float(value):,.0f}"


def cd3p_format_moe(value: float | int | None, unit: str) -> str:
    """A margin of error, ``±1.2%``; an em dash when unknown."""
    return "—" if value is None else "±" + cd3p_format_value(value, unit)


def cd3p_format_ratio(value: float | None) -> str:
    """``1.4`` (times the city's value)."""
    return "" if value is None else f"{value:,.1f}"


def cd3p_equity_level_label(level: str, plural: bool = False) -> str:
    """A geography level for reading: ``Council district`` (or ``council districts``)."""
    labels = EQUITY_LEVEL_PLURALS if plural else EQUITY_LEVEL_LABELS
    return tk._(labels.get(level, level))


def cd3p_equity_topic_label(topic: str) -> str:
    return tk._(EQUITY_TOPIC_LABELS.get(topic, topic.replace("-", " ").capitalize()))


def cd3p_indicators_fed_by(dataset_name: str) -> list[dict[str, Any]]:
    """The registry's indicators computed from a dataset (as the value's source or as its weight):
    ``id``, ``title``, ``topic`` and ``role`` (``value``, ``weight``, or ``component`` for the
    Digital Equity Index)."""
    reg = indicators.registry()
    fed = []
    for ind in reg.indicators.values():
        if reg.sources[ind.source].dataset == dataset_name:
            role = "value"
        elif reg.sources[ind.weight.source].dataset == dataset_name:
            role = "weight"
        else:
            continue
        fed.append(
            {"id": ind.id, "title": ind.title, "topic": ind.topic, "role": role, "weight": ind.weight.label}
        )
    index = reg.index
    fed_ids = {i["id"] for i in fed}
    if index is not None and (
        reg.sources[index.weight.source].dataset == dataset_name
        or any(i in fed_ids for ids in index.components.values() for i in ids)
    ):
        fed.append(
            {"id": index.id, "title": index.title, "topic": index.topic, "role": "component", "weight": ""}
        )
    return fed


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
        "threshold": suppression.threshold(package),
        "raw": suppression.sees_raw({"user": user}, package),
    }


LOAD_PHASES = {
    "starting": "Starting",
    "copying": "Copying rows",
    "converting": "Converting column types",
    "replacing": "Replacing the previous table",
    "indexing": "Building the search index",
}


def cd3p_load_phase(phase: str) -> str:
    """A running load's phase in words."""
    return tk._(LOAD_PHASES.get(phase, phase))


FINDING_LABELS = {
    "person_name": "names of people",
    "birth_date": "dates of birth",
    "ssn": "social security numbers",
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "street_address": "street addresses",
    "exact_age": "exact ages",
}


def cd3p_finding_label(kind: str) -> str:
    return tk._(FINDING_LABELS.get(kind, kind))
