"""Programme reach against need: outcomes, coverage, unmet need, spend and cost per outcome per
place, targeting of the places in most need, and quarterly trends, from checked report rows.

Pure arithmetic: rows come from :func:`reports.check_rows`, need counts per tract and the tract's
council district and neighbourhood from the caller (the indicator registry and
``common/geography.py`` once integrated). See :data:`METHOD` for what each number means.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ckanext.cd3p.common.privacy import Cells
from ckanext.cd3p.impact import suppression
from ckanext.cd3p.impact.registry import MEASURES, Measure
from ckanext.cd3p.impact.reports import LEVELS, Row, quarter_key, quarters_between

METHOD = """\
Outcomes are the sum of the counts partners reported for the measure, place and quarters chosen. \
A row counts where it was reported: a tract's rows in the tract, its council district, its \
neighbourhood and the city; rows reported for a council district or a neighbourhood there and in \
the city, not in any tract; rows reported for a ZIP code in that ZIP code and in the city only, \
never shared out among tracts, since ZIP codes and tracts do not nest. The city total is every row.

Need is the number of households or residents the measure answers (households without a \
computer, for devices), summed over the place's tracts from the Census indicators; a place \
without a need count shows none. Coverage is outcomes per 100 in need. Unmet need is need minus \
outcomes, and never below zero. Outcomes and need come from different sources and years, and one \
person may be counted by two programmes, so coverage above 100 is possible and is not proof that \
the need is met.

Spend is the dollars partners reported on those rows; cost per outcome is spend divided by \
outcomes. Where some programmes report no cost, their outcomes still count, and the cost per \
outcome understates the true cost.

Targeting: tracts are ranked by the Digital Equity Index (higher means more need). The top fifth \
are the fifth of tracts with the highest scores (tracts tied with the last one included). Shares \
are of the outcomes and spend reported at tract level only. The concentration index orders tracts \
from highest to lowest need and is twice the area under the concentration curve (the cumulative \
share of outcomes against the cumulative share of tracts) minus one; equally, 2 x cov(outcomes, \
r) / mean(outcomes), where r is a tract's fractional rank counted from the lowest need (tied \
tracts share their mean rank). It runs from -1 to +1: positive when outcomes concentrate in the \
tracts of highest need, 0 when they are spread evenly across need, negative when they concentrate \
where need is lowest. Each tract counts once, whatever its population.

Counts of people or households from 1 to below the small-cell threshold are hidden, and so are \
other counts where a hidden one could be worked out from a total and the counts shown beside it. \
A hidden count takes with it the coverage, unmet need, spend and cost per outcome of its place, \
which would give it back.

Earnings per programme dollar is the median earnings in the second quarter after exit times the \
number employed, over the programme's reported spend: what participants reported earning, not a \
return caused by the programme, since they might have earned it without the programme."""

WHOLE = "all"  # the period key of a place's total over the chosen quarters

# The cells of a table that the public never sees directly (see suppression.suppress, ``unshown``).
_DIRECT = {
    "council_district": "council_district_direct",
    "neighborhood": "neighborhood_direct",
    "city": "city_direct",
}

Places = Mapping[str, tuple[str, str]]  # tract GEOID -> (council district, neighbourhood) codes
Crosswalk = Mapping[str, Sequence[tuple[str, float]]]  # ZIP -> [(tract GEOID, share of its counts)]


@dataclass
class _Sums:
    """What a cell of the table adds up."""

    outcomes: float = 0
    spend: float | None = None
    target: float | None = None

    def add(self, count: float, cost: float | None, target: float | None, share: float = 1.0) -> None:
        self.outcomes += count if share == 1.0 else count * share
        if cost is not None:
            self.spend = (self.spend or 0.0) + cost * share
        if target is not None:
            self.target = (self.target or 0) + (target if share == 1.0 else target * share)

    def merge(self, other: _Sums, share: float = 1.0) -> None:
        self.add(other.outcomes, other.spend, other.target, share)


def _summable(measure_id: str) -> Measure:
    m = MEASURES[measure_id]
    if not m.summable:
        raise ValueError(f"{measure_id} is a {m.kind}: it cannot be added up over places or quarters")
    return m


@dataclass(frozen=True)
class Selection:
    """What a reader chose: the quarters (both included; None: no bound) and, when given, one
    programme and one organization."""

    period_from: str | None = None
    period_to: str | None = None
    programme: str | None = None
    organization: str | None = None

    def rows(self, rows: Iterable[Row], measure_id: str) -> list[Row]:
        """The rows of one measure that the selection takes."""
        low = quarter_key(self.period_from) if self.period_from else None
        high = quarter_key(self.period_to) if self.period_to else None
        found = []
        for row in rows:
            key = quarter_key(row.period)
            if row.measure != measure_id or (low and key < low) or (high and key > high):
                continue
            if (self.programme is not None and row.programme != self.programme) or (
                self.organization is not None and row.organization != self.organization
            ):
                continue
            found.append(row)
        return found


EVERYTHING = Selection()  # every quarter, programme and organization


@dataclass
class Aggregate:
    """One measure's reported rows summed: per reported place (``(geo_level, geo_id)``), per
    quarter, and the programmes that reported no cost on any row. What :func:`aggregate` makes of
    rows, and what ``reach.sums_by_measure`` reads from ``cd3p_outcome`` with one ``GROUP BY``."""

    places: dict[tuple[str, str], _Sums]
    quarters: dict[str, _Sums]
    costless: set[str]

    def total(self) -> _Sums:
        """The sums over every quarter (and so over every place)."""
        whole = _Sums()
        for quarter in self.quarters.values():
            whole.merge(quarter)
        return whole


def aggregate(rows: Iterable[Row], measure_id: str, selection: Selection | None = None) -> Aggregate:
    """The sums of one measure's rows that a selection takes."""
    places: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    quarters: dict[str, _Sums] = defaultdict(_Sums)
    programmes: set[str] = set()
    costed: set[str] = set()
    for row in (selection or EVERYTHING).rows(rows, measure_id):
        places[(row.geo_level, row.geo_id)].add(row.count, row.cost, row.target)
        quarters[row.period].add(row.count, row.cost, row.target)
        programmes.add(row.programme)
        if row.cost is not None:
            costed.add(row.programme)
    return Aggregate(dict(places), dict(quarters), programmes - costed)


def _check_crosswalk(crosswalk: Crosswalk) -> None:
    for zip_code, parts in crosswalk.items():
        shares = [share for _, share in parts]
        if any(not 0 <= s <= 1 for s in shares) or sum(shares) > 1 + 1e-9:
            raise ValueError(f"crosswalk {zip_code}: shares must be from 0 to 1 and add up to at most 1")


# --- the table: every place at every level, and the city's quarters -------------------------------


@dataclass
class _Table:
    cells: dict[tuple[str, str, str], _Sums]
    groups: list[suppression.Group]
    unshown: set[tuple[str, str, str]]
    places: dict[str, list[str]]  # level -> codes listed
    tract_members: dict[tuple[str, str], list[str]]  # (level, code) -> its tracts

    def value(self, level: str, code: str, period: str = WHOLE) -> _Sums:
        return self.cells.get((level, code, period)) or _Sums()


def _contributions(
    geo_level: str, geo_id: str, tracts: Places, crosswalk: Crosswalk
) -> Iterable[tuple[str, str, float]]:
    """The cells (layer, code, share of the place's sums) a reported place adds to, besides the
    city."""
    if geo_level == "tract":
        yield from _tract_cells(geo_id, tracts, 1.0)
    elif geo_level in ("council_district", "neighborhood"):
        yield geo_level, geo_id, 1.0
        yield _DIRECT[geo_level], geo_id, 1.0
    elif geo_level == "zip":
        yield "zip", geo_id, 1.0
        if geo_id in crosswalk:
            placed = 0.0
            for tract, share in crosswalk[geo_id]:
                placed += share
                yield from _tract_cells(tract, tracts, share)
            if 1.0 - placed > 1e-9:
                yield "zip_unplaced", geo_id, 1.0 - placed
    elif geo_level == "city":
        yield _DIRECT["city"], "city", 1.0


def _tract_cells(tract: str, tracts: Places, share: float) -> Iterable[tuple[str, str, float]]:
    yield "tract", tract, share
    district, neighborhood = tracts.get(tract, ("", ""))
    if district:
        yield "council_district", district, share
    if neighborhood:
        yield "neighborhood", neighborhood, share


def _build(sums: Aggregate, tracts: Places, crosswalk: Crosswalk, quarters: list[str]) -> _Table:
    cells: dict[tuple[str, str, str], _Sums] = defaultdict(_Sums)
    for (geo_level, geo_id), place in sums.places.items():
        for layer, code, share in _contributions(geo_level, geo_id, tracts, crosswalk):
            cells[(layer, code, WHOLE)].merge(place, share)
        cells[("city", "city", WHOLE)].merge(place)
    for quarter, total in sums.quarters.items():
        cells[("city", "city", quarter)].merge(total)

    def codes(layer: str) -> list[str]:
        return sorted({c for (lay, c, _) in cells if lay == layer})

    places = {
        "tract": sorted(set(tracts) | set(codes("tract"))),
        "council_district": sorted({d for d, _ in tracts.values() if d} | set(codes("council_district"))),
        "neighborhood": sorted({n for _, n in tracts.values() if n} | set(codes("neighborhood"))),
        "zip": codes("zip"),
        "city": ["city"],
    }
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for tract in places["tract"]:
        district, neighborhood = tracts.get(tract, ("", ""))
        members[("council_district", district)].append(tract)
        members[("neighborhood", neighborhood)].append(tract)
        members[("city", "city")].append(tract)
    table = _Table(dict(cells), [], set(), places, dict(members))
    table.groups, table.unshown = _groups(table, crosswalk, quarters)
    for group in table.groups:
        for key in group.cells():
            table.cells.setdefault(key, _Sums())  # type: ignore[arg-type]
    return table


def _groups(
    table: _Table, crosswalk: Crosswalk, quarters: list[str]
) -> tuple[list[suppression.Group], set[tuple[str, str, str]]]:
    """Every total shown beside its parts, and the parts the public does not see directly.

    A district is its tracts plus the rows reported for the district as a whole; likewise a
    neighbourhood. The city is the sum of the places of each level plus whatever lies in none of
    them: tracts outside every place of the level, the rows reported at the other levels, ZIP rows
    (when no crosswalk shares them out) and the city's own rows. The city's total is also the sum of
    its quarters.
    """

    def key(layer: str, code: str, period: str = WHOLE) -> tuple[str, str, str]:
        return (layer, code, period)

    places, members = table.places, table.tract_members
    areas = ("council_district", "neighborhood")
    direct = {level: [key(_DIRECT[level], c) for c in places[level]] for level in areas}
    unplaced = {level: [key("tract", t) for t in members.get((level, ""), [])] for level in areas}
    city_rows = key(_DIRECT["city"], "city")
    outside = [city_rows, *(key("zip_unplaced" if z in crosswalk else "zip", z) for z in places["zip"])]
    groups = []
    for level in areas:
        for code, remainder in zip(places[level], direct[level], strict=True):
            inside = [key("tract", t) for t in members.get((level, code), [])]
            groups.append(suppression.Group(key(level, code), (*inside, remainder)))
    city = key("city", "city")
    for level in ("tract", *areas):
        parts = [key(level, code) for code in places[level]]
        parts += unplaced.get(level, [])
        parts += [cell for other in areas if other != level for cell in direct[other]]
        groups.append(suppression.Group(city, (*parts, *outside)))
    if quarters:
        groups.append(suppression.Group(city, tuple(key("city", "city", q) for q in quarters)))
    unshown = {*direct["council_district"], *direct["neighborhood"], city_rows}
    unshown.update(key("zip_unplaced", z) for z in places["zip"] if z in crosswalk)
    return groups, unshown


# --- entries --------------------------------------------------------------------------------------


def _need(table: _Table, level: str, code: str, need: Mapping[str, float] | None) -> float | None:
    """The need of a place: the sum over its tracts that have a need count (None: none has). ZIP
    codes have none: they do not nest in tracts."""
    if need is None or level == "zip":
        return None
    tracts = [code] if level == "tract" else table.tract_members.get((level, code), [])
    known = [need[t] for t in tracts if t in need and need[t] is not None and math.isfinite(need[t])]
    return float(sum(known)) if known else None


def cost_per_outcome(spend: float | None, outcomes: float | None) -> float | None:
    """Spend divided by outcomes; None without a reported spend or without outcomes."""
    return spend / outcomes if spend is not None and outcomes else None


def _entry(code: str, name: str | None, sums: _Sums, need_count: float | None) -> dict[str, Any]:
    outcomes = sums.outcomes
    return {
        "id": code,
        "name": name,
        "outcomes": outcomes,
        "need": need_count,
        "coverage": outcomes / need_count * 100 if need_count else None,
        "unmet": max(need_count - outcomes, 0) if need_count is not None else None,
        "spend": sums.spend,
        "cost_per_outcome": cost_per_outcome(sums.spend, outcomes),
        "suppressed": False,
    }


def _trend_entry(quarter: str, sums: _Sums) -> dict[str, Any]:
    outcomes = sums.outcomes
    return {
        "period": quarter,
        "outcomes": outcomes,
        "target": sums.target,
        "spend": sums.spend,
        "cost_per_outcome": cost_per_outcome(sums.spend, outcomes),
        "suppressed": False,
    }


def _quarters(reported: Iterable[str], period_from: str | None, period_to: str | None) -> list[str]:
    keys = sorted(quarter_key(q) for q in reported)
    if not keys and not (period_from and period_to):
        return []
    first = period_from or "{}-Q{}".format(*keys[0])
    last = period_to or "{}-Q{}".format(*keys[-1])
    return quarters_between(first, last)


def impact(
    rows: Iterable[Row] | Aggregate,
    measure_id: str,
    level: str,
    tracts: Places,
    need: Mapping[str, float] | None = None,
    *,
    selection: Selection = EVERYTHING,
    crosswalk: Crosswalk | None = None,
    names: Mapping[str, str] | None = None,
    cells: Cells = suppression.PUBLIC,
) -> dict[str, Any]:
    """Outcomes against need for every place of a level, the city, and the city's quarterly trend.

    ``need`` is the measure's need count per tract (:meth:`registry.Need.count_from`); ``tracts``
    each tract's council district and neighbourhood codes; ``crosswalk``, if given, shares ZIP-level
    counts out among tracts (none ships: by default ZIP rows count in their ZIP and the city only).

    Every level and the quarters are computed and suppressed together, so that the tract, district
    and city figures of one selection never give away each other's hidden cells. ``values`` and
    ``city`` hold ``id``, ``name``, ``outcomes``, ``need``, ``coverage``, ``unmet``, ``spend``,
    ``cost_per_outcome``, ``suppressed``; ``trend`` one entry per quarter (``period``,
    ``outcomes``, ``target``, ``spend``, ``cost_per_outcome``, ``suppressed``).

    ``rows`` are a measure's rows, or their :class:`Aggregate` when summed already (then the
    selection's programme and organization were applied by whoever summed them, and its quarters
    only name the first and last of the trend).

    The suppression protects this one selection. Another range of quarters, or one programme
    against all, could be subtracted from it: offer the public fixed choices (whole programme years,
    all programmes) and keep free ranges and programme filters to callers who read raw rows.
    """
    m = _summable(measure_id)
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    crosswalk = crosswalk or {}
    _check_crosswalk(crosswalk)
    sums = rows if isinstance(rows, Aggregate) else aggregate(rows, measure_id, selection)
    quarters = _quarters(sums.quarters, selection.period_from, selection.period_to)
    table = _build(sums, tracts, crosswalk, quarters)
    values = {k: s.outcomes for k, s in table.cells.items()}
    hidden = suppression.suppress(values, table.groups, cells, people=m.people, unshown=table.unshown)
    names = names or {}

    def place(at: str, code: str) -> dict[str, Any]:
        entry = _entry(code, names.get(code), table.value(at, code), _need(table, at, code, need))
        return suppression.blank(entry, (at, code, WHOLE) in hidden)

    return {
        "measure": measure_id,
        "level": level,
        "period_from": quarters[0] if quarters else selection.period_from,
        "period_to": quarters[-1] if quarters else selection.period_to,
        "values": [place(level, code) for code in table.places[level]],
        "city": place("city", "city"),
        "trend": [
            suppression.blank(_trend_entry(q, table.value("city", "city", q)), ("city", "city", q) in hidden)
            for q in quarters
        ],
        "programmes_without_cost": sorted(sums.costless),
        "small_cell_threshold": cells.threshold,
    }


# --- targeting ------------------------------------------------------------------------------------


def top_fifth(index: Mapping[str, float]) -> set[str]:
    """The fifth of tracts with the highest scores (rounded up), with every tract tied with the
    last of them."""
    scores = sorted(index.values(), reverse=True)
    if not scores:
        return set()
    cut = scores[math.ceil(len(scores) / 5) - 1]
    return {tract for tract, score in index.items() if score >= cut}


def fractional_ranks(index: Mapping[str, float]) -> dict[str, float]:
    """Each tract's fractional rank, counted from the lowest score: (position - 0.5) / n, tied
    tracts sharing the mean of theirs."""
    ordered = sorted(index, key=lambda t: index[t])
    n = len(ordered)
    ranks: dict[str, float] = {}
    start = 0
    while start < n:
        end = start
        while end + 1 < n and index[ordered[end + 1]] == index[ordered[start]]:
            end += 1
        mean = ((start + 0.5) + (end + 0.5)) / 2 / n
        for tract in ordered[start : end + 1]:
            ranks[tract] = mean
        start = end + 1
    return ranks


def concentration_index(outcomes: Mapping[str, float], index: Mapping[str, float]) -> float | None:
    """The concentration index of outcomes over the tracts of ``index`` ranked by need (a tract
    missing from ``outcomes`` has none): 2 x cov(outcome, r) / mean(outcome), r counted from the
    lowest need, so that it is positive when outcomes concentrate where need is highest (see
    :data:`METHOD`). None without tracts or outcomes."""
    ranks = fractional_ranks(index)
    n = len(ranks)
    total = sum(outcomes.get(t, 0) for t in ranks)
    if not n or total <= 0:
        return None
    mean = total / n
    return 2 / (n * mean) * sum(outcomes.get(t, 0) * r for t, r in ranks.items()) - 1


def targeting(
    rows: Iterable[Row] | Aggregate,
    measure_id: str,
    index: Mapping[str, float],
    *,
    need: Mapping[str, float] | None = None,
    selection: Selection = EVERYTHING,
    cells: Cells = suppression.PUBLIC,
) -> dict[str, Any]:
    """How well outcomes and spend reach the tracts in most need by ``index`` (the Digital Equity
    Index per tract: higher, more need). Only rows reported at tract level count; those of tracts
    without a score are left out and counted in ``unscored_outcomes``.

    ``top_fifth_outcome_share`` and ``top_fifth_spend_share`` are the shares (0-1) reaching the
    top fifth (:func:`top_fifth`); ``top_fifth_need_share`` the top fifth's share of ``need``, when
    given, to read them against; ``concentration_index`` see :func:`concentration_index`. All are
    None when the tracts' outcomes are a small count the public may not see.
    """
    m = _summable(measure_id)
    scores = {t: s for t, s in index.items() if isinstance(s, int | float) and math.isfinite(s)}
    sums = rows if isinstance(rows, Aggregate) else aggregate(rows, measure_id, selection)
    outcomes: dict[str, float] = defaultdict(float)
    spend: dict[str, float] = defaultdict(float)
    unscored = 0.0
    for (geo_level, geo_id), place in sums.places.items():
        if geo_level != "tract":
            continue
        if geo_id not in scores:
            unscored += place.outcomes
            continue
        outcomes[geo_id] += place.outcomes
        if place.spend is not None:
            spend[geo_id] += place.spend
    top = top_fifth(scores)

    def share(values: Mapping[str, float]) -> float | None:
        total = sum(values.get(t, 0) for t in scores)
        return sum(values.get(t, 0) for t in top) / total if total else None

    total = sum(outcomes.values())
    hidden = bool(suppression.primary({"all": total}, cells, people=m.people))
    need_in = {t: v for t, v in (need or {}).items() if t in scores and v is not None}
    return {
        "measure": measure_id,
        "tracts": len(scores),
        "top_fifth_tracts": len(top),
        "outcomes": None if hidden else total,
        "top_fifth_outcome_share": None if hidden else share(outcomes),
        "top_fifth_spend_share": None if hidden or not spend else share(spend),
        "top_fifth_need_share": share(need_in) if need_in else None,
        "concentration_index": None if hidden else concentration_index(outcomes, scores),
        "unscored_outcomes": unscored,
        "suppressed": hidden,
    }


# --- earnings -------------------------------------------------------------------------------------


def reported_earnings_per_dollar(
    rows: Iterable[Row],
    *,
    selection: Selection = EVERYTHING,
    cells: Cells = suppression.PUBLIC,
) -> dict[str, Any] | None:
    """Reported earnings per programme dollar: the median earnings in the second quarter after exit
    times the number employed then, over the spend reported on those employment rows.

    This is not a causal return on the programme. The participants might have earned as much
    without it; earnings are measured after exit and costs whenever they were spent; and median x
    count is only an approximation of total earnings (a median is not a mean).

    A pair counts when the same programme, period and place report both ``median_earnings_q2`` and
    its ``employed_q2_after_exit`` count, and the count's row reports a cost. None when no pair
    does. ``earnings`` and ``per_dollar`` are hidden when fewer people than the threshold stand
    behind them.
    """
    median = MEASURES["median_earnings_q2"]
    wanted = {median.id, median.of}
    found: dict[tuple[Any, ...], dict[str, Row]] = defaultdict(dict)
    for measure_id in wanted:
        for row in selection.rows(rows, measure_id):
            key = (row.programme, row.organization, row.period, row.month, row.geo_level, row.geo_id)
            found[key][measure_id] = row
    earnings = spend = people = 0.0
    pairs = 0
    for pair in found.values():
        count_row, median_row = pair.get(median.of), pair.get(median.id)
        if count_row is None or median_row is None or count_row.cost is None:
            continue
        pairs += 1
        earnings += median_row.count * count_row.count
        spend += count_row.cost
        people += count_row.count
    if not pairs:
        return None
    hidden = bool(suppression.primary({"all": people}, cells))
    return {
        "people": None if hidden else people,
        "earnings": None if hidden else earnings,
        "spend": spend,
        "per_dollar": None if hidden or not spend else earnings / spend,
        "pairs": pairs,
        "suppressed": hidden,
        "note": "Reported earnings after exit per dollar spent: not a return caused by the programme.",
    }
