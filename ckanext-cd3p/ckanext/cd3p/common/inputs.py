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


MAX_DEPTH = 64  # lists and dicts inside each other, at most, in any input


def parse_json(text: str) -> Any:
    """``json.loads``, where a text nested too deeply for Python's parser (it raises RecursionError)
    is refused as unreadable like any other: ValueError."""
    try:
        return json.loads(text)
    except RecursionError as error:
        raise ValueError("nested too deeply") from error


def too_deep(value: Any) -> bool:
    """Whether a text that core will read as JSON is nested deeper than Python's parser goes."""
    if not isinstance(value, str) or value.lstrip()[:1] not in ("[", "{"):
        return False
    try:
        parse_json(value)
    except ValueError as error:
        return isinstance(error.__cause__, RecursionError)
    return False


def first_unsafe(
    value: Any, path: str = "", controls: bool = False, depth: int = 0
) -> tuple[str, str] | None:
    """The first text inside a value (dicts and lists walked, keys too) that is :func:`unsafe`: its
    field (the top-level key) and why; None when there is none. A value nested deeper than
    :data:`MAX_DEPTH` is refused as such."""
    if depth > MAX_DEPTH:
        return (path, tk._("Nested more than {n} levels deep").format(n=MAX_DEPTH))
    if isinstance(value, str):
        reason = unsafe(value, controls)
        return (path, reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            found = first_unsafe(key_text, path or key_text, controls) or first_unsafe(
                item, path or key_text, controls, depth + 1
            )
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = first_unsafe(item, path, controls, depth + 1)
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


def whole_number(value: Any) -> int | None:
    """The value as a whole number, if it is one (an int but not a bool, or digits as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _whole_number(value: Any) -> bool:
    number = whole_number(value)
    return number is not None and 0 <= number <= MAX_BIGINT


def _object(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value = parse_json(value)
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


def datastore_named(data_dict: dict[str, Any]) -> dict[str, Any]:
    """A DataStore action's input with the resource named as core will read it. Core's DataStore
    schemas rename ``id`` to ``resource_id`` before anything else, so a given ``id`` wins over
    ``resource_id``: a chained DataStore action that looked at ``resource_id`` first would judge
    one table while core acts on another. The copy has ``resource_id`` only."""
    if not data_dict.get("id"):
        return data_dict
    named = {k: v for k, v in data_dict.items() if k != "id"}
    named["resource_id"] = data_dict["id"]
    return named


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
