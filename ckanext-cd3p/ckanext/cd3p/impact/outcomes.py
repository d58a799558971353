"""Outcome reports at the check before loading: every table of a programme dataset is read as an
outcome report (``reports.py``) in the check's one pass over the file; a report with any problem
fails the check, with its row numbers, so it is not loaded and the programme's previous numbers
stay. A report that loads replaces its rows of ``cd3p_outcome`` in one transaction, and the impact
cache forgets what it computed from them (the indicators' cache mechanism, :mod:`indicators.cache`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from ckan import model

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import geography
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.impact import reports
from ckanext.cd3p.impact.model import Outcome
from ckanext.cd3p.indicators import cache
from ckanext.cd3p.ingestion import screening

PROGRAMME = "programme"  # the scheming type of a programme dataset

# The cache's version key for every outcome row: bumped whenever any report's rows change.
CACHE_KEY = "cd3p-outcomes"

REPORT_KEY = "outcome_report"  # where the check's report holds this check's findings


def known_place(level: str, code: str) -> bool:
    """Whether a place code (as :func:`reports.canonical_place` writes it) is one of Detroit's, from
    the shipped boundaries and ``ckanext.cd3p.checks.detroit_zip_codes``."""
    if level == "zip":
        return code in cd3p_config.detroit_zip_codes()
    return code in geography.codes().get(level, frozenset())


def quarter_index(quarter: str) -> int:
    year, q = reports.quarter_key(quarter)
    return year * 4 + q - 1


class ReportCheck:
    """The ingestion check's table check for a programme's resources (see ``ingestion/checks.py``):
    sees each row of the file's first table, reports the report's problems, and stores its rows
    once the file is loaded."""

    key = REPORT_KEY

    def __init__(self, resource: dict[str, Any], dataset: dict[str, Any], fmt: str) -> None:
        self.resource_id = resource["id"]
        self.package_id = dataset["id"]
        self.reports = {r["id"]: r.get("name") or r["id"] for r in dataset.get("resources", [])}
        self.organization = dataset.get("owner_org") or ""
        self.checker = reports.Checker(known_place, programme=dataset["name"], organization=self.organization)
        self.text = screening.text_of(fmt)
        # A data row's number: the line a spreadsheet or CSV file shows is the reader's number, and
        # rows count from the line after the header; JSON records are numbered from 1.
        self.offset = 0 if fmt.upper() == "JSON" else 1
        self.sheet: str | None = None
        self.names: list[str] = []
        self._report: reports.Report | None = None

    def __call__(self, sheet: str, header: Sequence[str], number: int, values: Sequence[Any]) -> None:
        if self.sheet is None:
            self.sheet = sheet
            self.names = _unique_names(header)
        if sheet != self.sheet:
            return  # the template's Measures and Columns sheets, or any other: only the first is read
        cells = [self.text(v) for v in values]
        self.checker.add(number - self.offset, dict(zip(self.names, cells, strict=False)))

    def result(self) -> reports.Report:
        if self._report is None:
            quarters = {row.period for row in self.checker.parsed}
            elsewhere = counted_elsewhere(self.package_id, self.resource_id, quarters, self.reports)
            self._report = self.checker.report(elsewhere)
        return self._report

    def report(self) -> dict[str, Any]:
        """``rows`` parsed, ``problem_count``, the first ``problems`` (``row``, ``line``, ``column``,
        ``message``) and ``failed``."""
        found = self.result()
        return {
            "rows": len(found.rows),
            "problem_count": found.problem_count,
            "problems": [
                {"row": p.row, "line": p.line, "column": p.column, "message": p.message}
                for p in found.problems
            ],
            "sheet": self.sheet or "",
            "failed": not found.ok,
        }

    def loaded(self) -> None:
        """The file is in the DataStore: its rows replace the resource's previous ones."""
        store(self.resource_id, self.package_id, self.organization, self.result().rows)


def _unique_names(header: Sequence[str]) -> list[str]:
    """The header's names, a repeated one as ``name (repeated)`` (which the checker refuses)."""
    seen: set[str] = set()
    names = []
    for name in header:
        name = str(name)
        if name in seen:
            name = f"{name} (repeated)"
        seen.add(name)
        names.append(name)
    return names


def counted_elsewhere(
    package_id: str, resource_id: str, quarters: Collection[str], names: Mapping[str, str]
) -> dict[reports.Counted, str]:
    """What the programme's other reports count in these quarters, as stored, and where: ``row 2
    (line 3) of the report "<name>"`` (``names``: resource id -> name; a resource no longer in
    the programme whose rows are still stored is named by its id). A new file of the same report
    replaces its rows, so they are not counted."""
    if not quarters:
        return {}
    table = Outcome.__table__
    query = (
        sa.select(
            table.c.quarter,
            table.c.month,
            table.c.geo_level,
            table.c.geo_id,
            table.c.measure,
            table.c.resource_id,
            table.c.row,
        )
        .where(
            table.c.package_id == package_id,
            table.c.resource_id != resource_id,
            table.c.quarter.in_(sorted(quarters)),
        )
        .order_by(table.c.resource_id, table.c.row)
    )
    found: dict[reports.Counted, str] = {}
    for quarter, month, level, code, measure, other, row in model.Session.execute(query):
        name = names.get(other) or other
        found.setdefault(
            (quarter, month, level, code, measure), f'row {row} (line {row + 1}) of the report "{name}"'
        )
    return found


def table_check(resource: dict[str, Any], dataset: dict[str, Any], fmt: str) -> ReportCheck | None:
    """The check of a table of a programme dataset (every one is an outcome report), else None."""
    if dataset.get("type") != PROGRAMME:
        return None
    return ReportCheck(resource, dataset, fmt)


def store(resource_id: str, package_id: str, organization: str, rows: Sequence[reports.Row]) -> int:
    """Replaces the resource's outcome rows with ``rows``, in one transaction; returns their number."""
    table = Outcome.__table__
    now = utcnow()
    records = [
        {
            "resource_id": resource_id,
            "package_id": package_id,
            "organization": organization,
            "row": r.row,
            "quarter": r.period,
            "quarter_index": quarter_index(r.period),
            "month": r.month,
            "geo_level": r.geo_level,
            "geo_id": r.geo_id,
            "measure": r.measure,
            "count": r.count,
            "cost": r.cost,
            "target": r.target,
            "loaded": now,
        }
        for r in rows
    ]
    with model.meta.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.resource_id == resource_id))
        if records:
            conn.execute(table.insert(), records)
    cache.invalidate(CACHE_KEY)
    return len(records)


def forget(resource_ids: Sequence[str] = (), package_id: str | None = None) -> int:
    """Deletes the outcome rows of deleted resources, or of a purged programme; returns their
    number. The impact cache is forgotten only when rows went: deleting any other resource or
    dataset changes no reading."""
    table = Outcome.__table__
    if not resource_ids and package_id is None:
        return 0
    deleted = 0
    with model.meta.engine.begin() as conn:
        if resource_ids:
            gone = table.delete().where(table.c.resource_id.in_(list(resource_ids)))
            deleted += conn.execute(gone).rowcount
        if package_id is not None:
            deleted += conn.execute(table.delete().where(table.c.package_id == package_id)).rowcount
    if deleted > 0:
        cache.invalidate(CACHE_KEY)
    return deleted


def forget_removed(package_id: str, kept: Sequence[str]) -> int:
    """Deletes the outcome rows of a programme's resources that an update took out of it (a
    ``package_update`` or ``package_patch`` without them); returns their number."""
    table = Outcome.__table__
    with model.meta.engine.begin() as conn:
        gone = table.delete().where(table.c.package_id == package_id, table.c.resource_id.not_in(list(kept)))
        deleted = conn.execute(gone).rowcount
    if deleted > 0:
        cache.invalidate(CACHE_KEY)
    return deleted


def report_states(dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """Each resource of a programme with its latest check: ``state`` (None: never checked),
    ``rows`` counted and the outcome report's ``problem_count``."""
    from ckanext.cd3p.ingestion import checks

    resources = dataset.get("resources", [])
    latest = checks.latest_of([r["id"] for r in resources])
    found = []
    for resource in resources:
        check = latest.get(resource["id"])
        report = (check.report or {}).get(REPORT_KEY, {}) if check is not None else {}
        found.append(
            {
                "id": resource["id"],
                "name": resource.get("name") or resource["id"],
                "state": check.state if check is not None else None,
                "rows": report.get("rows"),
                "problem_count": report.get("problem_count"),
            }
        )
    return found
