"""The indicator cache: rows and results in Redis under the versions of the tables they came from,
the last results decoded in this process, and a memo per request."""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ckanext.cd3p.common.memo import forget_request_memo, request_memo

log = logging.getLogger(__name__)

CACHE_TTL = 24 * 3600  # seconds; a change to a source table invalidates sooner (see invalidate)


# --- per-request memo and the Redis cache -------------------------------------------------------
# Within one web request each source table is looked up and read once, whatever the page shows.
# Across requests, rows and computed results are kept in Redis under the version numbers of the
# source tables they came from; a version is bumped whenever its table changes
# (datastore_create/upsert/delete, an xloader load) and a sysadmin's refresh or a change to the
# registered sources bumps the generation of everything. Without Redis, every call computes afresh.

GENERATION_KEY = "cd3p:indicators:generation"


# A random token kept in Redis: if Redis loses its data, versions start again from 0 and the new
# epoch keeps them from meeting results this process remembers from before.
EPOCH_KEY = "cd3p:indicators:epoch"


# The last computed results this process used, decoded, by their Redis key (which names the table
# versions, so a changed table is a new key): a 5,000-tract result is not decoded again per request.
# Callers treat results as read-only.
LOCAL_RESULTS = 32


_local: collections.OrderedDict[str, Any] = collections.OrderedDict()


_local_lock = threading.Lock()


def _remember(key: str, value: Any) -> None:
    with _local_lock:
        _local[key] = value
        _local.move_to_end(key)
        while len(_local) > LOCAL_RESULTS:
            _local.popitem(last=False)


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def _version_key(resource_id: str) -> str:
    return f"cd3p:indicators:version:{resource_id}"


def invalidate(resource_id: str) -> None:
    """Forgets every cached read of one DataStore table, and what was computed from it."""
    forget_request_memo("indicators")
    try:
        _redis().incr(_version_key(resource_id))
    except Exception:  # Redis down: nothing is served from it either (see _cache)
        log.warning("cd3p: could not invalidate indicator cache of %s", resource_id, exc_info=True)


def version(resource_id: str) -> int:
    """The version of one DataStore table: how many times it changed (:func:`invalidate`), 0 when
    it never did or Redis cannot say."""
    try:
        return int(_redis().get(_version_key(resource_id)) or 0)
    except Exception:
        log.warning("cd3p: could not read the version of %s", resource_id, exc_info=True)
        return 0


def invalidate_all() -> None:
    forget_request_memo("indicators")
    try:
        _redis().incr(GENERATION_KEY)
    except Exception:
        log.warning("cd3p: could not invalidate the indicator cache", exc_info=True)


def cached(kind: str, parts: Any, resource_ids: Iterable[str], fetch: Callable[[], Any]) -> Any:
    """``fetch()``'s value, cached under the current versions of the tables it reads."""
    ids = sorted(set(resource_ids))
    memo = request_memo("indicators")
    try:
        r = _redis()
        epoch, generation, *versions = r.mget(EPOCH_KEY, GENERATION_KEY, *(_version_key(i) for i in ids))
        if epoch is None:
            r.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
            epoch = r.get(EPOCH_KEY)
        state = [epoch, int(generation or 0), ids, [int(v or 0) for v in versions], parts]
        digest = hashlib.sha1(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
        key = f"cd3p:indicators:{kind}:{digest}"
        if memo is not None and key in memo:
            return memo[key]
        if kind != "rows":
            with _local_lock:
                if key in _local:
                    _local.move_to_end(key)
                    return _local[key]
        hit = r.get(key)
    except Exception:
        log.warning("cd3p: indicator cache unavailable; computing from the DataStore", exc_info=True)
        return fetch()
    if hit is not None:
        value = json.loads(hit)
    else:
        value = fetch()
        try:
            r.set(key, json.dumps(value, default=str), ex=CACHE_TTL)
        except Exception:
            log.warning("cd3p: could not cache indicator %s", kind, exc_info=True)
    if memo is not None:
        memo[key] = value
    if kind != "rows":
        _remember(key, value)
    return value
