"""The daily freshness job (``ckan cd3p freshness run``) and the list of datasets past due.

Every active dataset with a frequency that has thresholds (and every one last told about as not
fresh) is evaluated with one rule (``freshness.py``); the datasets are read in three queries (the
datasets, their extras, their resources), whatever their number.

The job compares each dataset's state with the one it last saw (``cd3p_data_change.state``). When
they differ it records the new state, updates the dataset's search entry (its facet) and, going
up, tells (``feeds/notify.py``): the data steward when the dataset becomes overdue, sysadmins when
it becomes delinquent (a dataset found delinquent straight from fresh or due: both). Each change of
state is told once: running the job again tells nothing new; a data change makes it fresh again
(``changes.py``), so its next overdue is told again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from ckan import model
from sqlalchemy import orm

from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import changes, freshness, notify
from ckanext.cd3p.feeds.model import DataChange


def _packages() -> list[model.Package]:
    frequent = sa.select(model.PackageExtra.package_id).where(
        model.PackageExtra.key == "update_frequency",
        model.PackageExtra.value.in_(list(freshness.THRESHOLDS)),
        model.PackageExtra.state == "active",
    )
    told = sa.select(DataChange.dataset_id).where(DataChange.state != "fresh")
    return (
        model.Session.query(model.Package)
        .filter(
            model.Package.state == "active",
            sa.or_(model.Package.id.in_(frequent), model.Package.id.in_(told)),
        )
        .options(orm.selectinload(model.Package._extras), orm.selectinload(model.Package.resources_all))
        .order_by(model.Package.name)
        .all()
    )


def evaluate(now: dt.datetime | None = None) -> list[tuple[model.Package, DataChange | None, dict[str, Any]]]:
    """Each dataset with a frequency (or last told about as not fresh): its row and its freshness."""
    packages = _packages()
    ids = [pkg.id for pkg in packages]
    rows = {r.dataset_id: r for r in model.Session.query(DataChange).filter(DataChange.dataset_id.in_(ids))}
    found = []
    for pkg in packages:
        row = rows.get(pkg.id)
        found.append(
            (
                pkg,
                row,
                changes.package_freshness(pkg, freshness.moment(row.last_change) if row else None, now),
            )
        )
    return found


def past_due(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The datasets due, overdue or delinquent, oldest first (the earliest ``due_at``), with their
    organization and data steward."""
    evaluated = [(pkg, fresh) for pkg, _row, fresh in evaluate(now) if fresh["state"] != "fresh"]
    org_ids = {pkg.owner_org for pkg, _ in evaluated if pkg.owner_org}
    orgs = (
        {g.id: g for g in model.Session.query(model.Group).filter(model.Group.id.in_(org_ids))}
        if org_ids
        else {}
    )
    out = []
    for pkg, fresh in sorted(evaluated, key=lambda item: (item[1]["due_at"] or "", item[0].name)):
        org = orgs.get(pkg.owner_org or "")
        extras = pkg.extras or {}
        out.append(
            {
                "id": pkg.id,
                "name": pkg.name,
                "title": pkg.title or pkg.name,
                "type": pkg.type,
                "organization": {"id": org.id, "name": org.name, "title": org.title or org.name}
                if org
                else None,
                "steward_name": extras.get("steward_name") or None,
                "steward_email": extras.get("steward_email") or None,
                **fresh,
            }
        )
    return out


def run(now: dt.datetime | None = None, echo: Callable[[str], Any] | None = None) -> dict[str, int]:
    """The daily job: records each change of state, re-indexes the datasets whose state changed
    and tells stewards and sysadmins. Returns how many were ``evaluated``, ``changed``, and how many
    datasets were told about as ``overdue`` and ``delinquent``."""
    now = now or utcnow()
    counts = {"evaluated": 0, "changed": 0, "overdue": 0, "delinquent": 0}
    for pkg, row, fresh in evaluate(now):
        counts["evaluated"] += 1
        new = fresh["state"]
        told = row.state if row is not None else "fresh"
        if new == told:
            continue
        if row is None:
            row = DataChange(dataset_id=pkg.id)
            model.Session.add(row)
        row.state = new
        row.updated = now
        model.Session.commit()
        changes.forget()
        changes.reindex(pkg.id)
        counts["changed"] += 1
        if echo:
            echo(f"{pkg.name}: {told} -> {new}")
        for threshold in ("overdue", "delinquent"):
            if freshness.rank(told) < freshness.rank(threshold) <= freshness.rank(new):
                notify.tell(threshold, pkg, fresh)
                counts[threshold] += 1
    return counts
