"""Each dataset's last data change (``cd3p_data_change``): written when a DataStore table of the
dataset finishes loading (``ingestion/checks.py``) and on DataStore writes (``datastore_create``,
``_upsert``, ``_delete``: ``indicators/logic/action.py``); read once per request for every dataset
(indexing and lists of results ask per dataset).

A change makes the dataset fresh: the state last told about is set back to fresh (so its next
overdue is told again), and the search index is updated if the dataset was not fresh before.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from ckan import model
from ckan.lib import search

from ckanext.cd3p.common.memo import forget_request_memo, remembered, request_memo
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import freshness
from ckanext.cd3p.feeds.model import DataChange

log = logging.getLogger(__name__)

_MEMO = "freshness"


def recorded() -> dict[str, tuple[dt.datetime | None, str]]:
    """Every recorded dataset's (last change, state last told about), read once per request."""

    def read() -> dict[str, tuple[dt.datetime | None, str]]:
        rows = model.Session.query(DataChange.dataset_id, DataChange.last_change, DataChange.state)
        return {row.dataset_id: (freshness.moment(row.last_change), row.state) for row in rows}

    return remembered(_MEMO, "rows", read)


def recorded_change(dataset_id: str) -> dt.datetime | None:
    """The dataset's recorded last change, if any: from the request's copy of the table when it
    has one (a list of results), else its own row (one dataset indexed: a write, a rebuild)."""
    memo = request_memo(_MEMO)
    if memo is not None and "rows" in memo:
        return memo["rows"].get(dataset_id, (None, "fresh"))[0]
    change = model.Session.execute(
        sa.select(DataChange.last_change).where(DataChange.dataset_id == dataset_id)
    ).scalar()
    return freshness.moment(change)


def forget() -> None:
    forget_request_memo(_MEMO)


def package_freshness(pkg: model.Package, change: dt.datetime | None, now: dt.datetime | None = None) -> dict:
    """The freshness of a dataset object (its extras and resources already loaded)."""
    resources = [{"last_modified": r.last_modified, "created": r.created} for r in pkg.resources]
    changed = freshness.last_change(change, resources, pkg.metadata_created)
    return freshness.describe((pkg.extras or {}).get("update_frequency"), changed, now)


def record(dataset_id: str, when: dt.datetime | None = None) -> None:
    """The dataset's data changed (now): its row is written and committed; its search entry is
    updated if it was not fresh."""
    pkg = model.Package.get(dataset_id)
    if pkg is None:
        return
    row = model.Session.get(DataChange, pkg.id)
    before = package_freshness(pkg, freshness.moment(row.last_change) if row else None)["state"]
    if row is None:
        row = DataChange(dataset_id=pkg.id)
        model.Session.add(row)
    row.last_change = when or utcnow()
    row.state = "fresh"
    row.updated = utcnow()
    model.Session.commit()
    forget()
    if before != "fresh":
        reindex(pkg.id)


def resource_changed(resource_id: str) -> None:
    """A DataStore table of a resource was loaded or written: its dataset's data changed. Never
    fails the write that caused it (logged)."""
    try:
        resource = model.Resource.get(str(resource_id))
        if resource is not None and resource.package_id:
            record(resource.package_id)
    except Exception:
        model.Session.rollback()
        log.exception("cd3p: could not record the data change of resource %s", resource_id)


def reindex(dataset_id: str) -> None:
    """The dataset's search entry again (its freshness is computed as it is indexed)."""
    search.rebuild(dataset_id)
