"""Detroit's shipped boundaries: the places a partner can pick as a dataset's geographic coverage.

Read once per process from ``ckanext.cd3p.data_dir`` (boundaries/*.geojson) and kept in memory;
the files are a few hundred kilobytes.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common.i18n import Text

WHOLE_CITY = "city"
CUSTOM = "custom"


@dataclass(frozen=True)
class Place:
    code: str  # e.g. "district-3", "neighborhood-arden-park", "city"
    label: str
    geometry: dict[str, Any]


def neighborhood_code(name: str) -> str:
    """A neighbourhood's code from its name, any case: ``Arden Park`` -> ``neighborhood-arden-park``."""
    return "neighborhood-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _features(filename: str, folder: Path | None = None) -> list[dict[str, Any]]:
    path = (folder or cd3p_config.data_dir()) / "boundaries" / filename
    return json.loads(path.read_text())["features"]


@functools.lru_cache(maxsize=1)
def places() -> dict[str, Place]:
    """Every pickable place by code: the city, its 7 council districts, its 208 neighborhoods."""
    return places_in(cd3p_config.data_dir())


def places_in(folder: Path) -> dict[str, Place]:
    """:func:`places`, read from the boundary files of a data folder (a benchmark's, without CKAN's
    settings), every time."""
    found: dict[str, Place] = {}
    city = _features("city_boundary.geojson", folder)[0]
    found[WHOLE_CITY] = Place(WHOLE_CITY, "Whole city of Detroit", city["geometry"])
    districts = _features("council_districts.geojson", folder)
    for f in sorted(districts, key=lambda f: int(f["properties"]["district"])):
        n = int(f["properties"]["district"])
        found[f"district-{n}"] = Place(f"district-{n}", f"Council District {n}", f["geometry"])
    for f in sorted(_features("neighborhoods.geojson", folder), key=lambda f: f["properties"]["name"]):
        name = f["properties"]["name"]
        code = neighborhood_code(name)
        found[code] = Place(code, f"Neighborhood: {name}", f["geometry"])
    return found


def council_districts() -> list[Place]:
    """Detroit's council districts in order (``district-1`` ...), from the shipped boundaries: the
    one list the organization form offers and its validator accepts."""
    return [place for code, place in places().items() if code.startswith("district-")]


@functools.lru_cache(maxsize=1)
def codes() -> dict[str, frozenset[str]]:
    """Every place code of each level, from the shipped boundaries: ``tract`` (GEOIDs),
    ``council_district`` (``district-3``), ``neighborhood`` (``neighborhood-arden-park``) and
    ``city``. ZIP codes are configuration (``ckanext.cd3p.checks.detroit_zip_codes``), not here."""
    every = places()
    return {
        "tract": frozenset(tracts()),
        "council_district": frozenset(p.code for p in council_districts()),
        "neighborhood": frozenset(c for c in every if c.startswith("neighborhood-")),
        "city": frozenset({WHOLE_CITY}),
    }


def coverage_choices() -> list[dict[str, str]]:
    """Choices for the geographic coverage select, in the order a partner looks for them."""
    choices = [{"value": p.code, "label": p.label} for p in places().values()]
    choices.append({"value": CUSTOM, "label": Text("Other area (enter GeoJSON below)")})
    return choices


@dataclass(frozen=True)
class Tract:
    """A 2010 census tract of Detroit and the places its interior point falls in."""

    geoid: str
    name: str
    district: str  # "district-3"
    neighborhood: str  # "neighborhood-arden-park"


@functools.lru_cache(maxsize=1)
def tracts() -> dict[str, Tract]:
    """Detroit's census tracts by GEOID, each assigned to one council district and one neighbourhood.

    A tract belongs to the city, a district or a neighbourhood when its Census Bureau interior point
    (TIGER ``INTPTLAT``/``INTPTLON``) lies inside that boundary. Interior points, not areas: every
    tract then counts once, in one place, and aggregates add up to the city. With the shipped files,
    297 of Wayne County's 611 tracts are in the city, and each falls in exactly one district and one
    neighbourhood.
    """
    import shapely
    from shapely.geometry import shape

    features = [f["properties"] for f in _features("wayne_tracts_tiger2010.geojson")]
    xs = [float(p["INTPTLON"]) for p in features]
    ys = [float(p["INTPTLAT"]) for p in features]

    def first_containing(prefix: str) -> list[str | None]:
        # One vectorised test of every point per boundary (not one call per point and boundary):
        # a city of 5,000 tracts takes milliseconds, not seconds.
        found: list[str | None] = [None] * len(features)
        for code, place in places().items():
            if code.startswith(prefix):
                inside = shapely.contains_xy(shape(place.geometry), xs, ys)
                for i in inside.nonzero()[0]:
                    found[i] = found[i] or code
        return found

    in_city = shapely.contains_xy(shape(places()[WHOLE_CITY].geometry), xs, ys)
    districts, hoods = first_containing("district-"), first_containing("neighborhood-")
    found: dict[str, Tract] = {}
    for i, props in enumerate(features):
        if not in_city[i] or districts[i] is None or hoods[i] is None:
            continue  # outside the city, or on no shipped boundary: counted nowhere, not even the city
        found[props["GEOID"]] = Tract(props["GEOID"], props["NAMELSAD"], districts[i], hoods[i])
    return found
