"""Small-cell suppression of public DataStore tables.

A resource of a public dataset may name its *count columns* (the resource field ``count_columns``,
comma-separated): columns that count people or households. For such a resource the DataStore
holds two relations:

- the raw table ``"<resource id>"``, as loaded. It is read by sysadmins, by members of the
  dataset's own organization and by the partner tier (members of organizations with a current
  signed agreement, :func:`ckanext.cd3p.common.partners.in_partner_tier`): :func:`privacy.sees_raw`;
- the public view ``"<resource id>_public"`` (:func:`create_view`), read by everyone else. In it a
  count from 1 to below the dataset's small-cell threshold reads as no value (0 stays 0). Its
  ``_full_text`` column is computed again from the other columns only, since the raw table's
  holds the raw counts: a full-text search for "3" would otherwise find the row of a suppressed 3.

The loader (:mod:`ckanext.cd3p.ingestion.loading`) makes the view in the load's own transaction, so a table
is never public without its view. The view records what it was made with (threshold and count
columns, as a JSON comment); a view made with a lower threshold or fewer count columns than the
dataset now asks for is not served (:func:`serves`), and a change of those settings makes it again
(:func:`sync_views`, after ``package_update``). A table changed through ``datastore_create`` has
its view set aside meanwhile, as PostgreSQL will not drop or retype a column a view reads, and
made again after (:func:`set_aside`, :func:`refresh`). Dropping the table drops the view.

Where the public meets the view:

- ``datastore_search`` (the API, the data preview, the DataStore dump) is chained in
  ``logic/action.py``. The DataStore treats every view of a table as one of its *aliases*: its
  ``_table_metadata`` lists a view with the table the view reads, and ``datastore_search`` swaps an
  alias for that table before it searches. Asking core for ``<id>_public`` would therefore read the
  raw table, so the chained action validates, checks access on the resource, and has the
  DataStore backend search the view by its own name.
- ``datastore_search_sql`` is checked against the tables the query's plan reads, and a view's plan
  reads the raw table. The chained auth function (``logic/auth.py``) plans the query again with the
  views' names taken by empty stand-ins (a ``WITH`` clause): a raw table still read was named
  directly (:func:`raw_tables_read`).
- the raw uploaded file is downloaded as the DataStore dump of the view
  (:func:`ckanext.cd3p.ingestion.views.guard_download`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context
from sqlalchemy.orm import selectinload

from ckanext.cd3p.common import inputs, privacy
from ckanext.datastore.backend.postgres import get_read_engine, get_write_engine, identifier, literal_string

log = logging.getLogger(__name__)


# What an unreadable count_columns value counts as: a name that matches no column.
UNREADABLE = "(count_columns unreadable)"


VIEW_SUFFIX = "_public"


MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1, in bytes


# A count held as text that is a plain number ("3", " 3 ", "3.0", "+3", "3e0"): only these are
# compared with the threshold; any other text ("n/a", "<5", "1,234") is shown as it is.
NUMBER_PATTERN = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$"


NUMBER_TYPES = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8"})


STRING_CATEGORY = "S"  # pg_type.typcategory of text, varchar, char


# How long a metadata update waits for a table a load is replacing before it leaves the view as
# the load makes it (seconds).
SYNC_LOCK_TIMEOUT = 2


# How long planning a datastore_search_sql query again may take (milliseconds).
PLAN_TIMEOUT = 10_000


def not_ready_message() -> str:
    return tk._("This table's public, suppressed view is not ready yet; try again after its load finishes.")


# --- the settings ---------------------------------------------------------------------------------


def parse_count_columns(value: Any) -> list[str]:
    """Count column names from what a resource holds or is given: a list, comma-separated text, or
    a JSON list as text (what the API stored before the schema made one form). Names stripped (of
    quotes too), without empty names or repeats, in the order given.

    :raises ValueError: a value of another type, or a list with an item that is not text
    """
    if value is None:
        return []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = inputs.parse_json(value)
        except ValueError:
            value = value.strip().strip("[]")
    if isinstance(value, list | tuple):
        if not all(isinstance(name, str) for name in value):
            raise ValueError("count column names must be text")
        names = list(value)
    elif isinstance(value, str):
        names = value.split(",")
    else:
        raise ValueError("count columns must be a list or comma-separated text")
    return list(dict.fromkeys(n for n in (name.strip().strip("\"'").strip() for name in names) if n))


def count_columns(resource: dict[str, Any]) -> list[str]:
    """The resource's count columns (:func:`parse_count_columns`). A value that cannot be read names
    a column no table has, so that the table is treated as all counts (:func:`create_view`)."""
    try:
        return parse_count_columns(resource.get("count_columns"))
    except ValueError:
        return [UNREADABLE]


def applies(dataset: dict[str, Any], resource: dict[str, Any]) -> bool:
    """Whether the resource's table is read by the public through its suppressed view: the dataset
    is public (its access level says so, or its private flag is off, whichever set it) and the
    resource names count columns."""
    public = dataset.get("access_level") == "public" or dataset.get("private") is False
    return public and bool(count_columns(resource))


def view_name(resource_id: str) -> str:
    """The name of the resource's public view: ``<resource id>_public``.

    :raises ValueError: the name would be longer than PostgreSQL keeps (63 bytes)
    """
    name = f"{resource_id}{VIEW_SUFFIX}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise ValueError(f"The view name {name!r} is longer than {MAX_IDENTIFIER} bytes")
    return name


# --- who reads which relation ----------------------------------------------------------------------


class Suppressed(NamedTuple):
    """A table that a caller reads through its public view."""

    resource_id: str
    dataset: dict[str, Any]
    resource: dict[str, Any]

    @property
    def view(self) -> str:
        return view_name(self.resource_id)


def dataset_facts(pkg: model.Package) -> dict[str, Any]:
    """The dataset settings suppression reads (access level, threshold, owner), from the model."""
    extras = pkg.extras
    return {
        "id": pkg.id,
        "owner_org": pkg.owner_org,
        "private": pkg.private,
        "access_level": extras.get("access_level"),
        "small_cell_threshold": extras.get("small_cell_threshold"),
    }


def resource_facts(resource: model.Resource) -> dict[str, Any]:
    """The resource setting suppression reads (its count columns), from the model."""
    return {"id": resource.id, "count_columns": (resource.extras or {}).get("count_columns")}


def _facts(resource_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The dataset and resource settings suppression reads, from the model, when the resource
    names count columns (one query when it does not, three when it does)."""
    resource = model.Resource.get(resource_id)
    if resource is None:
        return None
    facts = resource_facts(resource)
    if not count_columns(facts):
        return None
    pkg = model.Package.get(resource.package_id)
    if pkg is None:
        return None
    return dataset_facts(pkg), facts


def resolve(ref: str) -> str | None:
    """The resource id of a DataStore name: a resource id, or an alias (the public view is one)."""
    if model.Resource.get(ref) is not None:
        return ref
    if ref.endswith(VIEW_SUFFIX) and model.Resource.get(ref[: -len(VIEW_SUFFIX)]) is not None:
        return ref[: -len(VIEW_SUFFIX)]
    from ckanext.datastore.backend import DatastoreBackend

    _exists, real_id = DatastoreBackend.get_active_backend().resource_id_from_alias(ref)
    return real_id


def for_caller(context: Context, ref: Any) -> Suppressed | None:
    """The table the caller must read through its public view, or None when it reads what it asked
    for. ``ref`` is what ``datastore_search`` was given (a resource id or an alias). Asking for the
    public view by its name always reads it, whoever asks."""
    if not isinstance(ref, str) or not ref or ref == "_table_metadata":
        return None
    resource_id = resolve(ref)
    facts = _facts(resource_id) if resource_id else None
    if resource_id is None or facts is None or not applies(*facts):
        return None
    dataset, resource = facts
    if ref != view_name(resource_id) and privacy.sees_raw(context, dataset):
        return None
    return Suppressed(resource_id, dataset, resource)


# --- the view -------------------------------------------------------------------------------------


def _execute(conn: sa.Connection, statement: str) -> None:
    """Runs generated SQL: names may hold colons, which are not bind parameters."""
    conn.execute(sa.text(statement.replace(":", r"\:")))


def _columns(conn: sa.Connection, relation: str) -> list[sa.Row[Any]]:
    """A table's or view's columns in order: name, type name, type category, full type, comment."""
    return list(
        conn.execute(
            sa.text(
                "SELECT a.attname, t.typname, t.typcategory, format_type(a.atttypid, a.atttypmod), "
                "col_description(a.attrelid, a.attnum) "
                "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = to_regclass(:relation) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum"
            ),
            {"relation": f"public.{identifier(relation)}"},
        )
    )


def _suppressed(column: str, typname: str, category: str, full_type: str, k: int) -> str:
    """The expression of a count column in the view: counts above 0 and below ``k`` become NULL.

    A number column is compared as it is; a text column only where its value is a plain number (a
    nested CASE, as PostgreSQL does not promise the order in which AND evaluates). A count column of
    any other type (a date, an array) cannot be compared, so it is withheld altogether.
    """
    c = identifier(column)
    if typname in NUMBER_TYPES:
        return f"CASE WHEN {c} > 0 AND {c} < {k:d} THEN NULL ELSE {c} END"
    if category == STRING_CATEGORY:
        number = f"CAST({c} AS numeric)"
        return (
            f"CASE WHEN {c} ~ {literal_string(NUMBER_PATTERN)} THEN "
            f"CASE WHEN {number} > 0 AND {number} < {k:d} THEN NULL ELSE {c} END "
            f"ELSE {c} END"
        )
    return f"CAST(NULL AS {full_type})"


def matching(names: list[str], counts: Iterable[str]) -> set[str]:
    """The columns named as counts: exactly, or else ignoring case (all such columns, when a
    name matches several: a count left unsuppressed by a mistyped capital is the worse mistake)."""
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(name.casefold(), []).append(name)
    wanted: set[str] = set()
    for count in counts:
        wanted.update([count] if count in names else folded.get(count.casefold(), []))
    return wanted


def create_view(
    conn: sa.Connection, resource_id: str, fields: list[dict[str, Any]], counts: list[str], threshold: int
) -> list[str]:
    """(Re)makes the resource's public view, in the caller's transaction on the DataStore's write
    connection.

    The view has ``_id``, a ``_full_text`` computed from the columns that are not counts, and the
    ``fields`` in their order, each count column among them suppressed (:func:`_suppressed`). Column
    types are read from the table itself; the data dictionary (column comments) is copied onto the
    view, and the view's comment records the threshold and columns it was made with.

    :param fields: the table's columns, ``[{"id": ..., "type": ...}]`` (``_``-prefixed ones ignored)
    :param counts: the count columns, matched to the table's exactly or else ignoring case. When a
        name matches no column, the view cannot tell which columns count people, so it fails
        closed: every column is suppressed as a count, and the name is recorded as ``unresolved``
    :param threshold: counts from 1 to below it are suppressed (an integer of at least 1)
    :returns: the count columns suppressed in the view
    :raises ValueError: the table does not exist, a field is not one of its columns, or the
        threshold is not a positive integer
    """
    if isinstance(threshold, bool) or int(threshold) != threshold or int(threshold) < 1:
        raise ValueError(f"The small-cell threshold must be a positive integer, not {threshold!r}")
    k = int(threshold)
    view = identifier(view_name(resource_id))
    columns = {row[0]: row for row in _columns(conn, resource_id)}
    if not columns:
        raise ValueError(f"The DataStore has no table {resource_id}")
    names = [f["id"] for f in fields if not f["id"].startswith("_")]
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"The table {resource_id} has no columns {missing}")
    unresolved = [c for c in dict.fromkeys(counts) if not matching(names, [c])]
    wanted = set(names) if unresolved else matching(names, counts)
    applied = [n for n in names if n in wanted]
    others = [identifier(n) for n in names if n not in wanted]
    full_text = f"to_tsvector(concat_ws(' ', {', '.join(others)}))" if others else "to_tsvector('')"
    select = ['"_id"', f'{full_text} AS "_full_text"']
    for name in names:
        if name in wanted:
            _name, typname, category, full_type, _comment = columns[name]
            select.append(f"{_suppressed(name, typname, category, full_type, k)} AS {identifier(name)}")
        else:
            select.append(identifier(name))
    _execute(conn, f"DROP VIEW IF EXISTS {view}")
    _execute(conn, f"CREATE VIEW {view} AS SELECT {', '.join(select)} FROM {identifier(resource_id)}")
    made = {
        "threshold": k,
        "columns": applied,
        "count_columns": list(dict.fromkeys(counts)),
        "unresolved": unresolved,
    }
    comments = [f"COMMENT ON VIEW {view} IS {literal_string(json.dumps(made))}"]
    comments += [
        f"COMMENT ON COLUMN {view}.{identifier(name)} IS {literal_string(columns[name][4])}"
        for name in names
        if columns[name][4]
    ]
    _execute(conn, ";\n".join(comments))
    return applied


def drop_view(conn: sa.Connection, resource_id: str) -> None:
    """Drops the resource's public view, if there is one (in the caller's transaction)."""
    _execute(conn, f"DROP VIEW IF EXISTS {identifier(view_name(resource_id))}")


def view_state(resource_id: str) -> dict[str, Any] | None:
    """What the resource's public view was made with (``threshold``, ``columns`` suppressed,
    ``count_columns`` asked for), or None when there is no view. One query."""
    with get_read_engine().connect() as conn:
        comment = conn.execute(
            sa.text("SELECT obj_description(to_regclass(:view), 'pg_class')"),
            {"view": f"public.{identifier(view_name(resource_id))}"},
        ).scalar()
    if comment is None:
        return None
    try:
        made = json.loads(comment)
    except ValueError:
        return {}
    return made if isinstance(made, dict) else {}


def serves(made: dict[str, Any] | None, dataset: dict[str, Any], resource: dict[str, Any]) -> bool:
    """Whether a view made as ``made`` (:func:`view_state`) may be served for the settings now: it
    exists, with a threshold at least the dataset's and every count column the resource names."""
    if not made:
        return False
    try:
        made_threshold = int(made.get("threshold") or 0)
    except (TypeError, ValueError):
        return False
    return made_threshold >= privacy.threshold(dataset) and set(count_columns(resource)) <= set(
        made.get("count_columns") or []
    )


def _current(made: dict[str, Any] | None, dataset: dict[str, Any], resource: dict[str, Any]) -> bool:
    """Whether a view made as ``made`` was made with exactly the settings now."""
    if not made:
        return False
    same_columns = made.get("count_columns") == count_columns(resource)
    return made.get("threshold") == privacy.threshold(dataset) and same_columns


def table_columns(resource_id: str) -> list[str] | None:
    """The names of the columns of the resource's DataStore table (``_``-prefixed ones left out), or
    None if it has none. One query."""
    with get_read_engine().connect() as conn:
        fields = table_fields(conn, resource_id)
    return None if fields is None else [f["id"] for f in fields]


def table_fields(conn: sa.Connection, resource_id: str) -> list[dict[str, Any]] | None:
    """The table's own columns as :func:`create_view` takes them, or None if there is no table."""
    rows = _columns(conn, resource_id)
    if not rows:
        return None
    return [{"id": row[0], "type": row[1]} for row in rows if not row[0].startswith("_")]


def sync_view(dataset: dict[str, Any], resource: dict[str, Any], force: bool = False) -> bool:
    """Makes the resource's view again if the dataset's threshold or the resource's count columns
    changed since it was made, or it is missing while the table exists (always, with ``force``).
    Returns whether it did."""
    resource_id = resource["id"]
    if not force and _current(view_state(resource_id), dataset, resource):
        return False
    with get_write_engine().begin() as conn:
        _execute(conn, f"SET LOCAL lock_timeout = '{SYNC_LOCK_TIMEOUT:d}s'")
        fields = table_fields(conn, resource_id)
        if fields is None:
            return False
        create_view(conn, resource_id, fields, count_columns(resource), privacy.threshold(dataset))
    return True


def sync_views(dataset: dict[str, Any]) -> None:
    """After a dataset is updated: the view of each of its suppressed tables follows the settings.

    A failure is logged, not raised: the update stands, and a view that no longer matches the
    settings is not served (:func:`serves`) until it is made again.
    """
    for resource in dataset.get("resources") or []:
        if not resource.get("datastore_active") or not applies(dataset, resource):
            continue
        try:
            sync_view(dataset, resource)
        except Exception:
            log.warning("cd3p: the public view of %s was not made again", resource.get("id"), exc_info=True)


def set_aside(resource_id: str) -> None:
    """Before ``datastore_create`` changes a table: its view, if it has one, is dropped, as
    PostgreSQL will not drop or retype a column a view reads (:func:`refresh` makes it again).
    A failure is logged, not raised: core then reports what it cannot do."""
    if view_state(resource_id) is None:
        return
    try:
        with get_write_engine().begin() as conn:
            _execute(conn, f"SET LOCAL lock_timeout = '{SYNC_LOCK_TIMEOUT:d}s'")
            drop_view(conn, resource_id)
    except Exception:
        log.warning("cd3p: the public view of %s was not dropped", resource_id, exc_info=True)


def refresh(resource_id: str) -> None:
    """After ``datastore_create`` changed (or failed to change) a table: its view is made again if
    suppression applies (core also drops a table's views with its aliases, and the view lists the
    table's columns). A failure is logged, not raised (see :func:`sync_views`)."""
    facts = _facts(resource_id)
    if facts is None or not applies(*facts):
        return
    try:
        sync_view(*facts, force=True)
    except Exception:
        log.warning("cd3p: the public view of %s was not made again", resource_id, exc_info=True)


# --- datastore_search_sql ---------------------------------------------------------------------------


def refused_tables(context: Context, table_names: Iterable[str], sql: str) -> list[str]:
    """The raw tables of suppressed resources that a ``datastore_search_sql`` query reads other than
    through their public views, for this caller (empty: the query may go on to core's check).

    :param table_names: the tables the query's plan reads (given by the DataStore to the auth
        function); a view never appears there, only the tables it reads
    """
    names = list(dict.fromkeys(table_names))
    if not names:
        return []
    candidates = []
    # The resources, their datasets and the datasets' extras in two queries, however many tables
    rows = (
        model.Session.query(model.Resource, model.Package)
        .join(model.Package, model.Package.id == model.Resource.package_id)
        .filter(model.Resource.id.in_(names))
        .options(selectinload(model.Package._extras))
    )
    for resource, pkg in rows:
        dataset = dataset_facts(pkg)
        if applies(dataset, resource_facts(resource)) and not privacy.sees_raw(context, dataset):
            candidates.append(resource.id)
    if not candidates:
        return []
    read = raw_tables_read(sql, candidates)
    return [name for name in candidates if name in read]


def raw_tables_read(sql: str, resource_ids: list[str]) -> set[str]:
    """Which of the tables a query reads when the names of their public views stand for empty
    relations of the same columns: those it reads other than through the view's unqualified name
    (named directly, through another alias, or as ``public."<id>_public"``).

    The query is planned, never run, as the DataStore plans it (wrapped the same way, by the
    read-only user), preceded by a ``WITH`` clause that defines each view's name as an empty
    stand-in, empty by a volatile condition (``random() < 0``) that the planner cannot fold away
    with the joins around it, as it would ``WHERE false``. A query's unqualified names are looked up
    among its ``WITH`` names first, and no data definition (or temporary object) is needed.
    Anything unexpected counts every table as read.
    """
    from ckanext.datastore.helpers import get_table_and_function_names_from_sql, is_single_statement

    if not is_single_statement(sql):
        return set(resource_ids)
    rows_max = int(tk.config.get("ckan.datastore.search.rows_max"))
    try:
        with get_read_engine().connect() as conn:
            _execute(conn, f"SET LOCAL statement_timeout = {PLAN_TIMEOUT:d}")
            stand_ins = []
            for resource_id in resource_ids:
                columns = _columns(conn, view_name(resource_id))
                if not columns:
                    continue  # no view: the query cannot be reading it
                empty = ", ".join(
                    f"CAST(NULL AS {full_type}) AS {identifier(name)}"
                    for name, _typname, _category, full_type, _comment in columns
                )
                stand_ins.append(
                    f"{identifier(view_name(resource_id))} AS (SELECT {empty} WHERE random() < 0)"
                )
            # Colons in the names are escaped for SQLAlchemy; the query is passed on as the
            # DataStore passes it (backend/postgres.py search_sql).
            with_clause = f"WITH {', '.join(stand_ins)} ".replace(":", r"\:") if stand_ins else ""
            wrapped = f"{with_clause}SELECT * FROM ({sql}) AS blah LIMIT {rows_max + 1} ;"
            tables, _functions = get_table_and_function_names_from_sql({"connection": conn}, wrapped)
    except Exception:
        log.warning("cd3p: a datastore_search_sql query could not be planned again", exc_info=True)
        return set(resource_ids)
    return set(resource_ids) & set(tables)
