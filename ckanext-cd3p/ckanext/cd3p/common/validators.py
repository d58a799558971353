"""Validators for the CD3P schemas, registered with the `cd3p_` prefix."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ckan.plugins import toolkit as tk
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey

from ckanext.cd3p.common import inputs

# --- what every value is checked for first ------------------------------------------------------

# The most rows one call of a list action returns.
MAX_LIMIT = 1000


def stop(key: FlattenKey, errors: FlattenErrorDict, message: str) -> None:
    errors[key].append(message)
    raise tk.StopOnError


def cd3p_text(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """An optional text: absent or None stays so; anything else must be text with no NUL, other
    control character or lone surrogate (:func:`ckanext.cd3p.common.inputs.unsafe`)."""
    value = data.get(key)
    if value is tk.missing or value is None:
        return
    if not isinstance(value, str):
        stop(key, errors, tk._("Must be text"))
    reason = inputs.unsafe(value)
    if reason:
        stop(key, errors, reason)


def cd3p_required_text(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A text that must be given: checked to exist and be text (as :func:`cd3p_text`) before it is
    stripped; blank is missing. Replaces scheming's ``strip_value`` before ``not_empty``, which
    fails on a missing, null or non-text value."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        stop(key, errors, tk._("Missing value"))
    cd3p_text(key, data, errors, context)
    data[key] = value.strip()
    if not data[key]:
        stop(key, errors, tk._("Missing value"))


def cd3p_not_blank(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A text that must be given, kept as it is (an agreement's body is signed to the byte): after
    ``cd3p_text``, absent, null or only white space is missing."""
    value = data.get(key)
    if value is tk.missing or value is None or not str(value).strip():
        stop(key, errors, tk._("Missing value"))


def cd3p_limit(value: Any, context: Context) -> int:
    """How many rows a list returns: a whole number from 0 to :data:`MAX_LIMIT`."""
    number = inputs.whole_number(value)
    if number is None or not 0 <= number <= MAX_LIMIT:
        raise tk.Invalid(tk._("Must be a whole number from 0 to {max}").format(max=MAX_LIMIT))
    return number


def cd3p_offset(value: Any, context: Context) -> int:
    """How many rows a list skips: a whole number from 0 to PostgreSQL's bigint."""
    number = inputs.whole_number(value)
    if number is None or not 0 <= number <= inputs.MAX_BIGINT:
        raise tk.Invalid(tk._("Must be a whole number from 0 to {max}").format(max=inputs.MAX_BIGINT))
    return number


def cd3p_date(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """An optional ISO 8601 date or time, read by CKAN's ``isodate``, after it is checked to be text
    (``isodate`` raises OverflowError, not Invalid, on a number of 20 digits)."""
    value = data.get(key)
    if value is tk.missing or value is None:
        return
    if value == "":
        data[key] = None  # cleared
        return
    if not inputs.guard_date(value):
        stop(key, errors, tk._("Date format incorrect: use ISO 8601, e.g. 2026-07-01"))
    data[key] = tk.get_validator("isodate")(value, context)


def cd3p_bool(value: Any, context: Context) -> bool:
    """True or false (also "true"/"false", "yes"/"no", "on"/"off", "1"/"0" as text); anything else
    is refused, where CKAN's boolean_validator fails on a list or a dict."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0", ""):
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise tk.Invalid(tk._("Must be true or false"))


# --- links: http(s) only ------------------------------------------------------------------------

# What CKAN's datastore_create names a resource that has only a DataStore table, no file or link.
_DATASTORE_ONLY = "_datastore_only_resource"


def http_url(value: Any) -> str | None:
    """The value as a web link, stripped of surrounding white space: an ``http://`` or ``https://``
    URL with a host, and no control character (browsers drop tabs and line breaks inside a URL, so
    ``java\tscript:`` would be a script). None for anything else: ``javascript:``, ``data:``,
    ``ftp://``, a relative path. The one rule for the URL fields and for the pages that link them."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def cd3p_http_url(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """A URL field: empty, or a web link (:func:`http_url`), stored stripped. A resource's uploaded
    file (``url_type`` "upload") is named by its file name, and a DataStore-only resource by CKAN's
    marker; those are CKAN's, not links, and pass."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        return
    url_type = data.get(key[:-1] + ("url_type",))
    if url_type == "upload" or (value == _DATASTORE_ONLY and url_type in (None, "", "datastore", tk.missing)):
        return
    url = http_url(value)
    if url is None:
        errors[key].append(tk._("Must be a web address starting with http:// or https://"))
        raise tk.StopOnError
    data[key] = url
