"""The partner directory: every active organization as one caller sees it (its sector, service area,
services, agreement standing, datasets and public contact), who serves a place, and the places of
most need that no partner serves for a service (the gaps).

What a caller sees of a partner's programmes follows the impact rules (``impact/reach.py``): only
the programmes ``package_search`` gives them count, so an organization-only programme's services
are not told to a visitor; and an outcome count the small-cell rule hides from the caller does not
make its programme serve the place (naming it would say that someone there was served).

Everything is read in a few queries for all organizations at once, and remembered for the request.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.common import geography, inputs, privacy
from ckanext.cd3p.common.memo import remembered
from ckanext.cd3p.common.validators import http_url
from ckanext.cd3p.impact import reach, registry, suppression
from ckanext.cd3p.impact.outcomes import PROGRAMME
from ckanext.cd3p.indicators import computation as indicators

# The outcome measures that show a programme delivering each service; the first with a need count
# gives the need of the service's gaps. A service without a measure (repair, public Wi-Fi) is served
# only as declared; one without a need count (navigators) has no gaps to compute.
SERVICE_MEASURES: dict[str, tuple[str, ...]] = {
    "device_distribution": ("devices_distributed",),
    "device_repair": (),
    "home_internet": ("households_connected",),
    "public_wifi": (),
    "digital_skills": ("training_enrolled", "training_completed"),
    "digital_navigators": ("navigator_sessions",),
    "it_certification": ("certifications_earned",),
    "it_internships": ("internships_started", "internships_completed"),
    "job_placement": ("job_placements", "employed_q2_after_exit"),
}

if set(SERVICE_MEASURES) != set(registry.SERVICES) or not all(
    m in registry.MEASURES for measures in SERVICE_MEASURES.values() for m in measures
):
    raise ValueError("ecosystem: SERVICE_MEASURES must name every service and only known measures")

# The levels of the gaps: the places a partner's declared service area can be read at.
GAP_LEVELS = ("council_district", "tract")
GAPS_SHOWN = 20  # places of most need listed by default
ANY = "*"  # any service, in :func:`reached`
MAX_PROGRAMMES = reach.MAX_PROGRAMMES
STANDING = ("signed", "current", "stale", "version", "active_version")  # what a listing tells of it


def need_measure(service: str) -> registry.Measure | None:
    """The measure whose need count is the need of a service (None: no shipped count answers it)."""
    for measure_id in SERVICE_MEASURES.get(service, ()):
        measure = registry.MEASURES[measure_id]
        if measure.need is not None:
            return measure
    return None


def gap_services() -> list[str]:
    """The services whose gaps can be computed (they have a need count), in the registry's order."""
    return [s for s in registry.SERVICES if need_measure(s) is not None]


def as_list(value: Any) -> list[str]:
    """A multiple-choice field as stored (a JSON list, or comma-separated text) as a list."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = inputs.parse_json(value)
    except ValueError:
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if isinstance(parsed, list):
        return [str(v) for v in parsed]
    return [str(parsed)]


def district_of(level: str, code: str) -> str | None:
    """The council district of a place: the district itself, or a tract's."""
    if level == "council_district":
        return code
    tract = geography.tracts().get(code)
    return tract.district if tract else None


# --- every organization, read once ------------------------------------------------------------------


def organizations() -> list[dict[str, Any]]:
    """Every active organization with its profile fields, by title: one query for all of them and
    their extras, once per request."""

    def read() -> list[dict[str, Any]]:
        rows = (
            model.Session.query(model.Group)
            .filter(model.Group.is_organization.is_(True), model.Group.state == "active")
            .options(sa.orm.selectinload(model.Group._extras))
            .all()
        )
        districts = geography.codes()["council_district"]
        services = registry.SERVICES
        found = []
        for group in rows:
            extras = {e.key: e.value for e in group._extras.values() if e.state == "active"}
            found.append(
                {
                    "id": group.id,
                    "name": group.name,
                    "title": group.title or group.name,
                    "sector": extras.get("sector") or None,
                    "service_area": [d for d in as_list(extras.get("service_area")) if d in districts],
                    "declared_services": [s for s in as_list(extras.get("services")) if s in services],
                    "mission": extras.get("mission") or "",
                    "website": http_url(extras.get("website")),
                    "contact_email": (extras.get("contact_email") or "").strip() or None,
                }
            )
        return sorted(found, key=lambda o: (o["title"].lower(), o["name"]))

    return remembered("ecosystem", "organizations", read)


# --- what one caller sees of the programmes -----------------------------------------------------------


def _user(context: Context) -> str:
    return context.get("user") or ""


def programme_services(context: Context) -> dict[str, list[str]]:
    """Programme id -> its services, of the programmes the caller may see (one search, once per
    request and caller)."""
    user = _user(context)

    def search() -> dict[str, list[str]]:
        found = tk.get_action("package_search")(
            {"user": user, "ignore_auth": False},
            {
                "fq": "+dataset_type:" + PROGRAMME,
                "include_private": True,
                "rows": MAX_PROGRAMMES,
                "fl": "id,extras_services",
            },
        )
        # package_search gives an ``extras_*`` field of ``fl`` back without its prefix
        return {d["id"]: as_list(d.get("services")) for d in found["results"]}

    return remembered("ecosystem", ("programme services", user), search)


def reached(context: Context) -> set[tuple[str, str, str, str]]:
    """(organization id, service or :data:`ANY`, level, place) for each council district and tract
    where a programme the caller may see reported outcomes of that service that the caller may see:
    a place's total of a measure above zero that the small-cell rule would not hide from them (a
    district's total holds its tracts' rows and its own). One query, once per request and caller."""
    user = _user(context)

    def read() -> set[tuple[str, str, str, str]]:
        visible = reach.programmes(context)
        services = programme_services(context)
        if not visible:
            return set()
        query = sa.text(
            "SELECT package_id, measure, geo_level, geo_id, sum(count) FROM cd3p_outcome"
            " WHERE package_id = ANY(:ids) AND geo_level IN ('tract', 'council_district')"
            " GROUP BY package_id, measure, geo_level, geo_id"
        )
        totals: dict[tuple[str, str, str, str], float] = {}
        tracts = geography.tracts()
        for package, measure, level, code, total in model.Session.execute(
            query, {"ids": [p.id for p in visible]}
        ):
            places = [(level, code)]
            if level == "tract" and code in tracts:
                places.append(("council_district", tracts[code].district))
            for at in places:
                key = (package, measure, *at)
                totals[key] = totals.get(key, 0) + float(total or 0)
        cells = reach.cells_for(context, visible)
        by_id = {p.id: p for p in visible}
        owners = {p.id: p.owner_org for p in visible}
        found: set[tuple[str, str, str, str]] = set()
        for (package, measure_id, level, code), total in totals.items():
            p = by_id[package]
            measure = registry.MEASURES.get(measure_id)
            own = privacy.Cells(max(cells.threshold, p.threshold), raw=cells.raw)
            if (
                measure is None
                or total <= 0
                or suppression.primary({measure_id: total}, own, people=measure.people)
            ):
                continue
            owner = owners[package]
            found.add((owner, ANY, level, code))
            for service in services.get(package, []):
                if measure_id in SERVICE_MEASURES.get(service, ()):
                    found.add((owner, service, level, code))
        return found

    return remembered("ecosystem", ("reached", user), read)


def _dataset_counts(context: Context) -> dict[str, int]:
    """Organization id -> the datasets of it the caller may see (one faceted search)."""
    user = _user(context)

    def count() -> dict[str, int]:
        found = tk.get_action("package_search")(
            {"user": user, "ignore_auth": False},
            {
                "fq": "+dataset_type:dataset",
                "include_private": True,
                "rows": 0,
                "facet.field": ["owner_org"],
                "facet.limit": -1,
            },
        )
        return dict(found.get("facets", {}).get("owner_org", {}))

    return remembered("ecosystem", ("dataset counts", user), count)


def partners(context: Context) -> list[dict[str, Any]]:
    """Every active organization as the caller sees it: its fields (:func:`organizations`), its
    ``services`` (those of its programmes the caller may see, else the declared ones, with
    ``services_from`` saying which), its agreement ``standing`` and its ``dataset_count``."""
    user = _user(context)

    def build() -> list[dict[str, Any]]:
        orgs = organizations()
        services = programme_services(context)
        by_org: dict[str, set[str]] = {}
        for p in reach.programmes(context):
            by_org.setdefault(p.owner_org, set()).update(
                s for s in services.get(p.id, []) if s in registry.SERVICES
            )
        standings = ledger.standings([o["id"] for o in orgs])
        counts = _dataset_counts(context)
        order = list(registry.SERVICES)
        found = []
        for org in orgs:
            from_programmes = by_org.get(org["id"])
            standing = standings[org["id"]].as_dict()
            found.append(
                {
                    **org,
                    "services": sorted(from_programmes or org["declared_services"], key=order.index),
                    "services_from": "programmes" if from_programmes else "declared",
                    "standing": {key: standing[key] for key in STANDING},
                    "dataset_count": counts.get(org["id"], 0),
                }
            )
        return found

    return remembered("ecosystem", ("partners", user), build)


# --- who serves a place: the one rule ----------------------------------------------------------------


def serves(
    partner: dict[str, Any],
    level: str,
    code: str,
    service: str | None,
    reach_seen: set[tuple[str, str, str, str]],
) -> bool:
    """Whether a partner serves a place (a council district or a tract), for a service (None: any).

    It does when its service area holds the place's council district and it offers the service
    (its ``services``, as :func:`partners` gives them to the caller); or when one of its programmes
    the caller may see reported outcomes of the service in the place, as :func:`reached` (the
    caller's ``reach_seen``) counts them."""
    district = district_of(level, code)
    if district in partner["service_area"] and (service is None or service in partner["services"]):
        return True
    return (partner["id"], service or ANY, level, code) in reach_seen


# --- the directory, filtered -----------------------------------------------------------------------


def _matches(
    partner: dict[str, Any],
    filters: dict[str, Any],
    reach_seen: set[tuple[str, str, str, str]],
    skip: str = "",
) -> bool:
    if skip != "sector" and filters.get("sector") and partner["sector"] != filters["sector"]:
        return False
    service = filters.get("service")
    if skip != "service" and service and service not in partner["services"]:
        return False
    district = filters.get("district")
    if (
        skip != "district"
        and district
        and not serves(partner, "council_district", district, service, reach_seen)
    ):
        return False
    q = (filters.get("q") or "").lower()
    return not q or any(q in (partner[key] or "").lower() for key in ("title", "name", "mission"))


def directory(context: Context, filters: dict[str, Any]) -> dict[str, Any]:
    """What ``cd3p_partner_list`` returns (its docstring says what each key holds)."""
    every = partners(context)
    seen = reached(context)
    results = [p for p in every if _matches(p, filters, seen)]
    districts = [p.code for p in geography.council_districts()]
    facets: dict[str, dict[str, int]] = {
        "sector": {},
        "service": {s: 0 for s in registry.SERVICES},
        "district": {d: 0 for d in districts},
    }
    for p in every:
        if p["sector"] and _matches(p, filters, seen, skip="sector"):
            facets["sector"][p["sector"]] = facets["sector"].get(p["sector"], 0) + 1
        if _matches(p, filters, seen, skip="service"):
            for s in p["services"]:
                facets["service"][s] += 1
        if _matches(p, filters, seen, skip="district"):
            for d in districts:
                if serves(p, "council_district", d, filters.get("service"), seen):
                    facets["district"][d] += 1
    return {"count": len(results), "results": results, "facets": facets}


def partner(context: Context, ref: str) -> dict[str, Any]:
    """One partner as the caller sees it (:func:`partners`), by id or name.

    :raises ObjectNotFound: no active organization of that id or name
    """
    for p in partners(context):
        if ref in (p["id"], p["name"]):
            return p
    raise tk.ObjectNotFound(tk._("Organization not found: {ref}").format(ref=ref))


# --- the gaps ---------------------------------------------------------------------------------------


def place_needs(level: str, need: dict[str, float]) -> dict[str, float]:
    """Need per place of a level from the need per tract: a tract's own, a district's the sum of its
    tracts that have one (a district none of whose tracts has one is left out)."""
    if level == "tract":
        return dict(need)
    tracts = geography.tracts()
    found: dict[str, float] = {}
    for tract, count in need.items():
        if tract in tracts:
            district = tracts[tract].district
            found[district] = found.get(district, 0.0) + count
    return found


def place_name(level: str, code: str) -> str:
    try:
        return indicators.place_name(level, code)
    except KeyError:
        return code


def gaps(context: Context, service: str, level: str, limit: int = GAPS_SHOWN) -> dict[str, Any]:
    """What ``cd3p_partner_gaps`` returns (its docstring says what each key holds)."""
    measure = need_measure(service)
    if measure is None or measure.need is None:
        raise tk.ValidationError({"service": [tk._("No need count answers this service")]})
    counts, shown = reach.need(context, measure.id)
    needs = place_needs(level, counts) if counts is not None else {}
    every = partners(context)
    seen = reached(context)
    unserved = [
        {"id": code, "name": place_name(level, code), "need": need}
        for code, need in needs.items()
        if not any(serves(p, level, code, service, seen) for p in every)
    ]
    unserved.sort(key=lambda v: (-v["need"], v["name"]))
    return {
        "service": {"id": service, "title": registry.SERVICES[service].title},
        "measure": {"id": measure.id, "title": measure.title},
        "need": {
            "indicator": measure.need.indicator,
            "label": measure.need.label,
            "available": counts is not None,
            "vintage": shown.get("vintage") if shown else None,
        },
        "level": level,
        "places_with_need": len(needs),
        "unserved": len(unserved),
        "places": unserved[:limit],
    }


def place_districts(level: str, code: str) -> list[str]:
    """The council districts a place lies in: a district itself, a tract's, a neighbourhood's
    tracts'; none for the city or an unknown place."""
    if level in ("council_district", "tract"):
        found = district_of(level, code)
        return [found] if found and found in geography.codes()["council_district"] else []
    if level == "neighborhood":
        tracts = geography.tracts().values()
        return sorted({t.district for t in tracts if t.neighborhood == code and t.district})
    return []


def district_choices() -> list[tuple[str, str]]:
    return [(p.code, p.label) for p in geography.council_districts()]
