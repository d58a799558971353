"""Schemas several features' actions share.

Every feature's schemas are written the same way: the portal's own validators (``cd3p_*``) are
imported, and CKAN's come by name through ``validator_args``, as core's schemas take them.
"""

from __future__ import annotations

from ckan.logic.schema import validator_args
from ckan.types import Schema, Validator

from ckanext.cd3p.common.validators import cd3p_limit, cd3p_offset, cd3p_required_text


def by_id() -> Schema:
    """An action on one record: its ``id``."""
    return {"id": [cd3p_required_text]}


def by_id_with_reason() -> Schema:
    """A decision on one record that must say why: its ``id`` and the ``reason``."""
    return {"id": [cd3p_required_text], "reason": [cd3p_required_text]}


@validator_args
def paging(default: Validator) -> Schema:
    """A paged list's ``limit`` (100 unless given) and ``offset``, to add to its schema."""
    return {"limit": [default(100), cd3p_limit], "offset": [default(0), cd3p_offset]}


def nothing() -> Schema:
    """An action that takes no parameters (any given are ignored)."""
    return {}
