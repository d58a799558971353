"""The schemas of the analysis actions. A spec is checked by :func:`ckanext.cd3p.analysis.spec.parse`,
which names the key at fault inside it; here it is only asked to be there."""

from __future__ import annotations

from typing import Any

from ckan.logic.schema import validator_args
from ckan.plugins import toolkit as tk
from ckan.types import Schema, Validator

from ckanext.cd3p.common.validators import cd3p_bool, cd3p_required_text


@validator_args
def query_run(not_missing: Validator, default: Validator) -> Schema:
    return {"spec": [not_missing], "include_total": [default(True), cd3p_bool]}


# --- saved queries --------------------------------------------------------------------------------

SAVED_NAME_LENGTH = 200


def _saved_name(value: Any, context: Any) -> Any:
    if isinstance(value, str) and len(value) > SAVED_NAME_LENGTH:
        raise tk.Invalid(tk._("At most {n} characters").format(n=SAVED_NAME_LENGTH))
    return value


@validator_args
def saved_query_create(not_missing: Validator) -> Schema:
    return {"name": [cd3p_required_text, _saved_name], "spec": [not_missing]}


def saved_query_list() -> Schema:
    return {}


def saved_query_show() -> Schema:
    return {"id": [cd3p_required_text]}


def saved_query_delete() -> Schema:
    return {"id": [cd3p_required_text]}


# --- derived resources ----------------------------------------------------------------------------


@validator_args
def query_save(not_missing: Validator) -> Schema:
    return {"spec": [not_missing], "package_id": [cd3p_required_text], "name": [cd3p_required_text]}


def derived_show() -> Schema:
    return {"id": [cd3p_required_text]}


def derived_refresh() -> Schema:
    return {"id": [cd3p_required_text]}
