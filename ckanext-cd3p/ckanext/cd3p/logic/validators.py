"""Validators for the CD3P schemas, registered with the `cd3p_` prefix."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ckan.plugins import toolkit as tk
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey
from shapely.geometry import shape

from ckanext.cd3p import geography, ledger, search, suppression
from ckanext.cd3p.common import inputs

__all__ = [
    "cd3p_access_level_to_private",
    "cd3p_bool",
    "cd3p_checked",
    "cd3p_count_columns",
    "cd3p_date",
    "cd3p_end_not_before_start",
    "cd3p_geographic_coverage",
    "cd3p_geojson_geometry",
    "cd3p_http_url",
    "cd3p_ledger_checkpoint",
    "cd3p_limit",
    "cd3p_not_blank",
    "cd3p_offset",
    "cd3p_organization_sector",
    "cd3p_required_text",
    "cd3p_service_area",
    "cd3p_text",
]

# --- what every value is checked for first ------------------------------------------------------

# The most rows one call of a list action returns.
MAX_LIMIT = 1000


def _stop(key: FlattenKey, errors: FlattenErrorDict, message: str) -> None:
    errors[key].append(message)
    raise tk.StopOnError


def cd3p_text(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """An optional text: absent or None stays so; anything else must be text with no NUL, other
    control character or lone surrogate (:func:`ckanext.cd3p.common.inputs.unsafe`)."""
    value = data.get(key)
    if value is tk.missing or value is None:
        return
    if not isinstance(value, str):
        _stop(key, errors, tk._("Must be text"))
    reason = inputs.unsafe(value)
    if reason:
        _stop(key, errors, reason)


def cd3p_required_text(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A text that must be given: checked to exist and be text (as :func:`cd3p_text`) before it is
    stripped; blank is missing. Replaces scheming's ``strip_value`` before ``not_empty``, which
    fails on a missing, null or non-text value."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        _stop(key, errors, tk._("Missing value"))
    cd3p_text(key, data, errors, context)
    data[key] = value.strip()
    if not data[key]:
        _stop(key, errors, tk._("Missing value"))


def cd3p_not_blank(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A text that must be given, kept as it is (an agreement's body is signed to the byte): after
    ``cd3p_text``, absent, null or only white space is missing."""
    value = data.get(key)
    if value is tk.missing or value is None or not str(value).strip():
        _stop(key, errors, tk._("Missing value"))


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def cd3p_limit(value: Any, context: Context) -> int:
    """How many rows a list returns: a whole number from 0 to :data:`MAX_LIMIT`."""
    number = _whole_number(value)
    if number is None or not 0 <= number <= MAX_LIMIT:
        raise tk.Invalid(tk._("Must be a whole number from 0 to {max}").format(max=MAX_LIMIT))
    return number


def cd3p_offset(value: Any, context: Context) -> int:
    """How many rows a list skips: a whole number from 0 to PostgreSQL's bigint."""
    number = _whole_number(value)
    if number is None or not 0 <= number <= inputs.MAX_BIGINT:
        raise tk.Invalid(tk._("Must be a whole number from 0 to {max}").format(max=inputs.MAX_BIGINT))
    return number


def cd3p_date(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """An optional ISO 8601 date or time, read by CKAN's ``isodate``, after it is checked to be text
    (``isodate`` raises OverflowError, not Invalid, on a number of 20 digits)."""
    value = data.get(key)
    if value is tk.missing or value is None:
        return
    if value == "":
        data[key] = None  # cleared
        return
    if not inputs.guard_date(value):
        _stop(key, errors, tk._("Date format incorrect: use ISO 8601, e.g. 2026-07-01"))
    data[key] = tk.get_validator("isodate")(value, context)


def cd3p_ledger_checkpoint(value: Any, context: Context) -> tuple[int, str]:
    """A ledger checkpoint as ``ckan cd3p agreement checkpoint`` prints it: ``<entries>:<head hash>``."""
    try:
        return ledger.parse_checkpoint(value)
    except ValueError as e:
        raise tk.Invalid(
            tk._("Must be <entries>:<head hash>, as `ckan cd3p agreement checkpoint` prints it")
        ) from e


def cd3p_bool(value: Any, context: Context) -> bool:
    """True or false (also "true"/"false", "yes"/"no", "on"/"off", "1"/"0" as text); anything else
    is refused, where CKAN's boolean_validator fails on a list or a dict."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0", ""):
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise tk.Invalid(tk._("Must be true or false"))


# --- the dataset, resource and organization schemas ----------------------------------------------

_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def cd3p_geojson_geometry(value: Any, context: Context) -> Any:
    """A GeoJSON geometry, valid, with WGS84 longitude/latitude coordinates."""
    if value in (None, ""):
        return value
    try:
        geometry = json.loads(value) if isinstance(value, str) else value
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
    place = geography.places().get(code)
    if place is None:
        errors[key].append(tk._("Unknown place: {code}").format(code=code))
        return
    data[key[:-1] + ("spatial",)] = json.dumps(place.geometry)


def cd3p_count_columns(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A resource's count columns, given as a list or as comma-separated text, stored in one form:
    comma-separated (``households, people``). When the resource already has a DataStore table, each
    name must be one of its columns (exactly, or ignoring case, as the suppression matches them)."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        return
    try:
        names = suppression.parse_count_columns(value)
    except ValueError:
        _stop(key, errors, tk._("Must be a list of column names or comma-separated text"))
    for name in names:
        reason = inputs.unsafe(name)
        if reason:
            _stop(key, errors, reason)
    data[key] = ", ".join(names)
    resource_id = inputs.text_id(data.get(key[:-1] + ("id",)))
    columns = suppression.table_columns(resource_id) if resource_id else None
    if columns is None:
        return  # no table yet: a name it lacks is suppressed as unresolved (fail closed)
    unknown = [name for name in names if not suppression.matching(columns, [name])]
    if unknown:
        _stop(
            key,
            errors,
            tk._("The table has no column {names} (its columns: {columns})").format(
                names=", ".join(unknown), columns=", ".join(columns)
            ),
        )


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
    """Council districts (``district-1`` ... ``district-7``), as a list or comma-separated; stored
    comma-separated."""
    if value in (None, "", []):
        return None
    if not isinstance(value, str | list) or (
        isinstance(value, list) and not all(isinstance(c, str) for c in value)
    ):
        raise tk.Invalid(tk._("Must be council districts, as a list or comma-separated text"))
    codes = value if isinstance(value, list) else value.split(",")
    codes = [c.strip() for c in codes if c.strip()]
    valid = {f"district-{n}" for n in range(1, 8)}
    unknown = [c for c in codes if c not in valid]
    if unknown:
        raise tk.Invalid(tk._("Unknown council district: {codes}").format(codes=", ".join(unknown)))
    return ",".join(codes)


# --- links: http(s) only ------------------------------------------------------------------------

# What CKAN's datastore_create names a resource that has only a DataStore table, no file or link.
_DATASTORE_ONLY = "_datastore_only_resource"


def http_url(value: Any) -> str | None:
    """The value as a web link, stripped of surrounding white space: an ``http://`` or ``https://``
    URL with a host, and no control character (browsers drop tabs and line breaks inside a URL, so
    ``java\tscript:`` would be a script). None for anything else: ``javascript:``, ``data:``,
    ``ftp://``, a relative path. The one rule for the URL fields and for the pages that link them."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def cd3p_http_url(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """A URL field: empty, or a web link (:func:`http_url`), stored stripped. A resource's uploaded
    file (``url_type`` "upload") is named by its file name, and a DataStore-only resource by CKAN's
    marker; those are CKAN's, not links, and pass."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        return
    url_type = data.get(key[:-1] + ("url_type",))
    if url_type == "upload" or (value == _DATASTORE_ONLY and url_type in (None, "", "datastore", tk.missing)):
        return
    url = http_url(value)
    if url is None:
        errors[key].append(tk._("Must be a web address starting with http:// or https://"))
        raise tk.StopOnError
    data[key] = url
