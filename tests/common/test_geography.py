"""Tracts assigned to council districts and neighbourhoods by their interior points.

The expectations are computed here independently: a point-in-polygon test written out (ray casting)
over the raw GeoJSON, not shapely.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from ckanext.cd3p import config
from ckanext.cd3p.common import geography


def _rings(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _inside(x: float, y: float, geometry: dict[str, Any]) -> bool:
    """Even-odd rule over every ring of every polygon (holes flip it back)."""
    inside = False
    for polygon in _rings(geometry):
        for ring in polygon:
            for (x1, y1), (x2, y2) in pairwise(ring):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
    return inside


def _features(name: str) -> list[dict[str, Any]]:
    return json.loads((config.data_dir() / "boundaries" / name).read_text())["features"]


def test_every_city_tract_is_in_one_district_and_one_neighbourhood() -> None:
    city = _features("city_boundary.geojson")[0]["geometry"]
    districts = {f["properties"]["district"]: f["geometry"] for f in _features("council_districts.geojson")}
    expected: dict[str, int] = {}
    for feature in _features("wayne_tracts_tiger2010.geojson"):
        props = feature["properties"]
        x, y = float(props["INTPTLON"]), float(props["INTPTLAT"])
        if _inside(x, y, city):
            (district,) = [n for n, g in districts.items() if _inside(x, y, g)]
            expected[props["GEOID"]] = district

    tracts = geography.tracts()

    assert len(tracts) == len(expected) == 297
    assert {g: t.district for g, t in tracts.items()} == {g: f"district-{n}" for g, n in expected.items()}
    assert all(t.neighborhood in geography.places() for t in tracts.values())
