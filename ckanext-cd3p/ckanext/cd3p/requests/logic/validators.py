"""Validators of data requests (none registered: a length is a parameter of the schema)."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, Validator


def max_length(limit: int) -> Validator:
    """A text of at most ``limit`` characters; put after ``cd3p_text`` or ``cd3p_required_text``
    (it reads only text, and leaves anything else to them)."""

    def validator(value: Any, context: Context) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise tk.Invalid(tk._("Must be at most {n} characters").format(n=limit))
        return value

    return validator
