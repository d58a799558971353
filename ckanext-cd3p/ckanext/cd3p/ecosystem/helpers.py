"""Template helpers of the partner directory: an organization's profile and the partners serving a
place, through the actions in the visitor's name, for the pages of other features; and the labels
of services and districts."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import geography, maps, pages
from ckanext.cd3p.ecosystem import directory
from ckanext.cd3p.impact import registry

IN_AREA_COLOR = "#2c6e9b"  # a district of an organization's service area, on its profile's map


def cd3p_partner_profile(organization: str) -> dict[str, Any] | None:
    """An organization's profile as the visitor may see it (``cd3p_partner_show``), for its page;
    None for one that is not an active organization."""
    try:
        return pages.call("cd3p_partner_show", {"id": organization})
    except (tk.ObjectNotFound, tk.ValidationError):
        return None


def cd3p_place_partners(level: str, id: str) -> dict[str, Any] | None:
    """Who serves a place, for the place pages: the council districts it lies in and the partners
    serving any of them (``cd3p_partner_list`` by district, in the visitor's name); None for the
    city, a ZIP code or an unknown place."""
    districts = directory.place_districts(level, id)
    if not districts:
        return None
    found: dict[str, dict[str, Any]] = {}
    for district in districts:
        for p in pages.call("cd3p_partner_list", {"district": district})["results"]:
            found.setdefault(p["id"], p)
    return {
        "districts": [{"id": d, "name": geography.places()[d].label} for d in districts],
        "partners": sorted(found.values(), key=lambda p: p["title"].lower()),
    }


def cd3p_service_title(service_id: str) -> str:
    """A service's title (its id when unknown)."""
    service = registry.SERVICES.get(service_id)
    return service.title if service else service_id


def cd3p_district_label(code: str) -> str:
    """A council district's label (its code when unknown)."""
    place = geography.places().get(code)
    return place.label if place else code


def cd3p_service_area_map(organization: str) -> dict[str, Any]:
    """What the profile's map of an organization's service area draws: its GeoJSON, the city's
    outline, the tiles and the legend."""
    return {
        "geojson_url": tk.h.url_for("cd3p_ecosystem.service_area_geojson", id=organization),
        "outline_url": tk.h.url_for("cd3p_equity.city_outline"),
        "tiles": maps.tiles(),
        "legend": [
            {"color": IN_AREA_COLOR, "text": tk._("In the service area")},
            {"color": maps.NO_DATA_COLOR, "text": tk._("Outside it")},
        ],
    }
