"""What every input is checked for before anything strips, parses or looks it up.

PostgreSQL refuses a NUL character in text, and psycopg2 cannot encode a lone surrogate (a JSON
``"\\ud800"``), so either one reaching a query is a server error, not an answer. Other control
characters (but tab, line feed and carriage return) are stored as they are by PostgreSQL, but
break Solr's indexing and a page's markup. One function says what is wrong with a text
(:func:`unsafe`); the validators (``cd3p_text``, ``cd3p_required_text``), the auth functions (which
read ids before any schema has run: :func:`text_id`) and the chained core actions
(:func:`refuse_unsafe`) all use it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from ckan.plugins import toolkit as tk

# The longest id or name looked up: CKAN's names are at most 100 characters, ids 36; a longer value
# cannot be one, and is not sent to the database.
MAX_ID_LENGTH = 200
# PostgreSQL's bigint, the type of LIMIT and OFFSET.
MAX_BIGINT = 2**63 - 1

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def unsafe(text: str, controls: bool = True) -> str | None:
    """Why the text cannot be taken (a NUL, a lone surrogate, or with ``controls`` any other control
    character but tab, line feed and carriage return), or None."""
    found = (_UNSAFE if controls else _UNSTORABLE).search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return tk._("Must not contain a NUL character")
    if "\ud800" <= char <= "\udfff":
        return tk._("Must be valid Unicode text (it holds a lone surrogate)")
    return tk._("Must not contain control characters (found U+{code:04X})").format(code=ord(char))


def text_id(value: Any) -> str | None:
    """The value, if it can be an id or name to look up (non-empty text, at most
    :data:`MAX_ID_LENGTH` characters, nothing :func:`unsafe`); None otherwise."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or unsafe(value):
        return None
    return value


def first_unsafe(value: Any, path: str = "", controls: bool = False) -> tuple[str, str] | None:
    """The first text inside a value (dicts and lists walked, keys too) that is :func:`unsafe`: its
    field (the top-level key) and why; None when there is none."""
    if isinstance(value, str):
        reason = unsafe(value, controls)
        return (path, reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            found = first_unsafe(key_text, path or key_text, controls) or first_unsafe(
                item, path or key_text, controls
            )
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = first_unsafe(item, path, controls)
            if found:
                return found
    return None


def refuse_unsafe(data_dict: dict[str, Any]) -> None:
    """Raises a ValidationError naming the field of the first text in the data that PostgreSQL cannot
    store (a NUL, a lone surrogate), for the core actions our plugin chains, which would look
    records up with it before they validate."""
    found = first_unsafe(data_dict)
    if found:
        field, reason = found
        raise tk.ValidationError({field or "data": [reason]})


def _whole_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_BIGINT
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip()) <= MAX_BIGINT
    return False


def _object(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return isinstance(value, dict)


def guard_date(value: Any) -> bool:
    """A date or time (CKAN's own code passes datetime objects), or text CKAN's date parser reads
    (it raises OverflowError on a number of 20 digits)."""
    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str):
        return False
    from ckan.lib.helpers import date_str_to_datetime

    try:
        date_str_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


# Seconds since 1970 a Python datetime can hold (year 1 to 9999).
_TIMESTAMPS = (-62_135_596_800, 253_402_300_799)


def _timestamp(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return _TIMESTAMPS[0] <= number <= _TIMESTAMPS[1]


def guard(
    data_dict: dict[str, Any],
    *,
    ids: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    texts: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    objects: tuple[str, ...] = (),
    mappings: tuple[str, ...] = (),
    records: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    timestamps: tuple[str, ...] = (),
) -> None:
    """What a core action our plugin chains would fail on instead of refusing, refused first with a
    ValidationError naming each field:

    - any text PostgreSQL cannot store (:func:`refuse_unsafe`);
    - ``ids`` that are not text an id can be (:func:`text_id`); ``required`` ones absent;
    - ``texts`` that are not text; ``flags`` neither a boolean nor text (core's boolean_validator
      calls ``.lower()``); ``numbers`` not whole numbers within PostgreSQL's bigint;
    - ``objects`` neither a dict nor the JSON text of one; ``mappings`` not dicts; ``records`` not
      lists of dicts (null included: navl takes nothing else);
    - ``dates`` not ISO 8601 dates or times core can read; ``timestamps`` not seconds since 1970
      that a date can hold.

    Absent and null values of the others are left to core."""
    refuse_unsafe(data_dict)
    errors: dict[str, list[str]] = {}
    for name in required:
        if data_dict.get(name) in (None, "", [], {}):
            errors[name] = [tk._("Missing value")]
    for name, value in data_dict.items():
        if name in errors or (value is None and name not in records):
            continue
        if name in ids and value != "" and text_id(value) is None:
            errors[name] = [
                tk._("Must be an id or name: text of at most {n} characters").format(n=MAX_ID_LENGTH)
            ]
        elif name in texts and not isinstance(value, str):
            errors[name] = [tk._("Must be text")]
        elif name in flags and not isinstance(value, bool | str):
            errors[name] = [tk._("Must be true or false")]
        elif name in numbers and not _whole_number(value):
            errors[name] = [tk._("Must be a whole number from 0 to {max}").format(max=MAX_BIGINT)]
        elif (name in objects and not _object(value)) or (name in mappings and not isinstance(value, dict)):
            errors[name] = [tk._("Must be an object")]
        elif name in dates and not guard_date(value):
            errors[name] = [tk._("Date format incorrect: use ISO 8601, e.g. 2026-07-01")]
        elif name in timestamps and not _timestamp(value):
            errors[name] = [tk._("Must be a time in seconds since 1970")]
        elif name in records and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            errors[name] = [tk._("Must be a list of objects")]
    if errors:
        raise tk.ValidationError(errors)
