"""Schemas of the partner directory actions, one per action (written as ``common.schema`` says).

Every value is checked to be text before it is stripped or compared; a filter is one of its
choices (the organization schema's sectors, the measure registry's services, the council
districts), so an unknown one is a ValidationError naming it."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.catalog import search
from ckanext.cd3p.common import geography
from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import cd3p_limit, cd3p_required_text, cd3p_text
from ckanext.cd3p.ecosystem import directory
from ckanext.cd3p.impact import registry
from ckanext.cd3p.requests.logic.validators import max_length

QUERY_LENGTH = 200


@validator_args
def partner_list(ignore_empty: Validator, one_of: Validator, strip_value: Validator) -> Schema:
    districts = [p.code for p in geography.council_districts()]
    return {
        "sector": [ignore_empty, cd3p_text, strip_value, one_of(list(search.sector_labels()))],
        "service": [ignore_empty, cd3p_text, strip_value, one_of(list(registry.SERVICES))],
        "district": [ignore_empty, cd3p_text, strip_value, one_of(districts)],
        "q": [ignore_empty, cd3p_text, strip_value, max_length(QUERY_LENGTH)],
    }


@validator_args
def partner_gaps(default: Validator, one_of: Validator, strip_value: Validator) -> Schema:
    return {
        "service": [cd3p_required_text, one_of(directory.gap_services())],
        "level": [default("council_district"), cd3p_text, strip_value, one_of(list(directory.GAP_LEVELS))],
        "limit": [default(directory.GAPS_SHOWN), cd3p_limit],
    }


partner_show = common.by_id
partnership_show = common.nothing
