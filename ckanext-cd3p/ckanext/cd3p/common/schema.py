"""Schemas several features' actions share."""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator


@validator_args
def by_id(cd3p_required_text: Validator) -> Schema:
    """An action on one record: its ``id``."""
    return {"id": [cd3p_required_text]}


@validator_args
def by_id_with_reason(cd3p_required_text: Validator) -> Schema:
    """A decision on one record that must say why: its ``id`` and the ``reason``."""
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text]}


@validator_args
def paging(cd3p_limit: Validator, cd3p_offset: Validator, default: Validator) -> Schema:
    """A paged list's ``limit`` (100 unless given) and ``offset``, to add to its schema."""
    return {"limit": [default(100), cd3p_limit], "offset": [default(0), cd3p_offset]}


@validator_args
def nothing() -> Schema:
    """An action that takes no parameters (any given are ignored)."""
    return {}
