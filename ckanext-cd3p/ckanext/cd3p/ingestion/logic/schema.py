"""Schemas of the check actions."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator


@validator_args
def resource_check_show(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text]}


resource_check_run = resource_check_show


resource_mark_personal = resource_check_show


@validator_args
def resource_check_list(
    cd3p_text: Validator, cd3p_limit: Validator, one_of: Validator, default: Validator
) -> Schema:
    return {
        "state": [default("held"), cd3p_text, one_of(["held", "failed", "pending", "passed"])],
        "limit": [default(200), cd3p_limit],
    }


@validator_args
def resource_check_release(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text]}
