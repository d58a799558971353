"""Pages of programme impact (blueprint ``cd3p_impact``): reach against need, as pages, a map, a
chart and downloads.

Every number comes from the impact actions called in the visitor's name (``cd3p_impact_show``,
``cd3p_programme_list``, ``cd3p_programme_show``), so the programmes counted, the small-cell
suppression and the refusal of narrow selections apply exactly as in the API. Map classes and the
chart's series are computed here from those numbers; templates only format them.

Routes:

- ``/impact`` (``?measure=&level=&period_from=&period_to=``): citywide outcomes by measure and
  quarter (chart and table), the coverage map of one measure with its table of places, targeting,
  cost per outcome (per measure, partner and programme) and the programmes
- ``/impact/places.csv`` and ``/impact/places.geojson`` (same arguments): the places' numbers as
  downloads; the GeoJSON is also what the map draws
- ``/impact/programme/<name>``: one programme's reach, targets against actual by quarter, cost per
  outcome and its reports
- ``/impact/outcome-report-template.<fmt>``: the blank outcome report, CSV or XLSX
"""

from __future__ import annotations

import base64
import csv
import io
from functools import partial
from typing import Any

from ckan.lib.pagination import Page
from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.common import i18n, maps, pages
from ckanext.cd3p.impact import computation, registry
from ckanext.cd3p.impact.logic.schema import TEMPLATE_FORMATS

cd3p_impact = pages.blueprint("cd3p_impact", __name__)

DEFAULT_MEASURE = "devices_distributed"
# The places table: sortable by its columns, most unmet need first; a page at a time (a city of
# 5,000 tracts is a 3 MB page otherwise; every place is in the CSV and the GeoJSON).
SORT_KEYS = ("name", "outcomes", "need", "coverage", "unmet", "spend", "cost_per_outcome")
DEFAULT_SORT = "-unmet"
SELECTION = ("measure", "level", "period_from", "period_to")
LEVEL_CHOICES = ("tract", "council_district", "neighborhood", "zip", "city")
CSV_FIELDS = (
    "level",
    "id",
    "name",
    "outcomes",
    "need",
    "coverage",
    "unmet",
    "spend",
    "cost_per_outcome",
    "suppressed",
    "illustrative",
)


# --- arithmetic on the actions' results (public: the tests compare against these) ----------------


def mapped(result: dict[str, Any]) -> dict[str, Any]:
    """What the map colours: coverage (outcomes per 100 in need; the lowest darkest, since there
    the most need is unmet) when the measure has a need count, else the outcomes themselves."""
    if result.get("need") and result["need"]["available"]:
        return {"key": "coverage", "direction": "lower", "unit": "percent"}
    return {"key": "outcomes", "direction": "higher", "unit": result["measure"]["unit"]}


def map_value(value: dict[str, Any], key: str) -> float | None:
    """A place's mapped number when it may be shown: None when suppressed or missing."""
    if value.get("suppressed") or value.get(key) is None:
        return None
    return float(value[key])


def map_classes(result: dict[str, Any]) -> list[dict[str, Any]]:
    what = mapped(result)
    return maps.classes([map_value(v, what["key"]) for v in result["values"]], what["direction"])


def measures_by_quarter(measures: list[dict[str, Any]]) -> dict[str, Any]:
    """The citywide table of outcomes by measure and quarter: the quarters any measure reported,
    in order, and per measure its outcomes in each (None: hidden or not reported)."""
    quarters = sorted(
        {t["period"] for result in measures for t in result["trend"]},
        key=lambda q: (int(q[:4]), int(q[-1])),
    )
    rows = []
    for result in measures:
        by_quarter = {t["period"]: t for t in result["trend"]}
        rows.append(
            {
                "measure": result["measure"],
                "cells": [by_quarter.get(q) for q in quarters],
                "city": result["city"],
            }
        )
    return {"quarters": quarters, "rows": rows}


def chart(trend: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """A chart of outcomes (a hidden quarter: a gap, not a zero) against targets, by quarter."""
    return {
        "labels": [t["period"] for t in trend],
        "series": [
            {
                "label": tk._("Outcomes"),
                "values": [None if t["suppressed"] else t["outcomes"] for t in trend],
            },
            {"label": tk._("Target"), "values": [t["target"] for t in trend]},
        ],
        "y": str(title),  # in the reader's language (a measure's title is i18n.Text)
    }


# --- reading the actions -------------------------------------------------------------------------


def _args() -> dict[str, str]:
    """The selection asked for in the query string (only the known keys; empty ones left out)."""
    found = {k: tk.request.args.get(k, "") for k in SELECTION}
    found["measure"] = found["measure"] or DEFAULT_MEASURE
    found["level"] = found["level"] or "tract"
    return {k: v for k, v in found.items() if v}


def _show(data: dict[str, Any]) -> dict[str, Any]:
    """``cd3p_impact_show`` in the visitor's name; a refused input is a 400 saying why."""
    try:
        return pages.call("cd3p_impact_show", dict(data))
    except tk.ValidationError as e:
        pages.bad_request(e)


def _summable() -> list[registry.Measure]:
    return [m for m in registry.MEASURES.values() if m.summable]


def index() -> str | Response:
    asked = _args()
    result = _show(asked)
    level = result["level"] if "level" in result else asked["level"]
    period = {k: asked[k] for k in ("period_from", "period_to") if k in asked}

    # Every count measure citywide, for the table by quarter and the costs per outcome, and each
    # partner's total of the chosen one (city level: open to every selection).
    summary = pages.call("cd3p_impact_summary", {"measure": asked["measure"], **period})
    table = measures_by_quarter(summary["measures"])
    # The programmes reporting the chosen outcome, with their totals of it; the others are counted.
    programmes = pages.call("cd3p_programme_list", {})
    reporting = [
        {**p, "total": total}
        for p in programmes
        if (total := next((t for t in p["totals"] if t["measure"] == asked["measure"]), None))
    ]
    what = mapped(result)
    found = map_classes(result)
    values = result["values"]
    sort = tk.request.args.get("sort") or DEFAULT_SORT
    sort_key, descending = maps.parse_sort(sort, SORT_KEYS)
    places = Page(
        collection=maps.sort_places(values, sort, SORT_KEYS),
        page=pages.page_number(),
        url=partial(pages.pager_url, "cd3p_impact.index", {**asked, "sort": sort}),
        items_per_page=pages.PAGE_SIZE,
    )
    extra = {
        "places": places,
        "sort_key": sort_key,
        "sort_descending": descending,
        "columns": [
            {"key": "name", "label": tk.h.cd3p_equity_level_label(level)},
            {"key": "outcomes", "label": tk._("Outcomes")},
            {"key": "need", "label": tk._("In need")},
            {"key": "coverage", "label": tk._("Per 100 in need"), "kind": "coverage"},
            {"key": "unmet", "label": tk._("Unmet need")},
            {"key": "spend", "label": tk._("Spend"), "kind": "money"},
            {"key": "cost_per_outcome", "label": tk._("Cost per outcome"), "kind": "cost"},
        ],
        "result": result,
        "selection": asked,
        "level": level,
        "levels": LEVEL_CHOICES,
        "measures": _summable(),
        "quarters": table["quarters"],
        "table": table,
        "chart": chart(result["trend"], result["measure"]["title"]),
        "partners": summary["organizations"],
        "programmes": reporting,
        "other_programmes": len(programmes) - len(reporting),
        "mapped": what,
        "mappable": level in maps.MAPPED_LEVELS,
        "classes": found,
        "no_data": sum(1 for v in values if not v["suppressed"] and v.get(what["key"]) is None),
        "suppressed": sum(1 for v in values if v["suppressed"]),
        "geojson_url": tk.h.url_for("cd3p_impact.places_geojson", **asked),
        "csv_url": tk.h.url_for("cd3p_impact.places_csv", **asked),
        "api_url": tk.h.url_for("api.action", ver=3, logic_function="cd3p_impact_show", **asked),
        "outline_url": tk.h.url_for("cd3p_equity.city_outline"),
        "tiles": maps.tiles(),
        "no_data_color": maps.NO_DATA_COLOR,
        "suppressed_color": maps.SUPPRESSED_COLOR,
        "method": computation.METHOD.split("\n\n"),
    }
    return tk.render("cd3p/impact/index.html", extra)


def places_csv() -> Response:
    asked = _args()
    result = _show(asked)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    rows = [{**v, "level": asked["level"]} for v in result["values"]]
    rows.append({**result["city"], "level": "city", "id": "city"})
    for row in rows:
        row["illustrative"] = result["illustrative"]
        writer.writerow([pages.csv_cell(row.get(field)) for field in CSV_FIELDS])
    return pages.download(
        buffer.getvalue(), pages.CSV, f"cd3p-impact-{asked['measure']}-{asked['level']}.csv"
    )


def places_geojson() -> Response:
    asked = _args()
    result = _show(asked)
    level = asked["level"]
    what = mapped(result)
    found = map_classes(result)
    features = []
    for value in result["values"]:
        number = map_value(value, what["key"])
        if value["suppressed"]:
            label = tk._("suppressed")
        elif number is None:
            label = tk._("no data")
        elif what["key"] == "coverage":
            label = tk._("{coverage} per 100 in need ({outcomes} {unit})").format(
                coverage=i18n.number(number, 1),
                outcomes=i18n.number(value["outcomes"]),
                unit=registry.UNIT_LABELS.get(result["measure"]["unit"], result["measure"]["unit"]),
            )
        else:
            unit = registry.UNIT_LABELS.get(result["measure"]["unit"], result["measure"]["unit"])
            label = f"{i18n.number(number)} {unit}"
        features.append(
            {
                "type": "Feature",
                "id": value["id"],
                "geometry": maps.geometry(level, value["id"]) if level in maps.MAPPED_LEVELS else None,
                "properties": {
                    **value,
                    "level": level,
                    "label": label,
                    "class": maps.class_of(number, found),
                    "color": maps.color(number, value["suppressed"], found),
                    "url": tk.h.url_for("cd3p_equity.place", level=level, id=value["id"])
                    if level in maps.MAPPED_LEVELS
                    else None,
                },
            }
        )
    collection = {
        "type": "FeatureCollection",
        "measure": result["measure"],
        "mapped": what,
        "level": level,
        "illustrative": result["illustrative"],
        "classes": found,
        "features": features,
    }
    return pages.geojson(collection)


def programme(name: str) -> str | Response:
    shown = pages.call("cd3p_programme_show", {"id": name})
    first = shown["measures"][0] if shown["measures"] else None
    extra = {
        "shown": shown,
        "dataset": shown["programme"],
        # The targets the programme planned (its metadata), beside those its reports carry.
        "planned": {t.get("measure"): t.get("target") for t in shown["programme"].get("targets") or []},
        "chart": None if first is None else chart(first["trend"], first["measure"]["title"]),
    }
    return tk.render("cd3p/impact/programme.html", extra)


def outcome_template(fmt: str) -> Response:
    """The blank outcome report, CSV or XLSX (through ``cd3p_outcome_template``)."""
    if fmt not in TEMPLATE_FORMATS:
        raise tk.ObjectNotFound(tk._("The template comes as CSV or XLSX"))
    found = pages.call("cd3p_outcome_template", {"format": fmt})
    content = found["content"]
    body = content.encode("utf-8") if found["encoding"] == "utf-8" else base64.b64decode(content)
    return pages.download(body, found["media_type"], found["filename"])


cd3p_impact.add_url_rule("/impact", view_func=index)
cd3p_impact.add_url_rule("/impact/places.csv", endpoint="places_csv", view_func=places_csv)
cd3p_impact.add_url_rule("/impact/places.geojson", endpoint="places_geojson", view_func=places_geojson)
cd3p_impact.add_url_rule("/impact/programme/<name>", view_func=programme)
cd3p_impact.add_url_rule("/impact/outcome-report-template.<fmt>", view_func=outcome_template)

blueprints = [cd3p_impact]
