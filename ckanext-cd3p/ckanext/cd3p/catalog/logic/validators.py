"""Validators of the catalog's schemas (scheming YAML in ``schemas/``): geography, dates, access
level, organization sector and service area."""

from __future__ import annotations

import json
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey
from shapely.geometry import shape

from ckanext.cd3p.catalog import search
from ckanext.cd3p.common import geography, inputs

# --- the dataset, resource and organization schemas ----------------------------------------------

_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def cd3p_geojson_geometry(value: Any, context: Context) -> Any:
    """A GeoJSON geometry, valid, with WGS84 longitude/latitude coordinates."""
    if value in (None, ""):
        return value
    try:
        geometry = inputs.parse_json(value) if isinstance(value, str) else value
    except ValueError as e:
        raise tk.Invalid(tk._("Not valid JSON: {error}").format(error=e)) from e
    if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_TYPES:
        raise tk.Invalid(
            tk._("Must be a GeoJSON geometry with a type of {types}").format(
                types=", ".join(sorted(_GEOMETRY_TYPES))
            )
        )
    try:
        geom = shape(geometry)
    except Exception as e:  # shapely raises several types for malformed coordinates
        raise tk.Invalid(
            tk._("The coordinates do not form a {type}: {error}").format(type=geometry["type"], error=e)
        ) from e
    if geom.is_empty or not geom.is_valid:
        raise tk.Invalid(tk._("The geometry is empty or invalid (for example a self-intersecting polygon)"))
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise tk.Invalid(tk._("Coordinates must be WGS84 longitude (-180..180) and latitude (-90..90)"))
    return json.dumps(geometry) if not isinstance(value, str) else value


def cd3p_geographic_coverage(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A place picked from the shipped boundaries fills the spatial extent with its geometry."""
    code = data.get(key)
    if code in (None, "", tk.missing, geography.CUSTOM):
        return
    if not isinstance(code, str):
        errors[key].append(tk._("Must be a place code"))
        return
    place = geography.places().get(code)
    if place is None:
        errors[key].append(tk._("Unknown place: {code}").format(code=code))
        return
    data[key[:-1] + ("spatial",)] = json.dumps(place.geometry)


def cd3p_end_not_before_start(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """temporal_end must not be before temporal_start (both dates, already converted)."""
    end = data.get(key)
    start = data.get(key[:-1] + ("temporal_start",))
    if end in (None, "", tk.missing) or start in (None, "", tk.missing) or errors.get(key):
        return
    if str(end) < str(start):
        errors[key].append(
            tk._("The end of the period must not be before its start ({start})").format(start=start)
        )


def cd3p_access_level_to_private(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """Access level decides CKAN's private flag: only "public" datasets are public."""
    level = data.get(key)
    if level in (None, "", tk.missing):
        level = data[key] = (
            "public" if not tk.asbool(data.get(key[:-1] + ("private",), False)) else "organization"
        )
    data[key[:-1] + ("private",)] = level != "public"


def cd3p_checked(value: Any, context: Context) -> bool:
    """A box that must be ticked (true, "true", "on", "1"); anything else is refused."""
    if value is True or str(value).strip().lower() in ("true", "on", "1", "yes"):
        return True
    raise tk.Invalid(tk._("Must be confirmed"))


def cd3p_organization_sector(value: Any, context: Context) -> Any:
    """One of the sector codes of the organization schema."""
    labels = search.sector_labels()
    if not isinstance(value, str) or value not in labels:
        raise tk.Invalid(tk._("Unknown sector; one of: {codes}").format(codes=", ".join(labels)))
    return value


def cd3p_service_area(value: Any, context: Context) -> Any:
    """Council districts (``district-1`` ..., :func:`geography.council_districts`), as a list or
    comma-separated; stored comma-separated."""
    if value in (None, "", []):
        return None
    if not isinstance(value, str | list) or (
        isinstance(value, list) and not all(isinstance(c, str) for c in value)
    ):
        raise tk.Invalid(tk._("Must be council districts, as a list or comma-separated text"))
    codes = value if isinstance(value, list) else value.split(",")
    codes = [c.strip() for c in codes if c.strip()]
    valid = {place.code for place in geography.council_districts()}
    unknown = [c for c in codes if c not in valid]
    if unknown:
        raise tk.Invalid(tk._("Unknown council district: {codes}").format(codes=", ".join(unknown)))
    return ",".join(codes)
