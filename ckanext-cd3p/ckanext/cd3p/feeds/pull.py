"""Feeds (pull): a resource linked by URL, given a refresh schedule (its ``refresh_frequency``), is
fetched again when it is due, and its new content checked and loaded like an upload.

- **The schedule** is a row of ``cd3p_feed`` per resource with a frequency, kept in step with the
  resources by :func:`sync` after every dataset write. A new feed, or a new URL, is first fetched
  one period later: a new link is loaded at once already, as every link is (``ingestion/``). A new
  frequency counts from the last fetch. A resource whose frequency is emptied, or that is no longer
  a link, loses its feed.
- **A fetch** (:func:`run`) asks conditionally (the ``ETag`` and ``Last-Modified`` of the content
  last taken) through the one rule of what may be fetched (``common/fetch.py``: http(s) only, never
  the portal's own networks, the size limit, a timeout). Content that is not modified (a 304, or
  the same SHA-256 as the content last taken) is recorded as checked and not reloaded. New content
  goes through the checks before loading and the load (``ingestion/checks.py``), with the fetched
  file, on the worker: a file that fails its check, or a failed fetch, leaves the DataStore table
  as it was.
- **Failures** in a row back off (:func:`backoff`), and once ``ckanext.cd3p.feeds.notify_after``
  of them follow each other the organization's admins are e-mailed, once for that run of failures.
- **The scheduler** (``feeds/scheduler.py``) queues :func:`run_due` every few minutes; an editor's
  ``cd3p_feed_run`` queues :func:`run` for one feed. A Redis lock per feed keeps two runs of one
  feed from overlapping.
- Each fetch is a row of ``cd3p_feed_fetch``; the last :data:`KEPT` of each feed are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.lib.redis import connect_to_redis
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config
from ckanext.cd3p.common import fetch
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import notify
from ckanext.cd3p.feeds.model import FREQUENCIES, Feed, FeedFetch
from ckanext.cd3p.ingestion import checks

log = logging.getLogger(__name__)

PERIODS: dict[str, dt.timedelta] = {
    "hourly": dt.timedelta(hours=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
    "monthly": dt.timedelta(days=30),
}
assert tuple(PERIODS) == FREQUENCIES
KEPT = 10  # fetches kept per feed
LOCK = dt.timedelta(minutes=20)  # a run longer than this died with its worker (checks: 15 minutes)
_LOCK_PREFIX = "cd3p:feed:"
_ASKED_PREFIX = "cd3p:feed-asked:"
ASK_EVERY = 60  # seconds: an editor's fetch now, at most once in this time per feed
JOB_TIMEOUT = checks.JOB_TIMEOUT + 120  # seconds, for RQ: the fetch, then the check and load


def labels() -> dict[str, str]:
    """Each refresh frequency's label, in the reader's language."""
    return {
        "hourly": tk._("Hourly"),
        "daily": tk._("Daily"),
        "weekly": tk._("Weekly"),
        "monthly": tk._("Monthly"),
    }


def outcome_labels() -> dict[str, str]:
    """Each outcome of a fetch's label, in the reader's language."""
    return {
        "unchanged": tk._("Unchanged"),
        "loaded": tk._("Loaded"),
        "held": tk._("Held (personal data?)"),
        "failed": tk._("Failed"),
    }


def backoff(frequency: str, failures: int) -> dt.timedelta:
    """The wait before the next fetch after ``failures`` failures in a row: the period doubled for
    each, at most four periods or a week, whichever is longer."""
    period = PERIODS[frequency]
    if failures <= 0:
        return period
    return min(period * 2 ** min(failures, 16), max(period * 4, dt.timedelta(days=7)))


def is_feed(resource: dict[str, Any]) -> bool:
    """Whether the resource (a dict or its extras) is a feed: a link with a refresh frequency."""
    return resource.get("refresh_frequency") in PERIODS and not resource.get("url_type")


# --- the schedule ---------------------------------------------------------------------------------


def sync(dataset: dict[str, Any], now: dt.datetime | None = None) -> None:
    """Keeps the dataset's feeds in step with its resources (one query; the dataset write commits)."""
    moment = now or utcnow()
    wanted = {
        r["id"]: (r["refresh_frequency"], r.get("url") or "")
        for r in dataset.get("resources") or []
        if r.get("id") and is_feed(r)
    }
    rows = {f.resource_id: f for f in model.Session.query(Feed).filter(Feed.dataset_id == dataset["id"])}
    for resource_id, row in rows.items():
        if resource_id not in wanted:
            model.Session.delete(row)
    for resource_id, (frequency, url) in wanted.items():
        row = rows.get(resource_id)
        if row is None:
            model.Session.add(
                Feed(
                    resource_id=resource_id,
                    dataset_id=dataset["id"],
                    frequency=frequency,
                    url=url,
                    next_fetch=moment + PERIODS[frequency],
                    failures=0,
                    notified=False,
                    created=moment,
                )
            )
        elif row.url != url:  # another source, loaded as a new link: nothing known of it yet
            row.etag = row.last_modified = row.sha256 = None
            row.failures, row.notified = 0, False
            row.url, row.frequency, row.next_fetch = url, frequency, moment + PERIODS[frequency]
        elif row.frequency != frequency:
            row.frequency = frequency
            row.next_fetch = (row.last_fetch or row.created) + backoff(frequency, row.failures)


def forget_dataset(dataset_ref: str) -> None:
    """A deleted dataset's feeds stop (the dataset delete commits; a dataset restored by an update
    gets them back through :func:`sync`)."""
    pkg = model.Package.get(dataset_ref)
    if pkg is not None:
        model.Session.query(Feed).filter(Feed.dataset_id == pkg.id).delete(synchronize_session=False)


def due(now: dt.datetime | None = None, limit: int = 500) -> list[str]:
    """The resource ids of the feeds due, the longest due first."""
    return list(
        model.Session.execute(
            sa.select(Feed.resource_id)
            .where(Feed.next_fetch <= (now or utcnow()))
            .order_by(Feed.next_fetch)
            .limit(limit)
        ).scalars()
    )


def queue_due() -> int:
    """Queues a fetch of each feed due, one job each (the scheduler's task, on the worker); how
    many. A job finds its feed no longer due (fetched meanwhile) and does nothing."""
    found = due()
    for resource_id in found:
        tk.enqueue_job(
            run_job,
            [resource_id, None, True],
            title=f"cd3p feed: resource {resource_id}",
            rq_kwargs={"timeout": JOB_TIMEOUT},
        )
    return len(found)


def run_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Fetches every feed due, one after the other (``ckan cd3p feeds run``); counts the outcomes."""
    counts: dict[str, int] = {}
    for resource_id in due(now):
        done = run(resource_id, now=now, scheduled=True)
        if done is not None:
            counts[done.outcome] = counts.get(done.outcome, 0) + 1
    return counts


def run_job(resource_id: str, by: str | None = None, scheduled: bool = False) -> str | None:
    """One feed fetched, as the worker runs it; its outcome."""
    done = run(resource_id, by=by, scheduled=scheduled)
    return done.outcome if done is not None else None


def queue_run(resource_id: str, by: str) -> bool:
    """Queues a fetch of the feed now, on the worker (``cd3p_feed_run``): the feed is due now until
    the fetch has run. At most one a minute per feed: False when one was asked for within it."""
    if not connect_to_redis().set(_ASKED_PREFIX + resource_id, by or "-", nx=True, ex=ASK_EVERY):
        return False
    feed = model.Session.get(Feed, resource_id)
    if feed is not None:
        feed.next_fetch = utcnow()
        model.Session.commit()
    title = f"cd3p feed: resource {resource_id}"
    tk.enqueue_job(run_job, [resource_id, by], title=title, rq_kwargs={"timeout": JOB_TIMEOUT})
    return True


# --- one fetch ------------------------------------------------------------------------------------


def run(
    resource_id: str, now: dt.datetime | None = None, by: str | None = None, scheduled: bool = False
) -> FeedFetch | None:
    """Fetches the feed once and records what came of it; None when there is nothing to do (no
    feed, another run of it under way, or, when ``scheduled``, not due any more)."""
    redis = connect_to_redis()
    lock = _LOCK_PREFIX + resource_id
    if not redis.set(lock, "1", nx=True, ex=int(LOCK.total_seconds())):
        return None
    try:
        return _run(resource_id, now or utcnow(), by, scheduled)
    finally:
        redis.delete(lock)


def _run(resource_id: str, now: dt.datetime, by: str | None, scheduled: bool) -> FeedFetch | None:
    feed = model.Session.get(Feed, resource_id)
    if feed is None or (scheduled and feed.next_fetch > now):
        return None
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active" or resource.url_type or resource.url != feed.url:
        model.Session.delete(feed)  # the resource went, or changed behind sync's back
        model.Session.commit()
        return None
    record = FeedFetch(resource_id=resource_id, started=now, by=by)
    clock = time.monotonic()
    with tempfile.NamedTemporaryFile(prefix="cd3p-feed-") as out:
        try:
            got = fetch.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified, sink=out)
        except fetch.FetchError as e:
            got = None
            record.outcome, record.message = "failed", str(e)
        if got is not None:
            record.size, record.sha256 = (got.size, got.sha256) if got.status == "changed" else (None, None)
            if got.status == "unchanged":
                record.outcome = "unchanged"
                record.message = tk._("Not modified since the last fetch (the server answered 304).")
            elif got.sha256 == feed.sha256:
                record.outcome = "unchanged"
                record.message = tk._("The same content as the last fetch (SHA-256 {sha}…).").format(
                    sha=got.sha256[:12]
                )
            else:
                out.flush()
                record.outcome, record.message, record.check_id = _check_and_load(resource_id, out.name)
            if record.outcome in ("unchanged", "loaded"):
                feed.etag, feed.last_modified = got.etag or feed.etag, got.last_modified or feed.last_modified
                feed.sha256 = got.sha256 or feed.sha256
    record.seconds = round(time.monotonic() - clock, 3)
    _close(feed, record, now)
    return record


def _check_and_load(resource_id: str, path: str) -> tuple[str, str, str | None]:
    """The fetched file through the checks and the load; the outcome, why, and the check's id."""
    try:
        check = checks.begin(resource_id)
        state = checks.run(resource_id, check.id, fetched=path)
    except Exception as e:  # a bug or the database: the old table is kept; the log says the rest
        model.Session.rollback()
        log.exception("cd3p: the check and load of feed %s failed", resource_id)
        return "failed", tk._("The check and load failed unexpectedly: {error}").format(error=e), None
    model.Session.refresh(check)
    report = check.report or {}
    if state != "passed":
        return ("held" if state == "held" else "failed"), checks.not_loaded(state, report), check.id
    load = report.get("load") or {}
    if load.get("state") != "complete":
        why = load.get("error") or tk._("The load did not complete; see its check report.")
        return "failed", why, check.id
    return "loaded", tk._("Loaded {rows} rows.").format(rows=load.get("rows", 0)), check.id


def _close(feed: Feed, record: FeedFetch, now: dt.datetime) -> None:
    """Records the fetch, keeps the last ten, schedules the next, and tells of repeated failures."""
    feed.last_fetch = now
    tell = False
    if record.outcome in ("unchanged", "loaded"):
        feed.failures, feed.notified = 0, False
    else:
        feed.failures += 1
        if feed.failures >= config.feeds_notify_after() and not feed.notified:
            feed.notified = tell = True
    feed.next_fetch = now + backoff(feed.frequency, feed.failures)
    model.Session.add(record)
    model.Session.flush()
    kept = (
        sa.select(FeedFetch.id)
        .where(FeedFetch.resource_id == feed.resource_id)
        .order_by(FeedFetch.started.desc(), FeedFetch.id.desc())
        .limit(KEPT)
        .scalar_subquery()
    )
    model.Session.execute(
        sa.delete(FeedFetch)
        .where(FeedFetch.resource_id == feed.resource_id, FeedFetch.id.not_in(kept))
        .execution_options(synchronize_session=False)
    )
    model.Session.commit()
    log.info("cd3p: feed %s: %s (%s)", feed.resource_id, record.outcome, record.message)
    if tell:
        notify.feed_failing(feed, record)


# --- reading --------------------------------------------------------------------------------------


def describe(resource_id: str) -> dict[str, Any]:
    """The feed's schedule, last and next fetch, and its last ten fetches, newest first (no feed:
    ``frequency`` null and no fetches)."""
    feed = model.Session.get(Feed, resource_id)
    fetches = (
        model.Session.query(FeedFetch)
        .filter(FeedFetch.resource_id == resource_id)
        .order_by(FeedFetch.started.desc(), FeedFetch.id.desc())
        .limit(KEPT)
        .all()
    )
    found = feed.as_dict() if feed is not None else {}
    return {
        "resource_id": resource_id,
        "frequency": found.get("frequency"),
        "url": found.get("url"),
        "last_fetch": found.get("last_fetch"),
        "next_fetch": found.get("next_fetch"),
        "failures": found.get("failures", 0),
        "fetches": [
            {
                key: value
                for key, value in f.as_dict().items()
                if key in ("started", "seconds", "outcome", "message", "size", "sha256", "check_id")
            }
            | {"asked": f.by is not None}
            for f in fetches
        ],
    }
