"""A query's spec: the JSON a client sends, checked into a :class:`Spec` before anything is compiled.

The keys are fixed (clients rely on them; extend, never change)::

    {"resource_id": "...", "columns": ["geoid", "households"],
     "filters": [{"column": "households", "op": "gte", "value": 100}],
     "join": {"resource_id": "...", "on": ["geoid", "GEOID"], "columns": ["no_internet"]},
     "group_by": ["some_column"], "rollup": {"key": "geoid", "level": "council_district"},
     "aggregates": [{"fn": "sum", "column": "households", "as": "households"}],
     "sort": [{"column": "households", "desc": true}], "limit": 100, "offset": 0}

A spec that breaks a rule is a ValidationError whose key names the place at fault
(``filters[0].op``), which the Action API answers with a 409. Column names are checked against the
tables later (:mod:`compiler`); here only their form is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import inputs

OPS = ("eq", "in", "gte", "lte", "between", "contains", "empty")
FNS = ("count", "sum", "mean", "min", "max", "median")
LEVELS = ("council_district", "neighborhood", "city")
KEYS = (
    "resource_id",
    "columns",
    "filters",
    "join",
    "group_by",
    "rollup",
    "aggregates",
    "sort",
    "limit",
    "offset",
)
MAX_NAME = 63  # PostgreSQL's identifier length
MAX_ITEMS = 50  # columns, filters, groups, aggregates or sort keys in one spec
MAX_IN = 1000  # values of one ``in`` filter
MAX_TEXT = 1000  # characters of one filter value


Scalar = str | int | float | bool


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Join:
    resource_id: str
    on: tuple[str, str]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Rollup:
    key: str
    level: str


@dataclass(frozen=True)
class Aggregate:
    fn: str
    column: str | None
    name: str


@dataclass(frozen=True)
class Sort:
    column: str
    desc: bool = False


@dataclass(frozen=True)
class Spec:
    resource_id: str
    columns: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    join: Join | None = None
    group_by: tuple[str, ...] = ()
    rollup: Rollup | None = None
    aggregates: tuple[Aggregate, ...] = ()
    sort: tuple[Sort, ...] = ()
    limit: int = 100
    offset: int = 0
    resource_ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        ids = (self.resource_id,) + ((self.join.resource_id,) if self.join else ())
        object.__setattr__(self, "resource_ids", ids)

    @property
    def grouped(self) -> bool:
        """Whether the result has a row per group (group by, roll-up or aggregates) rather than per row."""
        return bool(self.group_by or self.rollup or self.aggregates)

    def as_dict(self) -> dict[str, Any]:
        """The spec in its JSON form, every default written out (what is saved and shown)."""
        out: dict[str, Any] = {"resource_id": self.resource_id, "columns": list(self.columns)}
        out["filters"] = [
            {
                "column": f.column,
                "op": f.op,
                **({} if f.op == "empty" and f.value is None else {"value": f.value}),
            }
            for f in self.filters
        ]
        if self.join:
            out["join"] = {
                "resource_id": self.join.resource_id,
                "on": list(self.join.on),
                "columns": list(self.join.columns),
            }
        out["group_by"] = list(self.group_by)
        if self.rollup:
            out["rollup"] = {"key": self.rollup.key, "level": self.rollup.level}
        out["aggregates"] = [
            {"fn": a.fn, **({"column": a.column} if a.column else {}), "as": a.name} for a in self.aggregates
        ]
        out["sort"] = [{"column": s.column, "desc": s.desc} for s in self.sort]
        out["limit"], out["offset"] = self.limit, self.offset
        return out


class _Errors:
    """The problems found, by the key at fault."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.found.setdefault(key, []).append(message)

    def raise_any(self) -> None:
        if self.found:
            raise tk.ValidationError(self.found)


def _name(value: Any, key: str, errors: _Errors) -> str | None:
    """A column name or output name: text of 1 to 63 characters, nothing unsafe in it."""
    if not isinstance(value, str) or not value.strip():
        errors.add(key, tk._("Must be a column name (text)"))
        return None
    if len(value) > MAX_NAME:
        errors.add(key, tk._("At most {n} characters").format(n=MAX_NAME))
        return None
    reason = inputs.unsafe(value)
    if reason or value.startswith("_"):
        errors.add(key, reason or tk._("Names starting with _ are the DataStore's own"))
        return None
    return value


def _names(value: Any, key: str, errors: _Errors) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add(key, tk._("Must be a list of column names"))
        return ()
    if len(value) > MAX_ITEMS:
        errors.add(key, tk._("At most {n} items").format(n=MAX_ITEMS))
        return ()
    found = [_name(v, f"{key}[{i}]", errors) for i, v in enumerate(value)]
    return tuple(n for n in found if n is not None)


def _list(value: Any, key: str, errors: _Errors) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(key, tk._("Must be a list"))
        return []
    if len(value) > MAX_ITEMS:
        errors.add(key, tk._("At most {n} items").format(n=MAX_ITEMS))
        return []
    return value


def _object(value: Any, key: str, errors: _Errors, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors.add(key, tk._("Must be an object"))
        return None
    unknown = sorted(str(k) for k in value if k not in keys)
    if unknown:
        errors.add(
            key,
            tk._("Unknown keys: {keys}; the keys are {known}").format(
                keys=", ".join(unknown)[:200], known=", ".join(keys)
            ),
        )
        return None
    return value


def _scalar(value: Any, key: str, errors: _Errors) -> Scalar | None:
    if isinstance(value, bool) or (isinstance(value, int) and abs(value) <= inputs.MAX_BIGINT):
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            errors.add(key, tk._("At most {n} characters").format(n=MAX_TEXT))
            return None
        reason = inputs.unsafe(value)
        if reason:
            errors.add(key, reason)
            return None
        return value
    errors.add(key, tk._("Must be a text, a number or true/false"))
    return None


def _filter(value: Any, key: str, errors: _Errors) -> Filter | None:
    item = _object(value, key, errors, ("column", "op", "value"))
    if item is None:
        return None
    column = _name(item.get("column"), f"{key}.column", errors)
    op = item.get("op")
    if op not in OPS:
        errors.add(f"{key}.op", tk._("Must be one of {ops}").format(ops=", ".join(OPS)))
        return None
    raw = item.get("value")
    vkey = f"{key}.value"
    if op == "empty":
        if raw not in (None, True, False):
            errors.add(vkey, tk._("Must be true (empty), false (not empty) or absent"))
            return None
        found: Any = True if raw is None else raw
    elif op == "in":
        if not isinstance(raw, list) or not raw or len(raw) > MAX_IN:
            errors.add(vkey, tk._("Must be a list of 1 to {n} values").format(n=MAX_IN))
            return None
        found = [_scalar(v, f"{vkey}[{i}]", errors) for i, v in enumerate(raw)]
    elif op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            errors.add(vkey, tk._("Must be a list of two values: [low, high]"))
            return None
        found = [_scalar(v, f"{vkey}[{i}]", errors) for i, v in enumerate(raw)]
    elif op == "contains":
        if not isinstance(raw, str) or not raw:
            errors.add(vkey, tk._("Must be a text to look for"))
            return None
        found = _scalar(raw, vkey, errors)
    else:
        if raw is None:
            errors.add(vkey, tk._("Missing value"))
            return None
        found = _scalar(raw, vkey, errors)
    return Filter(column, op, found) if column else None


def _join(value: Any, errors: _Errors) -> Join | None:
    item = _object(value, "join", errors, ("resource_id", "on", "columns"))
    if item is None:
        return None
    resource_id = inputs.text_id(item.get("resource_id"))
    if not resource_id:
        errors.add("join.resource_id", tk._("Must be the id of a DataStore resource"))
    on = item.get("on")
    pair: tuple[str, str] | None = None
    if isinstance(on, str):
        on = [on, on]
    if not isinstance(on, list) or len(on) != 2:
        errors.add("join.on", tk._("Must be [column of the first table, column of the second]"))
    else:
        left, right = _name(on[0], "join.on[0]", errors), _name(on[1], "join.on[1]", errors)
        pair = (left, right) if left and right else None
    columns = _names(item.get("columns"), "join.columns", errors)
    if resource_id and pair:
        return Join(resource_id, pair, columns)
    return None


def _rollup(value: Any, errors: _Errors) -> Rollup | None:
    item = _object(value, "rollup", errors, ("key", "level"))
    if item is None:
        return None
    key = _name(item.get("key"), "rollup.key", errors)
    level = item.get("level")
    if level not in LEVELS:
        errors.add("rollup.level", tk._("Must be one of {levels}").format(levels=", ".join(LEVELS)))
        return None
    return Rollup(key, level) if key else None


def _aggregate(value: Any, key: str, errors: _Errors) -> Aggregate | None:
    item = _object(value, key, errors, ("fn", "column", "as"))
    if item is None:
        return None
    fn = item.get("fn")
    if fn not in FNS:
        errors.add(f"{key}.fn", tk._("Must be one of {fns}").format(fns=", ".join(FNS)))
        return None
    column = None
    if item.get("column") is not None or fn != "count":
        column = _name(item.get("column"), f"{key}.column", errors)
        if column is None:
            return None
    name = _name(item.get("as") or (f"{fn}_{column}" if column else fn), f"{key}.as", errors)
    return Aggregate(fn, column, name) if name else None


def _sort(value: Any, key: str, errors: _Errors) -> Sort | None:
    if isinstance(value, str):
        value = {"column": value}
    item = _object(value, key, errors, ("column", "desc"))
    if item is None:
        return None
    column = _name(item.get("column"), f"{key}.column", errors)
    desc = item.get("desc", False)
    if not isinstance(desc, bool):
        errors.add(f"{key}.desc", tk._("Must be true or false"))
        return None
    return Sort(column, desc) if column else None


def _number(value: Any, key: str, default: int, low: int, high: int, errors: _Errors) -> int:
    if value is None:
        return default
    number = inputs.whole_number(value) if not isinstance(value, bool) else None
    if number is None or not low <= number <= high:
        errors.add(key, tk._("Must be a whole number from {low} to {high}").format(low=low, high=high))
        return default
    return number


def parse(raw: Any, row_cap: int) -> Spec:
    """The spec checked (a dict, or its JSON text).

    :raises ValidationError: naming each key at fault
    """
    errors = _Errors()
    if isinstance(raw, str):
        try:
            raw = inputs.parse_json(raw)
        except ValueError:
            raise tk.ValidationError({"spec": [tk._("Must be a JSON object")]}) from None
    if not isinstance(raw, dict):
        raise tk.ValidationError({"spec": [tk._("Must be a JSON object")]})
    unknown = sorted(str(k)[:60] for k in raw if k not in KEYS)
    if unknown:
        errors.add(
            "spec",
            tk._("Unknown keys: {keys}; the keys are {known}").format(
                keys=", ".join(unknown)[:300], known=", ".join(KEYS)
            ),
        )
    resource_id = inputs.text_id(raw.get("resource_id"))
    if not resource_id:
        errors.add("resource_id", tk._("Must be the id of a DataStore resource"))
    columns = _names(raw.get("columns"), "columns", errors)
    filters = [
        _filter(v, f"filters[{i}]", errors)
        for i, v in enumerate(_list(raw.get("filters"), "filters", errors))
    ]
    join = _join(raw["join"], errors) if raw.get("join") is not None else None
    group_by = _names(raw.get("group_by"), "group_by", errors)
    rollup = _rollup(raw["rollup"], errors) if raw.get("rollup") is not None else None
    aggregates = [
        _aggregate(v, f"aggregates[{i}]", errors)
        for i, v in enumerate(_list(raw.get("aggregates"), "aggregates", errors))
    ]
    sort = [_sort(v, f"sort[{i}]", errors) for i, v in enumerate(_list(raw.get("sort"), "sort", errors))]
    limit = _number(raw.get("limit"), "limit", min(100, row_cap), 0, row_cap, errors)
    offset = _number(raw.get("offset"), "offset", 0, 0, inputs.MAX_BIGINT, errors)
    names = [a.name for a in aggregates if a]
    if len(set(names)) != len(names):
        errors.add("aggregates", tk._("Each aggregate needs its own name (as)"))
    errors.raise_any()
    assert resource_id is not None
    return Spec(
        resource_id=resource_id,
        columns=columns,
        filters=tuple(f for f in filters if f),
        join=join,
        group_by=group_by,
        rollup=rollup,
        aggregates=tuple(a for a in aggregates if a),
        sort=tuple(s for s in sort if s),
        limit=limit,
        offset=offset,
    )


def canonical(spec: Spec) -> str:
    """The spec as compact JSON with sorted keys: what a saved query and a derived resource keep."""
    return json.dumps(spec.as_dict(), sort_keys=True, separators=(",", ":"))
