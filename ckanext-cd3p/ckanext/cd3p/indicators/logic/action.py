"""Actions of the indicators (list, show, place, refresh, registered sources), and the chained
DataStore writes that make a changed source table be read again."""

from __future__ import annotations

import dataclasses
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p.common import actions, geography, inputs
from ckanext.cd3p.indicators import cache, computation, registry
from ckanext.cd3p.indicators.logic import schema
from ckanext.cd3p.indicators.model import IndicatorSource

# --- indicators ---------------------------------------------------------------------------------


@tk.side_effect_free
def cd3p_indicator_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The registered indicators (``indicators.yaml``), optionally of one topic.

    :param topic: e.g. ``connectivity``, ``devices``, ``education``, ``income``, ``workforce``
    """
    tk.check_access("cd3p_indicator_list", context, data_dict)
    data = actions.validate(data_dict, schema.indicator_list(), context)
    reg = registry.registry()
    found = [reg.describe(i) for i in reg.ids()]
    if data.get("topic"):
        found = [i for i in found if i["topic"] == data["topic"]]
    return found


@tk.side_effect_free
def cd3p_indicator_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An indicator's value for every place of a level, computed from the DataStore.

    Values are read with ``action.datastore_search`` in the caller's name, so a source the caller may not
    read is refused. Each value has ``id``, ``name``, ``value`` (None: no data), ``numerator``,
    ``denominator``, ``moe``, ``suppressed`` (below the source's small-cell threshold, outside the
    partner tier), ``tracts`` and ``tracts_with_data``.

    :param id: indicator id (see cd3p_indicator_list)
    :param level: ``tract`` (default), ``council_district``, ``neighborhood`` or ``city``
    :returns: ``indicator``, ``level``, ``values``, ``citywide``, ``vintage``, ``sources``,
        ``small_cell_threshold``
    """
    tk.check_access("cd3p_indicator_show", context, data_dict)
    data = actions.validate(data_dict, schema.indicator_show(), context)
    if data["id"] not in registry.registry().ids():
        raise tk.ObjectNotFound(tk._("Indicator not found: {id}").format(id=data["id"]))
    return computation.compute(context, data["id"], data["level"])


@tk.side_effect_free
def cd3p_place_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every indicator for one place, next to the city's value.

    :param level: ``tract``, ``council_district``, ``neighborhood`` or ``city``
    :param id: the place: a tract GEOID, ``district-3``, ``neighborhood-<slug>`` or ``city``
    :returns: ``level``, ``id``, ``name`` and ``indicators``: for each, ``indicator``, ``value`` (as in
        cd3p_indicator_show), ``citywide``, ``vintage``; indicators whose source the caller may
        not read are left out and listed in ``withheld``
    """
    tk.check_access("cd3p_place_show", context, data_dict)
    data = actions.validate(data_dict, schema.place_show(), context)
    result: dict[str, Any] = {"level": data["level"], "id": data["id"], "indicators": [], "withheld": []}
    for indicator_id in registry.registry().ids():
        try:
            shown = computation.compute(context, indicator_id, data["level"])
        except tk.NotAuthorized:
            result["withheld"].append(indicator_id)
            continue
        place = next((v for v in shown["values"] if v["id"] == data["id"]), None)
        if place is None:
            raise tk.ObjectNotFound(
                tk._("No {level} with id {id} in Detroit").format(level=data["level"], id=data["id"])
            )
        result["name"] = place["name"]
        result["indicators"].append(
            {
                "indicator": shown["indicator"],
                "value": place,
                "citywide": shown["citywide"],
                "vintage": shown["vintage"],
            }
        )
    return result


def cd3p_indicator_refresh(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Forgets every cached source read, so the next request recomputes from the DataStore
    (sysadmins). Changes to source tables already do this for their own table."""
    tk.check_access("cd3p_indicator_refresh", context, data_dict)
    cache.invalidate_all()
    return {"refreshed": True}


# --- indicator sources registered by sysadmins ---------------------------------------------------


def _table_fields(context: Context, dataset_ref: str, resource_name: str) -> tuple[dict[str, Any], list[str]]:
    """A dataset's named resource and its DataStore columns, read as the caller; ValidationError
    naming the field at fault otherwise."""
    try:
        dataset = tk.get_action("package_show")(dict(context), {"id": dataset_ref})
    except tk.ObjectNotFound:
        raise tk.ValidationError(
            {"dataset": [tk._("Dataset not found: {name}").format(name=dataset_ref)]}
        ) from None
    resource = next((r for r in dataset["resources"] if r.get("name") == resource_name), None)
    if resource is None:
        names = ", ".join(r.get("name") or r["id"] for r in dataset["resources"]) or tk._("none")
        raise tk.ValidationError(
            {
                "resource": [
                    tk._("No resource named {name} (its resources: {names})").format(
                        name=resource_name, names=names
                    )
                ]
            }
        )
    if not resource.get("datastore_active"):
        raise tk.ValidationError(
            {
                "resource": [
                    tk._("{name} is not in the DataStore yet: wait for its load to finish").format(
                        name=resource_name
                    )
                ]
            }
        )
    found = tk.get_action("datastore_search")(dict(context), {"resource_id": resource["id"], "limit": 0})
    return {**resource, "dataset_name": dataset["name"]}, [
        f["id"] for f in found["fields"] if f["id"] != "_id"
    ]


def cd3p_indicator_source_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Registers a partner dataset's DataStore table as an indicator source, with the indicators
    computed from it (sysadmins). The table holds one row per census tract.

    :param id: the source's id (lowercase letters, digits, ``-`` and ``_``)
    :param dataset: the dataset's name or id
    :param resource: the name of its resource whose DataStore table is read
    :param key: the column holding tract GEOIDs (11 digits)
    :param vintage: e.g. ``ACS 2019-2023 5-year`` or ``Programme year 2025``
    :param citation: who produced the numbers
    :param indicators: a list, each with ``id``, ``title``, ``description``, ``topic``
        (devices, connectivity, education, workforce, income, programmes), ``unit``,
        ``direction`` (``higher`` = more need), ``column``, ``kind`` (share 0-1, percent 0-100,
        amount, count), optional ``complement`` (1 - share), ``moe`` (the column with the 90%
        margin of error), ``caveat``, and ``weight_column``, ``weight_label``, optional
        ``weight_moe`` and ``weight_source`` (another registered or shipped source; default:
        this one)
    :returns: the registered source
    """
    tk.check_access("cd3p_indicator_source_create", context, data_dict)
    inputs.guard(data_dict, records=("indicators",))  # navl takes only a list of dicts for it
    data = actions.validate(data_dict, schema.indicator_source_create(), context)
    if not data.get("indicators"):
        raise tk.ValidationError({"indicators": [tk._("Register at least one indicator")]})
    reg = registry.registry()
    if data["id"] in reg.sources:
        raise tk.ValidationError({"id": [tk._("A source with this id exists: {id}").format(id=data["id"])]})
    resource, columns = _table_fields(context, data["dataset"], data["resource"])
    errors: list[str] = []
    if data["key"] not in columns:
        raise tk.ValidationError(
            {
                "key": [
                    tk._("No column {column} in the table (its columns: {columns})").format(
                        column=data["key"], columns=", ".join(columns)
                    )
                ]
            }
        )
    tracts = sorted(geography.tracts())
    matched = tk.get_action("datastore_search")(
        dict(context), {"resource_id": resource["id"], "filters": {data["key"]: tracts}, "limit": 0}
    )["total"]
    if not matched:
        raise tk.ValidationError(
            {
                "key": [
                    tk._("None of the values in {column} is a Detroit census tract GEOID").format(
                        column=data["key"]
                    )
                ]
            }
        )
    other_columns: dict[str, list[str]] = {}
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, item in enumerate(data["indicators"], start=1):
        where = tk._("Indicator {n} ({id})").format(n=n, id=item["id"])
        if item["id"] in reg.ids() or item["id"] in seen:
            errors.append(tk._("{where}: the id is taken").format(where=where))
        seen.add(item["id"])
        weight_source = item["weight_source"] or data["id"]
        if weight_source == data["id"]:
            weight_columns = columns
        elif weight_source in reg.sources:
            if weight_source not in other_columns:
                src = reg.sources[weight_source]
                other_columns[weight_source] = _table_fields(context, src.dataset, src.resource)[1]
            weight_columns = other_columns[weight_source]
        else:
            errors.append(tk._("{where}: unknown weight source {id}").format(where=where, id=weight_source))
            weight_columns = []
        for column, among in (
            (item["column"], columns),
            (item["moe"], columns),
            (item["weight_column"], weight_columns),
            (item["weight_moe"], weight_columns),
        ):
            if column and among and column not in among:
                errors.append(
                    tk._("{where}: no column {column} (columns: {columns})").format(
                        where=where, column=column, columns=", ".join(among)
                    )
                )
        specs.append(
            {
                **{
                    k: item[k]
                    for k in ("id", "title", "description", "topic", "unit", "direction", "column", "kind")
                },
                "complement": item["complement"],
                "moe": item["moe"],
                "caveat": item["caveat"],
                "source": data["id"],
                "weight": {
                    "source": weight_source,
                    "column": item["weight_column"],
                    "label": item["weight_label"],
                    "moe": item["weight_moe"],
                },
            }
        )
    if errors:
        raise tk.ValidationError({"indicators": errors})
    row = IndicatorSource(
        id=data["id"],
        dataset=resource["dataset_name"],
        resource=data["resource"],
        key=data["key"],
        level=data["level"],
        vintage=data["vintage"],
        citation=data["citation"],
        indicators=specs,
        created_by=context.get("user"),
    )
    actions.Session.add(row)
    actions.commit(context)
    cache.invalidate_all()
    return row.as_dict()


def cd3p_indicator_source_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Removes a registered source and its indicators (sysadmins); shipped sources stay.

    :param id: the source's id
    """
    tk.check_access("cd3p_indicator_source_delete", context, data_dict)
    data = actions.validate(data_dict, schema.indicator_source_delete(), context)
    row = actions.Session.get(IndicatorSource, data["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("No registered indicator source {id}").format(id=data["id"]))
    needed = [
        spec["id"]
        for other in actions.Session.query(IndicatorSource).filter(IndicatorSource.id != row.id)
        for spec in other.indicators
        if spec["weight"]["source"] == row.id
    ]
    if needed:
        raise tk.ValidationError(
            {
                "id": [
                    tk._("Indicators of other sources are weighted by it: {ids}").format(
                        ids=", ".join(needed)
                    )
                ]
            }
        )
    found = row.as_dict()
    actions.Session.delete(row)
    actions.commit(context)
    cache.invalidate_all()
    return found


@tk.side_effect_free
def cd3p_indicator_source_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Every indicator source: the shipped ones (``registered`` false) and those sysadmins registered,
    with who registered them and when (sysadmins)."""
    tk.check_access("cd3p_indicator_source_list", context, data_dict)
    actions.validate(data_dict, schema.indicator_source_list(), context)
    rows = {row.id: row.as_dict() for row in actions.Session.query(IndicatorSource)}
    reg = registry.registry()
    found = []
    for source in reg.sources.values():
        entry = {**dataclasses.asdict(source), **rows.get(source.id, {})}
        entry["indicators"] = [
            {"id": i.id, "title": i.title} for i in reg.indicators.values() if i.source == source.id
        ]
        found.append(entry)
    return found


# --- indicator sources changed: forget what was read from them ----------------------------------


def _changed(resource_id: Any) -> None:
    if resource_id:
        from ckanext.cd3p.ingestion import signals

        signals.table_changed(str(resource_id))


@tk.chained_action
def datastore_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core datastore_create; a source table of an indicator is recomputed on the next request."""
    result = up_func(context, data_dict)
    _changed(result.get("resource_id"))
    return result


def _forgetting(**guarded: Any) -> Action:
    """A chained DataStore write after which the table's cached reads are forgotten."""

    @tk.chained_action
    def chained(up_func: Action, context: Context, data_dict: DataDict) -> Any:
        inputs.guard(data_dict, ids=("resource_id", "id"), **guarded)
        data_dict = inputs.datastore_named(data_dict)
        inputs.guard(data_dict, required=("resource_id",))
        result = up_func(context, data_dict)
        _changed(data_dict.get("resource_id"))
        return result

    return chained


datastore_upsert = _forgetting(
    flags=("force", "calculate_record_count", "dry_run"), records=("records",), texts=("method",)
)
datastore_delete = _forgetting(flags=("force", "calculate_record_count"), objects=("filters",))
datastore_records_delete = _forgetting(flags=("force", "calculate_record_count"), objects=("filters",))
