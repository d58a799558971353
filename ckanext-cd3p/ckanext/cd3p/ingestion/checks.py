"""Checks before loading: every uploaded or linked table is read and screened before it may reach the
DataStore, and a file that fails leaves the DataStore as it was.

ckanext-xloader asks each ``IXloader`` plugin ``can_upload(resource_id)`` before it queues a load. We
always answer no, and queue our own job instead (:func:`can_load`): the job (:func:`run`, on the same
worker queue) reads the file once, screening it for personal data (:mod:`ckanext.cd3p.ingestion.screening`),
checking its geography codes (:mod:`ckanext.cd3p.ingestion.validation`) and writing the UTF-8 CSV copy that is
loaded. A file that passes is loaded by the same job, in one transaction
(:mod:`ckanext.cd3p.ingestion.loading`);
a file that is held or fails is not, and the DataStore table of the last good file stays as it was,
and so do the indicators built on it. Each check is one row of ``cd3p_resource_check``, for one
version of the file (its *fingerprint*: where the file is, when it was uploaded, its size); the
load's progress and log are kept in its report.

A file is **held** when it appears to hold personal data and its dataset is not both marked
"contains personal data" and organization-only. The dataset is then made organization-only (a
dataset change, so it is in the dataset's activity), the file is not loaded, and only the
organization's admins and sysadmins may download it (:func:`download_refused`). The uploader reads the
report on the resource page and either uploads the file again without the flagged columns (a new
fingerprint, so a new check) or marks the dataset as personal and organization-only, which checks
the file again. Sysadmins see held files in a queue and may release a false alarm, which loads it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa
from ckan import authz, model
from ckan.lib import uploader
from ckan.lib.redis import connect_to_redis
from ckan.plugins import toolkit as tk
from ckan.types import Context
from redis.exceptions import RedisError
from rq.job import Job

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import fetch, privacy
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.ingestion import loading, screening, validation
from ckanext.cd3p.ingestion.model import ResourceCheck

log = logging.getLogger(__name__)

# A check still pending after this long was lost (its worker died): the next submission starts anew.
PENDING_TIMEOUT = dt.timedelta(minutes=15)
JOB_TIMEOUT = 900  # seconds, for RQ
TABULAR = ("CSV", "TSV", "TXT", "XLSX", "JSON")
DELIMITED = ("CSV", "TSV", "TXT")


class CheckError(Exception):
    """The file could not be fetched or is too large: the message is for the partner."""


class TableCheck(Protocol):
    """A check that a feature adds for some tables (an outcome report of a programme): it sees
    every row in the check's one pass over the file (as ``screening.read_tables`` gives them),
    reports under its ``key`` in the check's report (``failed``: true fails the file), and is told
    when the file is loaded, inside the load's error handling."""

    key: str

    def __call__(self, sheet: str, header: Sequence[str], number: int, values: Sequence[Any]) -> None: ...

    def report(self) -> dict[str, Any]: ...

    def loaded(self) -> None: ...


# resource, dataset, format -> the feature's check of that table, or None when it does not apply
TableCheckFactory = Callable[[dict[str, Any], dict[str, Any], str], TableCheck | None]

_TABLE_CHECKS: list[TableCheckFactory] = []


def add_table_check(factory: TableCheckFactory) -> None:
    """Registers a feature's table check (once; the plugin composes them)."""
    if factory not in _TABLE_CHECKS:
        _TABLE_CHECKS.append(factory)


def table_checks(resource: dict[str, Any], dataset: dict[str, Any], fmt: str) -> list[TableCheck]:
    """The registered checks that apply to this table."""
    return [c for factory in _TABLE_CHECKS if (c := factory(resource, dataset, fmt)) is not None]


def _site() -> Context:
    return {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"], "ignore_auth": True}


def fingerprint(resource: dict[str, Any]) -> str:
    """Identifies one version of a resource's file: a new upload or a new link is a new version."""
    modified = resource.get("last_modified")
    if isinstance(modified, dt.datetime):  # the model's value; resource_show gives the same in ISO
        modified = modified.isoformat()
    url = resource.get("url") or ""
    if resource.get("url_type") == "upload":  # the model keeps the file name, resource_show a URL to it
        url = url.rsplit("/", 1)[-1]
    parts = [resource.get("url_type") or "", url, str(modified or "")]
    if resource.get("url_type") == "upload":
        parts.append(str(resource.get("size") or ""))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def latest(resource_id: str) -> ResourceCheck | None:
    """The latest check of a resource, whatever its file."""
    return latest_of([resource_id]).get(resource_id)


def latest_of(resource_ids: Sequence[str]) -> dict[str, ResourceCheck]:
    """The latest check of each resource that has one, by resource id, in one query."""
    if not resource_ids:
        return {}
    found = (
        model.Session.query(ResourceCheck)
        .filter(ResourceCheck.resource_id.in_(list(resource_ids)))
        .distinct(ResourceCheck.resource_id)
        .order_by(ResourceCheck.resource_id, ResourceCheck.created.desc())
        .all()
    )
    return {check.resource_id: check for check in found}


def _resource_dict(resource: model.Resource) -> dict[str, Any]:
    return {
        "url_type": resource.url_type,
        "url": resource.url,
        "last_modified": resource.last_modified,
        "size": resource.size,
    }


def can_load(resource_id: str) -> bool:
    """xloader's question: may it load this resource's current file? Never: the check job loads a
    file that passes (:mod:`ckanext.cd3p.ingestion.loading`), all or nothing, which xloader cannot. So a
    submission (a new file, or a reload asked for through ``xloader_submit``) queues a check of the
    current file, unless one is already under way or the file was held or failed: a file held or
    failed is checked again only when asked (``cd3p_resource_check_run``). A DataStore-only
    resource (``url_type`` "datastore": its table written through the API) has no file to check."""
    resource = model.Resource.get(resource_id)
    if resource is None or resource.url_type == "datastore":
        return False
    fp = fingerprint(_resource_dict(resource))
    session = model.meta.create_local_session()  # committed on its own, as xloader's task status is
    try:
        found = (
            session.query(ResourceCheck)
            .filter(ResourceCheck.resource_id == resource_id, ResourceCheck.fingerprint == fp)
            .order_by(ResourceCheck.created.desc())
            .first()
        )
        if found is not None:
            if found.state in ("held", "failed"):
                return False
            if under_way(found):
                return False
            _close_lost(found)
        row = ResourceCheck(
            resource_id=resource_id, package_id=resource.package_id, fingerprint=fp, state="pending"
        )
        session.add(row)
        session.commit()
        check_id = row.id
    finally:
        session.close()
    after_commit(lambda: enqueue(resource_id, check_id))
    return False


# xloader asks (can_load) while the request's change of the resource is being committed (CKAN's
# IDomainObjectModification runs before the commit): the check job, queued at once, could read the
# resource as it was before. It is queued once the commit is done (when the transaction has ended:
# no SQL may run inside the commit's own event); a commit that fails leaves the check pending, and
# the recovery job closes it. Our flag is set before CKAN's own listener runs.
_COMMITTING = "cd3p_committing"
_AFTER_COMMIT = "cd3p_after_commit"
_COMMITTED = "cd3p_committed"


@sa.event.listens_for(model.Session, "before_commit", insert=True)
def _committing(session: Any) -> None:
    session.info[_COMMITTING] = True


@sa.event.listens_for(model.Session, "after_commit")
def _committed(session: Any) -> None:
    session.info.pop(_COMMITTING, None)
    session.info[_COMMITTED] = session.info.pop(_AFTER_COMMIT, [])


@sa.event.listens_for(model.Session, "after_rollback")
def _rolled_back(session: Any) -> None:
    for key in (_COMMITTING, _AFTER_COMMIT, _COMMITTED):
        session.info.pop(key, None)


@sa.event.listens_for(model.Session, "after_transaction_end")
def _ended(session: Any, transaction: Any) -> None:
    if transaction.parent is not None:
        return
    for action in session.info.pop(_COMMITTED, []):
        try:
            action()
        except Exception:  # the change is committed: its check waits for the recovery job
            log.exception("cd3p: could not queue a check after its commit")


def after_commit(action: Callable[[], None]) -> None:
    """Runs ``action`` once the commit under way has been done, or now when none is."""
    session = model.Session()
    if session.info.get(_COMMITTING):
        session.info.setdefault(_AFTER_COMMIT, []).append(action)
    else:
        action()


def under_way(check: ResourceCheck) -> bool:
    """Whether the check, or the load that follows it, is still running (not lost with its worker)."""
    load = (check.report or {}).get("load")
    if load:  # its heartbeat tells, from the copy made while checking on
        return loading.state(load).get("state") == "running"
    if check.state != "pending":
        return False
    if check.heartbeat is not None:  # started: alive while it beats
        return utcnow() - check.heartbeat <= loading.stale_after()
    return utcnow() - check.created < PENDING_TIMEOUT


def _close_lost(check: ResourceCheck) -> None:
    """Records that a check or load lost with its worker failed (the caller commits)."""
    if check.state == "pending":
        check.state = "failed"
        check.report = {
            **check.report,
            "error": tk._("The check did not finish in time and was started again."),
        }
        check.finished = utcnow()
    load = (check.report or {}).get("load")
    if load and load.get("state") == "running":
        check.report = {**check.report, "load": loading.state(load)}


def job_id(check_id: str) -> str:
    """The id of a check's job in the queue, by which the recovery job asks whether it is there."""
    return f"cd3p-check-{check_id}"


def enqueue(resource_id: str, check_id: str) -> None:
    """Queues the check and load, and tells xloader's task status that a load is pending. When the
    queue (Redis) cannot be reached, the check stays pending, with its file stored: the recovery job
    (``resilience/recovery.py``) queues it once Redis is back (see :func:`recover_lost`)."""
    loading.mark_task(resource_id, check_id, "pending")
    try:
        tk.enqueue_job(
            run,
            [resource_id, check_id],
            title=f"cd3p check and load: resource {resource_id}",
            rq_kwargs={"timeout": JOB_TIMEOUT, "job_id": job_id(check_id)},
        )
    except RedisError:
        log.warning(
            "cd3p: the job queue is unavailable; the check of %s waits for it", resource_id, exc_info=True
        )


# A check is started again this many times at most after its worker died under it.
MAX_ATTEMPTS = 3
# A pending check is left this long for its job to be queued (the request that made it queues it).
QUEUE_GRACE = dt.timedelta(seconds=5)
WAITING = ("queued", "started", "deferred", "scheduled")


def _in_queue(check_ids: Sequence[str]) -> set[str]:
    """Which of these checks have a job waiting or running in the queue (Redis)."""
    redis = connect_to_redis()
    found = set()
    for check_id, job in zip(
        check_ids, Job.fetch_many([job_id(c) for c in check_ids], connection=redis), strict=False
    ):
        if job is not None and job.get_status(refresh=False) in WAITING:
            found.add(check_id)
    return found


def lost(now: dt.datetime | None = None) -> list[ResourceCheck]:
    """Checks and loads no worker is doing or will do: started (a pending check, or a passed one
    whose load is running) but not heard from for ``ckanext.cd3p.load.stale_after`` seconds, their
    worker having died (killed, out of memory, its database connection cut by a restart, the
    machine restarted); or never started and not in the queue (queued while Redis was down, or lost
    with a Redis that restarted empty). Raises Redis's error when Redis cannot be reached."""
    now = now or utcnow()
    loading_now = sa.and_(
        ResourceCheck.state == "passed", ResourceCheck.report["load"]["state"].astext == "running"
    )
    rows = (
        model.Session.query(ResourceCheck)
        .filter(
            ResourceCheck.created < now - QUEUE_GRACE,
            sa.or_(ResourceCheck.state == "pending", loading_now),
        )
        .order_by(ResourceCheck.created)
        .all()
    )
    died = [r for r in rows if r.heartbeat is not None and now - r.heartbeat > loading.stale_after()]
    unstarted = [r for r in rows if r.heartbeat is None and r.state == "pending"]
    queued = _in_queue([r.id for r in unstarted]) if unstarted else set()
    return died + [r for r in unstarted if r.id not in queued]


def recover_lost(now: dt.datetime | None = None) -> list[str]:
    """Starts each lost check or load again (:func:`lost`), from its check, up to
    :data:`MAX_ATTEMPTS` times; one lost more often fails with the reason. A load that died was
    rolled back by PostgreSQL with its connection: the table is as it was. The resource ids whose
    check was started again."""
    restarted = []
    for check in lost(now):
        attempts = int((check.report or {}).get("attempts") or 1)
        if check.heartbeat is not None and attempts >= MAX_ATTEMPTS:
            error = tk._(
                "The check was started {n} times and its worker stopped each time (the file may "
                "be too large for it). Check the file again to retry."
            ).format(n=attempts)
            report = {**(check.report or {}), "error": error}
            if "load" in report:
                report["load"] = loading.state(report["load"], now)
            _finish(check, "failed", report)
            loading.mark_task(check.resource_id, check.id, "error", error)
            continue
        if check.heartbeat is not None:  # it had started: this is another attempt, from the check
            check.state = "pending"
            check.report = {"attempts": attempts + 1}
            check.finished = None
        check.heartbeat = None
        model.Session.commit()
        log.warning("cd3p: the check of resource %s was lost; it is started again", check.resource_id)
        enqueue(check.resource_id, check.id)
        restarted.append(check.resource_id)
    return restarted


@contextlib.contextmanager
def beating(check_id: str) -> Iterator[None]:
    """Writes the check's heartbeat now, then every fifth of ``stale_after`` (at least every second)
    from a thread of its own, on a connection of its own, until the job ends."""
    interval = max(1.0, loading.stale_after().total_seconds() / 5)
    stop = threading.Event()

    def beat() -> None:
        with model.meta.engine.begin() as conn:
            conn.execute(
                sa.update(ResourceCheck.__table__)
                .where(ResourceCheck.__table__.c.id == check_id)
                .values(heartbeat=sa.func.now())
            )

    def keep_beating() -> None:
        while not stop.wait(interval):
            try:
                beat()
            except Exception:  # the database restarting: the next beat tries again
                log.warning("cd3p: heartbeat of check %s not written", check_id, exc_info=True)

    beat()
    thread = threading.Thread(target=keep_beating, name=f"cd3p-heartbeat-{check_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def start(resource_id: str) -> ResourceCheck:
    """A new check of the resource's current file, queued (whatever earlier checks said)."""
    row = begin(resource_id)
    enqueue(resource_id, row.id)
    return row


def begin(resource_id: str) -> ResourceCheck:
    """A new check of the resource's current file, pending and committed, for the caller to run
    (:func:`start` queues it; a feed runs it at once, with the file it fetched)."""
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active":
        raise tk.ObjectNotFound(tk._("Resource not found"))
    previous = latest(resource_id)
    if previous is not None:
        _close_lost(previous)
    row = ResourceCheck(
        resource_id=resource_id,
        package_id=resource.package_id,
        fingerprint=fingerprint(_resource_dict(resource)),
        state="pending",
    )
    model.Session.add(row)
    model.Session.commit()
    return row


@contextlib.contextmanager
def local_file(resource: dict[str, Any], fetched: str | None = None) -> Iterator[Path]:
    """The resource's file on this machine: the stored upload, the file a feed already fetched
    (``fetched``), or the link fetched to a temporary file by the one rule of what may be fetched
    (``common/fetch.py``: never the portal's own networks; refused beyond ``ckan.max_resource_size``)."""
    if fetched is not None:
        yield Path(fetched)
        return
    if resource.get("url_type") == "upload":
        path = Path(uploader.get_resource_uploader(resource).get_path(resource["id"]))
        if not path.exists():
            raise CheckError(tk._("The uploaded file is missing from storage."))
        yield path
        return
    handle, name = tempfile.mkstemp(prefix="cd3p-check-")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                fetch.fetch(resource.get("url") or "", sink=out)
            except fetch.FetchError as e:
                raise CheckError(tk._("The linked file could not be fetched: {error}").format(error=e)) from e
        yield Path(name)
    finally:
        os.unlink(name)


def _fmt(resource: dict[str, Any]) -> str:
    fmt = (resource.get("format") or "").upper()
    if fmt in TABULAR:
        return fmt
    suffix = Path(resource.get("url") or "").suffix.lstrip(".").upper()
    return suffix if suffix in TABULAR else fmt


# Personal data is allowed only in datasets marked as containing it and kept to the organization;
# marking a held file's dataset as holding personal data (cd3p_resource_mark_personal) sets these.
PERSONAL_DATA_ALLOWED = {"contains_personal_data": "yes", "access_level": "organization"}


def personal_allowed(dataset: dict[str, Any]) -> bool:
    """Whether the dataset may hold personal data (:data:`PERSONAL_DATA_ALLOWED`)."""
    return all(dataset.get(field) == value for field, value in PERSONAL_DATA_ALLOWED.items())


def inspect(
    path: Path,
    fmt: str,
    resource: dict[str, Any],
    dataset: dict[str, Any],
    copy: screening.RowCallback | None = None,
    extra: Sequence[TableCheck] = (),
) -> tuple[dict[str, Any], list[screening.Table]]:
    """The report of one file (its tables, personal-data findings, geography codes and the
    ``extra`` table checks) and its tables. ``copy`` sees every row too (the load's CSV copy), in
    the same pass over the file.

    :raises screening.ScreeningError: the file is not a readable table of its declared format
    """
    codes = validation.checker(resource.get("geo_key_column"), resource.get("geo_key_level"))
    callbacks: list[screening.RowCallback] = [c for c in (codes, copy, *extra) if c is not None]

    def on_row(sheet: str, header: Any, number: int, values: Any) -> None:
        for callback in callbacks:
            callback(sheet, header, number, values)

    tables = screening.read_tables(
        path,
        fmt,
        sample_rows=cd3p_config.check_sample_rows(),
        on_row=on_row if callbacks else None,  # none is quicker
    )
    findings = screening.screen(tables, small_cell_threshold=privacy.threshold(dataset))
    report: dict[str, Any] = {
        "format": fmt,
        "tables": [
            {"sheet": t.sheet, "columns": t.header, "rows": t.total_rows, "encoding": t.encoding}
            for t in tables
        ],
        "findings": [screening.as_dict(f) for f in findings],
    }
    if codes is not None:
        report["geography"] = codes.report()
    for check in extra:
        report[check.key] = check.report()
    return report, tables


def decide(report: dict[str, Any], dataset: dict[str, Any]) -> str:
    if report.get("error"):
        return "failed"
    geography = report.get("geography") or {}
    if geography.get("error") or geography.get("unknown_total"):
        return "failed"
    if any(isinstance(v, dict) and v.get("failed") for v in report.values()):
        return "failed"  # a table check's (an outcome report with problems)
    if report.get("findings") and not personal_allowed(dataset):
        return "held"
    return "passed"


def run(resource_id: str, check_id: str, fetched: str | None = None) -> str:
    """The check job: reads and screens the file, records the report, then holds it or loads it.
    A feed runs it with the file it fetched (``fetched``, a path), so that the file is not fetched
    twice."""
    context = _site()
    check = model.Session.get(ResourceCheck, check_id)
    if check is None:
        return "missing"
    released = check.state == "passed" and "released_by" in check.report and "load" not in check.report
    if check.state != "pending" and not released:
        return check.state
    with beating(check_id):
        return _run(check, resource_id, check_id, context, released, fetched)


def _run(
    check: ResourceCheck,
    resource_id: str,
    check_id: str,
    context: Context,
    released: bool,
    fetched: str | None,
) -> str:
    try:
        resource = tk.get_action("resource_show")(dict(context), {"id": resource_id})
        dataset = tk.get_action("package_show")(dict(context), {"id": resource["package_id"]})
    except tk.ObjectNotFound:
        return _finish(check, "failed", {"error": tk._("The resource was deleted before its check ran.")})
    if resource.get("url_type") == "datastore":  # its table is the API's: nothing to read
        return _finish(
            check,
            "failed",
            {"error": tk._("This resource has no file: its table is written through the DataStore API.")},
        )
    if fingerprint(resource) != check.fingerprint:
        return _finish(
            check, "failed", {"error": tk._("A newer file replaced this one before its check ran.")}
        )
    fmt = _fmt(resource)
    report: dict[str, Any] = {"file": resource.get("url", "").rsplit("/", 1)[-1], "format": fmt}
    if (check.report or {}).get("attempts"):  # started again after its worker died (recover_lost)
        report["attempts"] = check.report["attempts"]
    started = utcnow()
    tables: list[screening.Table] = []
    extra = table_checks(resource, dataset, fmt)
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(
            tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", prefix="cd3p-load-", suffix=".csv")
        )
        # A delimited file is COPY-ed as it is; other formats are copied as CSV in the check's pass.
        copy = None if fmt in DELIMITED else loading.CsvCopy(out, screening.text_of(fmt))
        path = Path()
        staging = stack.enter_context(loading.Staging(resource_id, check_id))
        try:
            path = stack.enter_context(local_file(resource, fetched))
            report["size"] = path.stat().st_size
            if copy is None and cd3p_config.load_copy_while_checking():
                staging.copy_early(path, fmt, [resource.get("geo_key_column") or ""])
            found, tables = inspect(path, fmt, resource, dataset, copy, extra)
            report.update(found)
        except (screening.ScreeningError, CheckError) as e:
            report["error"] = str(e)
        out.flush()
        report["seconds"] = round((utcnow() - started).total_seconds(), 2)
        state = decide(report, dataset)
        if released and state == "held":  # a sysadmin found no personal data in it
            state = "passed"
            report = {**check.report, **report}
        if state == "held":
            report["previous_access_level"] = dataset.get("access_level")
            report["personal_data_marked"] = dataset.get("contains_personal_data")
            if dataset.get("access_level") != "organization":
                tk.get_action("package_patch")(
                    dict(context), {"id": dataset["id"], "access_level": "organization"}
                )
        elif state == "passed" and report.get("findings"):
            report["findings_accepted"] = True  # declared personal and organization-only
        if state != "passed":
            staging.discard()  # the copy made while checking, if any, is rolled back unseen
        elif staging.progress is not None:
            staging.progress.note(tk._("The check passed; the copy made meanwhile can be kept"))
            report["load"] = staging.progress.snapshot()  # its heartbeat goes on writing it
        _finish(check, state, report)
        log.info("cd3p: check of resource %s: %s", resource_id, state)
        if state != "passed":
            loading.mark_task(resource_id, check_id, "error", not_loaded(state, report))
            return state
        load(staging, resource, dataset, path, fmt, tables[0] if tables else None, out, copy, extra)
    return state


def not_loaded(state: str, report: dict[str, Any]) -> str:
    """Why a file that was held or failed was not loaded, in one sentence (the report has the rest)."""
    if state == "held":
        return tk._("Not loaded: the file appears to hold personal data; see its check report.")
    geography = report.get("geography") or {}
    error = report.get("error") or geography.get("error")
    if not error and geography.get("unknown_total"):
        first = (geography.get("unknown") or [{}])[0]
        error = tk.ungettext(
            "{n} geography code is not known ({value!r}, row {row}).",
            "{n} geography codes are not known (the first: {value!r}, row {row}).",
            geography["unknown_total"],
        ).format(n=geography["unknown_total"], value=first.get("value"), row=first.get("row"))
    return tk._("Not loaded: the file failed its check. {error}").format(
        error=error or tk._("See its check report.")
    )


def load(
    staging: loading.Staging,
    resource: dict[str, Any],
    dataset: dict[str, Any],
    path: Path,
    fmt: str,
    table: screening.Table | None,
    out: IO[str],
    copy: loading.CsvCopy | None,
    extra: Sequence[TableCheck] = (),
) -> str:
    """Loads a file that passed its check, recording progress and log in the check's report;
    returns ``complete`` or ``failed``. A delimited file is read by COPY itself; if COPY reads it
    otherwise than the check did, a second pass writes its CSV copy to ``out`` for COPY to read.
    Other formats were copied to ``out`` by the check (``copy``). Each table check in ``extra`` is
    told once the table is in place."""
    from ckanext.cd3p.ingestion import signals, suppression

    resource_id = resource["id"]
    if table is None:
        return "failed"
    guessed = loading.guess_types(table, [resource.get("geo_key_column") or ""])

    def rewritten() -> loading.Source:
        out.seek(0)
        out.truncate()
        screening.read_tables(path, fmt, sample_rows=1, on_row=loading.CsvCopy(out, screening.text_of(fmt)))
        out.flush()
        return loading.Source(Path(out.name))

    if copy is None:
        source, fallback, header, total = (
            loading.Source.of(path, table),
            rewritten,
            table.header,
            table.total_rows,
        )
    else:
        source, fallback, header, total = loading.Source(Path(out.name)), None, copy.header, copy.rows
    suppressed = None
    if suppression.applies(dataset, resource):
        suppressed = (suppression.count_columns(resource), privacy.threshold(dataset))
    check_id = staging.check_id
    loading.mark_task(resource_id, check_id, "running")
    progress = staging.progress or loading.Progress(check_id, total)
    progress.total(total)
    with progress:
        try:
            if not header:
                raise loading.LoadError(tk._("The file has no table to load."))
            result = loading.load(
                staging,
                source,
                header,
                guessed,
                progress,
                clean=loading.needs_cleaning(table, guessed),
                fallback=fallback,
                suppressed=suppressed,
            )
            for check in extra:
                check.loaded()
        except loading.LoadError as e:
            progress.end("failed", str(e), error=str(e))
            loading.mark_task(resource_id, check_id, "error", str(e))
            return "failed"
        except Exception as e:  # a bug or the job's timeout: recorded, then raised for RQ's log
            message = tk._("The load failed unexpectedly: {error}").format(error=e)
            progress.end("failed", message, error=message)
            loading.mark_task(resource_id, check_id, "error", message)
            raise
        progress.end(
            "complete",
            tk._("Loaded {rows} rows in {seconds} s").format(rows=result["rows"], seconds=progress.elapsed()),
            rows=result["rows"],
            types=result["types"],
        )
    signals.table_changed(resource_id)
    loading.mark_task(resource_id, check_id, "complete")
    return "complete"


def _finish(check: ResourceCheck, state: str, report: dict[str, Any]) -> str:
    check.state = state
    check.report = report
    check.finished = utcnow()
    model.Session.commit()
    return state


def release(check: ResourceCheck, user: str, reason: str) -> None:
    """A sysadmin's decision that a held file holds no personal data: it passes, the dataset gets its
    access level back, and the file is loaded."""
    previous = check.report.get("previous_access_level")
    check.state = "passed"
    check.report = {
        **check.report,
        "released_by": user,
        "release_reason": reason,
        "released": utcnow().isoformat(),
    }
    check.finished = utcnow()
    model.Session.commit()
    if previous and previous != "organization":
        tk.get_action("package_patch")(_site(), {"id": check.package_id, "access_level": previous})
    enqueue(check.resource_id, check.id)  # loaded without holding it again (see run)


def download_refused(resource_id: str, user_name: str) -> str | None:
    """Why the user may not download the resource's file, as far as its check goes, or None if they
    may (the dataset's own visibility is package_show's, which CKAN's download view checks).

    A file is for everyone who may see its dataset once it has passed its check, or when it has
    none (only tables are checked). Until then it is for sysadmins and those who may edit the
    dataset (a pending or failed check: nobody has read the file yet); and a held file, which
    appears to hold personal data, for its organization's admins and sysadmins only.
    """
    check = latest(resource_id)
    if check is None or check.state == "passed" or authz.is_sysadmin(user_name):
        return None
    if check.state == "held":
        dataset = model.Package.get(check.package_id)
        if (
            user_name
            and dataset is not None
            and dataset.owner_org
            and authz.users_role_for_group_or_org(dataset.owner_org, user_name) == "admin"
        ):
            return None
        return tk._(
            "This file is held: it appears to contain personal data, so only its "
            "organization's admins may download it."
        )
    if user_name:
        try:
            tk.check_access("package_update", {"user": user_name}, {"id": check.package_id})
        except tk.NotAuthorized:
            pass
        else:
            return None
    return tk._(
        "This file has not passed its check before loading yet, so only the dataset's editors may "
        "download it."
    )


def queue(states: tuple[str, ...] = ("held",), limit: int = 200) -> list[ResourceCheck]:
    """The latest check of each resource whose latest check is in one of the states, newest first."""
    latest_ids = (
        sa.select(ResourceCheck.id)
        .distinct(ResourceCheck.resource_id)
        .order_by(ResourceCheck.resource_id, ResourceCheck.created.desc())
        .scalar_subquery()
    )
    return (
        model.Session.query(ResourceCheck)
        .filter(ResourceCheck.id.in_(latest_ids), ResourceCheck.state.in_(states))
        .order_by(ResourceCheck.created.desc())
        .limit(limit)
        .all()
    )
