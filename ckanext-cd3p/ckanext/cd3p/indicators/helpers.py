"""Template helpers of the equity pages: values, counts, margins and labels as a reader sees them."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import i18n
from ckanext.cd3p.common.i18n import Text
from ckanext.cd3p.indicators import registry

# --- the digital-equity pages -------------------------------------------------------------------

EQUITY_LEVEL_LABELS = {
    "tract": Text("Census tract"),
    "council_district": Text("Council district"),
    "neighborhood": Text("Neighborhood"),
    "zip": Text("ZIP code"),
    "city": Text("Whole city"),
}


EQUITY_LEVEL_PLURALS = {
    "tract": Text("census tracts"),
    "council_district": Text("council districts"),
    "neighborhood": Text("neighborhoods"),
    "zip": Text("ZIP codes"),
    "city": Text("the whole city"),
}


EQUITY_TOPIC_LABELS = {
    "devices": Text("Devices"),
    "connectivity": Text("Connectivity"),
    "education": Text("Education"),
    "workforce": Text("Workforce"),
    "income": Text("Income"),
    "programmes": Text("Programme reach"),
    "index": Text("Overall"),
    "training": Text("Training and workforce"),
}


def cd3p_format_value(value: float | int | None, unit: str) -> str:
    """An indicator value for reading, in the reader's locale: ``24.1%``, ``$45,123``, ``85.3 Mbps``,
    ``2.4`` (``24,1 %``, ``45.123 US$`` in Spanish); empty for None."""
    if value is None:
        return ""
    number = float(value)
    if unit == "percent":
        return i18n.percent(number, 1)
    if unit == "dollars":
        return i18n.money(number)
    if unit in ("providers", "score"):
        return i18n.number(number, 1)
    return f"{i18n.number(number, 1)} {unit}"


def cd3p_format_count(value: float | int | None) -> str:
    """A count (households, residents): whole, with thousands separators (empty for None)."""
    return "" if value is None else i18n.number(float(value))


def cd3p_format_moe(value: float | int | None, unit: str) -> str:
    """A margin of error, ``±1.2%``; an em dash when unknown."""
    return "—" if value is None else "±" + cd3p_format_value(value, unit)


def cd3p_format_ratio(value: float | None) -> str:
    """``1.4`` (times the city's value)."""
    return "" if value is None else i18n.number(value, 1)


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
    reg = registry.registry()
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
