"""Small-cell suppression of programme impact tables: primary, then secondary until no hidden count
can be worked out from the counts shown.

*Primary*: a count of people or households ``c`` with ``0 < c < threshold`` is hidden from the
public. Zero is shown: it singles no one out. The rule is ``common/privacy.py``'s (:class:`Cells`):
callers who read raw rows see everything.

*Secondary*: wherever a total is shown beside its parts (tracts within a council district, tracts
within the city, districts within the city, quarters within a period's total), one hidden part
would be the total minus the parts shown. So, group by group and until nothing changes:

1. a group with exactly one hidden cell gets a second one hidden;
2. a group whose total is shown, and whose hidden parts add up to less than the threshold, gets
   more hidden: otherwise the public learns that, together, they are fewer than any one
   suppressed cell can be;
3. then the whole system is audited: a hidden cell whose value follows from the shown ones through
   any combination of the groups' sums (exact elimination over the rationals, not only one group
   at a time) gets one more cell hidden in one of its groups; and back to 1.

The cell hidden to protect another is the smallest one shown in the group that is not zero (the
least information lost), ties broken by key so that the same table always hides the same cells; a
zero only when nothing else is left. Cells the public never sees directly (a district's outcomes
reported at district level, not in any tract: the district total minus its tracts) are *unshown*:
counted as known to the public unless they are small, when they are protected like any other
cell, and never hidden to protect another, since hiding what is not shown protects nothing.

What this does not do: it audits exact recovery, not the bounds that linear programming could put
on a hidden cell; and it protects one table, suppressed as a whole. Tables computed with other
periods or filters can be subtracted from one another, so the public should be offered a fixed set
of them (see computation.py).

Fail closed: a value that is not a finite number is hidden, and when it is not known whether values
count people (``people=None``), all of them are.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ckanext.cd3p.common.privacy import DEFAULT_THRESHOLD, Cells

PUBLIC = Cells(DEFAULT_THRESHOLD, raw=False)  # how a visitor sees a dataset with the default threshold

# What a hidden cell's entry loses: its count, and every field the count can be worked back from.
# Coverage (outcomes / need) and unmet need (need - outcomes) give it back beside the need shown;
# cost per outcome (spend / outcomes) beside the spend. The spend goes too: most programmes have a
# near-fixed unit price (a laptop, a course seat), so a tract's spend divided by it is its count.
# The spend adds up over the same places as the count, so the cells that protect the count protect
# it as well. The need and the target stay: neither says anything about the count.
HIDDEN_FIELDS = ("outcomes", "coverage", "unmet", "spend", "cost_per_outcome")

Key = Hashable


@dataclass(frozen=True)
class Group:
    """A total shown beside the parts it is the sum of."""

    total: Key
    parts: tuple[Key, ...]

    def cells(self) -> tuple[Key, ...]:
        return (self.total, *self.parts)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def primary(values: Mapping[Key, float | None], cells: Cells, *, people: bool | None = True) -> set[Key]:
    """The cells hidden for themselves: counts of people from 1 to below the threshold, and every
    value that is not a finite number; all of them when ``people`` is None (unknown)."""
    if cells.threshold < 1:
        raise ValueError(f"the small-cell threshold must be at least 1, not {cells.threshold}")
    if cells.raw:
        return set()
    if people is None:
        return set(values)
    hidden = {key for key, value in values.items() if not _finite(value)}
    if people:
        hidden.update(key for key, value in values.items() if _finite(value) and cells.hidden(value))
    return hidden


def _order(key: Key) -> str:
    return repr(key)


def _complement(
    values: Mapping[Key, float | None],
    candidates: Iterable[Key],
    hidden: Collection[Key],
    unshown: Collection[Key],
    zeros: bool = True,
) -> Key | None:
    """The cell to hide to protect another: the smallest shown value above zero, else (``zeros``)
    a shown zero; None when there is none."""
    shown = [k for k in candidates if k not in hidden and k not in unshown and _finite(values[k])]
    positive = [k for k in shown if values[k] > 0]  # type: ignore[operator]
    pool = positive or (shown if zeros else [])
    if not pool:
        return None
    return min(pool, key=lambda k: (values[k], _order(k)))


def _protect_groups(
    values: Mapping[Key, float | None],
    groups: list[Group],
    hidden: set[Key],
    unshown: Collection[Key],
    threshold: int,
) -> None:
    """Rules 1 and 2, group by group, until no group changes (``hidden`` grows in place)."""
    changed = True
    while changed:
        changed = False
        for group in groups:
            cells = group.cells()
            count = sum(1 for k in cells if k in hidden)
            pick = None
            if count == 1:
                pick = _complement(values, cells, hidden, unshown)
            elif group.total not in hidden:
                exposed = sum(values[k] for k in group.parts if k in hidden and _finite(values[k]))  # type: ignore[misc]
                if 0 < exposed < threshold:
                    pick = _complement(values, cells, hidden, unshown, zeros=False)
            if pick is not None:
                hidden.add(pick)
                changed = True


def recoverable(groups: Iterable[Group], hidden: Collection[Key]) -> set[Key]:
    """The hidden cells whose values follow exactly from the shown ones through the groups' sums.

    Each group is an equation ``total - sum(parts) = 0``; with the shown cells moved to the right,
    it is a linear equation in the hidden ones. A hidden cell's value is determined exactly when its
    unit vector lies in the span of those equations: in the reduced row echelon form, its pivot row
    has no other entry. Elimination is over the rationals (Fractions), so the answer is exact.
    """
    pivots: dict[Key, dict[Key, Fraction]] = {}  # pivot cell -> its reduced row (pivot coefficient 1)
    holders: dict[Key, set[Key]] = defaultdict(set)  # free cell -> pivots whose rows hold it
    for group in groups:
        row: dict[Key, Fraction] = defaultdict(Fraction)
        if group.total in hidden:
            row[group.total] += 1
        for part in group.parts:
            if part in hidden:
                row[part] -= 1
        for pivot in [k for k in row if k in pivots]:
            factor = row.pop(pivot)
            for key, coefficient in pivots[pivot].items():
                if key != pivot:
                    row[key] -= factor * coefficient
        row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        pivot = min(row, key=_order)
        scale = row[pivot]
        row = {k: v / scale for k, v in row.items()}
        for other in holders.pop(pivot, set()):
            other_row = pivots[other]
            factor = other_row.pop(pivot)
            for key, coefficient in row.items():
                if key == pivot:
                    continue
                value = other_row.get(key, Fraction(0)) - factor * coefficient
                if value:
                    other_row[key] = value
                    holders[key].add(other)
                else:
                    other_row.pop(key, None)
                    holders[key].discard(other)
        pivots[pivot] = row
        for key in row:
            if key != pivot:
                holders[key].add(pivot)
    return {pivot for pivot, row in pivots.items() if len(row) == 1}


def suppress(
    values: Mapping[Key, float | None],
    groups: Iterable[Group],
    cells: Cells = PUBLIC,
    *,
    people: bool | None = True,
    unshown: Collection[Key] = (),
) -> set[Key]:
    """The cells to hide, primary and secondary (see the module's docstring). Every cell of every
    group must have a value in ``values``."""
    hidden = primary(values, cells, people=people)
    if cells.raw or people is None:
        return hidden
    groups = list(groups)
    missing = {k for g in groups for k in g.cells() if k not in values}
    if missing:
        raise ValueError(f"groups name cells without a value: {sorted(map(repr, missing))[:5]}")
    by_cell: dict[Key, list[Group]] = defaultdict(list)
    for group in groups:
        for key in group.cells():
            by_cell[key].append(group)
    while True:
        _protect_groups(values, groups, hidden, unshown, cells.threshold)
        exposed = recoverable(groups, hidden)
        added = False
        for key in sorted(exposed, key=_order):
            options = [
                c for g in by_cell[key] if (c := _complement(values, g.cells(), hidden, unshown)) is not None
            ]
            if options:
                hidden.add(min(options, key=lambda k: (values[k], _order(k))))
                added = True
        if not added:  # nothing exposed, or nothing left to hide: every other cell is hidden or unshown
            return hidden


def blank(entry: Mapping[str, Any], hidden: bool) -> dict[str, Any]:
    """An entry as the public sees it: when hidden, its count and the fields that reveal it are
    None and ``suppressed`` is True."""
    out = dict(entry)
    out["suppressed"] = hidden
    if hidden:
        out.update(dict.fromkeys((f for f in HIDDEN_FIELDS if f in out), None))
    return out
