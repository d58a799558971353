"""Checks before loading: every uploaded or linked table is read and screened before it may reach the
DataStore, and a file that fails leaves the DataStore as it was.

ckanext-xloader asks each ``IXloader`` plugin ``can_upload(resource_id)`` before it queues a load. We
answer from the latest check of the resource's current file (its *fingerprint*: where the file is,
when it was uploaded, its size):

- ``passed``: load it;
- no check of this file yet: record a ``pending`` check, queue the check job, do not load now. The
  job (:func:`run`, on the same worker queue as xloader) reads the file, screens it for personal
  data (:mod:`ckanext.cd3p.screening`) and checks its geography codes
  (:mod:`ckanext.cd3p.validation`); if it passes, the job submits the load itself;
- ``pending`` (younger than :data:`PENDING_TIMEOUT`), ``held`` or ``failed``: no load. The DataStore
  table of the last good file stays as it was, and so do the indicators built on it.

A file is **held** when it appears to hold personal data and its dataset is not both marked
"contains personal data" and organization-only. The dataset is then made organization-only (a
dataset change, so it is in the dataset's activity), the file is not loaded, and only the
organization's admins and sysadmins may download it (:func:`may_download`). The uploader reads the
report on the resource page and either uploads the file again without the flagged columns (a new
fingerprint, so a new check) or marks the dataset as personal and organization-only, which checks
the file again. Sysadmins see held files in a queue and may release a false alarm.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from ckan import authz, model
from ckan.lib import uploader
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p import screening, validation
from ckanext.cd3p.model import ResourceCheck, utcnow

log = logging.getLogger(__name__)

# A check still pending after this long was lost (its worker died): the next submission starts anew.
PENDING_TIMEOUT = dt.timedelta(minutes=15)
JOB_TIMEOUT = 900  # seconds, for RQ
TABULAR = ("CSV", "TSV", "TXT", "XLSX", "JSON")


class CheckError(Exception):
    """The file could not be fetched or is too large: the message is for the partner."""


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
    return (
        model.Session.query(ResourceCheck)
        .filter(ResourceCheck.resource_id == resource_id)
        .order_by(ResourceCheck.created.desc())
        .first()
    )


def _resource_dict(resource: model.Resource) -> dict[str, Any]:
    return {
        "url_type": resource.url_type,
        "url": resource.url,
        "last_modified": resource.last_modified,
        "size": resource.size,
    }


def can_load(resource_id: str) -> bool:
    """xloader's question: may this resource's current file be loaded now? Queues its check if it
    has none (the check job submits the load when the file passes)."""
    resource = model.Resource.get(resource_id)
    if resource is None:
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
            if found.state == "passed":
                return True
            if found.state in ("held", "failed") or utcnow() - found.created < PENDING_TIMEOUT:
                return False
            found.state = "failed"  # lost: its worker died; a new check follows
            found.report = {
                **found.report,
                "error": "The check did not finish in time and was started again.",
            }
            found.finished = utcnow()
        row = ResourceCheck(
            resource_id=resource_id, package_id=resource.package_id, fingerprint=fp, state="pending"
        )
        session.add(row)
        session.commit()
        check_id = row.id
    finally:
        session.close()
    enqueue(resource_id, check_id)
    return False


def enqueue(resource_id: str, check_id: str) -> None:
    """Queues the check. The xloader API token of the process that asked goes with it, as xloader
    sends its own in its job data: the check submits the load in the same name."""
    tk.enqueue_job(
        run,
        [resource_id, check_id, tk.config.get("ckanext.xloader.api_token")],
        title=f"cd3p check: resource {resource_id}",
        rq_kwargs={"timeout": JOB_TIMEOUT},
    )


def start(resource_id: str) -> ResourceCheck:
    """A new check of the resource's current file, queued (whatever earlier checks said)."""
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active":
        raise tk.ObjectNotFound(tk._("Resource not found"))
    row = ResourceCheck(
        resource_id=resource_id,
        package_id=resource.package_id,
        fingerprint=fingerprint(_resource_dict(resource)),
        state="pending",
    )
    model.Session.add(row)
    model.Session.commit()
    enqueue(resource_id, row.id)
    return row


@contextlib.contextmanager
def local_file(resource: dict[str, Any]) -> Iterator[Path]:
    """The resource's file on this machine: the stored upload, or the link fetched to a temporary file
    (refused beyond ``ckan.max_resource_size``)."""
    if resource.get("url_type") == "upload":
        path = Path(uploader.get_resource_uploader(resource).get_path(resource["id"]))
        if not path.exists():
            raise CheckError(tk._("The uploaded file is missing from storage."))
        yield path
        return
    limit = cd3p_config.max_resource_mb() * 1024 * 1024
    handle, name = tempfile.mkstemp(prefix="cd3p-check-")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with requests.get(
                    resource["url"], stream=True, timeout=cd3p_config.link_timeout()
                ) as response:
                    response.raise_for_status()
                    size = 0
                    for chunk in response.iter_content(1 << 20):
                        size += len(chunk)
                        if size > limit:
                            raise CheckError(
                                tk._("The linked file is larger than the {limit} MB limit.").format(
                                    limit=cd3p_config.max_resource_mb()
                                )
                            )
                        out.write(chunk)
            except requests.RequestException as e:
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


def personal_allowed(dataset: dict[str, Any]) -> bool:
    """Personal data is allowed only in datasets marked as containing it and kept to the organization."""
    return dataset.get("contains_personal_data") == "yes" and dataset.get("access_level") == "organization"


def inspect(path: Path, fmt: str, resource: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """The report of one file: its tables, personal-data findings and geography codes.

    :raises screening.ScreeningError: the file is not a readable table of its declared format
    """
    codes = validation.checker(resource.get("geo_key_column"), resource.get("geo_key_level"))
    tables = screening.read_tables(path, fmt, sample_rows=cd3p_config.check_sample_rows(), on_row=codes)
    threshold = int(dataset.get("small_cell_threshold") or 11)
    findings = screening.screen(tables, small_cell_threshold=threshold)
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
    return report


def decide(report: dict[str, Any], dataset: dict[str, Any]) -> str:
    if report.get("error"):
        return "failed"
    geography = report.get("geography") or {}
    if geography.get("error") or geography.get("unknown_total"):
        return "failed"
    if report.get("findings") and not personal_allowed(dataset):
        return "held"
    return "passed"


def run(resource_id: str, check_id: str, xloader_token: str | None = None) -> str:
    """The check job: reads and screens the file, records the report, holds or loads it."""
    context = _site()
    check = model.Session.get(ResourceCheck, check_id)
    if check is None or check.state != "pending":
        return check.state if check is not None else "missing"
    try:
        resource = tk.get_action("resource_show")(dict(context), {"id": resource_id})
        dataset = tk.get_action("package_show")(dict(context), {"id": resource["package_id"]})
    except tk.ObjectNotFound:
        return _finish(check, "failed", {"error": tk._("The resource was deleted before its check ran.")})
    if fingerprint(resource) != check.fingerprint:
        return _finish(
            check, "failed", {"error": tk._("A newer file replaced this one before its check ran.")}
        )
    fmt = _fmt(resource)
    report: dict[str, Any] = {"file": resource.get("url", "").rsplit("/", 1)[-1], "format": fmt}
    started = utcnow()
    try:
        with local_file(resource) as path:
            report["size"] = path.stat().st_size
            report.update(inspect(path, fmt, resource, dataset))
    except (screening.ScreeningError, CheckError) as e:
        report["error"] = str(e)
    report["seconds"] = round((utcnow() - started).total_seconds(), 2)
    state = decide(report, dataset)
    if state == "held":
        report["previous_access_level"] = dataset.get("access_level")
        report["personal_data_marked"] = dataset.get("contains_personal_data")
        if dataset.get("access_level") != "organization":
            tk.get_action("package_patch")(
                dict(context), {"id": dataset["id"], "access_level": "organization"}
            )
    elif state == "passed" and report.get("findings"):
        report["findings_accepted"] = True  # declared personal and organization-only
    _finish(check, state, report)
    if state == "passed":
        submit(resource_id, xloader_token)
    log.info("cd3p: check of resource %s: %s", resource_id, state)
    return state


def submit(resource_id: str, xloader_token: str | None = None) -> None:
    """Submits the load; in a check job, with the token of the process that queued the check (a
    job runs in a forked work horse, so the change to its configuration ends with it)."""
    if xloader_token and xloader_token != "NOT_SET":
        tk.config["ckanext.xloader.api_token"] = xloader_token
    try:
        tk.get_action("xloader_submit")(_site(), {"resource_id": resource_id, "ignore_hash": True})
    except tk.ValidationError:
        log.exception("cd3p: could not submit resource %s to xloader", resource_id)


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
    submit(check.resource_id)


def may_download(resource_id: str, user_name: str) -> bool:
    """A held file is for its organization's admins and sysadmins only."""
    check = latest(resource_id)
    if check is None or check.state != "held":
        return True
    if authz.is_sysadmin(user_name):
        return True
    dataset = model.Package.get(check.package_id)
    return bool(
        dataset is not None
        and dataset.owner_org
        and authz.users_role_for_group_or_org(dataset.owner_org, user_name) == "admin"
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
