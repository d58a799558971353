"""Geography codes checked before loading: every value of a resource's declared key column
(``geo_key_column``) must be a known Detroit code of its declared level (``geo_key_level``).

Known codes, from the shipped boundaries (:mod:`ckanext.cd3p.common.geography`) and configuration:

- ``tract``: the 297 GEOIDs of Detroit's census tracts (11 digits; a spreadsheet's ``26163500100.0``
  is read as ``26163500100``);
- ``council-district``: 1 to 7, also written ``District 3``, ``Council District 3`` or ``district-3``;
- ``neighborhood``: the 208 official neighbourhood names (any case), or their codes
  (``neighborhood-arden-park``);
- ``zip``: ``ckanext.cd3p.checks.detroit_zip_codes`` (ZIP+4 is read as its first five digits).

Other levels (points, block groups, county, state) are not checked. Every row is read, streaming,
so a file of a million rows is checked in constant memory; the report lists the first unknown codes
with their spreadsheet row numbers (the header is row 1) and counts them all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import geography
from ckanext.cd3p.ingestion import screening

CHECKED_LEVELS = ("tract", "council-district", "neighborhood", "zip")
SHOWN_UNKNOWN = 100  # unknown codes listed in a report; all are counted


def _norm(value: Any) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"\s+", " ", text.strip().lower())


@functools.lru_cache(maxsize=8)
def _known(level: str, zips: tuple[str, ...] = ()) -> frozenset[str]:
    """The level's codes (:func:`geography.codes`) and the other ways of writing them, as
    :func:`canonical` writes a value."""
    if level == "zip":
        return frozenset(zips)
    if level == "tract":
        return geography.codes()["tract"]
    found = set()
    if level == "council-district":
        for code in geography.codes()["council_district"]:
            n = code.removeprefix("district-")
            found.update({code, n, f"district {n}", f"council district {n}"})
    elif level == "neighborhood":
        for code in geography.codes()["neighborhood"]:
            found.update({code, _norm(geography.places()[code].label.removeprefix("Neighborhood: "))})
    return frozenset(found)


def canonical(level: str, value: Any) -> str:
    """The value as it is compared with the known codes."""
    text = _norm(value)
    if level == "tract":
        text = re.sub(r"\.0+$", "", text)
    elif level == "zip":
        text = re.sub(r"\.0+$", "", text)
        text = text.split("-", 1)[0]
    return text


def is_known(level: str, value: Any) -> bool:
    zips = tuple(cd3p_config.detroit_zip_codes()) if level == "zip" else ()
    return canonical(level, value) in _known(level, zips)


class CodeCheck:
    """Checks one column's codes row by row, as :func:`screening.read_tables` reads the file
    (``on_row``): the same pass that samples rows for the personal-data screening."""

    def __init__(self, column: str, level: str) -> None:
        self.column, self.level = column, level
        self.rows = self.unknown_total = 0
        self.unknown: list[dict[str, Any]] = []
        self._index: dict[str, int | None] = {}  # sheet -> the column's position
        self.headers: dict[str, list[str]] = {}

    def __call__(self, sheet: str, header: Sequence[str], number: int, values: Sequence[Any]) -> None:
        if sheet not in self._index or (
            self._index[sheet] is None and len(header) != len(self.headers[sheet])
        ):
            wanted = _norm(self.column)
            self._index[sheet] = next((i for i, h in enumerate(header) if _norm(h) == wanted), None)
            self.headers[sheet] = [str(h) for h in header]
        index = self._index[sheet]
        if index is None:
            return
        value = values[index] if index < len(values) else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a spreadsheet's 26163500100.0
        self.rows += 1
        if not is_known(self.level, value):
            self.unknown_total += 1
            if len(self.unknown) < SHOWN_UNKNOWN:
                text = "" if value is None else str(value)[:80]
                self.unknown.append({"sheet": sheet, "row": number, "value": text})

    def report(self) -> dict[str, Any]:
        """``rows`` read, ``unknown_total`` and the first ``unknown`` codes (``sheet``, ``row``,
        ``value``); or the ``error`` of a column no table has."""
        found: dict[str, Any] = {"column": self.column, "level": self.level, "checked": True}
        if not any(i is not None for i in self._index.values()):
            tables = "; ".join(
                (f"{sheet}: " if sheet else "") + ", ".join(h for h in header if h)
                for sheet, header in self.headers.items()
            )
            found["error"] = f"No column {self.column!r} in the file (its columns: {tables or 'none'})"
            return found
        found.update(rows=self.rows, unknown_total=self.unknown_total, unknown=self.unknown)
        return found


def checker(column: str | None, level: str | None) -> CodeCheck | None:
    """A row callback checking the column's codes, or None when the level is not checked."""
    if not column or level not in CHECKED_LEVELS:
        return None
    return CodeCheck(column, level)


def check_codes(path: Path, fmt: str, column: str, level: str) -> dict[str, Any]:
    """The report on a file's geography codes on its own (the checks job shares its read with the
    screening instead)."""
    check = checker(column, level)
    if check is None:
        return {"column": column, "level": level, "checked": False}
    screening.read_tables(path, fmt, sample_rows=1, on_row=check)
    return check.report()
