"""The world the impact page tests read (tests/impact/test_pages.py, tests/browser/test_impact_map.py):
the Census sources of the need indicators, a signed partner organization and three programmes with
outcome reports loaded by the real worker, built once per process (``kept``)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from ckan.tests.helpers import call_action
from werkzeug.datastructures import FileStorage

from ckanext.cd3p.common import geography
from tests import equity, factories, partners
from tests.helpers import database_state, kept_world, wait_for_load
from tests.impact.test_programme import PROGRAMME
from tests.web import person

TRACTS = sorted(geography.tracts())
# Tracts of two council districts, so that district totals add several tracts.
SERVED = [
    tract
    for district in ("district-3", "district-5")
    for tract in [t for t in TRACTS if geography.tracts()[t].district == district][:5]
]


def report_file(rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "geo_level", "geo_id", "measure", "count", "cost", "target"])
    writer.writerows(rows)
    return out.getvalue().encode()


# Every count is at least 40: above the threshold of every programme counted (the highest, 30,
# applies to all of them together), so the public sees each number.
DEVICES = report_file(
    [
        ("2025-Q1", "tract", t, "devices_distributed", 40 + 5 * i, 300 * (40 + 5 * i), "")
        for i, t in enumerate(SERVED)
    ]
    + [("2025-Q2", "tract", t, "devices_distributed", 45, "", "") for t in SERVED[:4]]
    + [("2025-Q2", "council_district", "district-3", "devices_distributed", 60, 9000, "")]
    + [("2025-Q1", "city", "city", "devices_distributed", 0, "", 500)]
)
# A programme whose own threshold is 30: its 25 training enrolments are hidden for the public.
TRAINING = report_file([("2025-Q1", "tract", SERVED[0], "training_enrolled", 25, 2500, "")])
# A partner-tier programme: nothing of it reaches the public.
HIDDEN = report_file([("2025-Q1", "tract", SERVED[1], "devices_distributed", 1000, "", "")])


def _programme(editor: dict[str, Any], org: dict[str, Any], data: bytes, **fields: Any) -> dict[str, Any]:
    created = call_action(
        "package_create", {"user": editor["name"]}, **{**PROGRAMME, "owner_org": org["id"], **fields}
    )
    resource = call_action(
        "resource_create",
        {"user": editor["name"]},
        package_id=created["id"],
        name="Outcomes",
        format="CSV",
        url="report.csv",
        upload=FileStorage(io.BytesIO(data), filename="report.csv"),
    )
    check = wait_for_load(resource["id"])
    assert check["state"] == "passed", check["report"]
    return created


def _build(request: pytest.FixtureRequest) -> dict[str, Any]:
    request.getfixturevalue("clean_datastore")
    request.getfixturevalue("xloader_token")  # the worker loads with a token of this database
    partners.active_agreement()
    sources = equity.load_sources()
    editor, member = person(), person()
    org = partners.organization(factories.User(), name="eastside-tech", title="Eastside Tech <b>Hub</b>")
    partners.join(org, editor, "editor")
    partners.join(org, member, "member")
    devices = _programme(editor, org, DEVICES, title="Laptops <script>alert(1)</script>")
    training = _programme(
        editor,
        org,
        TRAINING,
        name="skills-lab",
        title="Skills Lab",
        small_cell_threshold=30,
        illustrative="yes",
    )
    hidden = _programme(
        editor, org, HIDDEN, name="partner-pilot", title="Partner Pilot", access_level="partners"
    )
    return {
        "sources": sources,
        "org": org,
        "member": member,
        "devices": devices,
        "training": training,
        "hidden": hidden,
    }


def kept(request: pytest.FixtureRequest) -> dict[str, Any]:
    return kept_world(request, "impact pages", lambda: _build(request), lambda w: database_state())
