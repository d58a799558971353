"""What is remembered for the length of one request (or one CLI command): a dictionary per name, kept
on ``flask.g``, so that a hook run per dataset or per row asks the database once."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import flask
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

_PREFIX = "_cd3p_memo_"

T = TypeVar("T")


def request_memo(name: str) -> dict[Any, Any] | None:
    """The request's dictionary called ``name`` (made empty on first use), or None outside an
    application context (a worker job), where nothing is remembered."""
    if not flask.has_app_context():
        return None
    attr = _PREFIX + name
    store = tk.g
    if not hasattr(store, attr):
        setattr(store, attr, {})
    return getattr(store, attr)


# Outside an application context (a command such as ``ckan search-index rebuild``, a worker job),
# what a caller allows to be kept for a few seconds: (name, key) -> (when, value).
_OUTSIDE: dict[tuple[str, Hashable], tuple[float, Any]] = {}


def forget_request_memo(name: str) -> None:
    """Empties the request's dictionary called ``name`` (and what is kept of it outside requests)."""
    memo = request_memo(name)
    if memo is not None:
        memo.clear()
    for kept in [k for k in _OUTSIDE if k[0] == name]:
        _OUTSIDE.pop(kept, None)


def remembered(name: str, key: Hashable, make: Callable[[], T], outside_for: float = 0) -> T:
    """``make()``, made once per request for ``key`` in the dictionary ``name``. Outside an
    application context it is made every time, or, given ``outside_for``, kept that many seconds
    in this process (a command indexing 10,000 datasets asks once, not per dataset)."""
    memo = request_memo(name)
    if memo is None:
        if outside_for <= 0:
            return make()
        now = time.monotonic()
        kept = _OUTSIDE.get((name, key))
        if kept is not None and now - kept[0] < outside_for:
            return kept[1]
        value = make()
        _OUTSIDE[(name, key)] = (now, value)
        return value
    if key not in memo:
        memo[key] = make()
    return memo[key]


# --- what any write makes out of date --------------------------------------------------------------

_FORGOTTEN_ON_WRITE: set[str] = set()


def forget_on_write(name: str) -> None:
    """Empties the request's dictionary called ``name`` whenever the request writes anything to the
    database (a flush with a new, changed or deleted object): for what is read from several tables
    (a user's permission labels read memberships, the ledger and the grants), where naming each
    writer would miss one. Reads never flush, so a page that only reads keeps its memo."""
    if not _FORGOTTEN_ON_WRITE:
        sa.event.listen(model.Session, "after_flush", _after_flush)
    _FORGOTTEN_ON_WRITE.add(name)


def _after_flush(session: Any, _flush_context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        for name in _FORGOTTEN_ON_WRITE:
            forget_request_memo(name)
