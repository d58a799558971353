"""Actions of the checks before loading, and the chained core actions of ingestion: the upload size,
the suppressed view that ``datastore_search`` serves the public, and views that follow a dataset's
threshold and count columns."""

from __future__ import annotations

from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p import config
from ckanext.cd3p.common import actions, inputs
from ckanext.cd3p.ingestion import checks, loading, suppression
from ckanext.cd3p.ingestion.logic import schema
from ckanext.cd3p.ingestion.model import ResourceCheck

# --- checks before loading ------------------------------------------------------------------------


def _check_dicts(rows: list[ResourceCheck]) -> list[dict[str, Any]]:
    """Checks with their resource's and dataset's names, read in two queries for any number."""
    resources = dict(
        actions.Session.query(model.Resource.id, model.Resource.name).filter(
            model.Resource.id.in_({r.resource_id for r in rows})
        )
    )
    datasets = {
        p.id: p
        for p in actions.Session.query(model.Package.id, model.Package.name, model.Package.title).filter(
            model.Package.id.in_({r.package_id for r in rows})
        )
    }
    found = []
    for row in rows:
        dataset = datasets.get(row.package_id)
        shown = row.as_dict()
        if shown["report"].get("load"):  # a load whose worker died is shown as failed
            shown["report"] = {**shown["report"], "load": loading.state(shown["report"]["load"])}
        found.append(
            {
                **shown,
                "resource_name": resources.get(row.resource_id),
                "dataset_name": dataset.name if dataset is not None else None,
                "dataset_title": dataset.title if dataset is not None else None,
            }
        )
    return found


def _check_dict(row: ResourceCheck) -> dict[str, Any]:
    return _check_dicts([row])[0]


@tk.side_effect_free
def cd3p_resource_check_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The latest check of a resource's file before loading: ``state`` (pending, passed, held,
    failed) and its ``report``: the file's tables (sheets, columns, rows, encoding), personal-data
    ``findings`` (column, kind, reason, row numbers; never the values), unknown ``geography`` codes
    with their rows, or the ``error`` that made the file unreadable. A file that passed has its
    ``load``: ``state`` (running, complete, failed), ``phase``, ``rows`` of ``total_rows``,
    ``elapsed`` seconds, the column ``types``, the ``log`` and any ``error``. A running load not
    heard from for ``ckanext.cd3p.load.stale_after`` seconds died with its worker and is failed.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_check_show", context, data_dict)
    data = actions.validate(data_dict, schema.resource_check_show(), context)
    row = checks.latest(data["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("This file has not been checked"))
    return _check_dict(row)


def cd3p_resource_check_run(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Checks the resource's current file again (queued), e.g. after its dataset's settings changed.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_check_run", context, data_dict)
    data = actions.validate(data_dict, schema.resource_check_run(), context)
    return _check_dict(checks.start(data["id"]))


def cd3p_resource_mark_personal(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The uploader's answer to a held file that does hold personal data: the dataset is marked as
    containing personal data and kept to its organization (a dataset change, in its activity), and
    the file is checked again, which then loads it.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_mark_personal", context, data_dict)
    data = actions.validate(data_dict, schema.resource_mark_personal(), context)
    resource = model.Resource.get(data["id"])
    if resource is None:  # sysadmins are not asked the auth function, which looks it up
        raise tk.ObjectNotFound(tk._("Resource not found: {id}").format(id=data["id"]))
    tk.get_action("package_patch")(
        dict(context),
        {"id": resource.package_id, **checks.PERSONAL_DATA_ALLOWED},
    )
    return _check_dict(checks.start(data["id"]))


@tk.side_effect_free
def cd3p_resource_check_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Resources whose latest check is in a state (sysadmins): the review queue of held files.

    :param state: ``held`` (default), ``failed``, ``pending`` or ``passed``
    :param limit: at most this many (default 200)
    """
    tk.check_access("cd3p_resource_check_list", context, data_dict)
    data = actions.validate(data_dict, schema.resource_check_list(), context)
    return _check_dicts(checks.queue((data["state"],), data["limit"]))


def cd3p_resource_check_release(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Releases a held file as a false alarm (sysadmins): it passes, its dataset gets back the access
    level it had, and the file is loaded.

    :param id: the resource's id
    :param reason: why the flagged columns are not personal data (kept in the report)
    """
    tk.check_access("cd3p_resource_check_release", context, data_dict)
    data = actions.validate(data_dict, schema.resource_check_release(), context)
    row = checks.latest(data["id"])
    if row is None or row.state != "held":
        raise tk.ValidationError({"id": [tk._("This file is not held")]})
    checks.release(row, context.get("user") or "", data["reason"])
    return _check_dict(row)


def _refuse_too_large(data_dict: DataDict) -> None:
    """An upload over ``ckan.max_resource_size`` is refused before anything is stored, saying the limit."""
    upload = data_dict.get("upload")
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "seek"):
        return
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    limit = config.max_resource_mb()
    if size > limit * 1024 * 1024:
        raise tk.ValidationError(
            {
                "upload": [
                    tk._("The file is {size:.1f} MB; uploads are limited to {limit} MB.").format(
                        size=size / 1024 / 1024, limit=limit
                    )
                ]
            }
        )


# What core's resource_create and resource_update would fail on in a resource's own fields.
_RESOURCE_INPUTS: dict[str, Any] = {
    "texts": (
        "url",
        "name",
        "description",
        "format",
        "resource_type",
        "mimetype",
        "mimetype_inner",
        "hash",
        "cache_url",
        "url_type",
    ),
    "numbers": ("size",),
    "dates": ("created", "last_modified", "cache_last_updated"),
}


@tk.chained_action
def resource_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core resource_create, after the upload size check."""
    inputs.guard(data_dict, ids=("package_id",), required=("package_id",), **_RESOURCE_INPUTS)
    _refuse_too_large(data_dict)
    return up_func(context, data_dict)


@tk.chained_action
def resource_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core resource_update, after the upload size check."""
    inputs.guard(data_dict, ids=("id", "package_id"), **_RESOURCE_INPUTS)
    _refuse_too_large(data_dict)
    return up_func(context, data_dict)


def _may(auth_name: str, context: Context, data_dict: DataDict) -> bool:
    """Whether the caller passes an auth function, asked without counting as the action's check."""
    try:
        return bool(authz.is_authorized(auth_name, dict(context), dict(data_dict)).get("success"))
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False


@tk.chained_action
def datastore_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core datastore_create; a table with suppressed counts has its public view set aside meanwhile
    (PostgreSQL will not drop or retype a column a view reads) and made again after, with any new
    columns."""
    inputs.guard(
        data_dict,
        ids=("resource_id", "id"),
        flags=("force", "calculate_record_count", "delete_fields"),
        mappings=("resource",),
        records=("fields", "triggers", "records"),
    )
    data_dict = inputs.datastore_named(data_dict)
    if not data_dict.get("resource"):
        inputs.guard(data_dict, required=("resource_id",))
    resource_id = data_dict.get("resource_id")
    aside = bool(resource_id) and _may("datastore_create", context, data_dict)
    if aside:
        suppression.set_aside(str(resource_id))
    try:
        result = up_func(context, data_dict)
    except Exception:
        if aside:  # the table is as it was: so is its view
            suppression.refresh(str(resource_id))
        raise
    if result.get("resource_id"):
        suppression.refresh(str(result["resource_id"]))
    return result


# --- small-cell suppression: the public reads a table's suppressed view --------------------------


@tk.side_effect_free
@tk.chained_action
def datastore_search(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core datastore_search; outside the partner tier and the dataset's organization, a public table
    with count columns is searched in its suppressed view (see :mod:`ckanext.cd3p.ingestion.suppression`).

    Core cannot be asked for the view: it takes the view for an alias of the table and searches the
    table. So the view is searched here as core would search it: the same validation, the access
    check on the resource, then the DataStore backend's search of the view. The result names the
    resource, with ``suppressed``: the count columns suppressed and the threshold.
    """
    inputs.guard(
        data_dict,
        ids=("resource_id", "id"),
        flags=("distinct", "include_total", "include_records", "plain"),
        numbers=("limit", "offset"),
        objects=("filters",),
        texts=("language", "records_format"),
    )
    if inputs.too_deep(data_dict.get("q")):  # core reads a q that looks like JSON as JSON
        raise tk.ValidationError({"q": [tk._("Nested more than {n} levels deep").format(n=inputs.MAX_DEPTH)]})
    data_dict = inputs.datastore_named(data_dict)
    found = suppression.for_caller(context, data_dict.get("resource_id"))
    if found is None:
        return up_func(context, data_dict)
    from ckanext.datastore.backend import DatastoreBackend
    from ckanext.datastore.logic.schema import datastore_search_schema

    schema_ = context.get("schema") or datastore_search_schema()
    data, errors = tk.navl_validate(dict(data_dict), schema_, context)
    if errors:
        raise tk.ValidationError(errors)
    tk.check_access("datastore_search", context, {"resource_id": found.resource_id})
    made = suppression.view_state(found.resource_id)
    if not suppression.serves(made, found.dataset, found.resource):
        raise tk.ValidationError({"resource_id": [suppression.not_ready_message()]})
    assert made is not None
    data["resource_id"] = found.view
    result = DatastoreBackend.get_active_backend().search(context, data)
    result.pop("id", None)
    result.pop("connection_url", None)
    result["resource_id"] = found.resource_id
    result["suppressed"] = {
        "columns": made.get("columns") or [],
        "threshold": made["threshold"],
        "unresolved": made.get("unresolved") or [],
    }
    return result


@tk.chained_action
def package_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core package_update (which resource_create, resource_update and the patches call too); the
    public views of the dataset's tables follow a changed threshold or count columns."""
    inputs.guard(data_dict, ids=("id", "name", "owner_org"))
    result = up_func(context, data_dict)
    if isinstance(result, dict):
        suppression.sync_views(result)
    return result
