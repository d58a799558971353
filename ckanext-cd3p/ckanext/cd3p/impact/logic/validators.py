"""Validators of the programme type's fields."""

from __future__ import annotations

import decimal
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context

MAX_AMOUNT = decimal.Decimal("1e12")  # more than any programme's budget: a typo, not a grant


def cd3p_money(value: Any, context: Context) -> str:
    """An amount in US dollars, 0 or more, to the cent: ``250000`` or ``1234.5``, as text with two
    decimals. No currency sign, no thousands separators (the number is read as written)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise tk.Invalid(tk._("An amount is a number of dollars, such as 250000 or 1234.50"))
    try:
        amount = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise tk.Invalid(tk._("An amount is a number of dollars, such as 250000 or 1234.50")) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise tk.Invalid(tk._("An amount must be 0 or more and less than a trillion dollars"))
    if amount != amount.quantize(decimal.Decimal("0.01")):
        raise tk.Invalid(tk._("An amount has at most two decimals (cents)"))
    return f"{amount:.2f}"


def cd3p_quarter(value: Any, context: Context) -> str:
    """A quarter, ``2025-Q3`` (any case), as the portal writes it; a month (``2025-07``) is read as
    its quarter. Years 2000 to 2100."""
    from ckanext.cd3p.impact import reports

    if not isinstance(value, str):
        raise tk.Invalid(tk._("A quarter is written like 2025-Q3"))
    try:
        return reports.parse_period(value.strip())[0]
    except ValueError as error:
        raise tk.Invalid(str(error)) from None


def cd3p_summable_measure(value: Any, context: Context) -> str:
    """The id of a measure that adds up over places and quarters (a count, not a median)."""
    from ckanext.cd3p.impact.registry import MEASURES

    measure = MEASURES.get(value) if isinstance(value, str) else None
    if measure is None:
        raise tk.Invalid(tk._("Unknown measure: use one of {ids}").format(ids=", ".join(MEASURES)))
    if not measure.summable:
        raise tk.Invalid(
            tk._("{id} is a median: it cannot be added up over places or quarters").format(id=measure.id)
        )
    return measure.id
