"""The Detroit indicator sources loaded into the DataStore, for the indicator and equity-page tests.

The real source files (Wayne County's rows only of the national and state tables, to keep the set-up
fast), under the dataset and resource names of the registry, through datastore_create; and readers
of the same files, for computing the expected numbers independently.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.cd3p import config
from ckanext.cd3p.indicators import registry
from tests import factories, partners
from tests.helpers import kept_world

TITLES = {
    "tract-acs": "Broadband, computers and income by census tract, Detroit (ACS 2015-2019, FCC, Ookla)",
    "tract-no-internet": "Households with no internet access by census tract, United States (ACS 2015-2019)",
    "tract-poverty": "Poverty, unemployment and income by census tract, Michigan (ACS 2014-2018)",
}
ACS_COLUMNS = [
    "f_broadband",
    "f_computer",
    "f_ba",
    "mhi",
    "population",
    "households",
    "d_mbps",
    "tests",
    "n_isp",
]


def acs_rows() -> list[dict[str, Any]]:
    path = config.data_dir() / "indicators" / "tracts_acs2015_2019_fcc_ookla.geojson"
    return [f["properties"] for f in json.loads(path.read_text())["features"]]


def csv_rows(name: str, key: str) -> list[dict[str, Any]]:
    with (config.data_dir() / "indicators" / name).open(newline="") as f:
        return [r for r in csv.DictReader(f) if r[key].startswith("26163")]


def num(value: Any) -> float | None:
    return None if value in (None, "", "NA") else float(value)


def _load(
    org: dict[str, Any], source_id: str, rows: list[dict[str, Any]], columns: list[str], **meta: Any
) -> dict[str, Any]:
    source = registry.registry().sources[source_id]
    dataset = factories.Dataset(name=source.dataset, title=TITLES[source_id], owner_org=org["id"], **meta)
    resource = factories.Resource(
        package_id=dataset["id"], name=source.resource, url="http://example.com/t.csv"
    )
    call_action(
        "datastore_create",
        resource_id=resource["id"],
        force=True,
        fields=[{"id": source.key, "type": "text"}] + [{"id": c, "type": "numeric"} for c in columns],
        records=[{source.key: r[source.key], **{c: num(r.get(c)) for c in columns}} for r in rows],
    )
    return dataset


def load_sources() -> dict[str, Any]:
    """A partner organization (Data Driven Detroit) publishing the three source datasets."""
    org = partners.organization(factories.User(), title="Data Driven Detroit")
    datasets = {
        "tract-acs": _load(org, "tract-acs", acs_rows(), ACS_COLUMNS),
        "tract-no-internet": _load(
            org, "tract-no-internet", csv_rows("oeps_tract_2019_no_internet.csv", "FIPS"), ["NoIntP"]
        ),
        "tract-poverty": _load(
            org,
            "tract-poverty",
            csv_rows("michigan_tracts_acs2014_2018_poverty_unemployment.csv", "GEOID"),
            ["povP", "unempP"],
        ),
    }
    return {"org": org, "datasets": datasets}


def show(indicator: str, level: str = "tract", user: str = "") -> dict[str, Any]:
    """cd3p_indicator_show as a visitor sees it (anonymous unless ``user``)."""
    return call_action("cd3p_indicator_show", {"user": user, "ignore_auth": False}, id=indicator, level=level)


def _datasets(loaded: dict[str, Any]) -> Any:
    """The sources as the database has them now (not the search index, which a test that resets
    only the database leaves behind): each dataset's id and last change."""
    rows = (
        model.Session.query(model.Package.id, model.Package.metadata_modified)
        .filter(model.Package.owner_org == loaded["org"]["id"], model.Package.state == "active")
        .all()
    )
    return sorted((i, m.isoformat()) for i, m in rows)


def kept_sources(request: Any) -> dict[str, Any]:
    """The sources, built once per process for the tests that only read them (a test that changes
    a source dataset, or resets the database, makes the next one build them again)."""

    def build() -> dict[str, Any]:
        partners.active_agreement()
        return load_sources()

    return kept_world(request, "equity sources", build, _datasets)
