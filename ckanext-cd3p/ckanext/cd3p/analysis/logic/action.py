"""Actions of the analysis workspace.

Every action checks access first (``logic/auth.py``), then validates its input with the schema of
the same name in ``logic/schema.py``, then the spec (``analysis/spec.py``), whose errors name the
key at fault (a 409 in the Action API). Read actions are side-effect free.
"""

from __future__ import annotations

import json
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p import config
from ckanext.cd3p.analysis import derived, runner, spec
from ckanext.cd3p.analysis.logic import schema
from ckanext.cd3p.analysis.model import SavedQuery
from ckanext.cd3p.common import actions


@tk.side_effect_free
def cd3p_query_run(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Runs a query over DataStore tables the caller may read (anyone; each table is checked with
    the caller's ``datastore_search`` authorization, and read through its suppressed view where the
    caller reads that).

    :param spec: the query (an object, or its JSON text): ``resource_id``, ``columns``,
        ``filters`` (``column``, ``op``: eq, in, gte, lte, between, contains, empty; ``value``),
        ``join`` (``resource_id``, ``on``: [first table's column, second's], ``columns``),
        ``group_by``, ``rollup`` (``key``: a tract column, ``level``: council_district,
        neighborhood or city), ``aggregates`` (``fn``: count, sum, mean, min, max, median;
        ``column``; ``as``), ``sort`` (``column``, ``desc``), ``limit`` (at most
        ``ckanext.cd3p.analysis.row_cap``), ``offset``
    :param include_total: count the rows of the whole result (default true)
    :returns: ``fields`` (id, type), ``records`` (the page), ``total`` and ``sql`` (the statement,
        with its values as placeholders), and the ``spec`` as checked, every default written out
    """
    tk.check_access("cd3p_query_run", context, data_dict)
    data = actions.validate(data_dict, schema.query_run(), context)
    checked = spec.parse(data["spec"], config.analysis_row_cap())
    result = runner.run(context, checked, total=data["include_total"])
    return {**result, "spec": checked.as_dict()}


# --- saved queries --------------------------------------------------------------------------------

# The most queries one user may keep saved.
MAX_SAVED_QUERIES = 200


def _saved_dict(row: SavedQuery) -> dict[str, Any]:
    out = row.as_dict()
    out["spec"] = json.loads(row.spec)
    out.pop("user_id", None)
    return out


def _saved_row(ref: str) -> SavedQuery:
    row = actions.Session.get(SavedQuery, ref)
    if row is None:
        raise tk.ObjectNotFound(tk._("Saved query not found: {id}").format(id=ref))
    return row


def cd3p_saved_query_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Saves a query under the caller's profile (any logged-in user; at most 200 each).

    :param name: what to call it (at most 200 characters)
    :param spec: the query, as ``cd3p_query_run`` takes it; kept in its canonical form
    :returns: the saved query: ``id``, ``name``, ``spec``, ``user_name``, ``created``
    """
    tk.check_access("cd3p_saved_query_create", context, data_dict)
    data = actions.validate(data_dict, schema.saved_query_create(), context)
    checked = spec.parse(data["spec"], config.analysis_row_cap())
    user = actions.actor(context)
    saved = actions.Session.query(SavedQuery).filter(SavedQuery.user_id == user.id).count()
    if saved >= MAX_SAVED_QUERIES:
        raise tk.ValidationError(
            {"name": [tk._("You have {n} saved queries: delete one first").format(n=saved)]}
        )
    row = SavedQuery(user_id=user.id, user_name=user.name, name=data["name"], spec=spec.canonical(checked))
    actions.Session.add(row)
    actions.commit(context)
    return _saved_dict(row)


@tk.side_effect_free
def cd3p_saved_query_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The caller's own saved queries, newest first (any logged-in user)."""
    tk.check_access("cd3p_saved_query_list", context, data_dict)
    actions.validate(data_dict, schema.saved_query_list(), context)
    user = actions.actor(context)
    rows = (
        actions.Session.query(SavedQuery)
        .filter(SavedQuery.user_id == user.id)
        .order_by(SavedQuery.created.desc(), SavedQuery.id)
    )
    return [_saved_dict(r) for r in rows]


@tk.side_effect_free
def cd3p_saved_query_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A saved query's name and spec (anyone with its id: its results are computed in the rights of
    whoever runs it).

    :param id: the saved query's id
    """
    tk.check_access("cd3p_saved_query_show", context, data_dict)
    data = actions.validate(data_dict, schema.saved_query_show(), context)
    return _saved_dict(_saved_row(data["id"]))


def cd3p_saved_query_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Deletes a saved query (its owner, or a sysadmin).

    :param id: the saved query's id
    :returns: the deleted query
    """
    tk.check_access("cd3p_saved_query_delete", context, data_dict)
    data = actions.validate(data_dict, schema.saved_query_delete(), context)
    row = _saved_row(data["id"])
    out = _saved_dict(row)
    actions.Session.delete(row)
    actions.commit(context)
    return out


# --- derived resources ----------------------------------------------------------------------------


def cd3p_query_save(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Saves a query's whole result as a new CSV resource of a dataset (logged-in users who may add
    a resource to it: its organization's editors and admins, once it has signed the agreement).
    The result is computed as the caller may read each table; the DataStore table follows once
    the worker has checked and loaded the file, with small counts of its count columns
    suppressed in a public dataset. It refreshes itself when a source table changes.

    :param spec: the query, as ``cd3p_query_run`` takes it (``limit`` and ``offset`` are ignored:
        the whole result is saved, at most ``ckanext.cd3p.analysis.row_cap`` rows)
    :param package_id: the dataset's id or name; it may be no more open than the most restricted
        source (public < partners < organization; organization-only data stays in its
        organization)
    :param name: the new resource's name
    :returns: the new resource, its provenance in ``derived_query``, ``derived_from`` (each source
        with its table version), ``prov_was_derived_from``, ``derived_saved_by``, ``derived_saved``
    """
    tk.check_access("cd3p_query_save", context, data_dict)
    data = actions.validate(data_dict, schema.query_save(), context)
    checked = spec.parse(data["spec"], config.analysis_row_cap())
    return derived.save(context, checked, data["package_id"], data["name"])


@tk.side_effect_free
def cd3p_derived_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A derived resource's provenance (whoever may see the resource).

    :param id: the resource's id
    :returns: ``spec``, ``sources`` (``resource_id``, ``version``, ``readable``; the name and dataset
        of those the caller may see), ``saved_by``, ``created``, ``refreshed`` and the refresh
        ``log`` (``started``, ``cause``, ``outcome``: refreshed or failed, ``message``), newest first
    """
    tk.check_access("cd3p_derived_show", context, data_dict)
    data = actions.validate(data_dict, schema.derived_show(), context)
    return derived.provenance(context, data["id"])


def cd3p_derived_refresh(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Computes a derived resource again now, in the name of the user who saved it (those who may
    change its dataset). A refresh that fails keeps the previous result.

    :param id: the resource's id
    :returns: the refresh's log entry
    """
    tk.check_access("cd3p_derived_refresh", context, data_dict)
    data = actions.validate(data_dict, schema.derived_refresh(), context)
    user = actions.actor(context)
    entry = derived.refresh(data["id"], tk._("asked by {user}").format(user=user.name), force=True)
    if entry is None:
        raise tk.ObjectNotFound(tk._("Derived resource not found"))
    return entry
