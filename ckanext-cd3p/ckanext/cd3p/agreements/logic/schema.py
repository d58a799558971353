"""Schemas of the agreement actions, one per action (written as ``common.schema`` says)."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.agreements.logic.validators import cd3p_ledger_checkpoint
from ckanext.cd3p.agreements.model import ENTRY_KINDS
from ckanext.cd3p.catalog.logic.validators import cd3p_checked, cd3p_organization_sector, cd3p_service_area
from ckanext.cd3p.common import schema as common
from ckanext.cd3p.common.validators import (
    cd3p_bool,
    cd3p_date,
    cd3p_http_url,
    cd3p_not_blank,
    cd3p_required_text,
    cd3p_text,
)

ROLES = ["member", "editor", "admin"]


REQUEST_ROLES = ["member", "editor"]


@validator_args
def agreement_list(ignore_missing: Validator, one_of: Validator) -> Schema:
    return {"state": [ignore_missing, cd3p_text, one_of(["draft", "active", "retired"])]}


@validator_args
def agreement_create(ignore_missing: Validator, name_validator: Validator) -> Schema:
    return {
        "version": [cd3p_required_text, name_validator],
        "title": [cd3p_required_text],
        "body": [cd3p_text, cd3p_not_blank],
        "effective_date": [ignore_missing, cd3p_date],
    }


@validator_args
def agreement_update(ignore_missing: Validator) -> Schema:
    """agreement_create's fields but the version (which names the text signed), each optional."""
    fields = agreement_create()
    del fields["version"]
    optional = {k: v if v[0] is ignore_missing else [ignore_missing, *v] for k, v in fields.items()}
    return {"id": [cd3p_required_text], **optional}


@validator_args
def agreement_sign(ignore_missing: Validator, default: Validator) -> Schema:
    return {
        "organization_id": [cd3p_required_text],
        "agreement_id": [cd3p_required_text],
        "signatory_name": [cd3p_required_text],
        "signatory_title": [cd3p_required_text],
        "confirm_authority": [default(False), cd3p_checked],
        "text_sha256": [ignore_missing, cd3p_text],
    }


@validator_args
def agreement_acknowledge(ignore_missing: Validator) -> Schema:
    return {
        "agreement_id": [ignore_missing, cd3p_text],
        "text_sha256": [ignore_missing, cd3p_text],
    }


def agreement_status() -> Schema:
    return {"organization_id": [cd3p_required_text]}


@validator_args
def signature_list(ignore_missing: Validator, one_of: Validator) -> Schema:
    return {
        "organization_id": [ignore_missing, cd3p_text],
        "user_id": [ignore_missing, cd3p_text],
        "agreement_id": [ignore_missing, cd3p_text],
        "kind": [ignore_missing, cd3p_text, one_of(list(ENTRY_KINDS))],
        "since": [ignore_missing, cd3p_date],
        "until": [ignore_missing, cd3p_date],
        **common.paging(),
    }


@validator_args
def partner_application_create(
    ignore_missing: Validator,
    default: Validator,
    name_validator: Validator,
    email_validator: Validator,
) -> Schema:
    return {
        "organization_title": [cd3p_required_text],
        "organization_name": [ignore_missing, cd3p_text, name_validator],
        "sector": [cd3p_required_text, cd3p_organization_sector],
        "website": [ignore_missing, cd3p_text, cd3p_http_url],
        "contact_name": [cd3p_required_text],
        "contact_email": [cd3p_required_text, email_validator],
        "contact_phone": [ignore_missing, cd3p_text],
        "data_description": [cd3p_required_text],
        "service_area": [ignore_missing, cd3p_service_area],
        "focus_group": [default(False), cd3p_bool],
    }


@validator_args
def queue_list(ignore_missing: Validator, one_of: Validator, default: Validator) -> Schema:
    return {
        "organization_id": [ignore_missing, cd3p_text],
        "mine": [default(False), cd3p_bool],
        "state": [ignore_missing, cd3p_text, one_of(["pending", "approved", "rejected"])],
        **common.paging(),
    }


@validator_args
def membership_request_create(ignore_missing: Validator, one_of: Validator, default: Validator) -> Schema:
    return {
        "organization_id": [cd3p_required_text],
        "role": [default("member"), cd3p_text, one_of(REQUEST_ROLES)],
        "message": [ignore_missing, cd3p_text],
        "acknowledge": [default(False), cd3p_checked],
    }


@validator_args
def ledger_verify(ignore_missing: Validator) -> Schema:
    return {"checkpoint": [ignore_missing, cd3p_text, cd3p_ledger_checkpoint]}


agreement_show = agreement_delete = by_id = common.by_id
signature_revoke = reject = common.by_id_with_reason
ledger_checkpoint = common.nothing
