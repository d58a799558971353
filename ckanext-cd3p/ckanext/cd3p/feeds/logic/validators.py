"""Validators of feeds: the resource field ``refresh_frequency``."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey

from ckanext.cd3p.feeds.model import FREQUENCIES


def cd3p_refresh_frequency(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """A resource's refresh schedule: empty (no feed), or one of ``hourly``, ``daily``, ``weekly``,
    ``monthly`` for a resource linked by URL (an uploaded file has nothing to fetch)."""
    value = data.get(key)
    if value is tk.missing or value is None or value == "":
        data[key] = ""
        return
    if not isinstance(value, str) or value not in FREQUENCIES:
        errors[key].append(tk._("Must be one of: {choices}, or empty").format(choices=", ".join(FREQUENCIES)))
        raise tk.StopOnError
    url_type = data.get(key[:-1] + ("url_type",))
    url = data.get(key[:-1] + ("url",))
    if url_type not in (None, "", tk.missing) or not isinstance(url, str) or not url:
        errors[key].append(tk._("Only a resource linked by URL can be fetched on a schedule"))
        raise tk.StopOnError
