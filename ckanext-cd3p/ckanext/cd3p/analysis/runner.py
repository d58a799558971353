"""Running a spec for a caller: each table is read as the caller may read it, the statement runs as
the DataStore's read-only role, with a statement timeout and a row cap from the config.

- A table is reached through ``datastore_search`` in the caller's name first (so its auth function,
  the partner tier, access grants and the DataStore's own rules all apply: an unreadable table is a
  refusal before any statement runs); its columns and types come from that answer.
- A caller who reads a table's suppressed public view (``ingestion/suppression.py``) is given the
  view, never the raw table: what the view hides, no sum or join can bring back.
- The statement is :mod:`compiler`'s, run on ``ckan.datastore.read_url`` inside a transaction whose
  ``statement_timeout`` is ``ckanext.cd3p.analysis.timeout``; a page asks for at most
  ``ckanext.cd3p.analysis.row_cap`` rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import psycopg2.errors
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p import config
from ckanext.cd3p.analysis.compiler import Compiled, Table, compile_spec
from ckanext.cd3p.analysis.spec import Spec
from ckanext.cd3p.ingestion import suppression
from ckanext.datastore.backend.postgres import get_read_engine


def table(context: Context, resource_id: str, key: str) -> Table:
    """One table of a spec as the caller may read it.

    :raises NotAuthorized: the caller may not read it
    :raises ValidationError: no DataStore table has that id (naming ``key``)
    """
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active":
        raise tk.ValidationError({key: [tk._("No DataStore table of that id: {id}").format(id=resource_id)]})
    asked = {"user": context.get("user") or "", "ignore_auth": bool(context.get("ignore_auth"))}
    try:
        found = tk.get_action("datastore_search")(
            asked, {"resource_id": resource.id, "limit": 0, "include_total": False}
        )
    except tk.ObjectNotFound:
        raise tk.ValidationError(
            {key: [tk._("No DataStore table of that id: {id}").format(id=resource_id)]}
        ) from None
    seen = suppression.for_caller(asked, resource.id)
    fields = {f["id"]: f["type"] for f in found["fields"] if not f["id"].startswith("_")}
    return Table(resource_id=resource.id, relation=seen.view if seen else resource.id, fields=fields)


def tables(context: Context, spec: Spec) -> tuple[Table, Table | None]:
    base = table(context, spec.resource_id, "resource_id")
    joined = table(context, spec.join.resource_id, "join.resource_id") if spec.join else None
    return base, joined


def _value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def execute(compiled: Compiled, total: bool = True) -> dict[str, Any]:
    """Runs a compiled spec: ``fields``, ``records`` (one page), ``total`` (rows of the whole result,
    carried by the page itself; None unless asked) and ``sql`` (the statement, its values as
    placeholders).

    :raises ValidationError: the statement ran past the timeout, or a value does not fit its column
    """
    engine = get_read_engine()
    with engine.connect() as conn, conn.begin():
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true)", (str(config.analysis_timeout_ms()),)
        )
        try:
            cursor.execute(compiled.query, compiled.params)
            rows = cursor.fetchall()
            counted = rows[0][-1] if rows else None
            if counted is None and total:  # a page past the end (or an empty result)
                cursor.execute(compiled.count, compiled.params)
                counted = cursor.fetchone()[0]
        except psycopg2.errors.QueryCanceled:
            raise tk.ValidationError(
                {
                    "spec": [
                        tk._("The query ran longer than {s} s: narrow it with filters or a group").format(
                            s=config.analysis_timeout_ms() / 1000
                        )
                    ]
                }
            ) from None
        except psycopg2.DataError as e:
            raise tk.ValidationError(
                {
                    "filters": [
                        tk._("A value does not fit its column: {error}").format(error=str(e).splitlines()[0])
                    ]
                }
            ) from None
        statement = compiled.query.as_string(cursor)
    names = [f["id"] for f in compiled.fields]
    return {
        "fields": compiled.fields,
        "records": [dict(zip(names, (_value(v) for v in row[:-1]), strict=True)) for row in rows],
        "total": counted if total else None,
        "sql": statement,
    }


def run(context: Context, spec: Spec, total: bool = True) -> dict[str, Any]:
    """A spec's result for the caller (:func:`execute`'s keys)."""
    return execute(compile_spec(spec, *tables(context, spec)), total=total)
