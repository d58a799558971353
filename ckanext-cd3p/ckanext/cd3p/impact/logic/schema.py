"""Schemas of the impact actions (written as ``common.schema`` says)."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common.validators import cd3p_text

TEMPLATE_FORMATS = ("csv", "xlsx")


@validator_args
def outcome_template(one_of: Validator, default: Validator) -> Schema:
    return {"format": [default("csv"), cd3p_text, one_of(list(TEMPLATE_FORMATS))]}
