"""Search when Solr is away: nothing written is lost, and searches say so with a 503.

- **Writes.** CKAN indexes a dataset while committing its write, and a Solr it cannot reach fails the
  commit: the dataset created or changed would be lost. Before a dataset is indexed
  (:func:`defer_when_unreachable`, from ``before_dataset_index``) Solr is asked whether it answers,
  once per request (or worker job, or command). When it does not, the dataset is recorded in
  ``cd3p_index_pending`` in the same transaction as the write, and indexing is left out with
  :class:`IndexDeferred`, an error CKAN logs and lets the commit go on past (only its own
  ``SearchIndexError`` stops a commit). The recovery job (``resilience/recovery.py``) indexes the
  recorded datasets once Solr answers again: no one runs a rebuild by hand.
- **Searches.** CKAN raises ``SolrConnectionError`` when it cannot reach Solr, which its search
  page and API turn into a 500. ``package_search`` (chained in ``logic/action.py``) raises
  :class:`SearchUnavailable` instead, which the portal answers with a 503 "search is unavailable"
  page, or a 503 error in the API (``views.py``).
"""

from __future__ import annotations

import logging
from typing import Any

import flask
import sqlalchemy as sa
from ckan import model
from ckan.lib import search
from ckan.lib.search.common import make_connection
from ckan.plugins import toolkit as tk
from sqlalchemy.dialects.postgresql import insert

from ckanext.cd3p.common.memo import remembered
from ckanext.cd3p.resilience.model import IndexPending

log = logging.getLogger(__name__)


class IndexDeferred(Exception):
    """Raised in place of indexing a dataset while Solr cannot be reached (the write goes on)."""


class SearchUnavailable(Exception):
    """Solr cannot be reached: searches answer 503 (``views.py``). Raise it through
    :func:`unavailable`, which marks the request."""


def unavailable(reason: str) -> SearchUnavailable:
    """The error to raise when Solr cannot be reached, the request marked for ``views.py``."""
    if flask.has_request_context():
        flask.g.cd3p_search_unavailable = True
    return SearchUnavailable(reason)


def marked_unavailable() -> bool:
    """Whether this request met a Solr that could not be reached."""
    return bool(flask.g.get("cd3p_search_unavailable"))


# Outside a request (a rebuild, a worker job), a ping is taken as true for this many seconds.
SOLR_ANSWERED_FOR = 5.0


def solr_answers() -> bool:
    """Whether Solr answers a ping, asked once per request (outside one, every few seconds)."""

    def ping() -> bool:
        try:
            make_connection().ping()
        except Exception:
            log.warning("cd3p: Solr does not answer")
            return False
        return True

    return remembered("solr", "answers", ping, outside_for=SOLR_ANSWERED_FOR)


def defer_when_unreachable(pkg_dict: dict[str, Any]) -> None:
    """Records the dataset for indexing later and raises :class:`IndexDeferred` when Solr does
    not answer; does nothing when it does."""
    if solr_answers():
        return
    model.Session.execute(
        insert(IndexPending.__table__)
        .values(dataset_id=pkg_dict["id"], queued=sa.func.now())
        .on_conflict_do_nothing(index_elements=["dataset_id"])
    )
    log.warning("cd3p: Solr does not answer; dataset %s will be indexed when it does", pkg_dict["id"])
    raise IndexDeferred(f"Solr does not answer: dataset {pkg_dict['id']} is to be indexed later")


def pending() -> list[str]:
    """The datasets waiting to be indexed, oldest first."""
    return list(
        model.Session.execute(
            sa.select(IndexPending.dataset_id).order_by(IndexPending.queued, IndexPending.dataset_id)
        ).scalars()
    )


def catch_up() -> int:
    """Indexes the datasets written while Solr was down, if it answers now; how many it indexed.
    A dataset deleted since is indexed as deleted, one purged since is taken out of the index."""
    ids = pending()
    if not ids or not solr_answers():
        return 0
    done = 0
    for dataset_id in ids:
        try:
            try:
                search.rebuild(dataset_id)
            except tk.ObjectNotFound:  # purged since: out of the index too
                search.index_for(model.Package).remove_dict({"id": dataset_id})
        except Exception:  # Solr went away again: the rest waits for the next round
            log.warning("cd3p: dataset %s could not be indexed yet", dataset_id, exc_info=True)
            break
        model.Session.execute(sa.delete(IndexPending.__table__).where(IndexPending.dataset_id == dataset_id))
        model.Session.commit()
        done += 1
    log.info("cd3p: %d dataset(s) written while Solr was down are indexed", done)
    return done
