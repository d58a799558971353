"""Pages of the partner directory (blueprint ``cd3p_ecosystem``).

Every page reads through the directory actions (``cd3p_partner_list``, ``cd3p_partner_show``,
``cd3p_partner_gaps``, ``cd3p_partnership_show``) and the request actions, called in the visitor's
name, so what a visitor sees of programmes, need counts and requests is what the API gives them. A
filter that is not one of its choices is a 400 saying which. Map classes are computed here from
the actions' numbers; templates only format them.

Routes:

- ``/partners`` (``?sector=&service=&district=&q=``): every partner as a list, and a map of the
  council districts shaded by the partners serving each (with the same filters but the district),
  with its table
- ``/partners/districts.geojson`` (same arguments): what that map draws
- ``/partners/gaps`` (``?service=&level=``): the places of most need for a service that no
  partner serves, as a table and a map; ``/partners/gaps.geojson`` what the map draws
- ``/partners/<id>/districts.geojson``: an organization's service area, for its profile's map
- ``/dashboard/partnership``: the logged-in user's partnership: what they signed or acknowledged,
  their data requests and those they follow, their access grants, and the open requests of the
  organizations they administer
"""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.catalog import search
from ckanext.cd3p.common import geography, i18n, maps, pages
from ckanext.cd3p.ecosystem import directory
from ckanext.cd3p.ecosystem.helpers import IN_AREA_COLOR
from ckanext.cd3p.impact import registry

cd3p_ecosystem = pages.blueprint("cd3p_ecosystem", __name__)

FILTERS = ("sector", "service", "district", "q")


def _filters() -> dict[str, str]:
    """The directory's filters asked for in the query string (empty ones left out)."""
    found = {
        "sector": tk.request.args.get("sector", ""),
        "service": tk.request.args.get("service", ""),
        "district": tk.request.args.get("district", ""),
        "q": tk.request.args.get("q", ""),
    }
    return {k: v for k, v in found.items() if v}


def _list(filters: dict[str, str]) -> dict[str, Any]:
    try:
        return pages.call("cd3p_partner_list", dict(filters))
    except tk.ValidationError as e:
        pages.bad_request(e)


def _district_counts(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Each council district with the partners serving it (the list's district facet)."""
    counts = found["facets"]["district"]
    return [
        {"id": p.code, "name": p.label, "count": counts.get(p.code, 0)} for p in geography.council_districts()
    ]


def _feature(level: str, code: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": code,
        "geometry": maps.geometry(level, code),
        "properties": {**properties, "url": tk.h.url_for("cd3p_equity.place", level=level, id=code)},
    }


def legend(classes: list[dict[str, Any]], what: str) -> list[dict[str, str]]:
    """The legend of a map's classes: each class's colour and range (``what``: a count's unit,
    e.g. "partners")."""
    return [
        {
            "color": c["color"],
            "text": f"{i18n.number(c['lower'])} {what}"
            if c["lower"] == c["upper"]
            else tk._("{lower} to {upper} {what}").format(
                lower=i18n.number(c["lower"]), upper=i18n.number(c["upper"]), what=what
            ),
        }
        for c in classes
    ]


def _map_vars() -> dict[str, Any]:
    return {
        "outline_url": tk.h.url_for("cd3p_equity.city_outline"),
        "tiles": maps.tiles(),
        "no_data_color": maps.NO_DATA_COLOR,
    }


# --- the directory ---------------------------------------------------------------------------------


def index() -> str | Response:
    filters = _filters()
    found = _list(filters)
    districts = _district_counts(found)
    classes = maps.classes([d["count"] for d in districts], "higher")
    extra = {
        "partners": found["results"],
        "count": found["count"],
        "facets": found["facets"],
        "filters": filters,
        "districts": districts,
        "legend": legend(classes, tk._("partners")),
        "sectors": list(search.sector_labels().items()),
        "services": [(s.id, s.title) for s in registry.SERVICES.values()],
        "district_choices": directory.district_choices(),
        "gap_services": directory.gap_services(),
        "geojson_url": tk.h.url_for("cd3p_ecosystem.districts_geojson", **filters),
        "api_url": tk.h.url_for("api.action", ver=3, logic_function="cd3p_partner_list", **filters),
        **_map_vars(),
    }
    return tk.render("cd3p/ecosystem/index.html", extra)


def districts_geojson() -> Response:
    filters = _filters()
    districts = _district_counts(_list(filters))
    classes = maps.classes([d["count"] for d in districts], "higher")
    features = [
        _feature(
            "council_district",
            d["id"],
            {
                "name": d["name"],
                "count": d["count"],
                "label": tk.ungettext("{n} partner", "{n} partners", d["count"]).format(n=d["count"]),
                "color": maps.color(d["count"], False, classes),
            },
        )
        for d in districts
    ]
    return pages.geojson({"type": "FeatureCollection", "classes": classes, "features": features})


# --- the gaps ---------------------------------------------------------------------------------------


def _gaps_args() -> dict[str, str]:
    found = {"service": tk.request.args.get("service", ""), "level": tk.request.args.get("level", "")}
    return {k: v for k, v in found.items() if v}


def _gaps(asked: dict[str, str]) -> dict[str, Any]:
    try:
        return pages.call("cd3p_partner_gaps", dict(asked))
    except tk.ValidationError as e:
        pages.bad_request(e)
        raise


def gaps() -> str | Response:
    asked = {"service": directory.gap_services()[0], **_gaps_args()}
    result = _gaps(asked)
    classes = maps.classes([p["need"] for p in result["places"]], "higher")
    extra = {
        "result": result,
        "asked": asked,
        "services": [(s, registry.SERVICES[s].title) for s in directory.gap_services()],
        "levels": directory.GAP_LEVELS,
        "legend": legend(classes, result["need"]["label"]),
        "geojson_url": tk.h.url_for("cd3p_ecosystem.gaps_geojson", **asked),
        "api_url": tk.h.url_for("api.action", ver=3, logic_function="cd3p_partner_gaps", **asked),
        **_map_vars(),
    }
    return tk.render("cd3p/ecosystem/gaps.html", extra)


def gaps_geojson() -> Response:
    asked = _gaps_args()
    if not asked.get("service"):
        tk.abort(400, tk._("service: Missing value"))
    result = _gaps(asked)
    level = result["level"]
    classes = maps.classes([p["need"] for p in result["places"]], "higher")
    features = [
        _feature(
            level,
            p["id"],
            {
                "name": p["name"],
                "need": p["need"],
                "label": f"{i18n.number(p['need'])} {result['need']['label']}",
                "color": maps.color(p["need"], False, classes),
            },
        )
        for p in result["places"]
    ]
    return pages.geojson(
        {"type": "FeatureCollection", "level": level, "classes": classes, "features": features}
    )


# --- a profile's map -----------------------------------------------------------------------------


def service_area_geojson(id: str) -> Response:
    """The council districts, those of the organization's service area coloured."""
    found = pages.call("cd3p_partner_show", {"id": id})
    features = []
    for place in geography.council_districts():
        inside = place.code in found["service_area"]
        features.append(
            _feature(
                "council_district",
                place.code,
                {
                    "name": place.label,
                    "in_area": inside,
                    "label": tk._("in the service area") if inside else tk._("outside the service area"),
                    "color": IN_AREA_COLOR if inside else maps.NO_DATA_COLOR,
                },
            )
        )
    return pages.geojson({"type": "FeatureCollection", "features": features})


# --- my partnership --------------------------------------------------------------------------------


def partnership() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    extra = {
        "partnership": pages.call("cd3p_partnership_show", {}),
        "mine": pages.call("cd3p_data_request_list", {"mine": True, "limit": pages.PAGE_SIZE}),
        "followed": pages.call("cd3p_data_request_list", {"followed": True, "limit": pages.PAGE_SIZE}),
        "grants": pages.call("cd3p_access_grant_list", {"mine": True}),
    }
    return tk.render("cd3p/ecosystem/partnership.html", extra)


cd3p_ecosystem.add_url_rule("/partners", endpoint="index", view_func=index)
cd3p_ecosystem.add_url_rule(
    "/partners/districts.geojson", endpoint="districts_geojson", view_func=districts_geojson
)
cd3p_ecosystem.add_url_rule("/partners/gaps", endpoint="gaps", view_func=gaps)
cd3p_ecosystem.add_url_rule("/partners/gaps.geojson", endpoint="gaps_geojson", view_func=gaps_geojson)
cd3p_ecosystem.add_url_rule(
    "/partners/<id>/districts.geojson", endpoint="service_area_geojson", view_func=service_area_geojson
)
cd3p_ecosystem.add_url_rule("/dashboard/partnership", endpoint="partnership", view_func=partnership)

blueprints = [cd3p_ecosystem]
