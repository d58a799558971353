"""Schemas of the check actions."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import cd3p_limit, cd3p_text


@validator_args
def resource_check_list(one_of: Validator, default: Validator) -> Schema:
    return {
        "state": [default("held"), cd3p_text, one_of(["held", "failed", "pending", "passed"])],
        "limit": [default(200), cd3p_limit],
    }


resource_check_show = resource_check_run = resource_mark_personal = common.by_id
resource_check_release = common.by_id_with_reason
