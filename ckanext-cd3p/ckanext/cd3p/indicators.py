"""Digital-equity indicators computed from the DataStore.

The registry (``indicators.yaml``) says which DataStore columns make each indicator. Values are read
with ``datastore_search`` in the caller's name, one call per source table, filtered to Detroit's tracts,
so the DataStore's access rules apply (a partner-tier source is refused to the public). Aggregates for
council districts, neighbourhoods and the city are sums of numerators over sums of denominators
(e.g. households x share), never averages of percentages; tracts are assigned to places by their
interior points (:func:`ckanext.cd3p.geography.tracts`).

Missing values stay missing ("no data", never zero) and are left out of aggregates, which report how
many tracts had data. A value whose denominator is below the source dataset's small-cell threshold is
suppressed for callers outside the partner tier.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ckan import authz, model
from ckan.lib.plugins import get_permission_labels
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p import gate, geography

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)

REGISTRY = Path(__file__).parent / "indicators.yaml"
CACHE_TTL = 24 * 3600  # seconds; a change to a source table invalidates sooner (see invalidate)
CACHE_TTL = 24 * 3600  # seconds; changes invalidate sooner (see invalidate)
LEVELS = ("tract", "council_district", "neighborhood", "city")
KINDS = ("share", "percent", "amount")


@dataclass(frozen=True)
class Source:
    id: str
    dataset: str
    resource: str
    key: str
    level: str
    vintage: str
    citation: str


@dataclass(frozen=True)
class Weight:
    """The count an indicator's shares are of (its denominator): households, residents..."""

    source: str
    column: str
    label: str


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    description: str
    topic: str
    unit: str
    direction: str
    weight: Weight
    source: str = ""
    column: str = ""
    kind: str = ""
    complement: bool = False
    caveat: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Index(Indicator):
    """A composite score of indicators (the Digital Equity Index)."""

    components: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "index"

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        for unused in ("source", "column", "complement"):
            del out[unused]
        return out


@dataclass(frozen=True)
class Registry:
    sources: dict[str, Source] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    index: Index | None = None

    def ids(self) -> list[str]:
        """Every indicator id, the index last."""
        return [*self.indicators, *([self.index.id] if self.index else [])]

    def describe(self, indicator_id: str) -> dict[str, Any]:
        if self.index is not None and indicator_id == self.index.id:
            return self.index.as_dict()
        return self.indicators[indicator_id].as_dict()


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """The shipped registry, checked once per process: an unknown source or kind is an error."""
    raw = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    sources = {sid: Source(id=sid, **spec) for sid, spec in raw["sources"].items()}
    indicators: dict[str, Indicator] = {}
    for spec in raw["indicators"]:
        ind = Indicator(**{**spec, "weight": Weight(**spec["weight"])})
        if ind.source not in sources or ind.weight.source not in sources:
            raise ValueError(f"indicator {ind.id}: unknown source")
        if ind.kind not in KINDS or ind.direction not in ("higher", "lower"):
            raise ValueError(f"indicator {ind.id}: kind must be one of {KINDS}, direction higher or lower")
        indicators[ind.id] = ind
    index = None
    if raw.get("index"):
        spec = raw["index"]
        index = Index(**{**spec, "weight": Weight(**spec["weight"])})
        unknown = [i for ids in index.components.values() for i in ids if i not in indicators]
        if unknown or index.weight.source not in sources:
            raise ValueError(f"index {index.id}: unknown components or source {unknown}")
    return Registry(sources, indicators, index)


def in_partner_tier(context: Context) -> bool:
    """Sysadmins and members of an organization with a current signature (who acknowledged it)."""
    user = model.User.get(context.get("user") or "")
    if user is None:
        return False
    if authz.is_sysadmin(user.name):
        return True
    return gate.PARTNER_LABEL in get_permission_labels().get_user_dataset_labels(user)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- cache of source rows -----------------------------------------------------------------------
# Rows read from a DataStore table are kept in Redis under the table's version number, which is
# bumped whenever the table changes (datastore_create/upsert/delete, an xloader load) or a sysadmin
# refreshes. Access is checked on every read before the cache is used. Without Redis, every read
# goes to the DataStore.


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def _version_key(resource_id: str) -> str:
    return f"cd3p:indicators:version:{resource_id}"


def invalidate(resource_id: str) -> None:
    """Forgets every cached read of one DataStore table (and this request's reads)."""
    memo = _request_memo()
    if memo is not None:
        memo.clear()
    try:
        _redis().incr(_version_key(resource_id))
    except Exception:  # Redis down: nothing is served from it either (see _cached)
        log.warning("cd3p: could not invalidate indicator cache of %s", resource_id, exc_info=True)


def invalidate_all() -> None:
    memo = _request_memo()
    if memo is not None:
        memo.clear()
    try:
        _redis().incr("cd3p:indicators:generation")
    except Exception:
        log.warning("cd3p: could not invalidate the indicator cache", exc_info=True)


def _cached(resource_id: str, columns: list[str], fetch: Any) -> dict[str, dict[str, Any]]:
    try:
        r = _redis()
        generation, version = r.mget("cd3p:indicators:generation", _version_key(resource_id))
        digest = hashlib.sha1(json.dumps(columns).encode()).hexdigest()[:16]
        key = f"cd3p:indicators:rows:{int(generation or 0)}:{resource_id}:{int(version or 0)}:{digest}"
        hit = r.get(key)
    except Exception:
        log.warning("cd3p: indicator cache unavailable; reading the DataStore", exc_info=True)
        return fetch()
    if hit is not None:
        return json.loads(hit)
    rows = fetch()
    try:
        r.set(key, json.dumps(rows, default=str), ex=CACHE_TTL)
    except Exception:
        log.warning("cd3p: could not cache indicator rows", exc_info=True)
    return rows


def _read(
    context: Context, source: Source, columns: set[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The source dataset and its rows for Detroit's tracts (key -> record), in the caller's name.

    Memoised for the length of a web request (per user, source and columns): a page that shows
    every indicator reads each source table once.
    """
    memo = _request_memo()
    memo_key = (context.get("user") or "", source.id, tuple(sorted(columns)))
    if memo is not None and memo_key in memo:
        return memo[memo_key]
    found = _read_source(context, source, columns)
    if memo is not None:
        memo[memo_key] = found
    return found


def _request_memo() -> dict[Any, Any] | None:
    try:
        store = tk.g
        if not hasattr(store, "_cd3p_indicator_reads"):
            store._cd3p_indicator_reads = {}
        return store._cd3p_indicator_reads
    except (RuntimeError, AttributeError):  # outside a request (CLI, worker)
        return None


def _read_source(
    context: Context, source: Source, columns: set[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    dataset = tk.get_action("package_show")(dict(context), {"id": source.dataset})
    resource = next(
        (r for r in dataset["resources"] if r.get("name") == source.resource and r.get("datastore_active")),
        None,
    )
    if resource is None:
        raise tk.ObjectNotFound(
            tk._("The table {resource} of {dataset} is not in the DataStore").format(
                resource=source.resource, dataset=source.dataset
            )
        )
    tracts = geography.tracts()
    fields = sorted({source.key, *columns})
    tk.check_access("datastore_search", dict(context), {"resource_id": resource["id"]})

    def fetch() -> dict[str, dict[str, Any]]:
        result = tk.get_action("datastore_search")(
            dict(context),
            {
                "resource_id": resource["id"],
                "fields": fields,
                "filters": {source.key: sorted(tracts)},
                "limit": len(tracts) + 1,
            },
        )
        return {str(r[source.key]): r for r in result["records"]}

    dataset["_resource"] = resource
    return dataset, _cached(resource["id"], fields, fetch)


def _place(level: str, tract: geography.Tract) -> str:
    return {
        "tract": tract.geoid,
        "council_district": tract.district,
        "neighborhood": tract.neighborhood,
        "city": geography.WHOLE_CITY,
    }[level]


def _name(level: str, code: str) -> str:
    if level == "tract":
        return geography.tracts()[code].name
    if level == "city":
        return "City of Detroit"
    label = geography.places()[code].label
    return label.removeprefix("Neighborhood: ")


def compute(context: Context, indicator_id: str, level: str, suppress: bool = True) -> dict[str, Any]:
    """Every place's value at one level, the citywide value, the vintage and the sources.

    ``suppress=False`` is for building the index from every tract's value; the index's own output
    is then suppressed where its households are below the threshold.
    """
    reg = registry()
    if reg.index is not None and indicator_id == reg.index.id:
        return compute_index(context, level)
    ind = reg.indicators[indicator_id]
    source, weight_source = reg.sources[ind.source], reg.sources[ind.weight.source]
    if source.id == weight_source.id:
        dataset, rows = _read(context, source, {ind.column, ind.weight.column})
        weight_dataset, weights = dataset, rows
    else:
        dataset, rows = _read(context, source, {ind.column})
        weight_dataset, weights = _read(context, weight_source, {ind.weight.column})
    threshold = int(dataset.get("small_cell_threshold") or 11)
    partner = not suppress or in_partner_tier(context)
    scale = 100.0 if ind.kind in ("share", "percent") else 1.0

    # Each tract's numerator and denominator (None: no data).
    parts: dict[str, tuple[float, float] | None] = {}
    for geoid in geography.tracts():
        value = _number(rows.get(geoid, {}).get(ind.column))
        weight = _number(weights.get(geoid, {}).get(ind.weight.column))
        if value is None or weight is None:
            parts[geoid] = None
            continue
        share = value / 100.0 if ind.kind == "percent" else value
        if ind.complement:
            share = 1.0 - share
        parts[geoid] = (weight * share, weight)

    def aggregate(at: str) -> list[dict[str, Any]]:
        sums: dict[str, list[float]] = {}
        counts: dict[str, list[int]] = {}
        for geoid, tract in geography.tracts().items():
            place = _place(at, tract)
            total = sums.setdefault(place, [0.0, 0.0])
            count = counts.setdefault(place, [0, 0])
            count[1] += 1
            part = parts[geoid]
            if part is not None:
                total[0] += part[0]
                total[1] += part[1]
                count[0] += 1
        return [_entry(at, code, sums[code], counts[code]) for code in sorted(sums)]

    def _entry(at: str, code: str, total: list[float], count: list[int]) -> dict[str, Any]:
        numerator, denominator = total
        out: dict[str, Any] = {
            "id": code,
            "name": _name(at, code),
            "value": None,
            "numerator": None,
            "denominator": None,
            "moe": None,  # the shipped sources carry no margins of error
            "suppressed": False,
            "tracts": count[1],
            "tracts_with_data": count[0],
        }
        if count[0] == 0 or denominator <= 0:
            return out
        if denominator < threshold and not partner:
            out["suppressed"] = True
            return out
        out.update(
            value=numerator / denominator * scale,
            numerator=None if ind.kind == "amount" else numerator,
            denominator=denominator,
        )
        return out

    values = aggregate(level)
    citywide = aggregate("city")[0]
    sources = [
        {
            "id": src.id,
            "dataset": ds["name"],
            "title": ds["title"],
            "resource_id": ds["_resource"]["id"],
            "vintage": src.vintage,
            "citation": src.citation,
        }
        for src, ds in ((source, dataset), (weight_source, weight_dataset))
    ]
    if sources[0]["id"] == sources[1]["id"]:
        sources = sources[:1]
    return {
        "indicator": ind.as_dict(),
        "level": level,
        "values": values,
        "citywide": citywide,
        "vintage": source.vintage,
        "sources": sources,
        "small_cell_threshold": threshold,
    }


def compute_index(context: Context, level: str) -> dict[str, Any]:
    """The Digital Equity Index: see ``index`` in indicators.yaml for the method.

    Components whose source the caller may not read are left out (listed in ``withheld``); a
    sub-score needs at least half of its components.
    """
    reg = registry()
    index = reg.index
    assert index is not None
    tracts = geography.tracts()
    normalised: dict[str, dict[str, dict[str, float]]] = {}  # sub-score -> component -> geoid -> 0..1
    withheld: list[str] = []
    sources: dict[str, dict[str, Any]] = {}
    vintages: list[str] = []
    for group, ids in index.components.items():
        normalised[group] = {}
        for indicator_id in ids:
            try:
                shown = compute(context, indicator_id, "tract", suppress=False)
            except tk.NotAuthorized:
                withheld.append(indicator_id)
                continue
            for src in shown["sources"]:
                sources.setdefault(src["id"], src)
            if shown["vintage"] not in vintages:
                vintages.append(shown["vintage"])
            sign = 1.0 if shown["indicator"]["direction"] == "higher" else -1.0
            values = {v["id"]: sign * v["value"] for v in shown["values"] if v["value"] is not None}
            if not values:
                continue
            low, high = min(values.values()), max(values.values())
            span = (high - low) or 1.0
            normalised[group][indicator_id] = {g: (x - low) / span for g, x in values.items()}

    weight_dataset, weights = _read(context, reg.sources[index.weight.source], {index.weight.column})
    threshold = int(weight_dataset.get("small_cell_threshold") or 11)
    partner = in_partner_tier(context)

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
            item: dict[str, Any] = {
                "id": code,
                "name": _name(at, code),
                "value": None,
                "numerator": None,
                "denominator": None,
                "moe": None,
                "suppressed": False,
                "tracts": count[1],
                "tracts_with_data": count[0],
                **{group: None for group in index.components},
            }
            if count[0] and households > 0:
                if households < threshold and not partner:
                    item["suppressed"] = True
                else:
                    item["value"] = total["index"][0] / households
                    item["denominator"] = households
                    for group in index.components:
                        num, den = total[group]
                        item[group] = num / den if den else None
            out.append(item)
        return out

    return {
        "indicator": index.as_dict(),
        "level": level,
        "values": aggregate(level),
        "citywide": aggregate("city")[0],
        "vintage": "; ".join(vintages),
        "sources": list(sources.values()),
        "small_cell_threshold": threshold,
        "withheld": withheld,
    }
