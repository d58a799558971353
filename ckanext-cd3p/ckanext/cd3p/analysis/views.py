"""Pages of the analysis workspace (blueprint ``cd3p_analysis``).

Every page reads and writes through the actions (``cd3p_query_run``, the saved-query actions,
``cd3p_query_save``, and core's), called in the name of the logged-in user, so a table the visitor
may not read is refused exactly as in the API (403; visitors are sent to log in first). The builder
is a plain HTML form (it works without JavaScript): its fields compile to a spec
(:func:`spec_from_form`), and the page also takes the spec itself as ``?spec=<json>`` (links, saved
queries). A spec with errors shows the form again, with a 400, each error next to its field.

Routes:

- ``/analysis``: the builder and the result (a page of 50 rows, the total, a chart when grouped, a
  map when rolled up to council districts or neighbourhoods, the CSV, the equivalent API call)
- ``/analysis/result.csv?spec=``, ``/analysis/result.geojson?spec=``: the whole result
- ``/analysis/saved`` (POST): saves the spec under the user's profile; ``/analysis/saved/<id>``:
  a saved query opened in the workspace (anyone with the link, in their own rights);
  ``/analysis/saved/<id>/delete`` (POST)
- ``/analysis/save`` (POST): the result saved as a resource of a dataset (``cd3p_query_save``)
- ``/dashboard/queries``: the user's saved queries
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import partial
from typing import Any
from urllib.parse import quote

from ckan.lib.pagination import Page
from ckan.plugins import toolkit as tk
from ckan.types import Response
from werkzeug.datastructures import MultiDict

from ckanext.cd3p import config
from ckanext.cd3p.analysis import spec as specs
from ckanext.cd3p.analysis.compiler import NUMBERS
from ckanext.cd3p.analysis.spec import FNS, LEVELS, OPS
from ckanext.cd3p.common import geography, i18n, inputs, maps, pages
from ckanext.cd3p.common.memo import remembered

cd3p_analysis = pages.blueprint("cd3p_analysis", __name__)

INDEX = "cd3p_analysis.index"

# Rows of the form: filters and aggregates (at least; a spec with more shows them all).
FORM_ROWS = 3
# The limit the form starts with.
DEFAULT_LIMIT = 50
# The most DataStore tables the table choice lists, and the most datasets read to find them.
MAX_TABLES = 1000
MAX_DATASETS = 2000
# The most datasets offered as the target of a saved result.
MAX_TARGETS = 1000
# Levels a result can be mapped at (the city is one place: nothing to map).
MAPPED = ("council_district", "neighborhood")
# A quarter such as 2024Q1 or 2024-Q1: charted as a line.
QUARTER = re.compile(r"^\d{4}-?Q[1-4]$")
DATES = ("date", "timestamp")


# --- the form and the spec ------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def spec_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The spec the builder's fields say (unchecked: :func:`spec.parse` checks it).

    Fields: ``resource_id``; ``columns`` and ``group_by`` (repeated); ``filter_column_<i>``,
    ``filter_op_<i>``, ``filter_value_<i>`` (``in`` and ``between`` values comma-separated;
    ``empty``: "no" for not empty); ``rollup_key``, ``rollup_level``; ``agg_fn_<i>``,
    ``agg_column_<i>``, ``agg_as_<i>``; ``sort_column``, ``sort_desc``; ``limit``; ``join_resource_id``,
    ``join_left``, ``join_right``, ``join_columns`` (repeated). Rows left blank are left out.
    """
    spec: dict[str, Any] = {"resource_id": form.get("resource_id", "").strip()}
    limit = form.get("limit", "").strip()
    spec["limit"] = limit if limit else DEFAULT_LIMIT
    if "table_shown" in form and form["table_shown"] != spec["resource_id"]:
        return spec  # another table chosen: its columns are not on the form yet
    columns = [c for c in form.getlist("columns") if c]
    if columns:
        spec["columns"] = columns
    filters = []
    for i in range(_rows(form, "filter_column_")):
        column, op = form.get(f"filter_column_{i}", ""), form.get(f"filter_op_{i}", "")
        if not column and not op:
            continue
        raw = form.get(f"filter_value_{i}", "").strip()
        value: Any = raw
        if op in ("in", "between"):
            value = _split(raw)
        elif op == "empty":
            value = raw.lower() not in ("no", "false", "0", "not empty")
        filters.append({"column": column, "op": op, "value": value})
    if filters:
        spec["filters"] = filters
    group_by = [c for c in form.getlist("group_by") if c]
    if group_by:
        spec["group_by"] = group_by
    if form.get("rollup_key") or form.get("rollup_level"):
        spec["rollup"] = {"key": form.get("rollup_key", ""), "level": form.get("rollup_level", "")}
    aggregates = []
    for i in range(_rows(form, "agg_fn_")):
        fn = form.get(f"agg_fn_{i}", "")
        if not fn:
            continue
        aggregate = {"fn": fn}
        if form.get(f"agg_column_{i}"):
            aggregate["column"] = form[f"agg_column_{i}"]
        if form.get(f"agg_as_{i}", "").strip():
            aggregate["as"] = form[f"agg_as_{i}"].strip()
        aggregates.append(aggregate)
    if aggregates:
        spec["aggregates"] = aggregates
    if form.get("sort_column"):
        spec["sort"] = [{"column": form["sort_column"], "desc": bool(form.get("sort_desc"))}]
    if form.get("join_resource_id", "").strip():
        spec["join"] = {
            "resource_id": form["join_resource_id"].strip(),
            "on": [form.get("join_left", ""), form.get("join_right", "")],
            "columns": [c for c in form.getlist("join_columns") if c],
        }
    return spec


def _rows(form: MultiDict[str, str], prefix: str) -> int:
    """How many numbered rows of a kind the form has (at least FORM_ROWS)."""
    numbers = [int(k[len(prefix) :]) for k in form if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    return min(max([FORM_ROWS, *(n + 1 for n in numbers)]), 50)


def _text(value: Any) -> str:
    """A spec value as the form shows it (lists comma-separated)."""
    if isinstance(value, list):  # one level: a value nested deeper is no filter's
        return ", ".join(_text(v) if not isinstance(v, list | dict) else "?" for v in value)
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _items(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = raw.get(key)
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def form_from_spec(raw: Any) -> dict[str, Any]:
    """The builder's fields from a spec (any JSON: a bad spec shows as much of it as it can)."""
    raw = raw if isinstance(raw, dict) else {}
    filters = [
        {"column": _text(f.get("column")), "op": _text(f.get("op")), "value": _text(f.get("value"))}
        for f in _items(raw, "filters")
    ]
    for f, given in zip(filters, _items(raw, "filters"), strict=True):
        if f["op"] == "empty":
            f["value"] = "no" if given.get("value") is False else ""
    aggregates = [
        {"fn": _text(a.get("fn")), "column": _text(a.get("column")), "as": _text(a.get("as"))}
        for a in _items(raw, "aggregates")
    ]
    rollup = raw.get("rollup") if isinstance(raw.get("rollup"), dict) else {}
    join = raw.get("join") if isinstance(raw.get("join"), dict) else {}
    on = join.get("on") if isinstance(join.get("on"), list) else [join.get("on"), join.get("on")]
    sort = _items(raw, "sort")
    return {
        "resource_id": _text(raw.get("resource_id")),
        "columns": _strings(raw.get("columns")),
        "filters": filters + [{"column": "", "op": "", "value": ""}] * max(FORM_ROWS - len(filters), 0),
        "group_by": _strings(raw.get("group_by")),
        "rollup_key": _text(rollup.get("key")),
        "rollup_level": _text(rollup.get("level")),
        "aggregates": aggregates + [{"fn": "", "column": "", "as": ""}] * max(FORM_ROWS - len(aggregates), 0),
        "sort_column": _text(sort[0].get("column")) if sort else "",
        "sort_desc": bool(sort and sort[0].get("desc") is True),
        "limit": _text(raw.get("limit", DEFAULT_LIMIT)),
        "join_resource_id": _text(join.get("resource_id")),
        "join_left": _text(on[0]) if len(on) > 0 else "",
        "join_right": _text(on[1]) if len(on) > 1 else "",
        "join_columns": _strings(join.get("columns")),
    }


def _asked() -> Any:
    """The spec asked for: ``?spec=`` (parsed as far as JSON goes), else the form's fields; None,
    nothing asked yet (no table chosen)."""
    given = tk.request.args.get("spec")
    if given is not None:
        try:
            return inputs.parse_json(given)
        except ValueError:
            return given
    if not tk.request.args.get("resource_id", "").strip():
        return None
    return spec_from_form(tk.request.args)


def _spec_arg() -> Any:
    """The ``?spec=`` of the downloads: required."""
    given = tk.request.args.get("spec")
    if not given:
        pages.bad_request(tk.ValidationError({"spec": [tk._("Missing value")]}))
    return given


# --- reading the actions --------------------------------------------------------------------------


def _run(spec: Any, total: bool = True) -> dict[str, Any]:
    return pages.call("cd3p_query_run", {"spec": spec, "include_total": total})


def _columns(resource_id: str) -> list[dict[str, str]]:
    """A table's columns (id, type) as the visitor reads it; none for an id that names no table
    (the query then says so). A table the visitor may not read is refused (403)."""
    if not inputs.text_id(resource_id):
        return []
    try:
        found = pages.call(
            "datastore_search", {"resource_id": resource_id, "limit": 0, "include_total": False}
        )
    except (tk.ObjectNotFound, tk.ValidationError):
        return []
    return [{"id": f["id"], "type": f["type"]} for f in found["fields"] if not f["id"].startswith("_")]


def _tables() -> list[dict[str, str]]:
    """The DataStore tables the visitor may read (id, dataset and resource titles), by title."""

    def read() -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        start = 0
        while len(found) < MAX_TABLES:
            batch = pages.call(
                "package_search",
                {
                    "include_private": True,
                    "rows": 100,
                    "start": start,
                    "sort": "title_string asc",
                },
            )
            for pkg in batch["results"]:
                for res in pkg.get("resources") or []:
                    if res.get("datastore_active"):
                        found.append(
                            {
                                "id": res["id"],
                                "title": f"{pkg.get('title') or pkg['name']}: {res.get('name') or res['id']}",
                            }
                        )
            start += 100
            if start >= min(batch["count"], MAX_DATASETS):
                break
        return found[:MAX_TABLES]

    return remembered("analysis", ("tables", pages.user_name()), read)


def _targets() -> list[dict[str, str]]:
    """The datasets the user may add a resource to (their organizations where they may create
    datasets), by title."""
    if not tk.current_user.is_authenticated:
        return []
    orgs = pages.call("organization_list_for_user", {"id": pages.user_name(), "permission": "create_dataset"})
    if not orgs:
        return []
    ids = " OR ".join(f'"{o["id"]}"' for o in orgs[:100])
    found = pages.call(
        "package_search",
        {
            "fq": f"owner_org:({ids})",
            "include_private": True,
            "rows": MAX_TARGETS,
            "sort": "title_string asc",
        },
    )
    return [{"id": p["id"], "title": p.get("title") or p["name"]} for p in found["results"]]


def _has(action: str) -> bool:
    try:
        pages.action(action)
    except KeyError:
        return False
    return True


# --- what the result shows ------------------------------------------------------------------------


def _place_labels(level: str | None) -> dict[str, str]:
    if level not in LEVELS:
        return {}
    return {code: place.label for code, place in geography.places().items()}


def _label_column(checked: dict[str, Any]) -> str | None:
    """The column that labels a grouped result's rows: the first group, else the place."""
    if checked["group_by"]:
        return checked["group_by"][0]
    if checked.get("rollup"):
        return checked["rollup"]["level"]
    return None


def _value_column(result: dict[str, Any], label: str | None) -> str | None:
    """The first column of numbers that is not a group: what a chart or a map shows."""
    groups = set(result["spec"]["group_by"]) | {label}
    return next((f["id"] for f in result["fields"] if f["type"] in NUMBERS and f["id"] not in groups), None)


def chart(result: dict[str, Any]) -> dict[str, Any] | None:
    """The chart of a grouped result's page: the first column of numbers by the first group (a line
    when the groups are dates or quarters, else bars); none for a result that is not grouped."""
    checked = result["spec"]
    label = _label_column(checked)
    grouped = bool(checked["group_by"] or checked.get("rollup") or checked["aggregates"])
    value = _value_column(result, label)
    if not grouped or label is None or value is None or not result["records"]:
        return None
    types = {f["id"]: f["type"] for f in result["fields"]}
    names = (
        _place_labels(checked["rollup"]["level"]) if checked.get("rollup") and not checked["group_by"] else {}
    )
    labels = [names.get(str(r[label]), "" if r[label] is None else str(r[label])) for r in result["records"]]
    line = types.get(label) in DATES or all(QUARTER.match(t) for t in labels)
    return {
        "type": "line" if line else "bar",
        "labels": labels,
        "series": [{"label": value, "values": [r[value] for r in result["records"]]}],
        "x": label,
        "y": value,
    }


def _map_column(result: dict[str, Any]) -> str | None:
    """The column a map colours: the first aggregate (``count`` when none is named)."""
    checked = result["spec"]
    if not checked.get("rollup") or checked["rollup"]["level"] not in MAPPED:
        return None
    if checked["aggregates"]:
        return checked["aggregates"][0]["as"]
    return "count"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _format(value: float) -> str:
    return i18n.number(value, 0 if float(value).is_integer() else 2)


def legend(found: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each class's colour and range."""
    return [
        {
            "color": c["color"],
            "text": _format(c["lower"])
            if c["lower"] == c["upper"]
            else f"{_format(c['lower'])} to {_format(c['upper'])}",
        }
        for c in found
    ]


def _map_classes(result: dict[str, Any], column: str) -> list[dict[str, Any]]:
    return maps.classes([_number(r.get(column)) for r in result["records"]], "higher")


def _api(checked: dict[str, Any]) -> dict[str, str]:
    """The same query through the Action API: a GET URL and a curl POST (shell-quoted)."""
    body = json.dumps({"spec": checked}, separators=(",", ":"))
    compact = json.dumps(checked, separators=(",", ":"))
    base = tk.config.get("ckan.site_url", "").rstrip("/") + "/api/3/action/cd3p_query_run"
    quoted = "'" + body.replace("'", "'\\''") + "'"
    return {
        "get_url": f"{base}?spec={quote(compact, safe='')}",
        "curl": f"curl -X POST {base} -H 'Content-Type: application/json' -d {quoted}",
    }


# --- the workspace --------------------------------------------------------------------------------


# Error keys of list items shown at their list's field: ``columns[2]`` at ``columns``,
# ``filters[0].value[1]`` at ``filters[0].value``.
_ITEM = re.compile(r"^((?:columns|group_by|join\.columns)|filters\[\d+\]\.value)\[\d+\]$")


def field_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    """The spec's errors by the form field they belong next to."""
    found: dict[str, list[str]] = {}
    for key, messages in errors.items():
        match = _ITEM.match(key)
        found.setdefault(match.group(1) if match else key, []).extend(str(m) for m in messages)
    return found


def _page(raw: Any, page_number: int) -> dict[str, Any]:
    """One page (PAGE_SIZE rows) of a spec's result, within its own offset and limit: the action's
    answer, with the ``spec`` as checked and the ``total`` of rows the spec asks for.

    :raises ValidationError: the spec's, naming the key at fault
    """
    checked = specs.parse(raw, config.analysis_row_cap()).as_dict()
    start = (page_number - 1) * pages.PAGE_SIZE
    page_spec = {
        **checked,
        "offset": checked["offset"] + start,
        "limit": max(min(pages.PAGE_SIZE, checked["limit"] - start), 0),
    }
    result = _run(page_spec)
    result["spec"] = checked
    result["total"] = max(min((result["total"] or 0) - checked["offset"], checked["limit"]), 0)
    return result


def _workspace(raw: Any, saved: dict[str, Any] | None = None) -> str | Response:
    """The workspace for a spec (``raw``: any JSON; None: nothing asked yet). A spec with errors
    shows the form again, the errors next to their fields, with a 400."""
    fields = form_from_spec(raw)
    page_number = pages.page_number()
    errors: dict[str, Any] = {}
    result = None
    if raw is not None:
        try:
            result = _page(raw, page_number)
        except tk.ValidationError as e:
            errors = e.error_dict
        else:
            fields = form_from_spec(result["spec"])
    base_columns = _columns(fields["resource_id"])
    join_columns = _columns(fields["join_resource_id"]) if fields["join_resource_id"] else []
    usable = base_columns + [c for c in join_columns if c["id"] in fields["join_columns"]]
    extra: dict[str, Any] = {
        "fields": fields,
        "errors": errors,
        "field_errors": field_errors(errors),
        "tables": _tables(),
        "base_columns": base_columns,
        "join_columns": join_columns,
        "usable": usable,
        "ops": OPS,
        "fns": FNS,
        "levels": LEVELS,
        "result": result,
        "saved": saved,
        "can_save": tk.current_user.is_authenticated,
        "targets": _targets() if result and _has("cd3p_query_save") else [],
        "row_cap": config.analysis_row_cap(),
    }
    if result is not None:
        checked = result["spec"]
        spec_json = json.dumps(checked, separators=(",", ":"), sort_keys=True)
        pager = Page(
            collection=result["records"],
            page=page_number,
            url=partial(pages.pager_url, INDEX, {"spec": spec_json}),
            item_count=result["total"],
            items_per_page=pages.PAGE_SIZE,
        )
        pager.items = result["records"]
        label = _label_column(checked)
        extra.update(
            spec_json=spec_json,
            page=pager,
            chart=chart(result),
            api=_api(checked),
            csv_url=tk.h.url_for("cd3p_analysis.result_csv", spec=spec_json),
            place_labels=_place_labels(checked["rollup"]["level"]) if checked.get("rollup") else {},
            place_column=checked["rollup"]["level"] if checked.get("rollup") else None,
            label_column=label,
        )
        column = _map_column(result)
        if column:
            mapped = _run(checked, total=False)
            found = _map_classes(mapped, column)
            extra.update(
                map={
                    "column": column,
                    "level": checked["rollup"]["level"],
                    "legend": legend(found),
                    "geojson_url": tk.h.url_for("cd3p_analysis.result_geojson", spec=spec_json),
                    "outline_url": tk.h.url_for("cd3p_equity.city_outline"),
                    "tiles": maps.tiles(),
                }
            )
    response = tk.render("cd3p/analysis/index.html", extra)
    return (response, 400) if errors else response  # type: ignore[return-value]


def index() -> str | Response:
    return _workspace(_asked())


# --- downloads ------------------------------------------------------------------------------------


def _whole(given: Any) -> dict[str, Any]:
    try:
        return _run(given, total=False)
    except tk.ValidationError as e:
        pages.bad_request(e)


def result_csv() -> Response:
    result = _whole(_spec_arg())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [f["id"] for f in result["fields"]]
    writer.writerow([pages.csv_cell(n) for n in names])
    for record in result["records"]:
        writer.writerow([pages.csv_cell(record.get(n)) for n in names])
    return pages.download(buffer.getvalue(), pages.CSV, "cd3p-analysis.csv")


def result_geojson() -> Response:
    result = _whole(_spec_arg())
    column = _map_column(result)
    if column is None:
        pages.bad_request(
            tk.ValidationError(
                {"rollup.level": [tk._("A map needs a roll-up to council districts or neighbourhoods")]}
            )
        )
    level = result["spec"]["rollup"]["level"]
    found = _map_classes(result, column)
    names = _place_labels(level)
    features = []
    for record in result["records"]:
        code = str(record.get(level))
        number = _number(record.get(column))
        features.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": maps.geometry(level, code),
                "properties": {
                    **record,
                    "name": names.get(code, code),
                    "label": tk._("no data") if number is None else f"{column}: {_format(number)}",
                    "class": maps.class_of(number, found),
                    "color": maps.color(number, False, found),
                },
            }
        )
    return pages.geojson(
        {
            "type": "FeatureCollection",
            "level": level,
            "column": column,
            "classes": found,
            "features": features,
        }
    )


# --- saved queries --------------------------------------------------------------------------------


def saved_create() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    data = pages.form("name", "spec")
    try:
        saved = pages.call("cd3p_saved_query_create", data)
    except tk.ValidationError as e:
        pages.bad_request(e)
    tk.h.flash_success(tk._("The query is saved. Share its link: {url}").format(url=_saved_url(saved["id"])))
    return tk.redirect_to("cd3p_analysis.saved", id=saved["id"])


def _saved_url(id: str) -> str:
    return tk.h.url_for("cd3p_analysis.saved", id=id, qualified=True)


def saved_read(id: str) -> str | Response:
    saved = pages.call("cd3p_saved_query_show", {"id": id})
    can_delete = tk.current_user.is_authenticated and pages.allowed("cd3p_saved_query_delete", {"id": id})
    shown = {**saved, "url": _saved_url(saved["id"]), "can_delete": can_delete}
    return _workspace(saved["spec"], saved=shown)


def saved_delete(id: str) -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    deleted = pages.call("cd3p_saved_query_delete", {"id": id})
    tk.h.flash_success(tk._("The saved query {name} is deleted.").format(name=deleted["name"]))
    return tk.redirect_to("cd3p_analysis.queries")


def queries() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    found = pages.call("cd3p_saved_query_list", {})
    for q in found:
        q["url"] = _saved_url(q["id"])
    return tk.render("cd3p/analysis/queries.html", {"queries": found, "user_dict": tk.current_user})


# --- a result saved as a resource -----------------------------------------------------------------


def save_resource() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    data = pages.form("spec", "package_id", "name")
    try:
        created = pages.call("cd3p_query_save", data)
    except tk.ValidationError as e:
        pages.bad_request(e)
    tk.h.flash_success(tk._("The result is saved as a resource."))
    package_id = created.get("package_id") or data.get("package_id", "")
    return tk.redirect_to("resource.read", id=package_id, resource_id=created["id"])


cd3p_analysis.add_url_rule("/analysis", endpoint="index", view_func=index)
cd3p_analysis.add_url_rule("/analysis/result.csv", endpoint="result_csv", view_func=result_csv)
cd3p_analysis.add_url_rule("/analysis/result.geojson", endpoint="result_geojson", view_func=result_geojson)
cd3p_analysis.add_url_rule(
    "/analysis/saved", endpoint="saved_create", view_func=saved_create, methods=pages.POST
)
cd3p_analysis.add_url_rule("/analysis/saved/<id>", endpoint="saved", view_func=saved_read)
cd3p_analysis.add_url_rule(
    "/analysis/saved/<id>/delete", endpoint="saved_delete", view_func=saved_delete, methods=pages.POST
)
cd3p_analysis.add_url_rule("/analysis/save", endpoint="save", view_func=save_resource, methods=pages.POST)
cd3p_analysis.add_url_rule("/dashboard/queries", endpoint="queries", view_func=queries)

blueprints = [cd3p_analysis]
