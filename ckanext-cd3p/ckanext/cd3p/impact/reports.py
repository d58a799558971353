"""Outcome reports: the long table a partner fills in, read and checked before anything counts it.

One row per period, place and measure::

    period   geo_level  geo_id       measure              count  cost     target
    2025-Q3  tract      26163520100  devices_distributed  14     4200.00  15

- ``period``: a quarter (``2025-Q3``) or a month (``2025-07``, also the date ``2025-07-01`` a
  spreadsheet makes of it), which counts in its quarter. Years 2000 to 2100.
- ``geo_level``: ``tract``, ``council_district``, ``neighborhood``, ``zip`` or ``city``; ``geo_id``
  the place's code. Council districts may be written ``3``, ``District 3`` or ``district-3``,
  neighbourhoods by name or code, a tract's GEOID as a spreadsheet number (``26163520100.0``), a
  ZIP+4 as its ZIP. Whether a code exists is asked of the ``known`` function the caller passes in.
- ``measure``: an id of ``measures.yaml``; ``count``: a whole number from 0 (``3`` and ``3.0`` are
  both 3, as a spreadsheet writes a whole number either way; ``3.5``, ``-1``, ``1,234``, blank are
  refused). For a median (``median_earnings_q2``) the column holds the median in dollars, cents
  allowed, and the row needs the count it is the median of beside it (same period and place).
- ``cost``, optional: dollars spent on this row's outcomes, 0 or more, cents allowed, no ``$`` or
  commas. The same spend may stand on the rows of several measures of one programme (what was spent
  on a course is the cost of its enrolments and of its completions); no total adds up measures.
- ``target``, optional: the whole number the programme aimed for at that place in that period. A
  programme-wide target goes on a ``city`` row, whose count is what was not reported at a smaller
  place (0 when all was).

Columns are matched whatever their case and surrounding spaces. A column the format does not know
is refused, not ignored: a misspelled ``costs`` would otherwise drop the spend without a word, and
a column of names or addresses has no business travelling with a report. Blank rows are skipped.
The same period, place and measure twice, or a quarter beside its own months, is refused as double
counting; so is a row that another report of the programme counts already (``elsewhere``, which the
caller reads from the stored reports).

Row numbers: data rows count from 1, the header is row 0; :attr:`Problem.line` is the row a
spreadsheet shows (the header is row 1), which is what a partner sees in Excel. :func:`read_csv`
keeps empty lines so that the two agree for a CSV file too.

A report with any problem is refused as a whole; :class:`Report` still holds the rows that parsed,
for a preview.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import functools
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ckanext.cd3p.common import geography, inputs
from ckanext.cd3p.impact.registry import MEASURES, Measure

COLUMNS = ("period", "geo_level", "geo_id", "measure", "count", "cost", "target")
REQUIRED = ("period", "geo_level", "geo_id", "measure", "count")

LEVELS = ("tract", "council_district", "neighborhood", "zip", "city")

YEARS = (2000, 2100)

HEADER = 0  # the row number of the header in problems

MAX_PROBLEMS = 200  # problems listed in a report; all are counted

MAX_CELL = 200  # characters: no code, number or id is longer

T = TypeVar("T")

# What each column holds, for the template's Columns sheet and for pages.
COLUMN_HELP = {
    "period": "A quarter, like 2025-Q3, or a month, like 2025-07 (counted in its quarter).",
    "geo_level": "tract, council_district, neighborhood, zip or city.",
    "geo_id": (
        "The place: an 11-digit census tract GEOID, a council district (3 or district-3), a "
        "neighborhood name, a 5-digit ZIP code, or city."
    ),
    "measure": "One of the measure ids on the Measures sheet.",
    "count": (
        "How many, a whole number (0 if none). For median_earnings_q2: the median in dollars, "
        "beside the employed_q2_after_exit count of the same period and place."
    ),
    "cost": "Optional. Dollars spent on these outcomes, e.g. 1250.50, without $ or commas.",
    "target": "Optional. The whole number you aimed for at this place in this period.",
}

_LEVEL_NAMES = {
    "tract": "tract",
    "census_tract": "tract",
    "council_district": "council_district",
    "district": "council_district",
    "neighborhood": "neighborhood",
    "neighbourhood": "neighborhood",
    "zip": "zip",
    "zip_code": "zip",
    "zipcode": "zip",
    "city": "city",
}

_LEVEL_LABELS = {
    "tract": "census tract",
    "council_district": "council district",
    "neighborhood": "neighborhood",
    "zip": "ZIP code",
    "city": "city",
}

_CITY_NAMES = ("", "city", "detroit", "city of detroit")


_QUARTER = re.compile(r"(\d{4})-[Qq](\d)")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2})(?: 00:00(?::00)?)?)?")
_WHOLE = re.compile(r"\d{1,12}(?:\.0+)?")
_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_DISTRICT = re.compile(r"(?:council[\s_-]*)?(?:district[\s_-]*)?0*(\d{1,2})")


@dataclass(frozen=True)
class Row:
    """One checked row of a report. ``period`` is always a quarter; ``month`` the month a monthly
    row gave (1-12), else None. ``count`` is a whole number, but for a median: its dollars."""

    row: int
    period: str
    geo_level: str
    geo_id: str
    measure: str
    count: float
    cost: float | None = None
    target: int | None = None
    month: int | None = None
    programme: str = ""
    organization: str = ""

    @property
    def counted(self) -> Counted:
        """What the row counts: its period (and month), place and measure."""
        return (self.period, self.month, self.geo_level, self.geo_id, self.measure)


# (period, month or None, geo_level, geo_id, measure): two rows counting the same count it twice
Counted = tuple[str, int | None, str, str, str]


@dataclass(frozen=True)
class Problem:
    row: int  # 1 = the first data row; 0 = the header
    column: str  # "" = the row as a whole
    message: str

    @property
    def line(self) -> int:
        """The row a spreadsheet shows (the header is its row 1)."""
        return self.row + 1

    def __str__(self) -> str:
        where = "Header" if self.row == HEADER else f"Row {self.row} (line {self.line})"
        return f"{where}, column {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass(frozen=True)
class Report:
    rows: tuple[Row, ...]
    problems: tuple[Problem, ...]  # the first MAX_PROBLEMS
    problem_count: int

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


# --- periods --------------------------------------------------------------------------------------


def parse_period(text: str) -> tuple[str, int | None]:
    """A period's quarter (``2025-Q3``) and month (7, or None for a quarter).

    :raises ValueError: with a sentence a partner can act on
    """
    quarter = _QUARTER.fullmatch(text)
    month = None if quarter else _MONTH.fullmatch(text)
    if not quarter and not month:
        raise ValueError(
            f"Write the period as a quarter, like 2025-Q3, or a month, like 2025-07 (found {text!r})"
        )
    year = int((quarter or month).group(1))  # type: ignore[union-attr]
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"The year must be from {YEARS[0]} to {YEARS[1]} (found {year})")
    if quarter:
        q = int(quarter.group(2))
        if not 1 <= q <= 4:
            raise ValueError(f"A quarter is Q1 to Q4 (found Q{q})")
        return f"{year}-Q{q}", None
    m = int(month.group(2))  # type: ignore[union-attr]
    if not 1 <= m <= 12:
        raise ValueError(f"A month is 01 to 12 (found {month.group(2)})")  # type: ignore[union-attr]
    if month.group(3) is not None:  # type: ignore[union-attr]
        try:
            dt.date(year, m, int(month.group(3)))  # type: ignore[union-attr]
        except ValueError:
            raise ValueError(f"{text!r} is not a date") from None
    return f"{year}-Q{(m - 1) // 3 + 1}", m


def quarter_key(quarter: str) -> tuple[int, int]:
    """A quarter as (year, quarter), for ordering: ``2025-Q3`` -> (2025, 3)."""
    found = _QUARTER.fullmatch(quarter)
    if found is None:
        raise ValueError(f"not a quarter: {quarter!r}")
    return int(found.group(1)), int(found.group(2))


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, both included (empty when last is before first)."""
    (year, q), end = quarter_key(first), quarter_key(last)
    found = []
    while (year, q) <= end:
        found.append(f"{year}-Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return found


# --- places -----------------------------------------------------------------------------------------


def parse_level(text: str) -> str:
    """The geography level a text names (``Council District`` -> ``council_district``).

    :raises ValueError: no such level
    """
    level = _LEVEL_NAMES.get(re.sub(r"[\s-]+", "_", text.lower()))
    if level is None:
        raise ValueError(f"Unknown geo_level {text!r}: use one of {', '.join(LEVELS)}")
    return level


def canonical_place(level: str, text: str) -> str:
    """A place's code as the portal writes it, from the ways a partner may write it: the GEOID of a
    tract, ``district-3``, ``neighborhood-arden-park``, a five-digit ZIP, ``city``."""
    if level in ("tract", "zip"):
        text = re.sub(r"\.0+$", "", text)
        return text.split("-", 1)[0] if level == "zip" else text
    lower = text.lower()
    if level == "council_district":
        found = _DISTRICT.fullmatch(lower)
        return f"district-{int(found.group(1))}" if found else lower
    if level == "neighborhood":
        return lower if lower.startswith("neighborhood-") else geography.neighborhood_code(lower)
    return "city" if lower in _CITY_NAMES else lower


# --- values -----------------------------------------------------------------------------------------


def _number_problem(text: str, what: str, whole: bool = True) -> str:
    """Why a text that did not parse is not a valid ``what`` (a whole number, or an amount)."""
    if "$" in text or "," in text or " " in text:
        return f"Write the {what} as a plain number, without $, commas or spaces (found {text!r})"
    if not _NUMBER.fullmatch(text):
        return f"The {what} is not a number (found {text!r})"
    if text.startswith("-"):
        return f"The {what} cannot be negative (found {text})"
    if text.startswith("+"):
        return f"Write the {what} without a + sign (found {text})"
    if whole:
        return f"The {what} must be a whole number (found {text})"
    return f"The {what} has more than 6 decimals (found {text})"


def parse_whole(text: str, what: str = "count") -> int:
    """A whole number from 0: ``3`` and ``3.0`` are 3.

    :raises ValueError: blank, negative, a fraction, or not a number
    """
    if text == "":
        raise ValueError(f"The {what} is missing: write 0 if there were none")
    if not _WHOLE.fullmatch(text):
        raise ValueError(_number_problem(text, what))
    return int(text.split(".", 1)[0])


def parse_amount(text: str, what: str = "cost") -> float:
    """Dollars from 0, cents allowed: ``1250``, ``1250.5``, ``1250.50``.

    :raises ValueError: blank, negative, with ``$`` or commas, or not a number
    """
    if text == "":
        raise ValueError(f"The {what} is missing")
    if not _AMOUNT.fullmatch(text):
        raise ValueError(_number_problem(text, what, whole=False))
    return float(text)


def _cell(record: Mapping[str, object], key: str | None) -> str:
    """A cell's text, stripped, once it is known to be text (a missing cell is blank).

    :raises ValueError: not text, too long, or with a control character
    """
    value = record.get(key) if key is not None else None  # type: ignore[arg-type]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"The cell could not be read as text ({type(value).__name__})")
    if len(value) > MAX_CELL:
        raise ValueError(f"The cell is longer than {MAX_CELL} characters")
    why = inputs.unsafe(value)  # control characters, NUL, lone surrogates: the portal's one rule
    if why:
        raise ValueError(f"{why}; type the value again")
    return value.strip()


def parse_measure(text: str) -> Measure:
    """The measure of an id, whatever its case.

    :raises ValueError: no such measure, with the closest id when one is close
    """
    found = MEASURES.get(text.lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(text.lower(), list(MEASURES), n=1)
    hint = f" Did you mean {close[0]}?" if close else " See the Measures sheet of the template."
    raise ValueError(f"Unknown measure {text!r}.{hint}")


# --- checking ------------------------------------------------------------------------------------------


class _Problems:
    """Every problem counted, the first MAX_PROBLEMS kept."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(row, column, message))


def _header(first: Mapping[str, object], problems: _Problems) -> dict[str, str] | None:
    """Column name -> the key the records use, or None when the header is wrong (each kind of
    mistake reported once, on the header row)."""
    found: dict[str, str] = {}
    unknown, repeated = [], []
    for key in first:
        if key is None:
            continue  # cells beyond the header: reported on their rows
        if not isinstance(key, str):
            unknown.append(repr(key))
            continue
        name = key.lstrip("\ufeff").strip().lower()
        if not name:
            continue  # a column without a name: its values are reported on their rows
        if name in found:
            repeated.append(name)
        elif name in COLUMNS:
            found[name] = key
        else:
            unknown.append(key.strip())
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        problems.add(HEADER, "", f"Missing required columns: {', '.join(missing)}")
    if unknown:
        problems.add(
            HEADER,
            "",
            f"Unknown columns: {', '.join(unknown)}. A report has only the columns "
            f"{', '.join(COLUMNS)}; remove or rename the others",
        )
    if repeated:
        problems.add(HEADER, "", f"Columns given twice: {', '.join(repeated)}")
    return None if missing or unknown or repeated else found


def _filled(value: object) -> bool:
    """Whether a cell holds anything: the cells beyond the header come as a list."""
    if isinstance(value, list):
        return any(_filled(v) for v in value)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _blank(record: Mapping[str, object]) -> bool:
    return not any(_filled(v) for v in record.values())


def _stray_cells(number: int, record: Mapping[str, object], header: set[object], problems: _Problems) -> bool:
    """Report values outside the header's named columns: beyond its last column, under a blank
    name, or (records built by hand) under a name the header does not have. True if there were."""
    before = problems.count
    for key, value in record.items():
        if not _filled(value):
            continue
        if key is None:
            problems.add(number, "", "This row has more cells than the header has columns")
        elif key not in header:
            problems.add(number, "", f"A column the header does not have: {key!r}")
        elif isinstance(key, str) and not key.strip():
            problems.add(number, "", f"A value in a column without a name ({str(value).strip()[:40]!r})")
    return problems.count > before


def _parse_row(
    number: int,
    record: Mapping[str, object],
    columns: dict[str, str],
    known: Callable[[str, str], bool],
    problems: _Problems,
) -> Row | None:
    """One row, or None after reporting every problem of it, each on its column."""
    before = problems.count
    texts: dict[str, str] = {}
    for column in COLUMNS:
        try:
            texts[column] = _cell(record, columns.get(column))
        except ValueError as error:
            problems.add(number, column, str(error))

    def attempt(column: str, parse: Callable[[str], T]) -> T | None:
        if column not in texts:
            return None
        try:
            return parse(texts[column])
        except ValueError as error:
            problems.add(number, column, str(error))
            return None

    period = attempt("period", parse_period)
    level = attempt("geo_level", parse_level)
    measure = attempt("measure", parse_measure)
    place = attempt("geo_id", lambda text: _place(level, text, known)) if level else None
    if measure is not None and measure.kind == "median":
        count: float | None = attempt("count", lambda text: parse_amount(text, "median in dollars"))
    else:
        count = attempt("count", parse_whole)
    cost = attempt("cost", lambda text: parse_amount(text) if text else None)
    target = attempt("target", lambda text: parse_whole(text, "target") if text else None)
    if problems.count > before or period is None or not level or not place or not measure or count is None:
        return None
    return Row(
        row=number,
        period=period[0],
        month=period[1],
        geo_level=level,
        geo_id=place,
        measure=measure.id,
        count=count,
        cost=cost,
        target=target,
    )


def _place(level: str, text: str, known: Callable[[str, str], bool]) -> str:
    code = canonical_place(level, text)
    if not known(level, code):
        shown = text or "(blank)"
        raise ValueError(f"Unknown {_LEVEL_LABELS[level]} {shown!r}: not a {_LEVEL_LABELS[level]} of Detroit")
    return code


def _double_counts(rows: list[Row], problems: _Problems) -> None:
    """The same period, place and measure twice, or a quarter beside its months: counted twice."""
    seen: dict[Counted, int] = {}
    quarters: dict[tuple[str, str, str, str], dict[bool, int]] = {}
    for row in rows:
        key = row.counted
        if key in seen:
            problems.add(row.row, "", f"Same period, place and measure as row {seen[key]}: report each once")
            continue
        seen[key] = row.row
        monthly = quarters.setdefault((row.period, row.geo_level, row.geo_id, row.measure), {})
        other = monthly.get(row.month is None)
        if other is not None:
            problems.add(
                row.row,
                "period",
                f"Row {other} reports this place and measure for the quarter {row.period} as a "
                "quarter and this row as one of its months: report either the quarter or its months",
            )
        monthly.setdefault(row.month is not None, row.row)


def _counted_elsewhere(rows: list[Row], elsewhere: Mapping[Counted, str], problems: _Problems) -> None:
    """Rows that another report counts already (``elsewhere``: what each counts -> where, e.g.
    ``row 2 (line 3) of the report "2025 Q1"``): the same period, place and measure, or a quarter
    beside one of its months."""
    if not elsewhere:
        return
    by_quarter: dict[tuple[str, str, str, str], dict[bool, str]] = {}
    for (period, month, level, code, measure), where in elsewhere.items():
        by_quarter.setdefault((period, level, code, measure), {}).setdefault(month is not None, where)
    for row in rows:
        where = elsewhere.get(row.counted)
        if where is not None:
            problems.add(
                row.row,
                "",
                f"Same period, place and measure as {where}: counted twice. Report each once, in "
                "one report of the programme",
            )
            continue
        other = by_quarter.get((row.period, row.geo_level, row.geo_id, row.measure), {}).get(
            row.month is None
        )
        if other is not None:
            theirs, ours = (
                ("a month of", "the whole quarter")
                if row.month is None
                else ("the whole quarter", "one of its months")
            )
            problems.add(
                row.row,
                "period",
                f"{other[0].upper()}{other[1:]} reports this place and measure for {theirs} "
                f"{row.period}, and this row for {ours}: counted twice. Report either the quarter "
                "or its months",
            )


def _unpaired_medians(rows: list[Row], problems: _Problems) -> None:
    """A median row without the count it is the median of, for the same period and place."""
    present = {(r.period, r.month, r.geo_level, r.geo_id, r.measure) for r in rows}
    for row in rows:
        m: Measure = MEASURES[row.measure]
        if m.kind == "median" and (row.period, row.month, row.geo_level, row.geo_id, m.of) not in present:
            problems.add(
                row.row,
                "measure",
                f"This median needs the {m.of} count of the same period and place beside it, on a "
                "row of its own: how many people it is the median of",
            )


class Checker:
    """A report checked row by row as a file is read (:meth:`add`), then as a whole
    (:meth:`report`): the same checks as :func:`check_rows`, for a caller that numbers the rows
    itself (the check before loading reads the file once for every check)."""

    def __init__(
        self, known: Callable[[str, str], bool], *, programme: str = "", organization: str = ""
    ) -> None:
        self.known, self.programme, self.organization = known, programme, organization
        self.problems = _Problems()
        self.parsed: list[Row] = []
        self.columns: dict[str, str] | None = None
        self.header: set[object] = set()
        self.refused_header = False

    def add(self, number: int, record: Mapping[str, object]) -> None:
        """One record, keyed by the header's column names; ``number`` its data row (1 = the
        first; the header is row 0). The first record's keys are the header."""
        if self.refused_header:
            return
        if self.columns is None:
            self.columns = _header(record, self.problems)
            if self.columns is None:
                self.refused_header = True
                return
            self.header = {key for key in record if key is not None}
        if _blank(record) or _stray_cells(number, record, self.header, self.problems):
            return
        found = _parse_row(number, record, self.columns, self.known, self.problems)
        if found is not None:
            self.parsed.append(
                dataclasses.replace(found, programme=self.programme, organization=self.organization)
            )

    def report(self, elsewhere: Mapping[Counted, str] | None = None) -> Report:
        """The report's rows and problems, once every record was added. ``elsewhere``: what the
        programme's other reports count already, and where (see :func:`_counted_elsewhere`)."""
        problems = self.problems
        if self.columns is not None and not self.parsed and problems.count == 0:
            problems.add(HEADER, "", "The report has no data rows")
        if self.columns is None and problems.count == 0:
            problems.add(HEADER, "", "The report is empty: it has no header and no rows")
        _double_counts(self.parsed, problems)
        _counted_elsewhere(self.parsed, elsewhere or {}, problems)
        _unpaired_medians(self.parsed, problems)
        kept = sorted(problems.kept, key=lambda p: p.row)  # stable: a row's problems stay in column order
        return Report(tuple(self.parsed), tuple(kept), problems.count)


def check_rows(
    rows: Iterable[Mapping[str, str]],
    known: Callable[[str, str], bool],
    *,
    programme: str = "",
    organization: str = "",
) -> Report:
    """Check a report's rows (as ``csv.DictReader`` gives them) and parse those that are right.

    ``known(level, code)`` says whether a place code of a level exists (``tract``,
    ``council_district``, ``neighborhood``, ``zip``, ``city``); codes are passed as
    :func:`canonical_place` writes them. ``programme`` and ``organization`` are stamped on every
    row: a report is one programme's.
    """
    checker = Checker(known, programme=programme, organization=organization)
    for number, record in enumerate(rows, start=1):
        checker.add(number, record)
    return checker.report()


def read_csv(data: bytes) -> Iterator[dict[str | None, Any]]:
    """The records of a CSV report (UTF-8, with or without a byte-order mark), for :func:`check_rows`.

    As ``csv.DictReader`` gives them (cells beyond the header in a list under None, missing cells
    None), except that an empty line is kept as a blank record rather than skipped, so that row
    numbers stay those a spreadsheet shows, and that a column name given twice is kept as
    ``name (repeated)``, which :func:`check_rows` refuses, where DictReader would silently keep one.

    :raises UnicodeDecodeError: not UTF-8
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if header is None:
        return
    seen: set[str] = set()
    for i, name in enumerate(header):
        if name in seen:
            header[i] = f"{name} (repeated)"
        seen.add(header[i])
    for cells in reader:
        record: dict[str | None, Any] = dict(itertools.zip_longest(header, cells[: len(header)]))
        if len(cells) > len(header):
            record[None] = cells[len(header) :]
        yield record


# --- the template ---------------------------------------------------------------------------------------


def template_rows() -> list[dict[str, str]]:
    """The rows of the blank template: one per measure, in the registry's order, with only the
    measure filled in. A partner fills in the rows they report and deletes the others."""
    return [{**dict.fromkeys(COLUMNS, ""), "measure": m} for m in MEASURES]


def rows_csv(rows: Iterable[Mapping[str, str]]) -> bytes:
    """Report rows (text, in :data:`COLUMNS`) as a CSV file in the documented format (UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@functools.cache  # the same bytes every time: built once per process
def template_csv() -> bytes:
    """The blank template as CSV (UTF-8)."""
    return rows_csv(template_rows())


def _measure_sheet_rows() -> list[list[str]]:
    rows = [["measure", "title", "unit", "kind", "definition", "source", "small counts hidden", "need"]]
    for m in MEASURES.values():
        need = m.need.label if m.need else "(none) " + m.need_note
        rows.append(
            [m.id, m.title, m.unit, m.kind, m.definition, m.source, "yes" if m.people else "no", need]
        )
    return rows


@functools.cache
def template_xlsx() -> bytes:
    """The blank template as an Excel workbook: the Report sheet to fill in, then a Measures sheet
    (ids and definitions) and a Columns sheet (what each column holds).

    The period and geo_id columns are formatted as text, so Excel keeps ``2025-07`` as typed
    instead of making a date of it. The geo_level and measure cells offer their lists.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    report = book.active
    report.title = "Report"
    report.append(list(COLUMNS))
    for row in template_rows():
        report.append([row[c] for c in COLUMNS])
    for letter, column in zip("ABCDEFG", COLUMNS, strict=True):
        report.column_dimensions[letter].width = 24 if column in ("geo_id", "measure") else 14
        if column in ("period", "geo_id"):
            report.column_dimensions[letter].number_format = "@"
            for number in range(2, report.max_row + 1):
                report[f"{letter}{number}"].number_format = "@"
    for cell in report[1]:
        cell.font = Font(bold=True)
    report.freeze_panes = "A2"

    measures = book.create_sheet("Measures")
    for row in _measure_sheet_rows():
        measures.append(row)
    columns = book.create_sheet("Columns")
    columns.append(["column", "required", "what it holds"])
    for column in COLUMNS:
        columns.append([column, "yes" if column in REQUIRED else "no", COLUMN_HELP[column]])
    for sheet, widths in ((measures, (24, 34, 11, 9, 80, 40, 12, 40)), (columns, (12, 10, 90))):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index, width in enumerate(widths):
            sheet.column_dimensions["ABCDEFGH"[index]].width = width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    last = len(MEASURES) + 1
    pick_level = DataValidation(type="list", formula1='"' + ",".join(LEVELS) + '"', allow_blank=True)
    pick_measure = DataValidation(type="list", formula1=f"=Measures!$A$2:$A${last}", allow_blank=True)
    report.add_data_validation(pick_level)
    report.add_data_validation(pick_measure)
    pick_level.add("B2:B5000")
    pick_measure.add("D2:D5000")

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
