"""Reach against need for one caller: the programmes they may see, their outcome rows summed by
PostgreSQL, the need and the Digital Equity Index read through the indicator actions in their name,
then :mod:`computation`'s arithmetic and suppression, cached like the indicators.

Who sees what:

- the programmes are those ``package_search`` returns to the caller (a partner-tier or
  organization-only programme counts only for those who may read it);
- raw counts only when the caller reads every programme counted raw (``privacy.sees_raw``: the
  partner tier, sysadmins, the programme's own organization); otherwise the highest small-cell
  threshold of the programmes counted applies, with secondary suppression;
- a caller who does not read raw counts gets sub-city levels only for the one public selection
  (every quarter, every programme they may see): another range of quarters or one programme could
  be subtracted from it, cell by cell, giving back what it hides (see :func:`refusal`). At city
  level every selection is open: a city total is not a small area.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p.common import geography, privacy
from ckanext.cd3p.common.memo import remembered
from ckanext.cd3p.impact import computation, registry, suppression
from ckanext.cd3p.impact.computation import Aggregate, Selection, _Sums
from ckanext.cd3p.impact.outcomes import CACHE_KEY, PROGRAMME, quarter_index
from ckanext.cd3p.indicators import cache
from ckanext.cd3p.indicators import computation as indicators
from ckanext.cd3p.indicators import registry as indicator_registry

MAX_PROGRAMMES = 1000  # programmes one reading counts; beyond, the portal needs a summary table


@dataclass(frozen=True)
class Programme:
    id: str
    name: str
    title: str
    owner_org: str
    organization: str  # the organization's name
    threshold: int
    illustrative: bool
    access_level: str


def programmes(context: Context) -> list[Programme]:
    """The programmes the caller may see, by ``package_search`` in their name (once per request)."""
    user = context.get("user") or ""

    def search() -> list[Programme]:
        found = tk.get_action("package_search")(
            {"user": user, "ignore_auth": False},
            {
                "fq": "+dataset_type:" + PROGRAMME,
                "include_private": True,
                "rows": MAX_PROGRAMMES,
                "sort": "name asc",
                "fl": "id,name,title,owner_org,organization,extras_small_cell_threshold,"
                "extras_illustrative,extras_access_level",
            },
        )
        # The index does not store ``owner_org`` (CKAN's schema leaves it to the unstored ``*``
        # field): the organizations' ids come from their names, in one query.
        names = {d.get("organization") for d in found["results"] if d.get("organization")}
        ids = dict(
            model.Session.query(model.Group.name, model.Group.id).filter(model.Group.name.in_(names))
            if names
            else []
        )
        return [
            Programme(
                id=d["id"],
                name=d["name"],
                title=d.get("title") or d["name"],
                owner_org=ids.get(d.get("organization") or "", ""),
                organization=d.get("organization") or "",
                # package_search gives an ``extras_*`` field of ``fl`` back without its prefix
                threshold=privacy.threshold({"small_cell_threshold": d.get("small_cell_threshold")}),
                illustrative=d.get("illustrative") == "yes",
                access_level=d.get("access_level") or "public",
            )
            for d in found["results"]
        ]

    return remembered("impact", ("programmes", user), search)


def _reads_raw(context: Context, owner_org: str) -> bool:
    """Whether the caller reads an organization's programmes raw (``privacy.sees_raw``), once per
    request and organization: a page counts a hundred programmes of a few partners, several times."""
    key = ("raw", context.get("user") or "", bool(context.get("ignore_auth")), owner_org)
    return remembered("impact", key, lambda: privacy.sees_raw(context, {"owner_org": owner_org}))


def cells_for(context: Context, counted: Sequence[Programme]) -> privacy.Cells:
    """How the caller sees the counted programmes' small cells: raw only if raw for each of them;
    otherwise the highest of their thresholds (the default's when none is counted)."""
    raw = all(_reads_raw(context, org) for org in {p.owner_org for p in counted})
    threshold = max((p.threshold for p in counted), default=privacy.DEFAULT_THRESHOLD)
    return privacy.Cells(threshold, raw=raw)


def chosen(every: Sequence[Programme], selection: Selection) -> list[Programme]:
    """The programmes a selection counts. ``programme`` is a name, ``organization`` a name or id."""
    found = list(every)
    if selection.programme is not None:
        found = [p for p in found if selection.programme in (p.name, p.id)]
    if selection.organization is not None:
        found = [p for p in found if selection.organization in (p.organization, p.owner_org)]
    return found


def refusal(selection: Selection, level: str, cells: privacy.Cells) -> str | None:
    """Why the caller may not have this selection at this level, or None (see the module)."""
    if cells.raw or level == "city" or selection == computation.EVERYTHING:
        return None
    return tk._(
        "Counts for a range of quarters, one programme or one organization are shown below city "
        "level only to partners: subtracted from the totals for every quarter and programme, they "
        "would give back the small counts those hide. Choose the city level, or every quarter and "
        "programme."
    )


# --- the sums, in SQL ---------------------------------------------------------------------------

# Targets are whole numbers: their sum, a numeric to PostgreSQL, comes back as one (not a Decimal,
# which the cache would store as text).
_TARGET = "CAST(sum(target) AS bigint)"
_SUMMARY_WORK_MEM = "64MB"  # a constant, never input


def _where(
    ids: Sequence[str], selection: Selection, measures: Sequence[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of the rows counted (fixed text; every value a bound parameter)."""
    clauses = ["package_id = ANY(:ids)"]
    params: dict[str, Any] = {"ids": list(ids)}
    if measures is not None:
        clauses.append("measure = ANY(:measures)")
        params["measures"] = list(measures)
    if selection.period_from:
        clauses.append("quarter_index >= :low")
        params["low"] = quarter_index(selection.period_from)
    if selection.period_to:
        clauses.append("quarter_index <= :high")
        params["high"] = quarter_index(selection.period_to)
    return " AND ".join(clauses), params


def sums(measure: str, counted: Sequence[Programme], selection: Selection) -> Aggregate:
    """One measure's outcome rows of the counted programmes, summed per reported place, per
    quarter and per programme (:func:`sums_by_measure`)."""
    return sums_by_measure([measure], counted, selection).get(measure) or Aggregate({}, {}, set())


def sums_by_measure(
    measures: Sequence[str], counted: Sequence[Programme], selection: Selection
) -> dict[str, Aggregate]:
    """Each measure's outcome rows of the counted programmes, summed per reported place, per
    quarter and per programme, in one ``GROUP BY GROUPING SETS``; a measure without rows is left
    out."""
    if not counted or not measures:
        return {}
    where, params = _where([p.id for p in counted], selection, measures)
    # One measure (the usual reading) is not grouped by: with it in every grouping set, PostgreSQL
    # expects tens of thousands of groups and sorts on disk (measured: 290 ms against 65 ms on a
    # million rows, benchmarks/bench_impact.py).
    several = len(measures) > 1
    if not several:
        params["only"] = measures[0]
    by = "measure, " if several else ""
    query = sa.text(
        f"SELECT {'measure' if several else 'CAST(:only AS text)'},"
        " GROUPING(geo_level, geo_id, quarter, package_id) AS g, geo_level, geo_id,"
        f" quarter, package_id, sum(count), sum(cost), {_TARGET}, count(cost)"
        f" FROM cd3p_outcome WHERE {where}"  # fixed clauses; every value is bound
        f" GROUP BY GROUPING SETS (({by}geo_level, geo_id), ({by}quarter), ({by}package_id))"
    )
    names = {p.id: p.name for p in counted}
    found: dict[str, Aggregate] = {}
    if several:
        # Every measure at once (the impact page's summary): about ten times the groups, which the
        # default work_mem (4 MB) sorts on disk: 1.9 s on a million rows against 0.4 s in memory
        # (benchmarks/bench_impact.py). For this transaction only.
        model.Session.execute(sa.text(f"SET LOCAL work_mem = '{_SUMMARY_WORK_MEM}'"))
    for measure, g, level, code, quarter, package, count, cost, target, costs in model.Session.execute(
        query, params
    ):
        summed = found.setdefault(measure, Aggregate({}, {}, set()))
        if g == 0b0011:  # grouped by (geo_level, geo_id)
            summed.places[(level, code)] = _Sums(count, cost, target)
        elif g == 0b1101:  # by quarter
            summed.quarters[quarter] = _Sums(count, cost, target)
        elif not costs:  # by programme, which reported no cost
            summed.costless.add(names.get(package, package))
    return found


def programme_totals(counted: Sequence[Programme], selection: Selection) -> dict[tuple[str, str, str], _Sums]:
    """(programme id, measure, quarter or ``all``) -> sums over every place, for cost per outcome
    and target against actual per programme; one query, cached until a report loads (a scan of
    every counted row: 450 ms on a million)."""
    if not counted:
        return {}

    def fetch() -> list[list[Any]]:
        where, params = _where([p.id for p in counted], selection)
        query = sa.text(
            f"SELECT package_id, measure, GROUPING(quarter) AS g, quarter, sum(count), sum(cost), {_TARGET}"
            f" FROM cd3p_outcome WHERE {where}"  # fixed clauses; every value is bound
            " GROUP BY GROUPING SETS ((package_id, measure, quarter), (package_id, measure))"
        )
        return [
            [package, measure, computation.WHOLE if g else quarter, count, cost, target]
            for package, measure, g, quarter, count, cost, target in model.Session.execute(query, params)
        ]

    parts = ["programme totals", sorted(p.id for p in counted), asdict(selection)]
    rows = cache.cached("impact", parts, [CACHE_KEY], fetch)
    return {(package, measure, quarter): _Sums(*sums) for package, measure, quarter, *sums in rows}


def earning_pairs(counted: Sequence[Programme], selection: Selection) -> list[computation.Row]:
    """The employment counts and medians of the counted programmes, as rows for
    :func:`computation.reported_earnings_per_dollar` (a few per programme and quarter)."""
    if not counted:
        return []
    median = registry.MEASURES["median_earnings_q2"]
    where, params = _where([p.id for p in counted], selection, [median.of, median.id])
    query = sa.text(
        "SELECT resource_id, quarter, month, geo_level, geo_id, measure, count, cost"
        f" FROM cd3p_outcome WHERE {where}"  # fixed clauses; every value is bound
    )
    return [
        computation.Row(0, quarter, level, code, measure, count, cost, None, month, programme=resource)
        for resource, quarter, month, level, code, measure, count, cost in model.Session.execute(
            query, params
        )
    ]


# --- need and the index, through the indicator actions --------------------------------------------


def _tract_values(context: Context, indicator_id: str) -> dict[str, Any] | None:
    """``cd3p_indicator_show`` at tract level in the caller's name, once per request (a page reads
    every measure); None when they may not read it."""
    user = context.get("user") or ""

    def show() -> dict[str, Any] | None:
        try:
            return tk.get_action("cd3p_indicator_show")(
                {"user": user}, {"id": indicator_id, "level": "tract"}
            )
        except (tk.NotAuthorized, tk.ObjectNotFound):
            return None

    return remembered("impact", ("tract values", user, indicator_id), show)


def need(context: Context, measure_id: str) -> tuple[dict[str, float] | None, dict[str, Any] | None]:
    """The measure's need count per tract (None where the indicator has no value for the caller)
    and the indicator it comes from; (None, None) for a measure without a need count."""
    m = registry.MEASURES[measure_id]
    if m.need is None:
        return None, None
    need_of = m.need
    shown = _tract_values(context, need_of.indicator)
    if shown is None:
        return None, None

    def count() -> dict[str, float]:
        counts = {}
        for v in shown["values"]:
            found = need_of.count_from(v.get("numerator"), v.get("denominator"))
            if found is not None and math.isfinite(found):
                counts[v["id"]] = found
        return counts

    user = context.get("user") or ""
    return remembered("impact", ("need", user, need_of.indicator, need_of.count), count), shown


def equity_index(context: Context) -> tuple[dict[str, float], dict[str, Any] | None]:
    """The Digital Equity Index per tract, as the caller may read it."""
    reg = indicator_registry.registry()
    if reg.index is None:
        return {}, None
    shown = _tract_values(context, reg.index.id)
    if shown is None:
        return {}, None

    def scores() -> dict[str, float]:
        return {v["id"]: v["value"] for v in shown["values"] if isinstance(v.get("value"), int | float)}

    return remembered("impact", ("index", context.get("user") or ""), scores), shown


def _resource_ids(*shown: dict[str, Any] | None) -> list[str]:
    return [s["resource_id"] for item in shown if item for s in item.get("sources", [])]


# --- the reading ----------------------------------------------------------------------------------


def _places() -> dict[str, tuple[str, str]]:
    return {t.geoid: (t.district, t.neighborhood) for t in geography.tracts().values()}


def _names(level: str, codes: Iterable[str]) -> dict[str, str]:
    if level == "zip":
        return {c: f"ZIP {c}" for c in codes}
    found = {}
    for code in codes:
        try:
            found[code] = indicators.place_name(level, code)
        except KeyError:
            found[code] = code
    return found


def show(context: Context, measure_id: str, level: str, selection: Selection) -> dict[str, Any]:
    """What ``cd3p_impact_show`` returns (its docstring says what each key holds).

    :raises NotAuthorized: a selection below city level the caller may not have (:func:`refusal`)
    """
    every = programmes(context)
    counted = chosen(every, selection)
    cells = cells_for(context, counted)
    why = refusal(selection, level, cells)
    if why:
        raise tk.NotAuthorized(why)
    need_counts, need_shown = need(context, measure_id)
    index, index_shown = equity_index(context)
    m = registry.MEASURES[measure_id]
    parts = [measure_id, level, asdict(selection), sorted(p.id for p in counted), asdict(cells)]

    def fetch() -> dict[str, Any]:
        summed = sums(measure_id, counted, selection)
        result = computation.impact(
            summed, measure_id, level, _places(), need_counts, selection=selection, cells=cells
        )
        names = _names(level, [v["id"] for v in result["values"]])
        for value in result["values"]:
            value["name"] = names.get(value["id"], value["id"])
        result["city"]["name"] = "City of Detroit"
        result["targeting"] = computation.targeting(
            summed, measure_id, index, need=need_counts, selection=selection, cells=cells
        )
        return result

    result = cache.cached("impact", parts, [CACHE_KEY, *_resource_ids(need_shown, index_shown)], fetch)
    return {
        **result,
        "measure": {"id": m.id, "title": m.title, "unit": m.unit, "people": m.people},
        "need": None
        if m.need is None
        else {
            "indicator": m.need.indicator,
            "label": m.need.label,
            "note": m.need_note,
            "available": need_counts is not None,
            "vintage": need_shown["vintage"] if need_shown else None,
        },
        "programmes": [programme_out(p) for p in counted],
        "illustrative": any(p.illustrative for p in counted),
        "raw": cells.raw,
        "method": computation.METHOD,
        "zip_note": tk._(
            "Rows reported by ZIP code count in their ZIP code and in the city total only: no "
            "crosswalk from ZIP codes to tracts is configured."
        ),
    }


# --- every measure, citywide ----------------------------------------------------------------------


def _city(
    measure_id: str, summed: Aggregate | None, selection: Selection, cells: privacy.Cells
) -> dict[str, Any]:
    """One measure's city total and quarters, suppressed exactly as ``cd3p_impact_show`` suppresses
    them at city level (the need plays no part in what is hidden)."""
    found = computation.impact(
        summed or Aggregate({}, {}, set()), measure_id, "city", _places(), selection=selection, cells=cells
    )
    return {"city": {**found["city"], "name": "City of Detroit"}, "trend": found["trend"]}


def summary(context: Context, selection: Selection, measure_id: str | None = None) -> dict[str, Any]:
    """What ``cd3p_impact_summary`` returns (its docstring says what each key holds): every count
    measure citywide from one query, and, for ``measure_id``, each partner organization's total."""
    counted = chosen(programmes(context), selection)
    cells = cells_for(context, counted)
    counts = [m for m in registry.MEASURES.values() if m.summable]
    # Each partner's total is its own selection, seen as the caller sees that partner's programmes
    # (a member reads their own organization's raw): part of what the cache is keyed on.
    partners = {}
    if measure_id is not None:
        for org in sorted({p.organization for p in counted}):
            own = dataclasses.replace(selection, organization=org)
            theirs = chosen(counted, own)
            partners[org] = (own, theirs, cells_for(context, theirs))
    parts = [
        "summary",
        measure_id,
        asdict(selection),
        sorted(p.id for p in counted),
        asdict(cells),
        [(org, asdict(seen)) for org, (_own, _theirs, seen) in partners.items()],
    ]

    def fetch() -> dict[str, Any]:
        summed = sums_by_measure([m.id for m in counts], counted, selection)
        measures = [
            {
                "measure": {"id": m.id, "title": m.title, "unit": m.unit},
                **_city(m.id, summed.get(m.id), selection, cells),
            }
            for m in counts
        ]
        organizations = [
            {**_city(measure_id, sums(measure_id, theirs, own), own, seen)["city"], "id": org, "name": org}
            for org, (own, theirs, seen) in partners.items()
            if measure_id is not None
        ]
        return {"measures": measures, "organizations": organizations}

    result = cache.cached("impact", parts, [CACHE_KEY], fetch)
    return {
        **result,
        "programmes": [programme_out(p) for p in counted],
        "illustrative": any(p.illustrative for p in counted),
        "raw": cells.raw,
        "small_cell_threshold": cells.threshold,
    }


# --- one place ------------------------------------------------------------------------------------

# The levels a place page exists for (``/equity/place/<level>/<id>``).
PLACE_LEVELS = ("tract", "council_district", "neighborhood", "city")


def place_tracts(level: str, code: str) -> list[str] | None:
    """The tracts of a place (every tract for the city); None when there is no such place."""
    tracts = geography.tracts()
    if level == "city":
        return sorted(tracts) if code == geography.WHOLE_CITY else None
    if level == "tract":
        return [code] if code in tracts else None
    if code not in geography.codes().get(level, ()):
        return None
    return sorted(t for t, tract in tracts.items() if code in (tract.district, tract.neighborhood))


def serving(
    counted: Sequence[Programme], level: str, code: str, tracts: Sequence[str]
) -> dict[str, dict[str, float]]:
    """programme id -> measure -> outcomes the programme reported in the place (its tracts' rows
    and the rows reported for the place itself; for the city, every row); one query."""
    if not counted:
        return {}
    params: dict[str, Any] = {
        "ids": [p.id for p in counted],
        "tracts": list(tracts),
        "level": level,
        "code": code,
    }
    inside = (
        "TRUE"
        if level == "city"
        else "(geo_level = 'tract' AND geo_id = ANY(:tracts))"
        + (" OR (geo_level = :level AND geo_id = :code)")
    )
    query = sa.text(
        "SELECT package_id, measure, sum(count) FROM cd3p_outcome"
        f" WHERE package_id = ANY(:ids) AND ({inside})"  # fixed text; every value is bound
        " GROUP BY package_id, measure"
    )
    found: dict[str, dict[str, float]] = {}
    for package, measure, total in model.Session.execute(query, params):
        found.setdefault(package, {})[measure] = total
    return found


def place(context: Context, level: str, code: str) -> dict[str, Any]:
    """What ``cd3p_impact_place_show`` returns (its docstring says what each key holds).

    :raises ObjectNotFound: no such place
    """
    tracts = place_tracts(level, code)
    if tracts is None:
        raise tk.ObjectNotFound(tk._("No such place"))
    counted = programmes(context)
    measures = []
    for m in registry.MEASURES.values():
        if not m.summable:
            continue
        shown = show(context, m.id, level, computation.EVERYTHING)
        entry = (
            shown["city"] if level == "city" else next((v for v in shown["values"] if v["id"] == code), None)
        )
        if entry is None or not (shown["city"]["outcomes"] or shown["city"]["suppressed"]):
            continue  # nothing reported anywhere, or here (a neighbourhood without a tract)
        measures.append(
            {"measure": shown["measure"], "need": shown["need"], "place": entry, "city": shown["city"]}
        )
    # A programme is named as serving the place where the caller could see one of its counts
    # there: raw, or a count that the small-cell rule would not hide (naming a programme with
    # 3 people served here would say that a hidden cell holds at least one).
    cells = cells_for(context, counted)
    served = []
    reported = serving(counted, level, code, tracts)
    for p in counted:
        found = reported.get(p.id, {})
        own = privacy.Cells(max(cells.threshold, p.threshold), raw=cells.raw)
        shown_measures = [
            m_id
            for m_id, total in sorted(found.items())
            if total > 0
            and not suppression.primary({m_id: total}, own, people=registry.MEASURES[m_id].people)
        ]
        if shown_measures:
            served.append({**programme_out(p), "measures": shown_measures})
    return {
        "level": level,
        "id": code,
        "name": "City of Detroit" if level == "city" else _names(level, [code])[code],
        "measures": measures,
        "programmes": served,
        "illustrative": any(p["illustrative"] for p in served),
        "raw": cells.raw,
        "small_cell_threshold": cells.threshold,
    }


def programme_out(p: Programme) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "title": p.title,
        "organization": p.organization,
        "illustrative": p.illustrative,
        "access_level": p.access_level,
    }
