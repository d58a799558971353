"""Validators of the agreement actions."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p.agreements import ledger


def cd3p_ledger_checkpoint(value: Any, context: Context) -> tuple[int, str]:
    """A ledger checkpoint as ``ckan cd3p agreement checkpoint`` prints it: ``<entries>:<head hash>``."""
    try:
        return ledger.parse_checkpoint(value)
    except ValueError as e:
        raise tk.Invalid(
            tk._("Must be <entries>:<head hash>, as `ckan cd3p agreement checkpoint` prints it")
        ) from e
