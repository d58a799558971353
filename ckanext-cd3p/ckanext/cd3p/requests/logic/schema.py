"""Schemas of the data request actions, one per action (written as ``common.schema`` says).

Every value is checked to be text (``cd3p_text``, ``cd3p_required_text``) before anything strips,
parses or looks it up; the text fields have the lengths below. Markdown is stored as given."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import cd3p_bool, cd3p_required_text, cd3p_text
from ckanext.cd3p.requests.logic.validators import max_length
from ckanext.cd3p.requests.model import KINDS, OUTCOMES, STATES

TITLE_LENGTH = 200
TEXT_LENGTH = 10_000  # a description, a purpose, a comment, a reason (Markdown)
PLACES_LENGTH = 2_000


@validator_args
def data_request_create(
    ignore_missing: Validator, default: Validator, one_of: Validator, strip_value: Validator
) -> Schema:
    return {
        "kind": [default("new_data"), cd3p_text, one_of(list(KINDS))],
        "title": [cd3p_required_text, max_length(TITLE_LENGTH)],
        "description": [cd3p_required_text, max_length(TEXT_LENGTH)],
        "places": [ignore_missing, cd3p_text, strip_value, max_length(PLACES_LENGTH)],
        "dataset_id": [ignore_missing, cd3p_text, strip_value],
        "purpose": [ignore_missing, cd3p_text, strip_value, max_length(TEXT_LENGTH)],
        "addressed_to": [ignore_missing, cd3p_text, strip_value],
    }


@validator_args
def data_request_update(ignore_missing: Validator) -> Schema:
    """What the requester may change while the request is open: its words, each optional."""
    fields = data_request_create()
    optional = {
        name: v if v[0] is ignore_missing else [ignore_missing, *v]
        for name, v in fields.items()
        if name in ("title", "description", "places", "purpose")
    }
    return {"id": [cd3p_required_text], **optional}


@validator_args
def data_request_list(
    ignore_missing: Validator, default: Validator, one_of: Validator, strip_value: Validator
) -> Schema:
    return {
        "state": [ignore_missing, cd3p_text, one_of(list(STATES))],
        "kind": [ignore_missing, cd3p_text, one_of(list(KINDS))],
        "organization_id": [ignore_missing, cd3p_text, strip_value],
        "mine": [default(False), cd3p_bool],
        "followed": [default(False), cd3p_bool],
        **common.paging(),
    }


@validator_args
def data_request_queue(ignore_missing: Validator, strip_value: Validator) -> Schema:
    return {"organization_id": [ignore_missing, cd3p_text, strip_value], **common.paging()}


def data_request_assign() -> Schema:
    return {"id": [cd3p_required_text], "organization_id": [cd3p_required_text]}


@validator_args
def data_request_close(ignore_missing: Validator, one_of: Validator, strip_value: Validator) -> Schema:
    return {
        "id": [cd3p_required_text],
        "outcome": [cd3p_required_text, one_of(list(OUTCOMES))],
        "dataset_id": [ignore_missing, cd3p_text, strip_value],
        "reason": [ignore_missing, cd3p_text, strip_value, max_length(TEXT_LENGTH)],
        "duplicate_of": [ignore_missing, cd3p_text, strip_value],
    }


def data_request_comment() -> Schema:
    return {"id": [cd3p_required_text], "text": [cd3p_required_text, max_length(TEXT_LENGTH)]}


@validator_args
def access_grant_list(ignore_missing: Validator, strip_value: Validator) -> Schema:
    return {
        "dataset_id": [ignore_missing, cd3p_text, strip_value],
        "mine": [ignore_missing, cd3p_bool],
        "standing": [ignore_missing, cd3p_bool],
    }


def access_grant_revoke() -> Schema:
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text, max_length(TEXT_LENGTH)]}


data_request_show = data_request_reopen = data_request_follow = data_request_unfollow = common.by_id
