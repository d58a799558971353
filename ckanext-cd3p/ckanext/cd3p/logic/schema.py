"""Schemas of the cd3p actions, one per action, built from CKAN's own validators."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.indicators import DIRECTIONS, KINDS, LEVELS, SOURCE_LEVELS, TOPICS

ROLES = ["member", "editor", "admin"]
REQUEST_ROLES = ["member", "editor"]


@validator_args
def agreement_list(cd3p_text: Validator, ignore_missing: Validator, one_of: Validator) -> Schema:
    return {"state": [ignore_missing, cd3p_text, one_of(["draft", "active", "retired"])]}


@validator_args
def agreement_show(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text]}


@validator_args
def agreement_create(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_not_blank: Validator,
    cd3p_date: Validator,
    ignore_missing: Validator,
    name_validator: Validator,
) -> Schema:
    return {
        "version": [cd3p_required_text, name_validator],
        "title": [cd3p_required_text],
        "body": [cd3p_text, cd3p_not_blank],
        "effective_date": [ignore_missing, cd3p_date],
    }


@validator_args
def agreement_update(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_not_blank: Validator,
    cd3p_date: Validator,
    ignore_missing: Validator,
) -> Schema:
    return {
        "id": [cd3p_required_text],
        "title": [ignore_missing, cd3p_required_text],
        "body": [ignore_missing, cd3p_text, cd3p_not_blank],
        "effective_date": [ignore_missing, cd3p_date],
    }


@validator_args
def agreement_sign(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_checked: Validator,
    ignore_missing: Validator,
    default: Validator,
) -> Schema:
    return {
        "organization_id": [cd3p_required_text],
        "agreement_id": [cd3p_required_text],
        "signatory_name": [cd3p_required_text],
        "signatory_title": [cd3p_required_text],
        "confirm_authority": [default(False), cd3p_checked],
        "text_sha256": [ignore_missing, cd3p_text],
    }


@validator_args
def agreement_acknowledge(cd3p_text: Validator, ignore_missing: Validator) -> Schema:
    return {
        "agreement_id": [ignore_missing, cd3p_text],
        "text_sha256": [ignore_missing, cd3p_text],
    }


@validator_args
def agreement_status(cd3p_required_text: Validator) -> Schema:
    return {"organization_id": [cd3p_required_text]}


@validator_args
def signature_list(
    cd3p_text: Validator,
    cd3p_limit: Validator,
    cd3p_offset: Validator,
    cd3p_date: Validator,
    ignore_missing: Validator,
    one_of: Validator,
    default: Validator,
) -> Schema:
    return {
        "organization_id": [ignore_missing, cd3p_text],
        "user_id": [ignore_missing, cd3p_text],
        "agreement_id": [ignore_missing, cd3p_text],
        "kind": [ignore_missing, cd3p_text, one_of(["sign", "acknowledge", "revoke"])],
        "since": [ignore_missing, cd3p_date],
        "until": [ignore_missing, cd3p_date],
        "limit": [default(100), cd3p_limit],
        "offset": [default(0), cd3p_offset],
    }


@validator_args
def signature_revoke(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text]}


@validator_args
def partner_application_create(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_bool: Validator,
    cd3p_organization_sector: Validator,
    cd3p_service_area: Validator,
    ignore_missing: Validator,
    default: Validator,
    name_validator: Validator,
    email_validator: Validator,
    url_validator: Validator,
) -> Schema:
    return {
        "organization_title": [cd3p_required_text],
        "organization_name": [ignore_missing, cd3p_text, name_validator],
        "sector": [cd3p_required_text, cd3p_organization_sector],
        "website": [ignore_missing, cd3p_text, url_validator],
        "contact_name": [cd3p_required_text],
        "contact_email": [cd3p_required_text, email_validator],
        "contact_phone": [ignore_missing, cd3p_text],
        "data_description": [cd3p_required_text],
        "service_area": [ignore_missing, cd3p_service_area],
        "focus_group": [default(False), cd3p_bool],
    }


@validator_args
def by_id(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text]}


@validator_args
def reject(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text]}


@validator_args
def queue_list(
    cd3p_text: Validator,
    cd3p_limit: Validator,
    cd3p_offset: Validator,
    cd3p_bool: Validator,
    ignore_missing: Validator,
    one_of: Validator,
    default: Validator,
) -> Schema:
    return {
        "organization_id": [ignore_missing, cd3p_text],
        "mine": [default(False), cd3p_bool],
        "state": [ignore_missing, cd3p_text, one_of(["pending", "approved", "rejected"])],
        "limit": [default(100), cd3p_limit],
        "offset": [default(0), cd3p_offset],
    }


@validator_args
def membership_request_create(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_checked: Validator,
    ignore_missing: Validator,
    one_of: Validator,
    default: Validator,
) -> Schema:
    return {
        "organization_id": [cd3p_required_text],
        "role": [default("member"), cd3p_text, one_of(REQUEST_ROLES)],
        "message": [ignore_missing, cd3p_text],
        "acknowledge": [default(False), cd3p_checked],
    }


@validator_args
def ledger_verify(
    ignore_missing: Validator, cd3p_text: Validator, cd3p_ledger_checkpoint: Validator
) -> Schema:
    return {"checkpoint": [ignore_missing, cd3p_text, cd3p_ledger_checkpoint]}


@validator_args
def ledger_checkpoint() -> Schema:
    return {}


@validator_args
def agreement_delete(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text]}


@validator_args
def indicator_list(cd3p_text: Validator, ignore_missing: Validator) -> Schema:
    return {"topic": [ignore_missing, cd3p_text]}


@validator_args
def indicator_show(
    cd3p_required_text: Validator, cd3p_text: Validator, one_of: Validator, default: Validator
) -> Schema:
    return {"id": [cd3p_required_text], "level": [default("tract"), cd3p_text, one_of(list(LEVELS))]}


@validator_args
def place_show(cd3p_required_text: Validator, one_of: Validator) -> Schema:
    return {"level": [cd3p_required_text, one_of(list(LEVELS))], "id": [cd3p_required_text]}


@validator_args
def indicator_definition(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    cd3p_bool: Validator,
    one_of: Validator,
    default: Validator,
    name_validator: Validator,
) -> Schema:
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
def indicator_source_create(
    cd3p_required_text: Validator,
    cd3p_text: Validator,
    one_of: Validator,
    default: Validator,
    name_validator: Validator,
) -> Schema:
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


@validator_args
def indicator_source_delete(cd3p_required_text: Validator) -> Schema:
    return {"id": [cd3p_required_text]}


@validator_args
def indicator_source_list() -> Schema:
    return {}


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
