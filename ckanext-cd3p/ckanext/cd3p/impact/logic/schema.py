"""Schemas of the impact actions (written as ``common.schema`` says)."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import cd3p_required_text, cd3p_text
from ckanext.cd3p.impact.logic.validators import cd3p_quarter, cd3p_summable_measure
from ckanext.cd3p.impact.reach import PLACE_LEVELS
from ckanext.cd3p.impact.reports import LEVELS

TEMPLATE_FORMATS = ("csv", "xlsx")


@validator_args
def outcome_template(one_of: Validator, default: Validator) -> Schema:
    return {"format": [default("csv"), cd3p_text, one_of(list(TEMPLATE_FORMATS))]}


@validator_args
def selection(ignore_missing: Validator) -> Schema:
    """What a reader chooses: the quarters (both included) and one programme or organization."""
    return {
        "period_from": [ignore_missing, cd3p_text, cd3p_quarter],
        "period_to": [ignore_missing, cd3p_text, cd3p_quarter],
        "programme": [ignore_missing, cd3p_text],
        "organization": [ignore_missing, cd3p_text],
    }


@validator_args
def impact_show(one_of: Validator, default: Validator) -> Schema:
    return {
        "measure": [cd3p_required_text, cd3p_summable_measure],
        "level": [default("tract"), cd3p_text, one_of(list(LEVELS))],
        **selection(),
    }


@validator_args
def impact_summary(ignore_missing: Validator) -> Schema:
    return {"measure": [ignore_missing, cd3p_text, cd3p_summable_measure], **selection()}


@validator_args
def programme_list(ignore_missing: Validator) -> Schema:
    return {"organization": [ignore_missing, cd3p_text]}


@validator_args
def impact_place_show(one_of: Validator) -> Schema:
    return {"level": [cd3p_required_text, one_of(list(PLACE_LEVELS))], "id": [cd3p_required_text]}


programme_show = common.by_id
