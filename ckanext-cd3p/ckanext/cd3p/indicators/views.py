"""Digital-equity pages (blueprint ``cd3p_equity``): the indicators of ``indicators.yaml`` as pages,
maps, tables and downloads.

Every number comes from ``cd3p_indicator_show`` / ``cd3p_place_show`` called in the visitor's name,
so the DataStore's access rules and the small-cell suppression apply exactly as in the API. Map
classes, the distribution's bins, sorting and the "where need stands out" comparisons are computed
here from those numbers; templates only format them (no HTML is built in Python).

Routes:

- ``/equity``: citywide headlines, a choropleth of one indicator (``?indicator=&level=``), the
  highest-need places, topics and sources
- ``/equity/indicator/<id>`` (``?level=&sort=``): map, distribution, table of all places, method
- ``/equity/indicator/<id>.csv`` and ``.geojson`` (``?level=``): the same numbers as downloads; the
  GeoJSON is also what the maps draw
- ``/equity/place/<level>/<id>``: every indicator for one place against the city
- ``/equity/city.geojson``: the city's outline, drawn under the maps
- ``/ckan-admin/indicator-sources``: sysadmins register a partner dataset as an indicator source
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from collections.abc import Iterable
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.common import geography, maps, pages
from ckanext.cd3p.common.maps import class_of, classes, parse_sort, sort_places
from ckanext.cd3p.indicators import registry

cd3p_equity = pages.blueprint("cd3p_equity", __name__)

LEVELS = registry.LEVELS
DEFAULT_LEVEL = "tract"

# Topics in the order the City reads them, and the groups of the place page's summary.
TOPICS = ("index", *registry.TOPICS)
SUMMARY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("devices", ("devices",)),
    ("connectivity", ("connectivity",)),
    ("training", ("education", "workforce", "income")),
)
# A place "stands out" when it is worse than the city by at least this share, in the need direction:
# at least 1.2 times the city's value (higher = more need), at most 0.8 times it (lower = more need).
STANDS_OUT = 0.2

HISTOGRAM_BINS = 10
TOP_PLACES = 10

# ?sort= keys of the places table (a leading "-" sorts descending).
SORT_KEYS = ("name", "value", "numerator", "denominator", "moe", "tracts_with_data")

CSV_FIELDS = (
    "level",
    "id",
    "name",
    "value",
    "numerator",
    "denominator",
    "moe",
    "suppressed",
    "tracts",
    "tracts_with_data",
)


# --- arithmetic on the action's values (public: the tests compare against these) ----------------


def shown(value: dict[str, Any]) -> float | None:
    """A place's value when it may be shown: None for no data and for suppressed values."""
    if value.get("suppressed") or value.get("value") is None:
        return None
    return float(value["value"])


def color_of(value: dict[str, Any], found: list[dict[str, Any]]) -> str:
    return maps.color(shown(value), bool(value.get("suppressed")), found)


def histogram(values: Iterable[float | None], bins: int = HISTOGRAM_BINS) -> list[dict[str, Any]]:
    """Equal-width bins from the lowest to the highest value: ``lower``, ``upper``, ``count``."""
    data = [v for v in values if v is not None]
    if not data:
        return []
    low, high = min(data), max(data)
    if math.isclose(low, high):
        return [{"lower": low, "upper": high, "count": len(data)}]
    width = (high - low) / bins
    counts = [0] * bins
    for v in data:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return [
        {"lower": low + i * width, "upper": high if i == bins - 1 else low + (i + 1) * width, "count": n}
        for i, n in enumerate(counts)
    ]


def highest_need(values: list[dict[str, Any]], direction: str, n: int = TOP_PLACES) -> list[dict[str, Any]]:
    """The n places with the most need (highest values, or lowest for "lower = more need"); ties in
    name order. Places without a value (no data, suppressed) are left out."""
    sign = -1.0 if direction == "higher" else 1.0
    known = [(sign * x, v) for v in values if (x := shown(v)) is not None]
    if len(known) > n:  # only the places that can make the list are sorted by name (5,000 tracts)
        cutoff = heapq.nsmallest(n, (key for key, _ in known))[-1]
        known = [(key, v) for key, v in known if key <= cutoff]
    known.sort(key=lambda pair: (pair[0], maps.natural(pair[1]["name"])))
    return [v for _, v in known[:n]]


def compare(value: float | None, city: float | None, direction: str) -> dict[str, Any] | None:
    """How a place's value stands against the city's: ``ratio`` (value / city), ``worse`` (in the
    need direction) and ``stands_out`` (worse by STANDS_OUT or more). None when either is missing."""
    if value is None or city is None or city == 0:
        return None
    ratio = value / city
    worse = ratio > 1 if direction == "higher" else ratio < 1
    # (the small tolerance keeps exactly 1.2 times, or 0.8 times, in despite float rounding)
    stands_out = ratio >= 1 + STANDS_OUT - 1e-9 if direction == "higher" else ratio <= 1 - STANDS_OUT + 1e-9
    return {
        "ratio": ratio,
        "worse": worse,
        "stands_out": stands_out,
        "percent_below": (1 - ratio) * 100,
        "percent_above": (ratio - 1) * 100,
    }


def summary(place: dict[str, Any]) -> list[dict[str, Any]]:
    """The place page's plain-language summary: for each group (devices, connectivity, training and
    workforce), the indicators where the place stands out, with their comparison."""
    groups = []
    for group, topics in SUMMARY_GROUPS:
        items = [i for i in place["indicators"] if i["indicator"]["topic"] in topics]
        standing_out = []
        for item in items:
            ind = item["indicator"]
            found = compare(shown(item["value"]), shown(item["citywide"]), ind["direction"])
            if found and found["stands_out"]:
                standing_out.append({**item, "comparison": found})
        groups.append({"id": group, "items": items, "stands_out": standing_out})
    return groups


def columns(indicator: dict[str, Any]) -> list[dict[str, str]]:
    """The columns of the places table (``key``, ``label``): the index shows its sub-scores where
    the other indicators show a numerator and a margin of error."""
    weight = indicator["weight"]["label"]
    if indicator.get("kind") == "index":
        return [
            {"key": "name", "label": tk._("Place")},
            {"key": "value", "label": indicator["title"]},
            *(
                {"key": group, "label": tk._("{group} sub-score").format(group=group.capitalize())}
                for group in indicator["components"]
            ),
            {"key": "denominator", "label": tk._("Weight ({what})").format(what=weight)},
            {"key": "tracts_with_data", "label": tk._("Tracts with data")},
        ]
    return [
        {"key": "name", "label": tk._("Place")},
        {"key": "value", "label": indicator["title"]},
        {"key": "numerator", "label": tk._("Numerator")},
        {"key": "denominator", "label": tk._("Denominator ({what})").format(what=weight)},
        {"key": "moe", "label": tk._("Margin of error")},
        {"key": "tracts_with_data", "label": tk._("Tracts with data")},
    ]


# --- geometry ------------------------------------------------------------------------------------


def _level(value: str | None) -> str:
    level = value or DEFAULT_LEVEL
    if level not in LEVELS:
        tk.abort(
            400,
            tk._("Unknown geography level {level!r}: use one of {levels}").format(
                level=level, levels=", ".join(LEVELS)
            ),
        )
    return level


def described() -> list[dict[str, Any]]:
    """Every indicator of the registry (the Digital Equity Index included), as the API lists them."""
    reg = registry.registry()
    return [reg.describe(i) for i in reg.ids()]


def _indicator_or_404(indicator_id: str) -> None:
    if indicator_id not in registry.registry().ids():
        tk.abort(404, tk._("Indicator not found: {id}").format(id=indicator_id))


def _show(indicator_id: str, level: str) -> dict[str, Any]:
    return pages.call("cd3p_indicator_show", {"id": indicator_id, "level": level})


def _place_url(level: str, code: str) -> str:
    return tk.h.url_for("cd3p_equity.place", level=level, id=code)


def _map_vars(result: dict[str, Any]) -> dict[str, Any]:
    """What the map snippet needs: classes for the legend, the GeoJSON URL, the tiles."""
    ind = result["indicator"]
    found = classes([shown(v) for v in result["values"]], ind["direction"])
    return {
        "classes": found,
        "no_data": sum(1 for v in result["values"] if v["value"] is None and not v["suppressed"]),
        "suppressed": sum(1 for v in result["values"] if v["suppressed"]),
        "geojson_url": tk.h.url_for("cd3p_equity.indicator_geojson", id=ind["id"], level=result["level"]),
        "outline_url": tk.h.url_for("cd3p_equity.city_outline"),
        "tiles": maps.tiles(),
        "no_data_color": maps.NO_DATA_COLOR,
        "suppressed_color": maps.SUPPRESSED_COLOR,
    }


def _nav(current: str | None = None) -> dict[str, Any]:
    """The sidebar's topics and indicators."""
    return {"indicators": _topics(described()), "current_indicator": current}


def _with_comparison(values: list[dict[str, Any]], result: dict[str, Any]) -> list[dict[str, Any]]:
    city = shown(result["citywide"])
    direction = result["indicator"]["direction"]
    return [{**v, "comparison": compare(shown(v), city, direction)} for v in values]


def _source_state(source: registry.Source) -> dict[str, Any]:
    """A registry source none of whose indicators the visitor could read: its dataset's title when
    the visitor may see the dataset, and whether it is ``withheld`` or ``missing``."""
    found = {
        "dataset": source.dataset,
        "title": source.dataset,
        "vintage": source.vintage,
        "citation": source.citation,
    }
    try:
        dataset = pages.call("package_show", {"id": source.dataset})
    except tk.NotAuthorized:
        return {**found, "state": "withheld"}
    except tk.ObjectNotFound:
        return {**found, "state": "missing"}
    return {**found, "title": dataset.get("title") or source.dataset, "state": "withheld"}


def _topics(items: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Items (each with an ``indicator`` or being one) grouped by topic, in TOPICS order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        topic = item.get("indicator", item)["topic"]
        grouped.setdefault(topic, []).append(item)
    order = [t for t in TOPICS if t in grouped] + sorted(t for t in grouped if t not in TOPICS)
    return [(t, grouped[t]) for t in order]


# --- pages ---------------------------------------------------------------------------------------


def index() -> str | Response:
    reg = registry.registry()
    level = _level(tk.request.args.get("level"))
    asked = tk.request.args.get("indicator", "").strip()
    if asked:
        _indicator_or_404(asked)

    # The chosen indicator first (a refused ?indicator= is a 403, as in the API); without one, the
    # map opens on the index, or on the first indicator the visitor may read. Every result carries
    # its citywide value, so the chosen one's headline costs nothing more. Indicators the visitor
    # cannot see are "withheld" (a source shared with partners only) or "missing" (a source not
    # published on this portal yet).
    unavailable: dict[str, str] = {}
    chosen: dict[str, Any] | None = None
    if asked:
        chosen = _show(asked, level)
    else:
        order = reg.ids()
        if reg.index is not None:
            order = [reg.index.id, *(i for i in order if i != reg.index.id)]
        for candidate in order:
            try:
                chosen = _show(candidate, level)
                break
            except tk.NotAuthorized:
                unavailable[candidate] = "withheld"
            except tk.ObjectNotFound:
                unavailable[candidate] = "missing"

    headlines: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    for ind in described():
        result: dict[str, Any] | None = None
        if chosen is not None and ind["id"] == chosen["indicator"]["id"]:
            result = chosen
        elif ind["id"] not in unavailable:
            try:
                result = _show(ind["id"], "city")
            except tk.NotAuthorized:
                unavailable[ind["id"]] = "withheld"
            except tk.ObjectNotFound:
                unavailable[ind["id"]] = "missing"
        if result is None:
            headlines.append({"indicator": ind, "unavailable": unavailable[ind["id"]]})
            continue
        headlines.append({**result, "unavailable": None})
        for src in result["sources"]:
            sources[src["dataset"]] = src
    other_sources = [_source_state(src) for src in reg.sources.values() if src.dataset not in sources]
    extra: dict[str, Any] = {
        "level": level,
        "levels": LEVELS,
        "topics": _topics(headlines),
        **_nav(),
        "chosen": chosen,
        "sources": sorted(sources.values(), key=lambda s: s["title"].lower()),
        "other_sources": other_sources,
    }
    if chosen is not None:
        extra.update(_map_vars(chosen))
        extra["top"] = _with_comparison(
            highest_need(chosen["values"], chosen["indicator"]["direction"]), chosen
        )
    return tk.render("cd3p/indicators/index.html", extra)


def indicator(id: str) -> str | Response:
    _indicator_or_404(id)
    level = _level(tk.request.args.get("level"))
    sort = tk.request.args.get("sort", "")
    result = _show(id, level)
    ind = result["indicator"]
    districts = result if level == "council_district" else _show(id, "council_district")
    table_columns = columns(ind)
    sort_keys = [c["key"] for c in table_columns]
    sort_key, descending = parse_sort(sort, sort_keys)
    values = [shown(v) for v in result["values"]]
    bins = histogram(values)
    extra = {
        "result": result,
        "indicator": ind,
        "level": level,
        "levels": LEVELS,
        "places": sort_places(result["values"], sort, sort_keys),
        "columns": table_columns,
        "sort_key": sort_key,
        "sort_descending": descending,
        "bins": bins,
        "chart": {
            "labels": [
                f"{tk.h.cd3p_format_value(b['lower'], ind['unit'])} \N{EN DASH} "
                f"{tk.h.cd3p_format_value(b['upper'], ind['unit'])}"
                for b in bins
            ],
            "counts": [b["count"] for b in bins],
            "x": str(ind["title"]),  # in the reader's language: JSON would write Text's English
            "y": tk._("Number of {levels}").format(levels=tk.h.cd3p_equity_level_label(level, plural=True)),
        },
        "districts": _with_comparison(districts["values"], result),
        "top": highest_need(result["values"], ind["direction"], 5),
        "has_moe": any(v["moe"] is not None for v in result["values"]),
        "api_url": tk.h.url_for(
            "api.action", ver=3, logic_function="cd3p_indicator_show", id=id, level=level
        ),
        "csv_url": tk.h.url_for("cd3p_equity.indicator_csv", id=id, level=level),
        **_map_vars(result),
        "titles": {i["id"]: i["title"] for i in described()},
        **_nav(id),
    }
    return tk.render("cd3p/indicators/indicator.html", extra)


def indicator_csv(id: str) -> Response:
    _indicator_or_404(id)
    level = _level(tk.request.args.get("level"))
    result = _show(id, level)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for value in result["values"]:
        row = {**value, "level": level}
        writer.writerow([pages.csv_cell(row.get(field)) for field in CSV_FIELDS])
    return pages.download(buffer.getvalue(), pages.CSV, f"cd3p-{id}-{level}.csv")


def indicator_geojson(id: str) -> Response:
    _indicator_or_404(id)
    level = _level(tk.request.args.get("level"))
    result = _show(id, level)
    ind = result["indicator"]
    found = classes([shown(v) for v in result["values"]], ind["direction"])
    features = []
    for value in result["values"]:
        number = shown(value)
        if value["suppressed"]:
            label = tk._("suppressed")
        elif number is None:
            label = tk._("no data")
        else:
            label = tk.h.cd3p_format_value(number, ind["unit"])
        features.append(
            {
                "type": "Feature",
                "id": value["id"],
                "geometry": maps.geometry(level, value["id"]),
                "properties": {
                    **value,
                    "level": level,
                    "label": label,
                    "class": class_of(number, found),
                    "color": color_of(value, found),
                    "url": _place_url(level, value["id"]),
                },
            }
        )
    collection = {
        "type": "FeatureCollection",
        "indicator": {"id": ind["id"], "title": ind["title"], "unit": ind["unit"]},
        "level": level,
        "vintage": result["vintage"],
        "classes": found,
        "features": features,
    }
    return pages.geojson(collection)


def city_outline() -> Response:
    place = geography.places()[geography.WHOLE_CITY]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": place.code,
                "geometry": place.geometry,
                "properties": {"name": place.label},
            }
        ],
    }
    return pages.geojson(collection, Cache_Control="public, max-age=86400")


def place(level: str, id: str) -> str | Response:
    level = _level(level)
    try:
        found = pages.call("cd3p_place_show", {"level": level, "id": id})
    except tk.ValidationError as e:
        pages.bad_request(e)
    reg = registry.registry()
    withheld = [reg.describe(i) for i in found["withheld"] if i in reg.ids()]
    if not found["indicators"] and not found.get("name"):
        found["name"] = id  # every indicator withheld: the place's name came from none of them
    rows = [
        {
            **item,
            "comparison": compare(
                shown(item["value"]), shown(item["citywide"]), item["indicator"]["direction"]
            ),
        }
        for item in found["indicators"]
    ]
    parents: list[dict[str, str]] = []
    tract = geography.tracts().get(id) if level == "tract" else None
    if tract is not None:
        places = geography.places()
        parents = [
            {"level": "council_district", "id": tract.district, "name": places[tract.district].label},
            {
                "level": "neighborhood",
                "id": tract.neighborhood,
                "name": places[tract.neighborhood].label.removeprefix("Neighborhood: "),
            },
        ]
    extra = {
        "place": found,
        "level": level,
        "rows": _topics(rows),
        "summary": summary(found) if level != "city" else [],
        "index_row": next((r for r in rows if r["indicator"].get("kind") == "index"), None),
        "withheld": withheld,
        "parents": parents,
        "stands_out": STANDS_OUT,
        **_nav(),
    }
    return tk.render("cd3p/indicators/place.html", extra)


# --- indicator sources (sysadmins) ----------------------------------------------------------------

SOURCE_FIELDS = ("id", "dataset", "resource", "key", "vintage", "citation")
INDICATOR_FIELDS = (
    "id",
    "title",
    "description",
    "topic",
    "unit",
    "direction",
    "column",
    "kind",
    "complement",
    "moe",
    "caveat",
    "weight_source",
    "weight_column",
    "weight_label",
    "weight_moe",
)


def _source_form() -> dict[str, Any]:
    """The posted form as cd3p_indicator_source_create takes it: the source's fields, and one
    indicator from the ``indicator_*`` fields."""
    form = tk.request.form
    data: dict[str, Any] = {name: form.get(name, "") for name in SOURCE_FIELDS}
    item = {name: form.get(f"indicator_{name}", "") for name in INDICATOR_FIELDS}
    item["complement"] = form.get("indicator_complement") == "on"
    data["indicators"] = [item]
    return data


def _source_errors(error: tk.ValidationError) -> dict[str, list[str]]:
    """The action's errors by form field: an indicator's own fields become ``indicator_<name>``."""
    found: dict[str, list[str]] = {}
    for key, messages in error.error_dict.items():
        if key == "indicators" and messages and isinstance(messages[0], dict):
            for item in messages:
                for name, inner in item.items():
                    found[f"indicator_{name}"] = [str(m) for m in inner]
        else:
            found[key] = [str(m) for m in messages]
    return found


def admin_sources() -> str | Response:
    sources = pages.call("cd3p_indicator_source_list")  # sysadmins only: others get a 403
    data: dict[str, Any] = {"indicators": [{"topic": "programmes", "direction": "higher", "kind": "share"}]}
    errors: dict[str, list[str]] = {}
    if tk.request.method == "POST":
        data = _source_form()
        done = tk._("Source {id} registered: its indicators are on the equity pages now.")
        outcome = pages.submit("cd3p_indicator_source_create", data, done, "cd3p_equity.admin_sources")
        if not isinstance(outcome, tk.ValidationError):
            return outcome
        errors = _source_errors(outcome)
    return tk.render(
        "cd3p/indicators/admin_sources.html",
        {
            "sources": sources,
            "data": data,
            "item": data["indicators"][0],
            "errors": errors,
            "error_summary": {k: "; ".join(v) for k, v in errors.items()},
            "topic_options": [{"value": t, "text": tk.h.cd3p_equity_topic_label(t)} for t in registry.TOPICS],
        },
    )


def admin_source_delete(id: str) -> Response:
    try:
        pages.call("cd3p_indicator_source_delete", {"id": id})
    except tk.ValidationError as e:
        pages.flash_errors(e)
    else:
        tk.h.flash_success(tk._("Source {id} and its indicators removed.").format(id=id))
    return tk.redirect_to("cd3p_equity.admin_sources")


# --- routes ---------------------------------------------------------------------------------------

cd3p_equity.add_url_rule("/equity", view_func=index)
cd3p_equity.add_url_rule("/equity/city.geojson", view_func=city_outline)
cd3p_equity.add_url_rule("/equity/indicator/<id>.csv", endpoint="indicator_csv", view_func=indicator_csv)
cd3p_equity.add_url_rule(
    "/equity/indicator/<id>.geojson", endpoint="indicator_geojson", view_func=indicator_geojson
)
cd3p_equity.add_url_rule("/equity/indicator/<id>", view_func=indicator)
cd3p_equity.add_url_rule("/equity/place/<level>/<id>", view_func=place)
cd3p_equity.add_url_rule("/ckan-admin/indicator-sources", view_func=admin_sources, methods=["GET", "POST"])
cd3p_equity.add_url_rule(
    "/ckan-admin/indicator-sources/<id>/delete", view_func=admin_source_delete, methods=["POST"]
)


blueprints = [cd3p_equity]
