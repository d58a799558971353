"""Schemas of the cd3p actions, one per action, built from CKAN's own validators."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.indicators import DIRECTIONS, KINDS, LEVELS, SOURCE_LEVELS, TOPICS

ROLES = ["member", "editor", "admin"]
REQUEST_ROLES = ["member", "editor"]


@validator_args
def agreement_list(ignore_missing: Validator, one_of: Validator, unicode_safe: Validator) -> Schema:
    return {"state": [ignore_missing, unicode_safe, one_of(["draft", "active", "retired"])]}


@validator_args
def agreement_show(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe]}


@validator_args
def agreement_create(
    not_empty: Validator,
    unicode_safe: Validator,
    ignore_missing: Validator,
    isodate: Validator,
    name_validator: Validator,
) -> Schema:
    return {
        "version": [not_empty, unicode_safe, name_validator],
        "title": [not_empty, unicode_safe],
        "body": [not_empty, unicode_safe],
        "effective_date": [ignore_missing, isodate],
    }


@validator_args
def agreement_update(
    not_empty: Validator, unicode_safe: Validator, ignore_missing: Validator, isodate: Validator
) -> Schema:
    return {
        "id": [not_empty, unicode_safe],
        "title": [ignore_missing, not_empty, unicode_safe],
        "body": [ignore_missing, not_empty, unicode_safe],
        "effective_date": [ignore_missing, isodate],
    }


@validator_args
def agreement_sign(
    default: Validator,
    not_empty: Validator,
    unicode_safe: Validator,
    ignore_missing: Validator,
    strip_value: Validator,
    cd3p_checked: Validator,
) -> Schema:
    return {
        "organization_id": [not_empty, unicode_safe],
        "agreement_id": [not_empty, unicode_safe],
        "signatory_name": [strip_value, not_empty, unicode_safe],
        "signatory_title": [strip_value, not_empty, unicode_safe],
        "confirm_authority": [default(False), cd3p_checked],
        "text_sha256": [ignore_missing, unicode_safe],
    }


@validator_args
def agreement_acknowledge(ignore_missing: Validator, unicode_safe: Validator) -> Schema:
    return {
        "agreement_id": [ignore_missing, unicode_safe],
        "text_sha256": [ignore_missing, unicode_safe],
    }


@validator_args
def agreement_status(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"organization_id": [not_empty, unicode_safe]}


@validator_args
def signature_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    one_of: Validator,
    isodate: Validator,
    natural_number_validator: Validator,
    default: Validator,
) -> Schema:
    return {
        "organization_id": [ignore_missing, unicode_safe],
        "user_id": [ignore_missing, unicode_safe],
        "agreement_id": [ignore_missing, unicode_safe],
        "kind": [ignore_missing, one_of(["sign", "acknowledge", "revoke"])],
        "since": [ignore_missing, isodate],
        "until": [ignore_missing, isodate],
        "limit": [default(100), natural_number_validator],
        "offset": [default(0), natural_number_validator],
    }


@validator_args
def signature_revoke(not_empty: Validator, unicode_safe: Validator, strip_value: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe], "reason": [strip_value, not_empty, unicode_safe]}


@validator_args
def partner_application_create(
    not_empty: Validator,
    ignore_missing: Validator,
    unicode_safe: Validator,
    strip_value: Validator,
    email_validator: Validator,
    url_validator: Validator,
    boolean_validator: Validator,
    default: Validator,
    name_validator: Validator,
    cd3p_organization_sector: Validator,
    cd3p_service_area: Validator,
) -> Schema:
    return {
        "organization_title": [strip_value, not_empty, unicode_safe],
        "organization_name": [ignore_missing, unicode_safe, name_validator],
        "sector": [not_empty, cd3p_organization_sector],
        "website": [ignore_missing, unicode_safe, url_validator],
        "contact_name": [strip_value, not_empty, unicode_safe],
        "contact_email": [strip_value, not_empty, unicode_safe, email_validator],
        "contact_phone": [ignore_missing, unicode_safe],
        "data_description": [strip_value, not_empty, unicode_safe],
        "service_area": [ignore_missing, cd3p_service_area],
        "focus_group": [default(False), boolean_validator],
    }


@validator_args
def by_id(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe]}


@validator_args
def reject(not_empty: Validator, unicode_safe: Validator, strip_value: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe], "reason": [strip_value, not_empty, unicode_safe]}


@validator_args
def queue_list(
    ignore_missing: Validator,
    unicode_safe: Validator,
    one_of: Validator,
    default: Validator,
    natural_number_validator: Validator,
    boolean_validator: Validator,
) -> Schema:
    return {
        "organization_id": [ignore_missing, unicode_safe],
        "mine": [default(False), boolean_validator],
        "state": [ignore_missing, one_of(["pending", "approved", "rejected"])],
        "limit": [default(100), natural_number_validator],
        "offset": [default(0), natural_number_validator],
    }


@validator_args
def membership_request_create(
    not_empty: Validator,
    ignore_missing: Validator,
    unicode_safe: Validator,
    one_of: Validator,
    default: Validator,
    cd3p_checked: Validator,
) -> Schema:
    return {
        "organization_id": [not_empty, unicode_safe],
        "role": [default("member"), one_of(REQUEST_ROLES)],
        "message": [ignore_missing, unicode_safe],
        "acknowledge": [default(False), cd3p_checked],
    }


@validator_args
def indicator_list(ignore_missing: Validator, unicode_safe: Validator) -> Schema:
    return {"topic": [ignore_missing, unicode_safe]}


@validator_args
def indicator_show(
    not_empty: Validator, unicode_safe: Validator, default: Validator, one_of: Validator
) -> Schema:
    return {"id": [not_empty, unicode_safe], "level": [default("tract"), one_of(list(LEVELS))]}


@validator_args
def place_show(not_empty: Validator, unicode_safe: Validator, one_of: Validator) -> Schema:
    return {"level": [not_empty, one_of(list(LEVELS))], "id": [not_empty, unicode_safe]}


@validator_args
def indicator_definition(
    not_empty: Validator,
    ignore_missing: Validator,
    unicode_safe: Validator,
    one_of: Validator,
    default: Validator,
    boolean_validator: Validator,
    name_validator: Validator,
) -> Schema:
    """One indicator of a registered source; ``weight_*`` name its denominator (by default a column
    of the same source)."""
    return {
        "id": [not_empty, unicode_safe, name_validator],
        "title": [not_empty, unicode_safe],
        "description": [not_empty, unicode_safe],
        "topic": [not_empty, one_of(list(TOPICS))],
        "unit": [not_empty, unicode_safe],
        "direction": [not_empty, one_of(list(DIRECTIONS))],
        "column": [not_empty, unicode_safe],
        "kind": [not_empty, one_of(list(KINDS))],
        "complement": [default(False), boolean_validator],
        "moe": [default(""), unicode_safe],
        "caveat": [default(""), unicode_safe],
        "weight_source": [default(""), unicode_safe],
        "weight_column": [not_empty, unicode_safe],
        "weight_label": [not_empty, unicode_safe],
        "weight_moe": [default(""), unicode_safe],
    }


@validator_args
def indicator_source_create(
    not_empty: Validator,
    unicode_safe: Validator,
    one_of: Validator,
    default: Validator,
    name_validator: Validator,
) -> Schema:
    return {
        "id": [not_empty, unicode_safe, name_validator],
        "dataset": [not_empty, unicode_safe],
        "resource": [not_empty, unicode_safe],
        "key": [not_empty, unicode_safe],
        "level": [default("tract"), one_of(list(SOURCE_LEVELS))],
        "vintage": [not_empty, unicode_safe],
        "citation": [not_empty, unicode_safe],
        "indicators": indicator_definition(),
    }


@validator_args
def indicator_source_delete(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe]}


@validator_args
def indicator_source_list() -> Schema:
    return {}


@validator_args
def resource_check_show(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe]}


resource_check_run = resource_check_show
resource_mark_personal = resource_check_show


@validator_args
def resource_check_list(default: Validator, one_of: Validator, natural_number_validator: Validator) -> Schema:
    return {
        "state": [default("held"), one_of(["held", "failed", "pending", "passed"])],
        "limit": [default(200), natural_number_validator],
    }


@validator_args
def resource_check_release(not_empty: Validator, unicode_safe: Validator) -> Schema:
    return {"id": [not_empty, unicode_safe], "reason": [not_empty, unicode_safe]}
