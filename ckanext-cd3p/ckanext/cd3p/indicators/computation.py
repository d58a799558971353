"""Digital-equity indicators computed from the DataStore.

The registry says which DataStore columns make each indicator: the shipped ``indicators.yaml`` plus
the partner datasets sysadmins register as sources (table ``cd3p_indicator_source``). Values are
read with ``datastore_search`` in the caller's name, one call per source table, filtered to
Detroit's tracts, so the DataStore's access rules apply (a partner-tier source is refused to the
public). Aggregates for council districts, neighbourhoods and the city are sums of numerators over
sums of denominators (e.g. households x share), never averages of percentages; tracts are assigned
to places by their interior points (:func:`ckanext.cd3p.common.geography.tracts`).

Missing values stay missing ("no data", never zero) and are left out of aggregates, which report how
many tracts had data. A value whose denominator is below the source dataset's small-cell threshold is
suppressed for callers outside the partner tier.

Margins of error (90 %, as the ACS publishes them) are propagated when an indicator names its MOE
column, with the Census Bureau's approximations (ACS General Handbook 2020, ch. 8): a sum's MOE is
the root of the summed squares; a product's is sqrt(X² MOE_Y² + Y² MOE_X²); a proportion p = X/Y
has MOE sqrt(MOE_X² - p² MOE_Y²) / Y, or the ratio formula sqrt(MOE_X² + p² MOE_Y²) / Y when the
term under the root is negative. Weighted means of amounts treat the weights as exact.

Caching, in Redis, keyed by the version of every source table involved (bumped when a table
changes, see :func:`cache.invalidate`): the rows read from a table, and each computed result per
indicator, level and tier; the web process also keeps its last results decoded under the same keys.
Access is checked on every call before any cache is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p.common import geography, privacy
from ckanext.cd3p.common.memo import request_memo
from ckanext.cd3p.indicators import cache, registry
from ckanext.cd3p.resilience.index import SearchUnavailable

log = logging.getLogger(__name__)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- source tables, read in the caller's name ----------------------------------------------------


def _lookup(context: Context, sources: Iterable[registry.Source]) -> dict[str, Any]:
    """Each source's (dataset, DataStore resource) as the caller may see them, or the refusal.

    One ``package_search`` finds the datasets the caller may see; only a dataset it does not
    return is asked for by ``package_show``, to tell a refusal from a dataset that is not there.
    Then ``datastore_search``'s own auth is checked for the resource.
    """
    memo = request_memo("indicators")
    user = context.get("user") or ""
    found: dict[str, Any] = memo.setdefault(("tables", user), {}) if memo is not None else {}
    wanted = [s for s in sources if s.id not in found]
    if not wanted:
        return found
    names = sorted({s.dataset for s in wanted})
    try:
        result = tk.get_action("package_search")(
            dict(context),
            {
                "fq": "name:(" + " OR ".join(json.dumps(n) for n in names) + ")",
                "include_private": True,
                "rows": len(names),
            },
        )
        datasets = {d["name"]: d for d in result["results"]}
    except SearchUnavailable:  # Solr away: each dataset is asked for by package_show instead
        datasets = {}
    for source in wanted:
        found[source.id] = _resolve(context, source, datasets.get(source.dataset))
    return found


def _resolve(context: Context, source: registry.Source, dataset: dict[str, Any] | None) -> Any:
    try:
        if dataset is None:
            dataset = tk.get_action("package_show")(dict(context), {"id": source.dataset})
        resource = next(
            (
                r
                for r in dataset["resources"]
                if r.get("name") == source.resource and r.get("datastore_active")
            ),
            None,
        )
        if resource is None:
            raise tk.ObjectNotFound(
                tk._("The table {resource} of {dataset} is not in the DataStore").format(
                    resource=source.resource, dataset=source.dataset
                )
            )
        tk.check_access("datastore_search", dict(context), {"resource_id": resource["id"]})
    except (tk.NotAuthorized, tk.ObjectNotFound) as e:
        return (type(e), str(e))
    return dataset, resource


def table(context: Context, source: registry.Source) -> tuple[dict[str, Any], dict[str, Any]]:
    """A source's dataset and DataStore resource, as the caller may see them.

    :raises NotAuthorized: the caller may not read the table
    :raises ObjectNotFound: the dataset is not published here or its table is not in the DataStore
    """
    found = _lookup(context, [source])[source.id]
    if isinstance(found[0], type):
        error, message = found
        raise error(message)
    return found


def _rows(context: Context, source: registry.Source, resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The source table's rows for Detroit's tracts (key -> record): every column the registry
    reads from it, in one ``datastore_search`` (access was checked by :func:`table`). A column the
    table lacks (a reload dropped it) reads as no data."""
    fields = registry.registry().columns(source.id)
    tracts = geography.tracts()

    def fetch() -> dict[str, dict[str, Any]]:
        search = tk.get_action("datastore_search")
        # Raw values, whoever asks: the cache is shared by every tier, and the indicators suppress
        # small counts in their own results.
        context_raw: Context = {**context, "ignore_auth": True}
        query = {
            "resource_id": resource["id"],
            "fields": fields,
            "filters": {source.key: sorted(tracts)},
            "limit": len(tracts) + 1,
        }
        try:
            result = search(dict(context_raw), query)
        except tk.ValidationError:
            present = {
                f["id"]
                for f in search(dict(context_raw), {"resource_id": resource["id"], "limit": 0})["fields"]
            }
            if source.key not in present:
                log.warning("cd3p: source %s has no key column %s", source.id, source.key)
                return {}
            query["fields"] = [f for f in fields if f in present]
            log.warning("cd3p: source %s lacks columns %s", source.id, sorted(set(fields) - present))
            result = search(dict(context_raw), query)
        return {str(r[source.key]): r for r in result["records"]}

    return cache.cached("rows", fields, [resource["id"]], fetch)


def _source_out(source: registry.Source, dataset: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": source.id,
        "dataset": dataset["name"],
        "title": dataset["title"],
        "resource_id": resource["id"],
        "vintage": source.vintage,
        "citation": source.citation,
    }


# --- arithmetic ----------------------------------------------------------------------------------


def _place(level: str, tract: geography.Tract) -> str:
    return {
        "tract": tract.geoid,
        "council_district": tract.district,
        "neighborhood": tract.neighborhood,
        "city": geography.WHOLE_CITY,
    }[level]


def place_name(level: str, code: str) -> str:
    """A place's name as the equity pages show it: a tract's (``Census Tract 5001``), ``City of
    Detroit``, a council district's label or a neighbourhood's name.

    :raises KeyError: a code that is not one of the level's places
    """
    if level == "tract":
        return geography.tracts()[code].name
    if level == "city":
        return "City of Detroit"
    label = geography.places()[code].label
    return label.removeprefix("Neighborhood: ")


def _blank(level: str, code: str, tracts: int, with_data: int) -> dict[str, Any]:
    return {
        "id": code,
        "name": place_name(level, code),
        "value": None,
        "numerator": None,
        "denominator": None,
        "moe": None,
        "suppressed": False,
        "tracts": tracts,
        "tracts_with_data": with_data,
    }


def margin(kind: str, numerator: float, denominator: float, num_var: float, den_var: float) -> float:
    """The MOE of numerator / denominator from the squared MOEs of both (Census approximations):
    the proportion formula for shares (the numerator is part of the denominator), falling back to
    the ratio formula when its radicand is negative; the ratio formula for amounts."""
    ratio = numerator / denominator
    radicand = num_var + ratio**2 * den_var
    if kind != "amount" and num_var - ratio**2 * den_var >= 0:
        radicand = num_var - ratio**2 * den_var
    return math.sqrt(radicand) / denominator


def tract_parts(
    ind: registry.Indicator, row: dict[str, Any], weight_row: dict[str, Any]
) -> tuple[float, float, float | None, float | None] | None:
    """One tract's numerator, denominator and their squared MOEs (None: unknown), or None for no
    data. ``share``/``percent``: weight x share; ``amount``: weight x amount (weights taken as
    exact); ``count``: the count itself."""
    value, weight = _number(row.get(ind.column)), _number(weight_row.get(ind.weight.column))
    if value is None or weight is None:
        return None
    moe = _number(row.get(ind.moe)) if ind.moe else None
    weight_moe = _number(weight_row.get(ind.weight.moe)) if ind.weight.moe else 0.0
    if ind.kind == "count":
        num_var = None if moe is None else moe**2
        return value, weight, num_var, None if weight_moe is None else weight_moe**2
    share = value / 100.0 if ind.kind == "percent" else value
    share_moe = None if moe is None else (moe / 100.0 if ind.kind == "percent" else moe)
    if ind.complement:
        share = 1.0 - share
    if ind.kind == "amount":
        return weight * share, weight, None if share_moe is None else (weight * share_moe) ** 2, 0.0
    if share_moe is None or weight_moe is None:
        return weight * share, weight, None, None
    return weight * share, weight, (weight * share_moe) ** 2 + (share * weight_moe) ** 2, weight_moe**2


def calculate(
    ind: registry.Indicator,
    rows: dict[str, dict[str, Any]],
    weights: dict[str, dict[str, Any]],
    level: str,
    cells: privacy.Cells,
) -> dict[str, Any]:
    """``values`` at one level and the ``citywide`` value, from the source rows by tract GEOID."""
    tracts = geography.tracts()
    scale = 1.0 if ind.kind == "amount" else 100.0
    parts = {geoid: tract_parts(ind, rows.get(geoid, {}), weights.get(geoid, {})) for geoid in tracts}

    def aggregate(at: str) -> list[dict[str, Any]]:
        # place -> [numerator, denominator, numerator variance, denominator variance, tracts, with data,
        #           with a known MOE]
        sums: dict[str, list[Any]] = {}
        for geoid, tract in tracts.items():
            total = sums.setdefault(_place(at, tract), [0.0, 0.0, 0.0, 0.0, 0, 0, 0])
            total[4] += 1
            part = parts[geoid]
            if part is None:
                continue
            total[0] += part[0]
            total[1] += part[1]
            total[5] += 1
            if part[2] is not None and part[3] is not None:
                total[2] += part[2]
                total[3] += part[3]
                total[6] += 1
        out = []
        for code in sorted(sums):
            numerator, denominator, num_var, den_var, count, with_data, with_moe = sums[code]
            entry = _blank(at, code, count, with_data)
            if with_data and denominator > 0:
                if cells.hidden(denominator):
                    entry["suppressed"] = True
                else:
                    entry.update(
                        value=numerator / denominator * scale,
                        numerator=None if ind.kind == "amount" else numerator,
                        denominator=denominator,
                    )
                    if ind.moe and with_moe == with_data:
                        entry["moe"] = margin(ind.kind, numerator, denominator, num_var, den_var) * scale
            out.append(entry)
        return out

    return {"values": aggregate(level), "citywide": aggregate("city")[0]}


def _digest(item: registry.Indicator) -> str:
    return hashlib.sha1(json.dumps(item.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


# --- the actions' computations -------------------------------------------------------------------


def compute(context: Context, indicator_id: str, level: str, suppress: bool = True) -> dict[str, Any]:
    """Every place's value at one level, the citywide value, the vintage and the sources.

    ``suppress=False`` is for building the index from every tract's value; the index's own output
    is then suppressed where its households are below the threshold.
    """
    reg = registry.registry()
    if reg.index is not None and indicator_id == reg.index.id:
        return compute_index(context, level)
    ind = reg.indicators[indicator_id]
    source, weight_source = reg.sources[ind.source], reg.sources[ind.weight.source]
    _lookup(context, [source, weight_source])
    dataset, resource = table(context, source)
    weight_dataset, weight_resource = table(context, weight_source)
    # One rule with the DataStore (common/privacy.py): whoever reads the source table's raw rows
    # (sysadmins, its organization's members, the partner tier) sees the values unsuppressed.
    threshold = privacy.threshold(dataset)
    cells = privacy.Cells(threshold, raw=not suppress or privacy.sees_raw(context, dataset))

    def fetch() -> dict[str, Any]:
        rows = _rows(context, source, resource)
        weights = rows if weight_source.id == source.id else _rows(context, weight_source, weight_resource)
        return calculate(ind, rows, weights, level, cells)

    result = cache.cached(
        "result",
        [_digest(ind), level, cells.raw, threshold],
        [resource["id"], weight_resource["id"]],
        fetch,
    )
    sources = [_source_out(source, dataset, resource)]
    if weight_source.id != source.id:
        sources.append(_source_out(weight_source, weight_dataset, weight_resource))
    return {
        "indicator": ind.as_dict(),
        "level": level,
        **result,
        "vintage": source.vintage,
        "sources": sources,
        "small_cell_threshold": threshold,
    }


def compute_index(context: Context, level: str) -> dict[str, Any]:
    """The Digital Equity Index: see ``index`` in indicators.yaml for the method.

    Components whose source the caller may not read are left out (listed in ``withheld``); a
    sub-score needs at least half of its components.
    """
    reg = registry.registry()
    index = reg.index
    assert index is not None
    component_ids = [i for ids in index.components.values() for i in ids]
    involved: dict[str, registry.Source] = {}
    for indicator_id in component_ids:
        ind = reg.indicators[indicator_id]
        for sid in (ind.source, ind.weight.source):
            involved.setdefault(sid, reg.sources[sid])
    weight_source = reg.sources[index.weight.source]
    involved.setdefault(weight_source.id, weight_source)
    _lookup(context, involved.values())

    withheld: list[str] = []
    sources: dict[str, dict[str, Any]] = {}
    vintages: list[str] = []
    for indicator_id in component_ids:
        ind = reg.indicators[indicator_id]
        try:
            found = [
                (reg.sources[sid], *table(context, reg.sources[sid]))
                for sid in (ind.source, ind.weight.source)
            ]
        except tk.NotAuthorized:
            withheld.append(indicator_id)
            continue
        for src, dataset, resource in found:
            sources.setdefault(src.id, _source_out(src, dataset, resource))
        if found[0][0].vintage not in vintages:
            vintages.append(found[0][0].vintage)
    weight_dataset, weight_resource = table(context, weight_source)
    sources.setdefault(weight_source.id, _source_out(weight_source, weight_dataset, weight_resource))
    threshold = privacy.threshold(weight_dataset)
    cells = privacy.Cells(threshold, raw=privacy.sees_raw(context, weight_dataset))
    available = [i for i in component_ids if i not in withheld]

    def fetch() -> dict[str, Any]:
        tract_values = {i: compute(context, i, "tract", suppress=False)["values"] for i in available}
        weights = _rows(context, weight_source, weight_resource)
        return _index_values(index, reg, tract_values, weights, level, cells)

    result = cache.cached(
        "index",
        [_digest(index), [_digest(reg.indicators[i]) for i in available], level, cells.raw, threshold],
        [s["resource_id"] for s in sources.values()],
        fetch,
    )
    return {
        "indicator": index.as_dict(),
        "level": level,
        **result,
        "vintage": "; ".join(vintages),
        "sources": list(sources.values()),
        "small_cell_threshold": threshold,
        "withheld": withheld,
    }


def _index_values(
    index: registry.Index,
    reg: registry.Registry,
    tract_values: dict[str, list[dict[str, Any]]],
    weights: dict[str, dict[str, Any]],
    level: str,
    cells: privacy.Cells,
) -> dict[str, Any]:
    tracts = geography.tracts()
    normalised: dict[str, dict[str, dict[str, float]]] = {}  # sub-score -> component -> geoid -> 0..1
    for group, ids in index.components.items():
        normalised[group] = {}
        for indicator_id in ids:
            if indicator_id not in tract_values:
                continue
            sign = 1.0 if reg.indicators[indicator_id].direction == "higher" else -1.0
            values = {
                v["id"]: sign * v["value"] for v in tract_values[indicator_id] if v["value"] is not None
            }
            if not values:
                continue
            low, high = min(values.values()), max(values.values())
            span = (high - low) or 1.0
            normalised[group][indicator_id] = {g: (x - low) / span for g, x in values.items()}

    scores: dict[str, dict[str, float | None]] = {}
    for geoid in tracts:
        entry: dict[str, float | None] = {}
        for group, components in normalised.items():
            present = [c[geoid] for c in components.values() if geoid in c]
            needed = (len(index.components[group]) + 1) // 2
            entry[group] = 100.0 * sum(present) / len(present) if len(present) >= needed else None
        subs = [g for g in entry.values() if g is not None]
        entry["index"] = sum(subs) / len(subs) if len(subs) == len(entry) else None
        scores[geoid] = entry

    def aggregate(at: str) -> list[dict[str, Any]]:
        sums: dict[str, dict[str, list[float]]] = {}
        counts: dict[str, list[int]] = {}
        for geoid, tract in tracts.items():
            place = _place(at, tract)
            count = counts.setdefault(place, [0, 0])
            total = sums.setdefault(place, {k: [0.0, 0.0] for k in ("index", *index.components)})
            count[1] += 1
            weight = _number(weights.get(geoid, {}).get(index.weight.column))
            if weight is None or scores[geoid]["index"] is None:
                continue
            count[0] += 1
            for key, score in scores[geoid].items():
                if score is not None:
                    total[key][0] += weight * score
                    total[key][1] += weight
        out = []
        for code in sorted(sums):
            total, count = sums[code], counts[code]
            households = total["index"][1]
            item = {**_blank(at, code, count[1], count[0]), **{group: None for group in index.components}}
            if count[0] and households > 0:
                if cells.hidden(households):
                    item["suppressed"] = True
                else:
                    item["value"] = total["index"][0] / households
                    item["denominator"] = households
                    for group in index.components:
                        num, den = total[group]
                        item[group] = num / den if den else None
            out.append(item)
        return out

    return {"values": aggregate(level), "citywide": aggregate("city")[0]}
