"""A checked :class:`~ckanext.cd3p.analysis.spec.Spec` compiled to SQL with ``psycopg2.sql``: every
identifier quoted by :class:`psycopg2.sql.Identifier`, every value a bound parameter, every type
cast from a fixed list. No text of the spec is ever pasted into the statement.

What a spec means:

- Without ``group_by``, ``rollup`` or ``aggregates`` the result has a row per row of the first
  table (``s``), with ``columns`` (all of them when none is named, and the joined table's
  ``join.columns``).
- With any of them the result has a row per group: the ``group_by`` columns, then the place the
  ``rollup`` puts each row in (a column named after its level: the council district, neighbourhood
  or city of the tract in ``rollup.key``, through the shipped boundaries; rows whose key is no
  Detroit tract are left out), then each aggregate (``count`` of rows when none is named).
  ``columns`` may then only name grouped columns.
- ``join`` adds the second table (``j``) by a left join on the two key columns, compared as text
  (a GEOID may be a number in one table and a text in the other); ``join.columns`` are the columns
  of it a query may use.
- ``filters`` apply to the rows before any grouping; ``sort`` names result columns; rows come in a
  fixed order (the sort, then the groups or the first table's ``_id``), so pages do not overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ckan.plugins import toolkit as tk
from psycopg2 import sql

from ckanext.cd3p.analysis.spec import Filter, Spec
from ckanext.cd3p.common import geography

# DataStore column types a value may be cast to; any other type is compared as text.
CASTS = {
    "text": "text",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "numeric": "numeric",
    "float8": "double precision",
    "float4": "real",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
}
NUMBERS = ("int", "int4", "int8", "numeric", "float8", "float4")


@dataclass(frozen=True)
class Table:
    """A DataStore table as the caller may read it: the relation to query (the table, or its
    suppressed public view) and its columns' types."""

    resource_id: str
    relation: str
    fields: Mapping[str, str]  # column -> DataStore type, without _id and _full_text


# The column of a page that holds the whole result's number of rows (not a result column).
TOTAL = "_cd3p_total"


@dataclass(frozen=True)
class Compiled:
    query: sql.Composed  # the result rows, ordered, one page; its last column is TOTAL
    count: sql.Composed  # how many rows the whole result has
    params: dict[str, Any]
    fields: list[dict[str, str]]  # the result's columns: id and DataStore type


class _Refs:
    """Column references of a spec's two tables, with the errors of names that match none."""

    def __init__(self, base: Table, joined: Table | None, join_columns: Sequence[str]) -> None:
        self.base, self.joined = base, joined
        self.join_columns = [c for c in join_columns if joined and c in joined.fields]
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def col(self, name: str, key: str) -> tuple[sql.Composable, str] | None:
        """The column (its reference and type) of the first table, else of the joined one."""
        if name in self.base.fields:
            return sql.SQL("s.{}").format(sql.Identifier(name)), self.base.fields[name]
        if self.joined is not None and name in self.join_columns:
            return sql.SQL("j.{}").format(sql.Identifier(name)), self.joined.fields[name]
        self.fail(key, tk._("No such column: {name}").format(name=name))
        return None


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _typed(value: Any, typ: str, key: str, refs: _Refs, params: _Params) -> sql.Composable | None:
    """A value as a bound parameter cast to the column's type (as text for a type not in CASTS)."""
    if typ in NUMBERS and not _number(value):
        refs.fail(key, tk._("Must be a number: the column holds numbers"))
        return None
    if typ == "bool" and not isinstance(value, bool):
        refs.fail(key, tk._("Must be true or false: the column holds true/false"))
        return None
    cast = CASTS.get(typ, "text")
    text = value if typ == "bool" else str(value) if not isinstance(value, str) else value
    return sql.SQL("CAST({} AS {})").format(params.add(text), sql.SQL(cast))


def _filter(f: Filter, key: str, refs: _Refs, params: _Params) -> sql.Composable | None:
    found = refs.col(f.column, f"{key}.column")
    if found is None:
        return None
    col, typ = found
    as_text = sql.SQL("{}::text").format(col) if typ not in CASTS else col
    if f.op == "empty":
        test = sql.SQL("({c} IS NULL OR {c}::text = '')").format(c=col)
        return test if f.value else sql.SQL("NOT {}").format(test)
    if f.op == "contains":
        return sql.SQL("strpos(lower({}::text), lower({})) > 0").format(col, params.add(str(f.value)))
    if f.op == "in":
        cast = CASTS.get(typ, "text")
        if typ in NUMBERS and not all(_number(v) for v in f.value):
            refs.fail(f"{key}.value", tk._("Must be numbers: the column holds numbers"))
            return None
        values = [v if typ == "bool" else str(v) for v in f.value]
        return sql.SQL("{} = ANY(CAST({} AS {}[]))").format(as_text, params.add(values), sql.SQL(cast))
    if f.op == "between":
        low = _typed(f.value[0], typ, f"{key}.value[0]", refs, params)
        high = _typed(f.value[1], typ, f"{key}.value[1]", refs, params)
        if low is None or high is None:
            return None
        return sql.SQL("{} BETWEEN {} AND {}").format(as_text, low, high)
    value = _typed(f.value, typ, f"{key}.value", refs, params)
    if value is None:
        return None
    operator = {"eq": "=", "gte": ">=", "lte": "<="}[f.op]
    return sql.SQL("{} {} {}").format(as_text, sql.SQL(operator), value)


def rollup_places(level: str) -> tuple[list[str], list[str]]:
    """Every Detroit tract and the place of ``level`` it lies in (two parallel lists)."""
    tracts = sorted(geography.tracts().items())
    if level == "city":
        return [t for t, _ in tracts], [geography.WHOLE_CITY] * len(tracts)
    attr = "district" if level == "council_district" else "neighborhood"
    pairs = [(t, getattr(tract, attr)) for t, tract in tracts if getattr(tract, attr)]
    return [t for t, _ in pairs], [p for _, p in pairs]


_AGGREGATE_TYPES = {"count": "int8", "sum": "numeric", "mean": "float8", "median": "float8"}


def compile_spec(spec: Spec, base: Table, joined: Table | None = None) -> Compiled:
    """The statements of a spec over its tables as the caller reads them.

    :raises ValidationError: a name that is no column, a value that does not fit its column, or a
        combination that means nothing (an aggregate of text, an ungrouped column in a grouped
        query), naming the key at fault
    """
    refs = _Refs(base, joined, spec.join.columns if spec.join else ())
    params = _Params()
    sources: list[sql.Composable] = [sql.SQL("{} AS s").format(sql.Identifier(base.relation))]
    if spec.join and joined is not None:
        left = refs.col(spec.join.on[0], "join.on[0]") if spec.join.on[0] in base.fields else None
        if spec.join.on[0] not in base.fields:
            refs.fail(
                "join.on[0]", tk._("No such column of the first table: {name}").format(name=spec.join.on[0])
            )
        if spec.join.on[1] not in joined.fields:
            refs.fail(
                "join.on[1]", tk._("No such column of the joined table: {name}").format(name=spec.join.on[1])
            )
        for i, name in enumerate(spec.join.columns):
            if name not in joined.fields:
                refs.fail(
                    f"join.columns[{i}]", tk._("No such column of the joined table: {name}").format(name=name)
                )
            elif name in base.fields:
                refs.fail(
                    f"join.columns[{i}]",
                    tk._("The first table has a column of that name: {name}").format(name=name),
                )
        if left is not None and spec.join.on[1] in joined.fields:
            sources.append(
                sql.SQL("LEFT JOIN {} AS j ON {}::text = j.{}::text").format(
                    sql.Identifier(joined.relation), left[0], sql.Identifier(spec.join.on[1])
                )
            )
    place_column: str | None = None
    if spec.rollup:
        key = refs.col(spec.rollup.key, "rollup.key")
        if key is not None:
            tracts, places = rollup_places(spec.rollup.level)
            sources.append(
                sql.SQL(
                    "JOIN unnest(CAST({} AS text[]), CAST({} AS text[])) AS g(tract, place)"
                    " ON g.tract = {}::text"
                ).format(params.add(tracts), params.add(places), key[0])
            )
            place_column = spec.rollup.level
            if place_column in spec.group_by or place_column in {a.name for a in spec.aggregates}:
                refs.fail(
                    "rollup.level",
                    tk._("The result already has a column named {name}").format(name=place_column),
                )
    where = [
        w for i, f in enumerate(spec.filters) if (w := _filter(f, f"filters[{i}]", refs, params)) is not None
    ]

    selects: list[sql.Composable] = []
    fields: list[dict[str, str]] = []
    keys: list[sql.Composable] = []
    if spec.grouped:
        for i, name in enumerate(spec.group_by):
            found = refs.col(name, f"group_by[{i}]")
            if found is not None:
                selects.append(sql.SQL("{} AS {}").format(found[0], sql.Identifier(name)))
                keys.append(found[0])
                fields.append({"id": name, "type": found[1]})
        for i, name in enumerate(spec.columns):
            if name not in spec.group_by:
                refs.fail(f"columns[{i}]", tk._("In a grouped query a column must be grouped or aggregated"))
        if place_column:
            selects.append(sql.SQL("g.place AS {}").format(sql.Identifier(place_column)))
            keys.append(sql.SQL("g.place"))
            fields.append({"id": place_column, "type": "text"})
        aggregates = spec.aggregates or ()
        if not aggregates:
            selects.append(sql.SQL("count(*) AS {}").format(sql.Identifier("count")))
            fields.append({"id": "count", "type": "int8"})
        for i, a in enumerate(aggregates):
            akey = f"aggregates[{i}]"
            if a.name in spec.group_by:
                refs.fail(
                    f"{akey}.as", tk._("The result already has a column named {name}").format(name=a.name)
                )
            if a.column is None:
                selects.append(sql.SQL("count(*) AS {}").format(sql.Identifier(a.name)))
                fields.append({"id": a.name, "type": "int8"})
                continue
            found = refs.col(a.column, f"{akey}.column")
            if found is None:
                continue
            col, typ = found
            if a.fn in ("sum", "mean", "median") and typ not in NUMBERS:
                refs.fail(f"{akey}.column", tk._("{fn} needs a column of numbers").format(fn=a.fn))
                continue
            expression = {
                "count": sql.SQL("count({})").format(col),
                "sum": sql.SQL("sum({})").format(col),
                "mean": sql.SQL("avg({})").format(col),
                "min": sql.SQL("min({})").format(col),
                "max": sql.SQL("max({})").format(col),
                "median": sql.SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY {})").format(col),
            }[a.fn]
            selects.append(sql.SQL("{} AS {}").format(expression, sql.Identifier(a.name)))
            fields.append({"id": a.name, "type": _AGGREGATE_TYPES.get(a.fn, typ)})
    else:
        names = list(spec.columns) or [*base.fields, *refs.join_columns]
        for i, name in enumerate(names):
            found = refs.col(name, f"columns[{i}]")
            if found is not None:
                selects.append(sql.SQL("{} AS {}").format(found[0], sql.Identifier(name)))
                fields.append({"id": name, "type": found[1]})
    output = [f["id"] for f in fields]
    if len(set(output)) != len(output):
        refs.fail("columns", tk._("Each result column needs its own name"))
    order: list[sql.Composable] = []
    for i, s in enumerate(spec.sort):
        if s.column not in output:
            refs.fail(f"sort[{i}].column", tk._("Not a column of the result: {name}").format(name=s.column))
            continue
        order.append(
            sql.SQL("{} {} NULLS LAST").format(sql.Identifier(s.column), sql.SQL("DESC" if s.desc else "ASC"))
        )
    if refs.errors:
        raise tk.ValidationError(refs.errors)
    if not selects:
        raise tk.ValidationError({"columns": [tk._("The result has no column")]})

    # The page carries the whole result's size (a window over the result, computed in the same
    # pass); ``count`` is for a page past the end, which has no row to carry it.
    counted = [*selects, sql.SQL("count(*) OVER () AS {}").format(sql.Identifier(TOTAL))]
    body = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selects), sql.SQL(" ").join(sources))
    paged = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(counted), sql.SQL(" ").join(sources))
    tail: list[sql.Composable] = []
    if where:
        tail.append(sql.SQL("WHERE {}").format(sql.SQL(" AND ").join(where)))
    if spec.grouped and keys:
        tail.append(sql.SQL("GROUP BY {}").format(sql.SQL(", ").join(keys)))
    if tail:
        body = sql.SQL("{} {}").format(body, sql.SQL(" ").join(tail))
        paged = sql.SQL("{} {}").format(paged, sql.SQL(" ").join(tail))
    order += (
        [sql.SQL("{} ASC NULLS LAST").format(sql.Identifier(f["id"])) for f in fields[: len(keys)]]
        if spec.grouped
        else [sql.SQL("s._id")]
    )
    ordered = sql.SQL("{} ORDER BY {}").format(paged, sql.SQL(", ").join(order)) if order else paged
    query = sql.SQL("{} LIMIT {} OFFSET {}").format(ordered, params.add(spec.limit), params.add(spec.offset))
    count = sql.SQL("SELECT count(*) FROM ({}) AS result").format(body)
    return Compiled(query=query, count=count, params=params.values, fields=fields)
