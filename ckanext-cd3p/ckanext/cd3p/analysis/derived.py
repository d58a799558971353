"""Derived resources: a query's result saved into the DataStore as a new resource, with its
provenance, refreshed when a source table changes.

- :func:`save` runs the spec in the caller's name (every table as they may read it), checks that
  the result may go where it is asked to (:func:`openness`, and ``resource_create``'s own auth,
  which carries the agreement gate), and uploads the result as a CSV through ``resource_create``:
  the ordinary check and load pipeline puts it into the DataStore, and small-cell suppression
  applies to its count columns (:func:`count_columns`) as to any upload. The resource keeps its
  provenance in its metadata (``derived_query``, ``derived_from``, ``prov_was_derived_from``,
  ``derived_saved_by``, ``derived_saved``) and a :class:`DerivedResource` row.
- :func:`source_changed` is told when a DataStore table finished changing (a load, a DataStore
  write) and queues :func:`refresh` for each derived resource that reads it.
- :func:`refresh` runs the saved spec again in the name of the user who saved it (their current
  rights), checks :func:`openness` against the sources' current access levels, and uploads the
  new result through ``resource_patch`` (loaded all or nothing). A refresh that fails changes
  nothing (the previous file and table stay) and is logged with its reason, as is each success.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context
from sqlalchemy.dialects.postgresql import JSONB
from werkzeug.datastructures import FileStorage

from ckanext.cd3p import config
from ckanext.cd3p.analysis import runner
from ckanext.cd3p.analysis.compiler import Table, compile_spec
from ckanext.cd3p.analysis.model import DerivedRefresh, DerivedResource
from ckanext.cd3p.analysis.spec import Spec, canonical, parse
from ckanext.cd3p.common import privacy
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.indicators import cache
from ckanext.cd3p.ingestion import checks, suppression

log = logging.getLogger(__name__)

JOB_TIMEOUT = 900  # seconds, for RQ

# From the most open to the most restricted.
LEVELS = ("public", "partners", "organization")

FILE_NAME = "derived.csv"

# Aggregates whose value is a count when their column is one.
_COUNT_PRESERVING = ("sum", "min", "max", "median", "mean")


# --- what may go where ----------------------------------------------------------------------------


def level(dataset: dict[str, Any]) -> str:
    """A dataset's access level: its ``access_level``, else organization when it is private and
    public when it is not."""
    found = dataset.get("access_level")
    if found in LEVELS:
        return str(found)
    return "organization" if dataset.get("private") else "public"


def _dataset_facts(package_id: str) -> dict[str, Any] | None:
    pkg = model.Package.get(package_id)
    return suppression.dataset_facts(pkg) if pkg is not None else None


def _source_facts(resource_ids: Sequence[str]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each source's dataset and resource settings (access level, threshold, count columns)."""
    found = []
    for resource_id in resource_ids:
        resource = model.Resource.get(resource_id)
        dataset = _dataset_facts(resource.package_id) if resource is not None else None
        if resource is None or dataset is None:
            continue  # the runner refuses a missing table before this is asked
        found.append((dataset, suppression.resource_facts(resource)))
    return found


def openness(sources: Sequence[tuple[dict[str, Any], dict[str, Any]]], target: dict[str, Any]) -> str | None:
    """Why a result of these sources may not go into the target dataset, or None when it may.

    One rule: a derived resource is no more open than its most restricted source. The target's
    access level (:func:`level`: public < partners < organization) must be at least every
    source's; a source kept to its organization goes only into an organization-only dataset of
    the same organization; and into a public dataset, a source whose counts are suppressed goes
    only where the small-cell threshold is at least its own. Sources are never named (the reason
    is shown to whoever sees the derived resource).

    :param sources: each source's dataset and resource (``owner_org``, ``access_level``,
        ``private``, ``small_cell_threshold``; ``count_columns``)
    """
    target_level = level(target)
    rank = LEVELS.index(target_level)
    for dataset, _resource in sources:
        source_level = level(dataset)
        if LEVELS.index(source_level) > rank:
            return tk._(
                "A derived resource cannot be more open than its most restricted source: a source is "
                "{source} data, and this dataset is {target}."
            ).format(source=source_level, target=target_level)
        if source_level == "organization" and dataset.get("owner_org") != target.get("owner_org"):
            return tk._(
                "A source is kept to its own organization: its result may only be saved into an "
                "organization-only dataset of that organization."
            )
    if target_level == "public":
        for dataset, resource in sources:
            lower = privacy.threshold(target) < privacy.threshold(dataset)
            if lower and suppression.applies(dataset, resource):
                return tk._(
                    "A source suppresses counts below {source}; this dataset's small-cell threshold "
                    "({target}) is lower."
                ).format(source=privacy.threshold(dataset), target=privacy.threshold(target))
    return None


def _counts_of(table: Table, usable: Sequence[str] | None = None) -> set[str]:
    """The columns of a source table (those a query may use of it) that are its count columns."""
    resource = model.Resource.get(table.resource_id)
    names = suppression.count_columns(suppression.resource_facts(resource)) if resource is not None else []
    fields = list(table.fields)
    if any(not suppression.matching(fields, [name]) for name in names):
        counted = set(fields)  # a name it lacks: its view suppresses every column (fail closed)
    else:
        counted = suppression.matching(fields, names)
    return counted if usable is None else counted & set(usable)


def count_columns(spec: Spec, base: Table, joined: Table | None) -> list[str]:
    """The result's count columns, failing closed: a selected or grouped column that is a count
    column of its source (a source whose count columns name a column it lacks counts as all
    counts, as its public view does), every ``count``, and every other aggregate of a count column."""
    join_columns = spec.join.columns if spec.join else ()
    counted = _counts_of(base) | (_counts_of(joined, join_columns) if joined is not None else set())
    if spec.grouped:
        found = [name for name in spec.group_by if name in counted]
        if not spec.aggregates:
            found.append("count")
        for a in spec.aggregates:
            if a.fn == "count" or (a.fn in _COUNT_PRESERVING and a.column in counted):
                found.append(a.name)
        return found
    names = list(spec.columns) or [*base.fields, *join_columns]
    return [name for name in names if name in counted]


# --- the result -----------------------------------------------------------------------------------


def _whole(checked: Spec) -> Spec:
    """The spec of a whole result: every row up to the row cap, from the first."""
    return dataclasses.replace(checked, limit=config.analysis_row_cap(), offset=0)


def _result(context: Context, whole: Spec) -> tuple[dict[str, Any], Table, Table | None]:
    """The whole result for the caller, with the tables it read.

    :raises NotAuthorized: a table the caller may not read
    :raises ValidationError: a bad spec, or a result of more rows than the row cap (``spec``)
    """
    base, joined = runner.tables(context, whole)
    result = runner.execute(compile_spec(whole, base, joined), total=True)
    if result["total"] > whole.limit:
        raise tk.ValidationError(
            {
                "spec": [
                    tk._(
                        "The result has {total} rows; a saved result has at most {cap}: narrow it with "
                        "filters or a group"
                    ).format(total=result["total"], cap=whole.limit)
                ]
            }
        )
    return result, base, joined


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def as_csv(result: dict[str, Any]) -> bytes:
    """The result as a UTF-8 CSV file: a header of the field ids, then the records."""
    ids = [f["id"] for f in result["fields"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ids)
    for record in result["records"]:
        writer.writerow([_cell(record.get(i)) for i in ids])
    return out.getvalue().encode("utf-8")


def _versions(resource_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"resource_id": rid, "version": cache.version(rid)} for rid in resource_ids]


def _source_urls(resource_ids: Sequence[str]) -> list[str]:
    site = str(tk.config.get("ckan.site_url") or "").rstrip("/")
    urls = []
    for rid in resource_ids:
        resource = model.Resource.get(rid)
        if resource is not None:
            urls.append(f"{site}/dataset/{resource.package_id}/resource/{rid}")
    return urls


def _upload(data: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=FILE_NAME, content_type="text/csv")


def _check_and_load(resource: dict[str, Any]) -> None:
    """Queues the check and load of the resource's new file, unless its upload already did
    (xloader's submission does, where it has an API token: a refresh runs on the worker, which
    may have none)."""
    latest = checks.latest(resource["id"])
    if latest is None or latest.fingerprint != checks.fingerprint(resource):
        checks.start(resource["id"])


# --- saving -----------------------------------------------------------------------------------------


def save(context: Context, checked: Spec, package_id: str, name: str) -> dict[str, Any]:
    """Saves the whole result of a spec as a new CSV resource of the dataset, in the caller's name;
    returns the new resource (``resource_create``'s answer). Its DataStore table follows, loaded
    by the worker.

    :raises ObjectNotFound: no dataset of that id or name
    :raises NotAuthorized: the caller may not add a resource to the dataset (the agreement gate
        among the reasons), or may not read a table of the spec
    :raises ValidationError: a bad spec, more rows than the row cap (``spec``), or a dataset more
        open than a source allows (``package_id``)
    """
    user = model.User.get(context.get("user") or "")
    if user is None:
        raise tk.NotAuthorized(tk._("You must be logged in"))
    target = _dataset_facts(package_id)
    if target is None:
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tk.check_access("resource_create", {"user": user.name}, {"package_id": target["id"]})
    asked: Context = {"user": user.name}
    whole = _whole(checked)
    sources = _versions(whole.resource_ids)  # before reading: a change meanwhile refreshes it
    result, base, joined = _result(asked, whole)
    reason = openness(_source_facts(whole.resource_ids), target)
    if reason:
        raise tk.ValidationError({"package_id": [reason]})
    saved = utcnow()
    resource = tk.get_action("resource_create")(
        {"user": user.name},
        {
            "package_id": target["id"],
            "name": name,
            "format": "CSV",
            "url": FILE_NAME,
            "upload": _upload(as_csv(result)),
            "count_columns": ", ".join(count_columns(whole, base, joined)),
            "derived_query": canonical(whole),
            "derived_from": json.dumps(sources),
            "prov_was_derived_from": _source_urls(whole.resource_ids),
            "derived_saved_by": user.name,
            "derived_saved": saved.isoformat(),
        },
    )
    model.Session.add(
        DerivedResource(
            id=resource["id"],
            package_id=target["id"],
            spec=canonical(whole),
            sources=json.dumps(sources),
            saved_by_id=user.id,
            saved_by=user.name,
            created=saved,
        )
    )
    model.Session.commit()
    _check_and_load(resource)
    return resource


# --- refreshing -------------------------------------------------------------------------------------


def derived_from(resource_id: str) -> list[str]:
    """The ids of the derived resources that read the table, in one query (on a session of its
    own: it is asked in the middle of other actions, whose transaction it must not touch)."""
    probe = [{"resource_id": resource_id}]
    session = model.meta.create_local_session()
    try:
        return list(
            session.execute(
                sa.select(DerivedResource.id).where(sa.cast(DerivedResource.sources, JSONB).contains(probe))
            ).scalars()
        )
    finally:
        session.close()


def source_changed(resource_id: str) -> None:
    """Queues a refresh of each derived resource that reads the table, which has just changed.
    Never raises: a change to the table must not fail because a refresh could not be queued."""
    try:
        for derived_id in derived_from(resource_id):
            tk.enqueue_job(
                refresh,
                [derived_id, f"source {resource_id} changed"],
                title=f"cd3p derived refresh: resource {derived_id}",
                rq_kwargs={"timeout": JOB_TIMEOUT},
            )
    except Exception:
        log.exception("cd3p: could not queue the refresh of the resources derived from %s", resource_id)


def _log(resource_id: str, cause: str, outcome: str, message: str, sources: Any) -> dict[str, Any]:
    entry = DerivedRefresh(
        resource_id=resource_id,
        cause=cause,
        outcome=outcome,
        message=message,
        sources=json.dumps(sources) if sources is not None else None,
    )
    model.Session.add(entry)
    model.Session.commit()
    return entry.as_dict()


def _error_text(error: Exception) -> str:
    if isinstance(error, tk.ValidationError):
        parts = []
        for key, messages in (error.error_dict or {}).items():
            texts = messages if isinstance(messages, list) else [messages]
            parts.append(f"{key}: {'; '.join(str(t) for t in texts)}")
        return " ".join(parts) or str(error)
    return str(error) or type(error).__name__


def refresh(resource_id: str, cause: str, force: bool = False) -> dict[str, Any] | None:
    """Computes a derived resource again and uploads its new result (the job, and what
    ``cd3p_derived_refresh`` runs). The spec runs in the name of the user who saved it, as they
    may read now; the result must still fit the dataset (:func:`openness`). On any failure the
    previous file and table stay, and the log says why. Returns the log entry, or None when
    nothing changed since the last result (and ``force`` is false) or the resource is gone."""
    row = model.Session.get(DerivedResource, resource_id)
    resource = model.Resource.get(resource_id)
    if row is None or resource is None or resource.state != "active":
        return None
    recorded = json.loads(row.sources)
    ids = [s["resource_id"] for s in recorded]
    current = _versions(ids)
    if current == recorded and not force:
        return None
    user = model.User.get(row.saved_by_id)
    try:
        if user is None or user.state != "active":
            raise tk.NotAuthorized(tk._("The user who saved it is no longer active"))
        asked: Context = {"user": user.name}
        checked = parse(json.loads(row.spec), row_cap=2**31 - 1)
        whole = _whole(checked)
        result, base, joined = _result(asked, whole)
        target = _dataset_facts(resource.package_id)
        reason = openness(_source_facts(ids), target) if target is not None else tk._("Dataset not found")
        if reason:
            raise tk.ValidationError({"package_id": [reason]})
        updated = tk.get_action("resource_patch")(
            {"user": user.name},
            {
                "id": resource_id,
                "url": FILE_NAME,
                "upload": _upload(as_csv(result)),
                "count_columns": ", ".join(count_columns(whole, base, joined)),
                "derived_from": json.dumps(current),
            },
        )
    except (tk.NotAuthorized, tk.ValidationError, tk.ObjectNotFound) as e:
        model.Session.rollback()
        message = _error_text(e)
        log.info("cd3p: refresh of derived resource %s failed: %s", resource_id, message)
        return _log(resource_id, cause, "failed", message, current)
    except Exception as e:  # a bug or a lost connection: logged as a failure, the result kept
        model.Session.rollback()
        log.exception("cd3p: refresh of derived resource %s failed unexpectedly", resource_id)
        message = tk._("The refresh failed unexpectedly: {error}").format(error=e)
        return _log(resource_id, cause, "failed", message, current)
    row = model.Session.get(DerivedResource, resource_id)
    row.sources = json.dumps(current)
    row.refreshed = utcnow()
    message = tk._("{rows} rows computed; the new file is checked and loaded").format(rows=result["total"])
    entry = _log(resource_id, cause, "refreshed", message, current)
    _check_and_load(updated)
    return entry


# --- provenance -------------------------------------------------------------------------------------


def provenance(context: Context, resource_id: str) -> dict[str, Any]:
    """A derived resource's provenance as the caller may see it: the spec, its sources (their
    versions, and for each source the caller may see its name and dataset; else only its id),
    who saved it and when, when it was last refreshed, and the refresh log, newest first.

    :raises ObjectNotFound: no derived resource of that id
    """
    row = model.Session.get(DerivedResource, resource_id)
    if row is None:
        raise tk.ObjectNotFound(tk._("Derived resource not found"))
    asked: Context = {"user": context.get("user") or ""}
    sources = []
    for source in json.loads(row.sources):
        entry: dict[str, Any] = {"resource_id": source["resource_id"], "version": source["version"]}
        try:
            tk.check_access("resource_show", dict(asked), {"id": source["resource_id"]})
        except (tk.NotAuthorized, tk.ObjectNotFound):
            entry["readable"] = False
        else:
            found = model.Resource.get(source["resource_id"])
            pkg = model.Package.get(found.package_id) if found is not None else None
            entry.update(
                readable=pkg is not None,
                name=found.name if found is not None else None,
                package_id=pkg.id if pkg else None,
                package_name=pkg.name if pkg else None,
                package_title=pkg.title if pkg else None,
            )
        sources.append(entry)
    refreshes = (
        model.Session.query(DerivedRefresh)
        .filter(DerivedRefresh.resource_id == resource_id)
        .order_by(DerivedRefresh.started.desc(), DerivedRefresh.id.desc())
        .all()
    )
    log_entries = []
    for r in refreshes:
        entry = r.as_dict()
        entry["sources"] = json.loads(r.sources) if r.sources else None
        log_entries.append(entry)
    return {
        "id": row.id,
        "package_id": row.package_id,
        "spec": json.loads(row.spec),
        "sources": sources,
        "saved_by": row.saved_by,
        "created": row.created.isoformat(),
        "refreshed": row.refreshed.isoformat() if row.refreshed else None,
        "log": log_entries,
    }
