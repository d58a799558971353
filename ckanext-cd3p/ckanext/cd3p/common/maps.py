"""What the portal's choropleth maps and their tables of places share: quantile classes and their
colours, the places' polygons, the tile layer, and the sorting of a table of places. The equity
pages (indicators) and the coverage map (impact) draw with these, so a legend means the same on
both."""

from __future__ import annotations

import functools
import json
import re
import statistics
from collections.abc import Iterable
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import geography

CLASSES = 5

# ColorBrewer YlOrRd (sequential, colour-blind safe), lightest first, by number of classes. The
# darkest colour always marks the most need: for "lower = more need" values the lowest ones.
PALETTES: dict[int, tuple[str, ...]] = {
    1: ("#fd8d3c",),
    2: ("#fecc5c", "#e31a1c"),
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
}
NO_DATA_COLOR = "#d9d9d9"
SUPPRESSED_COLOR = "#969696"

# The levels a map can draw: each has polygons (ZIP codes have none shipped).
MAPPED_LEVELS = ("tract", "council_district", "neighborhood")


def classes(values: Iterable[float | None], direction: str, k: int = CLASSES) -> list[dict[str, Any]]:
    """Quantile classes of the values (None left out), lowest first.

    Each class has ``lower`` and ``upper`` bounds (a value belongs to the first class whose upper
    bound it does not exceed), ``count`` and ``color``; quantile cut points that coincide are merged,
    so there may be fewer than ``k`` classes. Colours run light to dark in the need direction
    (``higher``: the highest values darkest; ``lower``: the lowest).
    """
    data = sorted(v for v in values if v is not None)
    if not data:
        return []
    cuts = statistics.quantiles(data, n=k, method="inclusive") if len(data) > 1 else []
    # A cut at the lowest value makes a class of the repeated lowest values; one at the highest, none.
    bounds = sorted({c for c in cuts if data[0] <= c < data[-1]})
    uppers = [*bounds, data[-1]]
    lowers = [data[0], *bounds]
    palette = PALETTES[len(uppers)]
    if direction == "lower":
        palette = tuple(reversed(palette))
    found = [
        {"index": i, "lower": lo, "upper": up, "count": 0, "color": palette[i]}
        for i, (lo, up) in enumerate(zip(lowers, uppers, strict=True))
    ]
    for v in data:
        found[class_of(v, found)]["count"] += 1  # type: ignore[index]
    return found


def class_of(value: float | None, found: list[dict[str, Any]]) -> int | None:
    """The index of the class a value falls in (None for no value)."""
    if value is None or not found:
        return None
    for c in found:
        if value <= c["upper"]:
            return c["index"]
    return found[-1]["index"]


def color(value: float | None, suppressed: bool, found: list[dict[str, Any]]) -> str:
    """A place's fill: grey when suppressed, light grey without a value, else its class's colour."""
    if suppressed:
        return SUPPRESSED_COLOR
    index = class_of(value, found)
    return NO_DATA_COLOR if index is None else found[index]["color"]


@functools.lru_cache(maxsize=1)
def tract_geometries() -> dict[str, dict[str, Any]]:
    """Detroit's tract polygons (TIGER 2010) by GEOID, read once per process."""
    path = cd3p_config.data_dir() / "boundaries" / "wayne_tracts_tiger2010.geojson"
    detroit = geography.tracts()
    return {
        f["properties"]["GEOID"]: f["geometry"]
        for f in json.loads(path.read_text())["features"]
        if f["properties"]["GEOID"] in detroit
    }


def geometry(level: str, code: str) -> dict[str, Any] | None:
    """A place's polygon: a tract's by GEOID, a council district's or neighbourhood's by code."""
    if level == "tract":
        return tract_geometries().get(code)
    place = geography.places().get(code)
    return place.geometry if place else None


def tiles() -> dict[str, str]:
    """The tile layer of ckanext-spatial's common map, if one is configured (none: plain background)."""
    return {
        "url": (tk.config.get("ckanext.spatial.common_map.custom_url", "") or "").strip(),
        "attribution": (tk.config.get("ckanext.spatial.common_map.attribution", "") or "").strip(),
    }


# --- tables of places ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=20_000)  # place names: a city's few thousand, sorted on every page
def natural(text: str) -> tuple[tuple[int, float, str], ...]:
    """A sort key in which numbers compare as numbers: Census Tract 10 before Census Tract 5001."""
    return tuple(
        (0, float(part), "") if part[0].isdigit() else (1, 0.0, part.lower())
        for part in re.findall(r"\d+(?:\.\d+)?|\D+", text)
    )


def parse_sort(sort: str | None, keys: Iterable[str]) -> tuple[str, bool]:
    """(key, descending) of a ``?sort=`` value; anything unknown is the default (name, A to Z)."""
    sort = (sort or "").strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in keys:
        return "name", False
    return key, descending


def sort_places(values: list[dict[str, Any]], sort: str | None, keys: Iterable[str]) -> list[dict[str, Any]]:
    """The places sorted by a ``?sort=`` key; places without the number (no data, suppressed) last,
    by name. Ties are in name order too."""
    key, descending = parse_sort(sort, keys)
    if key == "name":
        return sorted(values, key=lambda v: natural(v["name"]), reverse=descending)

    def number(v: dict[str, Any]) -> float | None:
        if v.get("suppressed"):
            return None
        x = v.get(key)
        return None if x is None else float(x)

    present = [v for v in values if number(v) is not None]
    missing = [v for v in values if number(v) is None]
    present.sort(key=lambda v: natural(v["name"]))
    present.sort(key=number, reverse=descending)  # type: ignore[arg-type]  # stable: ties by name
    return present + sorted(missing, key=lambda v: natural(v["name"]))
