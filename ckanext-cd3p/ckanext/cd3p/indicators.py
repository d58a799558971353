"""Digital-equity indicators computed from the DataStore.

The registry says which DataStore columns make each indicator: the shipped ``indicators.yaml`` plus
the partner datasets sysadmins register as sources (table ``cd3p_indicator_source``). Values are
read with ``datastore_search`` in the caller's name, one call per source table, filtered to
Detroit's tracts, so the DataStore's access rules apply (a partner-tier source is refused to the
public). Aggregates for council districts, neighbourhoods and the city are sums of numerators over
sums of denominators (e.g. households x share), never averages of percentages; tracts are assigned
to places by their interior points (:func:`ckanext.cd3p.geography.tracts`).

Missing values stay missing ("no data", never zero) and are left out of aggregates, which report how
many tracts had data. A value whose denominator is below the source dataset's small-cell threshold is
suppressed for callers outside the partner tier.

Margins of error (90 %, as the ACS publishes them) are propagated when an indicator names its MOE
column, with the Census Bureau's approximations (ACS General Handbook 2020, ch. 8): a sum's MOE is
the root of the summed squares; a product's is sqrt(X² MOE_Y² + Y² MOE_X²); a proportion p = X/Y
has MOE sqrt(MOE_X² - p² MOE_Y²) / Y, or the ratio formula sqrt(MOE_X² + p² MOE_Y²) / Y when the
term under the root is negative. Weighted means of amounts treat the weights as exact.

Caching, in Redis, keyed by the version of every source table involved (bumped when a table
changes, see :func:`invalidate`): the rows read from a table, and each computed result per
indicator, level and tier; the web process also keeps its last results decoded under the same keys.
Access is checked on every call before any cache is used.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import json
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ckan import authz, model
from ckan.lib.plugins import get_permission_labels
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p import gate, geography
from ckanext.cd3p.model import IndicatorSource

log = logging.getLogger(__name__)

REGISTRY = Path(__file__).parent / "indicators.yaml"
CACHE_TTL = 24 * 3600  # seconds; a change to a source table invalidates sooner (see invalidate)
LEVELS = ("tract", "council_district", "neighborhood", "city")
SOURCE_LEVELS = ("tract",)
KINDS = ("share", "percent", "amount", "count")
DIRECTIONS = ("higher", "lower")
TOPICS = ("devices", "connectivity", "education", "workforce", "income", "programmes")
DEFAULT_THRESHOLD = 11


@dataclass(frozen=True)
class Source:
    id: str
    dataset: str
    resource: str
    key: str
    level: str
    vintage: str
    citation: str
    registered: bool = False  # by a sysadmin (cd3p_indicator_source_create), not shipped


@dataclass(frozen=True)
class Weight:
    """The count an indicator's shares are of (its denominator): households, residents..."""

    source: str
    column: str
    label: str
    moe: str = ""


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
    moe: str = ""
    caveat: str = ""
    registered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Index(Indicator):
    """A composite score of indicators (the Digital Equity Index)."""

    components: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "index"

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        for unused in ("source", "column", "complement", "moe", "registered"):
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

    def columns(self, source_id: str) -> list[str]:
        """Every column the registry reads from a source: its key, values, margins and weights."""
        source = self.sources[source_id]
        found = {source.key}
        for ind in self.indicators.values():
            if ind.source == source_id:
                found.update(c for c in (ind.column, ind.moe) if c)
            if ind.weight.source == source_id:
                found.update(c for c in (ind.weight.column, ind.weight.moe) if c)
        return sorted(found)


def indicator_from(spec: dict[str, Any], registered: bool = False) -> Indicator:
    """An indicator from its registry entry (``weight`` a mapping)."""
    return Indicator(**{**spec, "weight": Weight(**spec["weight"]), "registered": registered})


def problems(ind: Indicator, sources: dict[str, Source]) -> list[str]:
    """What is wrong with an indicator's definition, in words (empty: nothing)."""
    found = []
    if ind.source not in sources:
        found.append(f"unknown source {ind.source!r}")
    if ind.weight.source not in sources:
        found.append(f"unknown weight source {ind.weight.source!r}")
    if ind.kind not in KINDS:
        found.append(f"kind must be one of {', '.join(KINDS)}")
    if ind.direction not in DIRECTIONS:
        found.append("direction must be higher or lower")
    if not ind.column:
        found.append("no column")
    return found


@functools.lru_cache(maxsize=1)
def shipped() -> Registry:
    """The registry shipped with the extension, checked once per process."""
    raw = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    sources = {sid: Source(id=sid, **spec) for sid, spec in raw["sources"].items()}
    indicators: dict[str, Indicator] = {}
    for spec in raw["indicators"]:
        ind = indicator_from(spec)
        wrong = problems(ind, sources)
        if wrong:
            raise ValueError(f"indicator {ind.id}: {'; '.join(wrong)}")
        indicators[ind.id] = ind
    index = None
    if raw.get("index"):
        spec = raw["index"]
        index = Index(**{**spec, "weight": Weight(**spec["weight"])})
        unknown = [i for ids in index.components.values() for i in ids if i not in indicators]
        if unknown or index.weight.source not in sources:
            raise ValueError(f"index {index.id}: unknown components or source {unknown}")
    return Registry(sources, indicators, index)


def registry() -> Registry:
    """The shipped registry and the sources sysadmins registered, read once per request.

    A registered indicator that no longer fits (its weight source was removed, say) is left out
    with a warning in the log rather than breaking every page.
    """
    memo = _request_memo()
    if memo is not None and "registry" in memo:
        return memo["registry"]
    base = shipped()
    rows = model.Session.query(IndicatorSource).order_by(IndicatorSource.created).all()
    reg = base
    if rows:
        sources = dict(base.sources)
        for row in rows:
            sources[row.id] = Source(
                id=row.id,
                dataset=row.dataset,
                resource=row.resource,
                key=row.key,
                level=row.level,
                vintage=row.vintage,
                citation=row.citation,
                registered=True,
            )
        found = dict(base.indicators)
        for row in rows:
            for spec in row.indicators:
                try:
                    ind = indicator_from(spec, registered=True)
                except TypeError:
                    log.warning("cd3p: indicator source %s holds a malformed indicator %r", row.id, spec)
                    continue
                wrong = problems(ind, sources) + (["id taken"] if ind.id in found else [])
                if wrong:
                    log.warning("cd3p: registered indicator %s left out: %s", ind.id, "; ".join(wrong))
                    continue
                found[ind.id] = ind
        reg = Registry(sources, found, base.index)
    if memo is not None:
        memo["registry"] = reg
    return reg


def in_partner_tier(context: Context) -> bool:
    """Sysadmins and members of an organization with a current signature (who acknowledged it)."""
    name = context.get("user") or ""
    memo = _request_memo()
    if memo is not None and ("partner", name) in memo:
        return memo[("partner", name)]
    user = model.User.get(name) if name else None
    if user is None:
        partner = False
    elif authz.is_sysadmin(user.name):
        partner = True
    else:
        partner = gate.PARTNER_LABEL in get_permission_labels().get_user_dataset_labels(user)
    if memo is not None:
        memo[("partner", name)] = partner
    return partner


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- per-request memo and the Redis cache -------------------------------------------------------
# Within one web request each source table is looked up and read once, whatever the page shows.
# Across requests, rows and computed results are kept in Redis under the version numbers of the
# source tables they came from; a version is bumped whenever its table changes
# (datastore_create/upsert/delete, an xloader load) and a sysadmin's refresh or a change to the
# registered sources bumps the generation of everything. Without Redis, every call computes afresh.

GENERATION_KEY = "cd3p:indicators:generation"
# A random token kept in Redis: if Redis loses its data, versions start again from 0 and the new
# epoch keeps them from meeting results this process remembers from before.
EPOCH_KEY = "cd3p:indicators:epoch"
# The last computed results this process used, decoded, by their Redis key (which names the table
# versions, so a changed table is a new key): a 5,000-tract result is not decoded again per request.
# Callers treat results as read-only.
LOCAL_RESULTS = 32
_local: collections.OrderedDict[str, Any] = collections.OrderedDict()
_local_lock = threading.Lock()


def _remember(key: str, value: Any) -> None:
    with _local_lock:
        _local[key] = value
        _local.move_to_end(key)
        while len(_local) > LOCAL_RESULTS:
            _local.popitem(last=False)


def _request_memo() -> dict[Any, Any] | None:
    try:
        store = tk.g
        if not hasattr(store, "_cd3p_indicators"):
            store._cd3p_indicators = {}
        return store._cd3p_indicators
    except (RuntimeError, AttributeError):  # outside a request (CLI, worker)
        return None


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def _version_key(resource_id: str) -> str:
    return f"cd3p:indicators:version:{resource_id}"


def _forget_request() -> None:
    memo = _request_memo()
    if memo is not None:
        memo.clear()


def invalidate(resource_id: str) -> None:
    """Forgets every cached read of one DataStore table, and what was computed from it."""
    _forget_request()
    try:
        _redis().incr(_version_key(resource_id))
    except Exception:  # Redis down: nothing is served from it either (see _cache)
        log.warning("cd3p: could not invalidate indicator cache of %s", resource_id, exc_info=True)


def invalidate_all() -> None:
    _forget_request()
    try:
        _redis().incr(GENERATION_KEY)
    except Exception:
        log.warning("cd3p: could not invalidate the indicator cache", exc_info=True)


def _cache(kind: str, parts: Any, resource_ids: Iterable[str], fetch: Callable[[], Any]) -> Any:
    """``fetch()``'s value, cached under the current versions of the tables it reads."""
    ids = sorted(set(resource_ids))
    memo = _request_memo()
    try:
        r = _redis()
        epoch, generation, *versions = r.mget(EPOCH_KEY, GENERATION_KEY, *(_version_key(i) for i in ids))
        if epoch is None:
            r.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
            epoch = r.get(EPOCH_KEY)
        state = [epoch, int(generation or 0), ids, [int(v or 0) for v in versions], parts]
        digest = hashlib.sha1(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
        key = f"cd3p:indicators:{kind}:{digest}"
        if memo is not None and key in memo:
            return memo[key]
        if kind != "rows":
            with _local_lock:
                if key in _local:
                    _local.move_to_end(key)
                    return _local[key]
        hit = r.get(key)
    except Exception:
        log.warning("cd3p: indicator cache unavailable; computing from the DataStore", exc_info=True)
        return fetch()
    if hit is not None:
        value = json.loads(hit)
    else:
        value = fetch()
        try:
            r.set(key, json.dumps(value, default=str), ex=CACHE_TTL)
        except Exception:
            log.warning("cd3p: could not cache indicator %s", kind, exc_info=True)
    if memo is not None:
        memo[key] = value
    if kind != "rows":
        _remember(key, value)
    return value


# --- source tables, read in the caller's name ----------------------------------------------------


def _lookup(context: Context, sources: Iterable[Source]) -> dict[str, Any]:
    """Each source's (dataset, DataStore resource) as the caller may see them, or the refusal.

    One ``package_search`` finds the datasets the caller may see; only a dataset it does not
    return is asked for by ``package_show``, to tell a refusal from a dataset that is not there.
    Then ``datastore_search``'s own auth is checked for the resource.
    """
    memo = _request_memo()
    user = context.get("user") or ""
    found: dict[str, Any] = memo.setdefault(("tables", user), {}) if memo is not None else {}
    wanted = [s for s in sources if s.id not in found]
    if not wanted:
        return found
    names = sorted({s.dataset for s in wanted})
    result = tk.get_action("package_search")(
        dict(context),
        {
            "fq": "name:(" + " OR ".join(json.dumps(n) for n in names) + ")",
            "include_private": True,
            "rows": len(names),
        },
    )
    datasets = {d["name"]: d for d in result["results"]}
    for source in wanted:
        found[source.id] = _resolve(context, source, datasets.get(source.dataset))
    return found


def _resolve(context: Context, source: Source, dataset: dict[str, Any] | None) -> Any:
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


def table(context: Context, source: Source) -> tuple[dict[str, Any], dict[str, Any]]:
    """A source's dataset and DataStore resource, as the caller may see them.

    :raises NotAuthorized: the caller may not read the table
    :raises ObjectNotFound: the dataset is not published here or its table is not in the DataStore
    """
    found = _lookup(context, [source])[source.id]
    if isinstance(found[0], type):
        error, message = found
        raise error(message)
    return found


def _rows(context: Context, source: Source, resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The source table's rows for Detroit's tracts (key -> record): every column the registry
    reads from it, in one ``datastore_search`` (access was checked by :func:`table`). A column the
    table lacks (a reload dropped it) reads as no data."""
    fields = registry().columns(source.id)
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

    return _cache("rows", fields, [resource["id"]], fetch)


def _threshold(dataset: dict[str, Any]) -> int:
    try:
        return max(1, int(dataset.get("small_cell_threshold") or DEFAULT_THRESHOLD))
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD


def _source_out(source: Source, dataset: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
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


def _name(level: str, code: str) -> str:
    if level == "tract":
        return geography.tracts()[code].name
    if level == "city":
        return "City of Detroit"
    label = geography.places()[code].label
    return label.removeprefix("Neighborhood: ")


def _blank(level: str, code: str, tracts: int, with_data: int) -> dict[str, Any]:
    return {
        "id": code,
        "name": _name(level, code),
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
    ind: Indicator, row: dict[str, Any], weight_row: dict[str, Any]
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
    ind: Indicator,
    rows: dict[str, dict[str, Any]],
    weights: dict[str, dict[str, Any]],
    level: str,
    threshold: int,
    partner: bool,
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
                if denominator < threshold and not partner:
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


def _digest(item: Indicator) -> str:
    return hashlib.sha1(json.dumps(item.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


# --- the actions' computations -------------------------------------------------------------------


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
    _lookup(context, [source, weight_source])
    dataset, resource = table(context, source)
    weight_dataset, weight_resource = table(context, weight_source)
    threshold = _threshold(dataset)
    partner = not suppress or in_partner_tier(context)

    def fetch() -> dict[str, Any]:
        rows = _rows(context, source, resource)
        weights = rows if weight_source.id == source.id else _rows(context, weight_source, weight_resource)
        return calculate(ind, rows, weights, level, threshold, partner)

    result = _cache(
        "result",
        [_digest(ind), level, partner, threshold],
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
    reg = registry()
    index = reg.index
    assert index is not None
    component_ids = [i for ids in index.components.values() for i in ids]
    involved: dict[str, Source] = {}
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
    threshold = _threshold(weight_dataset)
    partner = in_partner_tier(context)
    available = [i for i in component_ids if i not in withheld]

    def fetch() -> dict[str, Any]:
        tract_values = {i: compute(context, i, "tract", suppress=False)["values"] for i in available}
        weights = _rows(context, weight_source, weight_resource)
        return _index_values(index, reg, tract_values, weights, level, threshold, partner)

    result = _cache(
        "index",
        [_digest(index), [_digest(reg.indicators[i]) for i in available], level, partner, threshold],
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
    index: Index,
    reg: Registry,
    tract_values: dict[str, list[dict[str, Any]]],
    weights: dict[str, dict[str, Any]],
    level: str,
    threshold: int,
    partner: bool,
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

    return {"values": aggregate(level), "citywide": aggregate("city")[0]}
