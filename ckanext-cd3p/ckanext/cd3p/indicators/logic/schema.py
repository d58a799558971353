"""Schemas of the indicator actions."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import cd3p_bool, cd3p_required_text, cd3p_text
from ckanext.cd3p.indicators.registry import DIRECTIONS, KINDS, LEVELS, SOURCE_LEVELS, TOPICS


@validator_args
def indicator_list(ignore_missing: Validator) -> Schema:
    return {"topic": [ignore_missing, cd3p_text]}


@validator_args
def indicator_show(one_of: Validator, default: Validator) -> Schema:
    return {"id": [cd3p_required_text], "level": [default("tract"), cd3p_text, one_of(list(LEVELS))]}


@validator_args
def place_show(one_of: Validator) -> Schema:
    return {"level": [cd3p_required_text, one_of(list(LEVELS))], "id": [cd3p_required_text]}


@validator_args
def indicator_definition(one_of: Validator, default: Validator, name_validator: Validator) -> Schema:
    """One indicator of a registered source; ``weight_*`` name its denominator (by default a column
    of the same source)."""
    return {
        "id": [cd3p_required_text, name_validator],
        "title": [cd3p_required_text],
        "description": [cd3p_required_text],
        "topic": [cd3p_required_text, one_of(list(TOPICS))],
        "unit": [cd3p_required_text],
        "direction": [cd3p_required_text, one_of(list(DIRECTIONS))],
        "column": [cd3p_required_text],
        "kind": [cd3p_required_text, one_of(list(KINDS))],
        "complement": [default(False), cd3p_bool],
        "moe": [default(""), cd3p_text],
        "caveat": [default(""), cd3p_text],
        "weight_source": [default(""), cd3p_text],
        "weight_column": [cd3p_required_text],
        "weight_label": [cd3p_required_text],
        "weight_moe": [default(""), cd3p_text],
    }


@validator_args
def indicator_source_create(one_of: Validator, default: Validator, name_validator: Validator) -> Schema:
    return {
        "id": [cd3p_required_text, name_validator],
        "dataset": [cd3p_required_text],
        "resource": [cd3p_required_text],
        "key": [cd3p_required_text],
        "level": [default("tract"), cd3p_text, one_of(list(SOURCE_LEVELS))],
        "vintage": [cd3p_required_text],
        "citation": [cd3p_required_text],
        "indicators": indicator_definition(),
    }


indicator_source_delete = common.by_id
indicator_source_list = common.nothing
