"""Personal-data screening of tabular files, before they are loaded into the DataStore.

Why: once a table is in the DataStore, every row can be downloaded through the API, searched and
joined to the indicators, and a copy cannot be called back. A partner who uploads a case list by
mistake (names, dates of birth, addresses) must be stopped *before* the load, while the file is
still only a file. This module reads the file the way the loader will (CSV, TSV, every sheet of an
XLSX workbook, JSON records), keeps a sample of its rows, and looks for the kinds of personal data
listed in :data:`KINDS`. It has no CKAN imports: :mod:`ckanext.cd3p.ingestion.checks` calls it from the check
job, and it can be tested, and run from a shell, on its own.

Every finding says which sheet and column, which kind, why (in plain words, counts only: the
personal values themselves are never repeated) and up to five spreadsheet row numbers where the
matches were seen, so a partner can find them in their own copy of the file.

Reading
=======

- Formats: ``CSV`` (also ``TXT``), ``TSV``, ``XLSX`` (all worksheets; chart sheets and empty sheets
  are skipped) and ``JSON`` (a list of objects, ``{"records": [...]}``, or CKAN's
  ``{"result": {"records": [...]}}``). A CSV whose first line has no comma but has semicolons or tabs
  is read with that delimiter, as European Excel saves it.
- Streaming: a text file is read twice, in 1 MB chunks (once for its encoding, once as a table), an
  XLSX sheet row by row (openpyxl's read-only mode), a JSON file record by record. Memory does not
  grow with the number of rows: only the sample is kept (openpyxl does keep a workbook's table of
  distinct strings in memory, as every XLSX reader must).
- Sampling: every data row is counted (``Table.total_rows``); ``sample_rows`` of them (5,000 by
  default) are kept by reservoir sampling (Li's "Algorithm L") with a fixed seed, so the sample is
  spread evenly over the whole file, a file smaller than the sample is kept whole, and the same file
  always gives the same sample. Sampled rows keep their file order.
- The header is the first non-empty row. In an XLSX sheet, up to 5 rows of a single text cell
  above a row of two or more cells (a title, a source note) are taken for titles and skipped, so
  that the real column names are read as names; cells right of the header are read as columns
  without a name, which findings call "column N".
- Row numbers are those a spreadsheet shows: the header is row 1, the first data row row 2 (for
  JSON, record *n* is row *n* + 1). Blank rows are not data rows, but they keep their numbers.
- Encodings (:func:`detect_encoding`): a UTF-8 byte-order mark gives ``utf-8-sig`` (the mark is not
  part of the first column's name); bytes that are valid UTF-8 give ``utf-8``; otherwise
  ``windows-1252`` when the file has bytes 0x80-0x9F and Windows-1252 defines all of them (curly
  quotes, dashes, the euro sign, as Excel on Windows saves them), else ``iso-8859-1`` (Latin-1,
  which can decode any byte: 0x81, 0x8D, 0x8F, 0x90 and 0x9D are not Windows-1252). The whole file is
  checked, not only its start: a file that stops being UTF-8 after a megabyte is read as
  Windows-1252 or Latin-1 as a whole.
- Files that cannot be read as their declared format raise :class:`ScreeningError` with a message
  for the partner (what is wrong and where), never a traceback: an empty or blank file; a NUL byte
  or other binary content in a text file (with its line); a ZIP, XLS, PDF or UTF-16 file declared as
  text; a quoted field that is never closed or has text after its closing quote (with its row and
  line); rows with more non-empty fields than the header (the first five rows, and how many);
  a "workbook" that is not a ZIP archive or not an XLSX inside; JSON that is invalid (with its line)
  or is not a list of objects (with the record number).

Detection
=========

Thresholds: a column is flagged by its *values* when at least **30 %** (:data:`VALUE_SHARE`) of its
non-empty sampled values match one pattern, and at least 3 do (or all of them, when the sample has
fewer than 3 non-empty values). Values are matched whole (after trimming spaces), so free text
that mentions an e-mail address does not count. Plain numbers are never matched: ``1,234``, ``-5``,
``(5)``, ``12.5%``, ``$1,200``, ``6.0e-4``, ``26163500300``, ``313555.0100`` and empty cells are
skipped before any pattern is tried. A column is flagged by its *name* (matched whole, ignoring case
and the separators ``_ - . /`` and spaces; ``firstName`` reads as "first name", ``phone2`` as
"phone 2") whatever its values, with one exception: a column named for phones, e-mail or street
addresses whose non-empty sampled values are at least 80 % measures (percentages, numbers with
decimals, whole numbers under 1,000,000) is about them, not a list of them. A broadband table's
``mobile`` or ``cell`` column of percentages is not a phone list; a ``phone`` column of
``3135550100`` still is.

Column names (*who* is one of client, participant, resident, student, patient, member, applicant,
owner, tenant, parent, guardian, respondent, customer, employee, taxpayer, person, individual,
child, caregiver, contact, householder, head of household, victim, beneficiary, recipient, voter,
mother, father, spouse; *where* is one of home, work, business, office, mailing, residential,
residence, current, previous, prior, primary, secondary, alternate, alt, other, personal, private,
permanent, billing, shipping, physical, postal, property, site, main, contact, emergency, day,
evening; any may end in a number such as ``1`` or ``2``):

- ``person_name``: first/last/full/given/family/middle/maiden/legal/preferred/sur/fore name(s),
  firstname, lastname, fname, lname, surname, name first/last/full, and *who* name (participant
  name, client name, resident name, student name...). A bare ``name`` is not flagged: Census
  tables call the name of a place ``NAME``.
- ``birth_date``: dob, date of birth, birth date, birthdate, birthday, birth dt, date born, born,
  born on, optionally after *who*.
- ``ssn``: ssn, social security, soc sec, optionally with number/no/num/nbr/last 4.
- ``email``: email, e-mail, optionally with address/addr/id, after *who* or *where*.
- ``phone``: phone, telephone, tel, mobile, cell, cellphone, cell phone, mobile phone, optionally
  with number/no/num/nbr, after *who* or *where*.
- ``street_address``: address, addr, street, street address, mailing address, address line,
  after *who* or *where*. IP, MAC, web and e-mail addresses and URLs are not: no rule has those
  words.
- ``exact_age`` (see below): age, age years, age yrs, age in years, years old, age at <event>
  (age at death, age at enrollment), optionally after *who*. Age groups (``age_group``,
  ``age 18-24``) are not exact ages.

Values:

- ``ssn``: ``ddd-dd-dddd`` or ``ddd dd dddd`` where the area number is not 000, 666 or 900-999,
  the group not 00 and the serial not 0000 (numbers the Social Security Administration never
  issues). Nine digits without separators are not matched: they are indistinguishable from codes.
- ``email``: ``local@domain.tld`` (optionally after ``mailto:``), with a letters-only top-level
  domain of 2 or more letters.
- ``phone``: a 10-digit North American number written with separators: ``(313) 555-0100``,
  ``313-555-0100``, ``313.555.0100``, ``313 555 0100``, optionally after ``+1`` or ``1-`` and
  before an extension (``x123``, ``ext. 123``); or ``+1`` and 10 digits. The area code and the
  exchange start with 2-9. Digits without separators (11-digit census GEOIDs, 5-digit ZIP codes,
  FIPS codes, plain integers) and decimals (``313555.0100``) are not phone numbers.
- ``street_address``: a house number (1-6 digits, optional letter or range: ``1234``, ``12B``,
  ``123-125``), an optional directional (N, S, E, W, NE, NW, SE, SW, North...), one to four street
  name words (``7 Mile``, ``Martin Luther King Jr``), a suffix (St, Street, Ave, Av, Avenue, Blvd,
  Boulevard, Rd, Road, Dr, Drive, Ct, Court, Ln, Lane, Pl, Place, Pkwy, Parkway, Hwy, Highway, Way,
  Ter, Terrace, Cir, Circle), an optional directional, an optional unit (Apt 2, Unit B, Suite 300,
  #4), and optionally the rest after a comma (``, Detroit, MI 48201``) or a city, state and ZIP.
- ``person_name``: ``First Last``, ``First M. Last``, ``First Middle Last`` (two to four words,
  after an optional title Mr/Mrs/Ms/Miss/Dr/Rev/Prof and before an optional Jr/Sr/II/III/IV) or
  ``Last, First`` / ``Last, First Middle``, where: the first name is one of the common US given
  names in ``given_names.txt`` next to this module (about 580, with the reasons for the ones left
  out); every word is capitalized (particles such as de, van, von, la may be lowercase); the
  surname has at least 2 letters; there are no digits; and no word is a place or institution word
  (Park, Woods, Village, Gardens, Heights, County, Tract, Census, State, District, Community,
  Street and the street suffixes, School, Church, Center, Hospital...). So Census ``NAME`` values
  ("Census Tract 5001, Wayne County, Michigan"), county names and Detroit's neighbourhoods
  ("Arden Park", "Boston Edison", "Palmer Woods") are not names; the few neighbourhoods named after
  people ("Henry Ford", "Eliza Howell") are, but are far below the 30 % share of the column.
- ``birth_date`` by values: a column where at least 50 % (:data:`DATE_SHARE`) of the non-empty
  sampled values are dates (``YYYY-MM-DD``, ``YYYY/MM/DD``, ``MM/DD/YYYY``, ``DD/MM/YYYY`` when the
  first number is over 12, with an optional time) from 1900 to five years ago, spread over at
  least 3 (:data:`BIRTH_DECADES`) decades, in a table that also has a ``person_name`` or
  ``exact_age`` finding in another column. Dates alone (report dates, survey years) are not.
- ``exact_age``: a column named as an age (above) where at least 80 % (:data:`AGE_SHARE`) of the
  non-empty sampled values are whole numbers from 0 to 120 (``34``, ``34.0``; not ``18-24``,
  ``65+`` or ``12.5%``), flagged when the table has no count column, so each row looks like one
  person, or when a count column has a value from 1 to ``small_cell_threshold - 1`` (1-10 by
  default) in a sampled row with an exact age: a small cell, which can single people out. A count
  column is one whose name has one of the words n, count, counts, cnt, total, number, num, freq,
  frequency, households, hh, persons, people, population, pop, individuals, residents, cases,
  respondents, records, obs, observations, estimate, est, universe and none of income, amount,
  cost, price, value, dollars, pct, percent, share, rate, ratio, median, mean, avg, average, moe,
  margin, error, age, and where at least 80 % of the non-empty values are numbers.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import functools
import itertools
import json
import math
import random
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

KINDS = ("person_name", "birth_date", "ssn", "email", "phone", "street_address", "exact_age")
FORMATS = ("CSV", "TSV", "TXT", "XLSX", "JSON")  # what read_tables reads (TXT is read as CSV)

VALUE_SHARE = 0.3  # share of a column's non-empty sampled values that must match a value pattern
MIN_MATCHES = 3  # ... and at least this many (or all of them, in a smaller sample)
DATE_SHARE = 0.5  # share of values that must be birth-like dates (birth_date by values)
BIRTH_DECADES = 3  # ... spread over at least this many decades
AGE_SHARE = 0.8  # share of values that must be whole numbers 0-120 (exact_age), or numbers (counts)
SHOWN_ROWS = 5  # row numbers given in a finding or an error message
TITLE_ROWS = 5  # rows of one text cell each that may stand above an XLSX sheet's header
SAMPLE_SEED = 313  # fixed, so the same file always gives the same sample

HEAD_BYTES = 1 << 16  # what detect_encoding is given by read_tables
CHUNK = 1 << 20  # bytes (text files) or characters (JSON) read at a time
MAX_JSON_VALUE = 16 << 20  # characters of one JSON record, at most


RowCallback = Callable[[str, Sequence[str], int, Sequence[Any]], None]


class ScreeningError(ValueError):
    """The file cannot be read as its declared format. The message is for the partner: what is wrong
    and where (row or line numbers), in plain words."""


@dataclass(frozen=True)
class Table:
    sheet: str  # "" for CSV/TSV/JSON, the sheet name for XLSX
    header: list[str]
    rows: list[list[str]]  # the sampled data rows as text, each as long as the header, in file order
    row_numbers: list[int]  # each sampled row's number as a spreadsheet shows it (header = 1)
    total_rows: int  # data rows in the whole sheet or file
    encoding: str | None  # "utf-8", "utf-8-sig", "windows-1252", "iso-8859-1"; None for XLSX
    delimiter: str | None = None  # the field delimiter of a CSV, TSV or TXT file


@dataclass(frozen=True)
class Finding:
    sheet: str
    column: str
    kind: str  # one of KINDS
    reason: str  # plain words, counts only: never the personal values themselves
    rows: list[int]  # up to SHOWN_ROWS spreadsheet row numbers where matches were seen
    matched: int
    sampled: int


def as_dict(finding: Finding) -> dict[str, Any]:
    """The finding as a JSON-ready dict (the keys are the field names)."""
    return dataclasses.asdict(finding)


# --- encodings ------------------------------------------------------------------------------------

_CP1252_UNDEFINED = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))
_NOT_C1 = bytes(b for b in range(256) if not 0x80 <= b <= 0x9F)
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B)))


def _single_byte(c1: set[int]) -> str:
    """Windows-1252 when the file has bytes 0x80-0x9F and Windows-1252 defines all of them."""
    if c1 and not c1 & _CP1252_UNDEFINED:
        return "windows-1252"
    return "iso-8859-1"


def detect_encoding(raw: bytes) -> str:
    """The encoding of a text file, from its first bytes (read_tables gives it the first 64 KB and
    then checks the rest): ``utf-8-sig``, ``utf-8``, ``windows-1252`` or ``iso-8859-1``.

    A multi-byte character cut off at the end of ``raw`` is not held against UTF-8.
    """
    bom = raw.startswith(codecs.BOM_UTF8)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw[3:] if bom else raw, final=False)
    except UnicodeDecodeError:
        return _single_byte(set(raw.translate(None, _NOT_C1)))
    return "utf-8-sig" if bom else "utf-8"


_NOT_TEXT = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook, perhaps)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def _text_encoding(path: Path, fmt: str) -> tuple[str, bool]:
    """Checks that the file is text and returns its encoding, and whether it has any double quote
    (a delimited file without one is read line by line, :class:`_Lines`), reading it whole in
    chunks."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        if not head:
            raise ScreeningError("The file is empty.")
        for magic, what in _NOT_TEXT:
            if head.startswith(magic):
                raise ScreeningError(f"The file is {what}, not {fmt} text.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ScreeningError(
                f'The file is UTF-16 text (as Excel saves "Unicode Text"); save it as {fmt} UTF-8 '
                "and upload it again."
            )
        encoding = detect_encoding(head)
        utf8 = codecs.getincrementaldecoder("utf-8")() if encoding.startswith("utf-8") else None
        c1: set[int] = set()
        lines = 0
        quoted = False
        chunk = head
        while chunk:
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line = lines + chunk.count(b"\n", 0, nul) + 1
                raise ScreeningError(
                    f"Line {line} of the file contains a NUL byte (binary zero): the file looks like "
                    f"binary data, not {fmt} text."
                )
            if chunk is head and len(chunk.translate(None, _NOT_CONTROL)) > max(8, len(chunk) // 100):
                raise ScreeningError(f"The file has control characters throughout: it is not {fmt} text.")
            c1.update(chunk.translate(None, _NOT_C1))
            quoted = quoted or b'"' in chunk
            if utf8 is not None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = None
            lines += chunk.count(b"\n")
            chunk = f.read(CHUNK)
        if utf8 is not None:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = None
        if encoding.startswith("utf-8") and utf8 is None:
            encoding = _single_byte(c1)
        return encoding, quoted


# --- sampling -------------------------------------------------------------------------------------


class _Sample:
    """Reservoir sampling, Algorithm L (Li 1994): k items uniformly from a stream of unknown length,
    drawing random numbers only for the items it keeps. Seeded, so deterministic."""

    __slots__ = ("items", "k", "next", "rng", "seen", "w")

    def __init__(self, k: int) -> None:
        self.k = k
        self.rng = random.Random(SAMPLE_SEED)
        self.items: list[tuple[int, Any]] = []
        self.seen = 0
        self.next = k
        self.w = 1.0

    def _u(self) -> float:
        u = self.rng.random()
        while u == 0.0:
            u = self.rng.random()
        return u

    def _step(self, index: int) -> None:
        self.w *= math.exp(math.log(self._u()) / self.k)
        skip = math.floor(math.log(self._u()) / math.log1p(-self.w)) if self.w < 1.0 else 0
        self.next = index + skip + 1

    def offer(self, number: int, item: Any) -> None:
        index = self.seen
        self.seen = index + 1
        if index < self.k:
            self.items.append((number, item))
            if index + 1 == self.k:
                self._step(index)
        elif index == self.next:
            self.items[self.rng.randrange(self.k)] = (number, item)
            self._step(index)

    def in_order(self) -> list[tuple[int, Any]]:
        return sorted(self.items, key=lambda item: item[0])


# --- reading --------------------------------------------------------------------------------------

_FORMAT_ALIASES = {
    "TEXT/CSV": "CSV",
    "TEXT/PLAIN": "TXT",
    "TEXT/TAB-SEPARATED-VALUES": "TSV",
    "APPLICATION/JSON": "JSON",
    "APPLICATION/VND.OPENXMLFORMATS-OFFICEDOCUMENT.SPREADSHEETML.SHEET": "XLSX",
}


def _kind(fmt: str) -> str:
    """The format's name as :data:`FORMATS` has it (``.csv``, ``text/csv`` and ``csv`` are CSV)."""
    kind = (fmt or "").strip().lstrip(".").upper()
    return _FORMAT_ALIASES.get(kind, kind)


def read_tables(
    path: Path, fmt: str, sample_rows: int = 5000, on_row: RowCallback | None = None
) -> list[Table]:
    """The tables of a file: one for a CSV, TSV or JSON file, one per non-empty sheet of an XLSX
    workbook. Streams the file, counts every row and keeps a sample of ``sample_rows`` rows.

    ``on_row(sheet, header, number, values)`` is called for every data row as it is read (values
    as read: text from CSV and TSV, cell values from XLSX, JSON values in header order), so a check
    that needs every row (geography codes) shares this single pass over the file.

    :raises ScreeningError: the file cannot be read as ``fmt`` (or ``fmt`` is not one of FORMATS)
    """
    if sample_rows < 1:
        raise ValueError("sample_rows must be at least 1")
    path = Path(path)
    kind = _kind(fmt)
    if kind in ("CSV", "TXT", "TSV"):
        return [_read_delimited(path, kind, sample_rows, on_row)]
    if kind == "XLSX":
        return _read_xlsx(path, sample_rows, on_row)
    if kind == "JSON":
        return [_read_json(path, sample_rows, on_row)]
    raise ScreeningError(
        "The personal-data screening reads CSV, TSV, XLSX and JSON files, not "
        f"{fmt or 'files without a format'}."
    )


def read_head(path: Path, fmt: str, rows: int) -> Table | None:
    """The first ``rows`` data rows of a CSV, TSV or TXT file, read with the encoding its first
    64 KB show: what the load needs to start copying the file while the check reads all of it
    (:class:`ckanext.cd3p.ingestion.loading.Staging`). ``None`` for other formats or when the head is not
    readable text; :func:`read_tables` decides what the file is, and the load compares the two.
    """
    kind = _kind(fmt)
    if kind not in ("CSV", "TXT", "TSV"):
        return None
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if not head or head.startswith(tuple(magic for magic, _ in _NOT_TEXT)) or b"\x00" in head:
        return None
    try:
        return _read_delimited(path, kind, rows, encoding=detect_encoding(head), limit=rows)
    except (ScreeningError, UnicodeDecodeError):
        return None


def _rows_list(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers)


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _delimiter(first_line: str, fmt: str) -> str:
    if fmt == "TSV":
        return "\t"
    if "," not in first_line:
        if ";" in first_line:
            return ";"
        if "\t" in first_line:
            return "\t"
    return ","


def _csv_error(error: csv.Error, row: int, line: int, fmt: str) -> ScreeningError:
    message = str(error)
    where = f"row {row} (line {line} of the file)"
    if "unexpected end of data" in message:
        text = (
            f"A quoted field that starts in {where} is never closed: a quote mark is missing, so the "
            "rest of the file would be read as one field."
        )
    elif "expected after" in message:
        text = (
            f"In {where} a quoted field has text after its closing quote; a quote mark inside a "
            'quoted field must be doubled ("").'
        )
    elif "field larger than field limit" in message:
        text = (
            f"A field in {where} is longer than {csv.field_size_limit():,} characters: most likely a "
            "quote mark that is never closed."
        )
    elif "NUL" in message:
        text = f"{where.capitalize()} contains a NUL byte (binary zero): the file is not {fmt} text."
    else:
        text = f"{where.capitalize()} cannot be read as {fmt}: {message}."
    return ScreeningError(text)


def _read_delimited(
    path: Path,
    fmt: str,
    sample_rows: int,
    on_row: RowCallback | None = None,
    *,
    encoding: str | None = None,
    limit: int | None = None,
) -> Table:
    """The table of a delimited file; ``encoding`` if known (else the whole file is checked for
    it first), and only the first ``limit`` data rows if given."""
    quoted = True
    if encoding is None:
        encoding, quoted = _text_encoding(path, "TSV" if fmt == "TSV" else "CSV")
    label = "TSV" if fmt == "TSV" else "CSV"
    sample = _Sample(sample_rows)
    header: list[str] | None = None
    number = total = 0
    ragged = _Ragged()
    line = 0  # lines read up to the end of the last complete record
    with path.open(encoding=encoding, newline="") as f:
        delimiter = _delimiter(f.readline(CHUNK), fmt)
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter, strict=True) if quoted else _Lines(f, delimiter)
        try:
            for row in reader:
                number += 1
                line = reader.line_num
                if any(row):
                    header = [cell.strip() for cell in row]
                    header[0] = header[0].removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
                    break
            width = len(header or ())
            if isinstance(reader, _Lines) and on_row is None:
                total = _scan_lines(reader, width, sample, ragged, limit)
            else:
                for row in reader:
                    number += 1
                    line = reader.line_num
                    if not any(row):
                        continue
                    total += 1
                    if len(row) > width and any(row[width:]):
                        ragged.add(number)
                        continue
                    row = _fit(row, width)
                    sample.offer(number, row)
                    if on_row is not None:
                        on_row("", header, number, row)
                    if total == limit:
                        break
        except csv.Error as e:
            if isinstance(reader, _Lines):  # there every line is a record
                number = line = reader.line_num
            # the record being read is the one after the last complete one, from the next line on
            raise _csv_error(e, number + 1, line + 1, label) from None
    if header is None:
        raise ScreeningError("The file has no rows: it is blank.")
    if ragged.total:
        more = f" (and {ragged.total - len(ragged.rows)} more)" if ragged.total > len(ragged.rows) else ""
        which = "Row" if ragged.total == 1 else "Rows"
        raise ScreeningError(
            f"{which} {_rows_list(ragged.rows)}{more} of the file {'has' if ragged.total == 1 else 'have'} "
            f"more fields than the header's {width} columns: a value may contain an unquoted "
            f"{_DELIMITER_NAMES[delimiter]}, or a column name is missing."
        )
    kept = sample.in_order()
    return Table(
        sheet="",
        header=header,
        rows=[_fit(r.split(delimiter), width) if isinstance(r, str) else r for _, r in kept],
        row_numbers=[n for n, _ in kept],
        total_rows=total,
        encoding=encoding,
        delimiter=delimiter,
    )


class _Lines:
    """What ``csv.reader`` reads from a file with no double quote in it, several times faster:
    there, each line is a record and each delimiter ends a field. Lines end as the reader's do
    (``\n``, ``\r\n`` or ``\r``, the file being opened with ``newline=""``), and a field over
    the reader's size limit is the same error. :meth:`texts` gives the lines unsplit."""

    def __init__(self, f: TextIO, delimiter: str) -> None:
        self._lines = iter(f)
        self.delimiter = delimiter
        self._limit = csv.field_size_limit()
        self.line_num = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> list[str]:
        return next(self.texts()).split(self.delimiter)

    def texts(self) -> Iterator[str]:
        limit = self._limit
        for line in self._lines:
            text = line.rstrip("\r\n")
            if len(text) > limit:
                self._check(text)
            self.line_num += 1
            yield text

    def _check(self, text: str) -> None:
        if max(map(len, text.split(self.delimiter))) > self._limit:
            raise csv.Error(f"field larger than field limit ({self._limit})")


class _Ragged:
    """The data rows with more fields than the header: how many, and the first few."""

    def __init__(self) -> None:
        self.total = 0
        self.rows: list[int] = []

    def add(self, number: int) -> None:
        self.total += 1
        if len(self.rows) < SHOWN_ROWS:
            self.rows.append(number)


def _fit(row: list[str], width: int) -> list[str]:
    """A row as long as the header: short rows padded with blanks, empty extra fields dropped."""
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row[:width] if len(row) > width else row


def _scan_lines(reader: _Lines, width: int, sample: _Sample, ragged: _Ragged, limit: int | None) -> int:
    """The data rows of a file without quotes, when nothing needs every row's fields: a line is
    split only if the sample keeps it (:func:`_read_delimited` splits those at the end) or if it
    has more fields than the header. Returns the rows counted; ``reader.line_num`` is the number
    of the last record read."""
    delimiter = reader.delimiter
    total = 0
    for text in reader.texts():
        if not text.strip(delimiter):  # blank, or only delimiters: no values, as csv.reader sees it
            continue
        total += 1
        if text.count(delimiter) >= width and any(text.split(delimiter)[width:]):
            ragged.add(reader.line_num)
            continue
        sample.offer(reader.line_num, text)
        if total == limit:
            break
    return total


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def text_of(fmt: str) -> Callable[[Any], str]:
    """How a value that ``on_row`` passes for a file of this format reads as text, as in the sample:
    JSON values as JSON writes them, cell values as a spreadsheet shows them, CSV text as it is."""
    return _json_text if fmt.upper() == "JSON" else _cell_text


def _filled(value: Any) -> bool:
    return value is not None and value != ""


def _read_xlsx(path: Path, sample_rows: int, on_row: RowCallback | None = None) -> list[Table]:
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise ScreeningError("The file is empty.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ScreeningError(
            "The file is an Excel 97-2003 workbook (.xls), not XLSX: save it as .xlsx or CSV and "
            "upload it again."
        )
    if not zipfile.is_zipfile(path):
        raise ScreeningError(
            "The file is not an XLSX workbook: XLSX files are ZIP archives and this one is not (it may "
            "be damaged, or be another kind of file)."
        )
    import openpyxl  # here, so that reading CSV does not pay for importing it

    # Opened here, not by name: openpyxl refuses a path whose name does not end in .xlsx, and CKAN
    # stores uploads under the resource's id.
    stream = path.open("rb")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about features it drops (validation...)
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds; the partner needs one sentence
        stream.close()
        raise ScreeningError(
            f"The file is a ZIP archive but not an XLSX workbook that can be read ({type(e).__name__})."
        ) from None
    tables = []
    try:
        for sheet in workbook.worksheets:
            try:
                table = _read_sheet(sheet, sample_rows, on_row)
            except ScreeningError:
                raise
            except Exception as e:
                raise ScreeningError(
                    f'The sheet "{sheet.title}" of the workbook cannot be read ({type(e).__name__}).'
                ) from None
            if table is not None:
                tables.append(table)
    finally:
        workbook.close()
        stream.close()
    if not tables:
        raise ScreeningError("The workbook has no data: every sheet is empty.")
    return tables


def _filled_count(values: Sequence[Any]) -> int:
    return sum(1 for v in values if _filled(v))


def _read_sheet(sheet: Any, sample_rows: int, on_row: RowCallback | None = None) -> Table | None:
    # A workbook may declare wrong dimensions (some tools write "A1"); read-only mode trusts them
    # and would drop cells, so they are recomputed while reading.
    sheet.reset_dimensions()
    rows = (
        (number, values)
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        if any(_filled(v) for v in values)
    )
    # The header is the first non-empty row, unless that row and up to TITLE_ROWS more hold one
    # text cell each (a title, a source note) and a row of two or more cells follows: then that row.
    leading: list[tuple[int, Sequence[Any]]] = []
    for number, values in rows:
        leading.append((number, values))
        if _filled_count(values) >= 2 or not isinstance(_first_filled(values), str):
            break
        if len(leading) > TITLE_ROWS:
            break
    if not leading:
        return None
    last = leading[-1][1]
    titles = len(leading) - 1 if len(leading) > 1 and _filled_count(last) >= 2 else 0
    cells = list(leading[titles][1])
    while cells and not _filled(cells[-1]):
        cells.pop()
    header = [_cell_text(v).strip() for v in cells]
    width = len(header)
    sample = _Sample(sample_rows)
    total = 0
    for number, values in itertools.chain(leading[titles + 1 :], rows):
        total += 1
        if len(values) > width:
            for j in range(len(values) - 1, width - 1, -1):
                if _filled(values[j]):
                    width = j + 1
                    break
        sample.offer(number, values)
        if on_row is not None:
            on_row(sheet.title, header, number, values)
    header += [""] * (width - len(header))
    kept = sample.in_order()
    table_rows = []
    for _, values in kept:
        row = [_cell_text(v) for v in values[:width]]
        table_rows.append(row + [""] * (width - len(row)))
    return Table(
        sheet=sheet.title,
        header=header,
        rows=table_rows,
        row_numbers=[n for n, _ in kept],
        total_rows=total,
        encoding=None,
    )


def _first_filled(values: Sequence[Any]) -> Any:
    return next((v for v in values if _filled(v)), None)


_JSON_SPACE = re.compile(r"[ \t\r\n]*")
_JSON_SHAPE = 'a list of records like [{"column": value, ...}, ...] or {"records": [...]}'


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _JsonStream:
    """Reads a JSON file value by value with the standard decoder, holding at most one record (and
    a chunk) in memory."""

    def __init__(self, f: TextIO) -> None:
        self.f = f
        self.buf = ""
        self.pos = 0
        self.start = 0  # where the value being read starts
        self.lines = 0  # newlines in the text dropped from buf
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        cut = min(self.pos, self.start)
        if cut:
            self.lines += self.buf.count("\n", 0, cut)
            self.buf = self.buf[cut:]
            self.pos -= cut
            self.start -= cut
        self.buf += chunk
        return True

    def line(self, pos: int | None = None) -> int:
        return self.lines + self.buf.count("\n", 0, self.pos if pos is None else pos) + 1

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), without consuming it."""
        while True:
            self.pos = _JSON_SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def value(self, what: str) -> Any:
        if not self.peek():
            raise ScreeningError(f"The JSON ends where {what} should be: the file is cut short.")
        self.start = self.pos
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                cut_short = e.pos >= len(self.buf) - 10 or e.msg.startswith("Unterminated string")
                if cut_short and len(self.buf) - self.start <= MAX_JSON_VALUE and self._fill():
                    continue
                if len(self.buf) - self.start > MAX_JSON_VALUE:
                    raise ScreeningError(
                        f"{what.capitalize()} (from line {self.line(self.start)}) is longer than "
                        f"{MAX_JSON_VALUE >> 20} MB or never ends."
                    ) from None
                problem = e.msg.removesuffix(" at").removesuffix(" starting").lower()
                raise ScreeningError(
                    f"The JSON is not valid at line {self.line(e.pos)}, in {what}: {problem}."
                ) from None
            if end == len(self.buf) and self._fill():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def _find_records(self) -> None:
        """Moves into the list of an object's "records" (at the top, or in CKAN's "result")."""
        self.pos += 1
        while True:
            c = self.peek()
            if c == ",":
                self.pos += 1
                continue
            if c in ("}", ""):
                raise ScreeningError(
                    f'The JSON is an object without a "records" list; expected {_JSON_SHAPE}.'
                )
            key = self.value("a key of the object")
            if not isinstance(key, str) or self.peek() != ":":
                raise ScreeningError(
                    f"The JSON is not valid at line {self.line()}: a key or a colon is missing."
                )
            self.pos += 1
            c = self.peek()
            if key == "records":
                if c != "[":
                    raise ScreeningError(
                        f'The "records" of the JSON object are not a list; expected {_JSON_SHAPE}.'
                    )
                self.pos += 1
                return
            if key == "result" and c == "{":
                self.pos += 1
                continue
            self.value(f'the value of "{key}"')

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(record number from 1, record) of every record."""
        c = self.peek()
        if not c:
            raise ScreeningError("The file is blank: it has no JSON data.")
        top_list = c == "["
        if top_list:
            self.pos += 1
        elif c == "{":
            self._find_records()
        else:
            found = self.value("the file")
            raise ScreeningError(f"The JSON is {_json_type(found)}, not {_JSON_SHAPE}.")
        index = 0
        if self.peek() == "]":
            self.pos += 1
        else:
            while True:
                index += 1
                record = self.value(f"record {index}")
                if not isinstance(record, dict):
                    raise ScreeningError(
                        f"Record {index} (line {self.line(self.start)}) is {_json_type(record)}, not an "
                        f"object; expected {_JSON_SHAPE}."
                    )
                yield index, record
                c = self.peek()
                if c == ",":
                    self.pos += 1
                elif c == "]":
                    self.pos += 1
                    break
                elif not c:
                    raise ScreeningError(
                        "The JSON ends before its list of records is closed: a ] is missing."
                    )
                else:
                    raise ScreeningError(
                        f"The JSON is not valid at line {self.line()}, after record {index}: a comma or the "
                        "closing ] is missing."
                    )
        if top_list and self.peek():
            raise ScreeningError(
                f"The JSON has more data after its list of records (line {self.line()}); expected one list."
            )


def _json_text(value: Any) -> str:
    """A JSON value as the text of a cell: a string as it is, null as empty, anything else as JSON
    writes it (``true``, ``1.5``, ``[1, 2]``; NaN and infinities as Python writes them)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _read_json(path: Path, sample_rows: int, on_row: RowCallback | None = None) -> Table:
    encoding, _ = _text_encoding(path, "JSON")
    sample = _Sample(sample_rows)
    columns: dict[str, None] = {}  # every key, in order of first appearance
    total = 0
    with path.open(encoding=encoding) as f:
        for index, record in _JsonStream(f).records():
            total += 1
            for key in record:
                if key not in columns:
                    columns[key] = None
            sample.offer(index + 1, record)
            if on_row is not None:
                keys = list(columns)
                on_row("", keys, index + 1, [record.get(k) for k in keys])
    header = list(columns)
    kept = sample.in_order()
    return Table(
        sheet="",
        header=header,
        rows=[[_json_text(record.get(key)) for key in header] for _, record in kept],
        row_numbers=[n for n, _ in kept],
        total_rows=total,
        encoding=encoding,
    )


# --- values ---------------------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?P<sign>[-+\u2212])?\s*(?P<open>\()?\s*\$?\s*"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?P<exp>[eE][-+]?\d+)?"
    r"\s*(?P<close>\))?\s*(?P<pct>%)?"
)


def _number(text: str) -> tuple[float, bool] | None:
    """(value, is a percentage) of a number as people write them: ``1,234``, ``-5``, ``(5)``,
    ``12.5%``, ``$1,200.50``, ``6.0e-4``; None for anything else (including empty)."""
    m = _NUMBER.fullmatch(text)
    if m is None or bool(m["open"]) != bool(m["close"]):
        return None
    value = float(m["num"].replace(",", "") + (m["exp"] or ""))
    if m["open"] or m["sign"] in ("-", "\u2212"):
        value = -value
    return value, bool(m["pct"])


_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}")
_EMAIL = re.compile(
    r"(?:mailto:)?[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}",
    re.IGNORECASE,
)
_EXT = r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?"
_PHONE = re.compile(
    r"(?:(?:\+1|1)[\s.-]?)?"  # country code
    r"(?:\(\s*[2-9]\d{2}\s*\)\s*[.-]?\s*[2-9]\d{2}[\s.-]\d{4}"  # (313) 555-0100
    r"|[2-9]\d{2}([\s.-])[2-9]\d{2}\1\d{4})"  # 313-555-0100, 313.555.0100, 313 555 0100
    rf"{_EXT}"
    rf"|\+1[2-9]\d{{2}}[2-9]\d{{6}}{_EXT}",  # +13135550100
    re.IGNORECASE,
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?"
_SUFFIX = (
    r"(?:St|Street|Ave|Av|Avenue|Blvd|Boulevard|Rd|Road|Dr|Drive|Ct|Court|Ln|Lane|Pl|Place|Pkwy|Parkway"
    r"|Hwy|Highway|Way|Ter|Terr|Terrace|Cir|Circle)\.?"
)
_ADDRESS = re.compile(
    rf"\d{{1,6}}(?:-?[A-Z])?(?:-\d{{1,6}})?\s+(?:{_DIRECTION}\s+)?"  # house number, directional
    rf"(?:[A-Z0-9][\w'.-]*\s+){{1,4}}{_SUFFIX}"  # street name, suffix
    rf"(?:\s+{_DIRECTION})?"
    r"(?:\s*,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Fl|Floor|Rm|Room|#)\.?\s*#?\s*[\w-]+)?"  # unit
    r"(?:\s*,.*|\s+[A-Z][A-Z .]*?,?\s+[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?)?",  # city, state, ZIP
    re.IGNORECASE,
)
_HAS_DIGIT = re.compile(r"\d")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NAME_SHAPE = re.compile(r"[^\W\d_]+(?:[ '\u2019.,-]+[^\W\d_]+)*\.?")

_TITLES = _words("mr mrs ms miss dr rev prof")
_NAME_SUFFIXES = _words("jr sr ii iii iv")
_PARTICLES = _words("de del della der di da du la le van von st bin ibn al el abu y")
_PLACE_WORDS = _words(
    """
    park parks woods wood village villages gardens garden heights homes farms farm hill hills grove
    sub subdivision community district industrial center centre commons town township city county
    counties parish borough tract tracts block blocks census state states square lake lakes river
    creek island isle point pointe harbor harbour forest estates manor court place street road
    avenue boulevard drive lane way terrace circle highway parkway freeway expressway st ave av blvd
    rd dr ct ln pl pkwy hwy ter cir fwy market area zone region ward precinct neighborhood
    neighbourhood airport station bridge beach valley junction plaza mall cemetery school schools
    academy college university institute church temple mosque synagogue ministries hospital clinic
    library museum company co inc llc corp corporation foundation association services program
    project department dept office authority agency council commission board bank club golf field
    stadium arena theater theatre hall building tower towers apartments apts campus metro
    metropolitan micropolitan united america national international detroit michigan wayne oakland
    macomb
    """
)


@functools.lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    """The given names of given_names.txt, lowercase."""
    text = Path(__file__).with_name("given_names.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _drop_name_suffix(tokens: list[str]) -> list[str]:
    if tokens and tokens[-1].rstrip(".,").lower() in _NAME_SUFFIXES:
        return tokens[:-1]
    return tokens


def _is_person_name(text: str) -> bool:
    if len(text) > 60 or not _NAME_SHAPE.fullmatch(text):
        return False
    if "," in text:
        parts = text.split(",")
        if len(parts) != 2:
            return False
        surname, rest = parts[0].split(), _drop_name_suffix(parts[1].split())
        if not (1 <= len(surname) <= 2 and 1 <= len(rest) <= 2):
            return False
        given, others = rest[0], surname + rest[1:]
    else:
        tokens = text.split()
        if tokens and tokens[0].rstrip(".").lower() in _TITLES:
            tokens = tokens[1:]
        tokens = _drop_name_suffix(tokens)
        if not 2 <= len(tokens) <= 4:
            return False
        given, others = tokens[0], tokens[1:]
        if len(others[-1].rstrip(".")) < 2:
            return False  # "John R" (a Detroit street) or a bare initial is not a surname
    if not given[0].isupper() or given.lower() not in _given_names():
        return False
    for token in others:
        bare = token.strip(".").lower()
        if bare in _PLACE_WORDS or not (token[0].isupper() or bare in _PARTICLES):
            return False
    return True


def _value_kind(text: str) -> str | None:
    """The value pattern a (trimmed, non-empty) value matches, if any."""
    if len(text) > 120:
        return None
    if text.startswith("+1") and _PHONE.fullmatch(text):
        return "phone"  # +13135550100 would otherwise pass for a number
    if _NUMBER.fullmatch(text):
        return None
    if "@" in text:
        return "email" if _EMAIL.fullmatch(text) else None
    if _HAS_DIGIT.search(text):
        if _SSN.fullmatch(text):
            return "ssn"
        if _PHONE.fullmatch(text):
            return "phone"
        if text[0].isdigit() and _ADDRESS.fullmatch(text):
            return "street_address"
        return None
    return "person_name" if _is_person_name(text) else None


_DATE_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?")
_DATE_MDY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?)?", re.I)


def _date_year(text: str) -> int | None:
    """The year of a date written YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY or DD/MM/YYYY (first number
    over 12), with an optional time; None when the text is not such a date."""
    if m := _DATE_YMD.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DATE_MDY.fullmatch(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        month, day = (a, b) if a <= 12 else (b, a)
    else:
        return None
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    return year


def _exact_age(text: str) -> int | None:
    parsed = _number(text)
    if parsed is None or parsed[1] or "$" in text:
        return None
    value = parsed[0]
    if not value.is_integer() or not 0 <= value <= 120:
        return None
    return int(value)


# --- column names ---------------------------------------------------------------------------------

_WHO = (
    r"(?:client|participant|resident|student|patient|member|applicant|owner|tenant|parent|guardian"
    r"|respondent|customer|employee|taxpayer|person|individual|child|caregiver|contact|householder"
    r"|head of household|victim|beneficiary|recipient|voter|mother|father|spouse)"
)
_WHERE = (
    r"(?:home|work|business|office|mailing|residential|residence|current|previous|prior|primary"
    r"|secondary|alternate|alt|other|personal|private|permanent|billing|shipping|physical|postal"
    r"|property|site|main|contact|emergency|day|evening)"
)
_NUMBERED = r"(?: \d{1,2})?"
_NAME_RULES = {
    "person_name": re.compile(
        rf"(?:(?:{_WHO} )?(?:first|last|full|given|family|middle|maiden|legal|preferred|sur|fore) ?names?"
        rf"|(?:{_WHO} )?(?:firstname|lastname|fname|lname|surname)|{_WHO} names?"
        rf"|name (?:first|last|full|given|family)){_NUMBERED}"
    ),
    "birth_date": re.compile(
        rf"(?:{_WHO} )?(?:dob|d o b|date of birth|birth ?date|birthday|birth dt|date born|born|born on)"
        rf"{_NUMBERED}"
    ),
    "ssn": re.compile(
        rf"(?:{_WHO} )?(?:ssn|social security|soc sec)(?: (?:no|num|nbr|number|last 4))?{_NUMBERED}"
        r"|last 4 ssn"
    ),
    "email": re.compile(rf"(?:(?:{_WHO}|{_WHERE}) )*(?:e ?mail)(?: (?:address|addr|id))?{_NUMBERED}"),
    "phone": re.compile(
        rf"(?:(?:{_WHO}|{_WHERE}) )*(?:phone|telephone|tel|mobile|cell|cellphone|cell phone|mobile phone)"
        rf"(?: (?:number|no|num|nbr))?{_NUMBERED}"
    ),
    "street_address": re.compile(
        rf"(?:(?:{_WHO}|{_WHERE}) )*(?:address|addr|street|street address|street addr)"
        rf"(?: (?:line|ln))?{_NUMBERED}"
    ),
    "exact_age": re.compile(
        rf"(?:{_WHO} )?(?:age|age years|age yrs|age in years|years old|age at \w+(?: \w+)?){_NUMBERED}"
    ),
}
_COUNT_WORDS = _words(
    """
    n count counts cnt total number num freq frequency households hh persons people population pop
    individuals residents cases respondents records obs observations estimate est universe
    """
)
_NOT_COUNT_WORDS = _words(
    """
    income amount cost price value dollars pct percent share rate ratio median mean avg average moe
    margin error age
    """
)


def _normal_name(name: str) -> str:
    """A column name as the rules read it: ``Date_of-Birth`` and ``dateOfBirth`` are "date of birth"."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    text = re.sub(r"([A-Za-z])(\d)", r"\1 \2", text)
    return " ".join(re.split(r"[^0-9a-z]+", text.lower())).strip()


def _name_kinds(name: str) -> set[str]:
    normal = _normal_name(name)
    return {kind for kind, rule in _NAME_RULES.items() if rule.fullmatch(normal)}


def _is_count_name(name: str) -> bool:
    words = set(_normal_name(name).split())
    return bool(words & _COUNT_WORDS) and not words & _NOT_COUNT_WORDS


# --- screening ------------------------------------------------------------------------------------

_VALUE_WORDS = {
    "person_name": "person names (a common given name with a surname)",
    "ssn": "social security numbers",
    "email": "e-mail addresses",
    "phone": "US phone numbers",
    "street_address": "street addresses",
}
_PEOPLE_WORDS = {"person_name": "person names", "exact_age": "exact ages"}
_MEASURED_BY_NAME = ("email", "phone", "street_address")  # names that may head a column of measures
_NAME_WORDS = {
    "person_name": "a person's name",
    "birth_date": "date of birth",
    "ssn": "social security number",
    "email": "e-mail address",
    "phone": "phone number",
    "street_address": "street address",
}


@dataclass
class _Column:
    index: int
    label: str
    values: list[tuple[int, str]]  # (row number, trimmed value) of the non-empty sampled values
    names: set[str]  # kinds the column's name says
    matches: dict[str, list[int]]  # kind -> row numbers of the values matching it

    @property
    def sampled(self) -> int:
        return len(self.values)


def _enough(matched: int, sampled: int, share: float) -> bool:
    return sampled > 0 and matched >= min(MIN_MATCHES, sampled) and matched >= share * sampled


def _columns(table: Table) -> list[_Column]:
    columns = []
    for i, name in enumerate(table.header):
        values = []
        matches: dict[str, list[int]] = {}
        for number, row in zip(table.row_numbers, table.rows, strict=True):
            text = row[i].strip() if i < len(row) else ""
            if not text:
                continue
            values.append((number, text))
            kind = _value_kind(text)
            if kind is not None:
                matches.setdefault(kind, []).append(number)
        label = name or f"column {i + 1}"
        columns.append(_Column(i, label, values, _name_kinds(name), matches))
    return columns


def _exact_age_finding(table: Table, columns: list[_Column], age: _Column, threshold: int) -> Finding | None:
    ages = {number: a for number, text in age.values if (a := _exact_age(text)) is not None}
    if not ages or not _enough(len(ages), age.sampled, AGE_SHARE):
        return None
    counts = []
    for column in columns:
        if column is age or not _is_count_name(column.label):
            continue
        numbers = {n: p[0] for n, text in column.values if (p := _number(text)) is not None and not p[1]}
        if numbers and len(numbers) >= AGE_SHARE * column.sampled:
            counts.append(numbers)

    def finding(reason: str, rows: list[int], matched: int, sampled: int) -> Finding:
        return Finding(table.sheet, age.label, "exact_age", reason, rows[:SHOWN_ROWS], matched, sampled)

    if not counts:
        rows = sorted(ages)
        return finding(
            f"the table has no count column, so each row looks like one person, and {len(ages)} of "
            f"{age.sampled} sampled values are exact ages",
            rows,
            len(ages),
            age.sampled,
        )
    if threshold <= 1:
        return None
    small = sorted(n for n in ages if any(1 <= c.get(n, 0) < threshold for c in counts))
    if not small:
        return None
    return finding(
        f"{len(small)} of {len(ages)} sampled rows with an exact age have a count from 1 to {threshold - 1} "
        f"(cells smaller than {threshold} can single people out)",
        small,
        len(small),
        len(ages),
    )


def _birth_dates(column: _Column) -> tuple[list[int], int] | None:
    """(row numbers, decades) when the column's values look like dates of birth."""
    latest = dt.date.today().year - 5
    years = {n: y for n, text in column.values if (y := _date_year(text)) is not None and 1900 <= y <= latest}
    decades = len({y // 10 for y in years.values()})
    if _enough(len(years), column.sampled, DATE_SHARE) and decades >= BIRTH_DECADES:
        return sorted(years), decades
    return None


def _is_measure(text: str) -> bool:
    """A percentage, a number with decimals or a whole number under 1,000,000."""
    parsed = _number(text)
    if parsed is None:
        return False
    value, percent = parsed
    return percent or not value.is_integer() or abs(value) < 1_000_000


def _holds_measures(column: _Column) -> bool:
    measures = sum(1 for _, text in column.values if _is_measure(text))
    return _enough(measures, column.sampled, AGE_SHARE)


def _screen_table(table: Table, threshold: int) -> list[Finding]:
    columns = _columns(table)
    found: dict[tuple[int, str], Finding] = {}
    for column in columns:
        for kind in ("person_name", "birth_date", "ssn", "email", "phone", "street_address"):
            rows = column.matches.get(kind, [])
            by_value = kind in _VALUE_WORDS and _enough(len(rows), column.sampled, VALUE_SHARE)
            by_name = kind in column.names
            if by_name and not by_value and kind in _MEASURED_BY_NAME and _holds_measures(column):
                by_name = False  # a "mobile" column of percentages
            if not (by_value or by_name):
                continue
            reasons = []
            if by_name:
                empty = " (it has no values in the sample)" if not column.sampled else ""
                reasons.append(f"the column name says {_NAME_WORDS[kind]}{empty}")
            if by_value:
                reasons.append(
                    f"{len(rows)} of {column.sampled} sampled values look like {_VALUE_WORDS[kind]}"
                )
            shown = rows if by_value else [n for n, _ in column.values]
            reason = "; ".join(reasons)
            found[column.index, kind] = Finding(
                table.sheet, column.label, kind, reason, shown[:SHOWN_ROWS], len(rows), column.sampled
            )
        if "exact_age" in column.names:
            age = _exact_age_finding(table, columns, column, threshold)
            if age is not None:
                found[column.index, "exact_age"] = age
    people = {i for (i, kind) in found if kind in _PEOPLE_WORDS}
    for column in columns:
        if (column.index, "birth_date") in found or not people - {column.index}:
            continue
        births = _birth_dates(column)
        if births is None:
            continue
        rows, decades = births
        other = sorted({kind for (i, kind) in found if i != column.index and kind in _PEOPLE_WORDS})
        found[column.index, "birth_date"] = Finding(
            table.sheet,
            column.label,
            "birth_date",
            f"{len(rows)} of {column.sampled} sampled values are dates from 1900 to "
            f"{dt.date.today().year - 5} spread over {decades} decades, in a table that also has "
            + " and ".join(_PEOPLE_WORDS[kind] for kind in other),
            rows[:SHOWN_ROWS],
            len(rows),
            column.sampled,
        )
    return [found[key] for key in sorted(found, key=lambda key: (key[0], KINDS.index(key[1])))]


def screen(tables: list[Table], small_cell_threshold: int = 11) -> list[Finding]:
    """The personal-data findings of the tables' sampled rows, by table, column and kind (the
    patterns and thresholds are in this module's docstring)."""
    findings: list[Finding] = []
    for table in tables:
        findings.extend(_screen_table(table, small_cell_threshold))
    return findings
