"""Validators of the ingestion fields of the dataset schema."""

from __future__ import annotations

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey

from ckanext.cd3p.common import inputs, validators
from ckanext.cd3p.ingestion import suppression


def _unchanged(resource_id: str, names: list[str]) -> bool:
    resource = model.Resource.get(resource_id)
    if resource is None:
        return False
    try:
        return suppression.parse_count_columns(resource.extras.get("count_columns")) == names
    except ValueError:
        return False


def cd3p_count_columns(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A resource's count columns, given as a list or as comma-separated text, stored in one form:
    comma-separated (``households, people``). When the resource already has a DataStore table, each
    name must be one of its columns (exactly, or ignoring case, as the suppression matches them)."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        return
    try:
        names = suppression.parse_count_columns(value)
    except ValueError:
        validators.stop(key, errors, tk._("Must be a list of column names or comma-separated text"))
    for name in names:
        reason = inputs.unsafe(name)
        if reason:
            validators.stop(key, errors, reason)
    data[key] = ", ".join(names)
    resource_id = inputs.text_id(data.get(key[:-1] + ("id",)))
    if resource_id and _unchanged(resource_id, names):
        # Checked when it was given; a new file that drops a column must not stop every later
        # change of the dataset (the check job's own among them): the view then hides it all.
        return
    columns = suppression.table_columns(resource_id) if resource_id else None
    if columns is None:
        return  # no table yet: a name it lacks is suppressed as unresolved (fail closed)
    unknown = [name for name in names if not suppression.matching(columns, [name])]
    if unknown:
        validators.stop(
            key,
            errors,
            tk._("The table has no column {names} (its columns: {columns})").format(
                names=", ".join(unknown), columns=", ".join(columns)
            ),
        )
