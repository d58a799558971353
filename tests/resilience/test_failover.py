"""Every service failure survived, nothing lost (resilience/): each test stops, kills or restarts a real
service of the failure tests' own portal (tests/resilience/failover.py) with the project's scripts,
and checks over HTTP what a user and an uploader would see, during and after."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ckanext.cd3p.common import geography
from tests.resilience.failover import Failover, stopped, wait

pytestmark = pytest.mark.slow

# The failover portal's recovery job runs every 2 s and its checks are lost after 5 s without a
# heartbeat (ckanext.cd3p.load.stale_after in test.ini): these bounds leave ample room.
RECOVERY = 60


@pytest.fixture(scope="module")
def portal() -> Iterator[Failover]:
    failover = Failover()
    failover.down(wipe=True)  # whatever an earlier run left, running or stored
    failover.up()
    yield failover
    failover.down()


def tract_file(rows: int) -> str:
    """A CSV of ``rows`` rows over Detroit's tracts (households, and those without a computer)."""
    tracts = sorted(geography.tracts())
    lines = [f"{tracts[i % len(tracts)]},{100 + i % 50},{10 + i % 7}\n" for i in range(rows)]
    return "geoid,households,no_computer\n" + "".join(lines)


def organization(portal: Failover) -> dict[str, Any]:
    name = f"o-{uuid.uuid4().hex[:8]}"
    return portal.result("organization_create", name=name, title="Partner", sector="nonprofit")


def dataset(portal: Failover, title: str, org: dict[str, Any] | None = None) -> dict[str, Any]:
    org = org or organization(portal)
    return portal.result(
        "package_create",
        name=f"d-{uuid.uuid4().hex[:8]}",
        title=title,
        owner_org=org["id"],
        geography_level="tract",
        contains_personal_data="no",
    )


def upload(portal: Failover, package: dict[str, Any], text: str) -> dict[str, Any]:
    return portal.result(
        "resource_create",
        files={"upload": ("tracts.csv", text.encode(), "text/csv")},
        package_id=package["id"],
        name="Tracts",
        format="CSV",
        geo_key_column="geoid",
        geo_key_level="tract",
    )


def check(portal: Failover, resource: dict[str, Any]) -> dict[str, Any]:
    return portal.result("cd3p_resource_check_show", id=resource["id"])


def loaded(portal: Failover, resource: dict[str, Any], timeout: float = RECOVERY) -> dict[str, Any]:
    """The check once its load completed (or failed: the assertion then says why)."""

    def finished() -> dict[str, Any] | None:
        found = check(portal, resource)
        load = (found["report"].get("load") or {}).get("state")
        done = found["state"] in ("held", "failed") or (found["state"] == "passed" and load != "running")
        return found if done else None

    return wait(finished, timeout, "the check and load finished")


def table_total(portal: Failover, resource: dict[str, Any]) -> int:
    return portal.result("datastore_search", resource_id=resource["id"], limit=0)["total"]


def searchable(portal: Failover, query: str) -> list[dict[str, Any]]:
    return portal.result("package_search", q=query)["results"]


def test_solr_down_search_answers_503_and_writes_are_indexed_once_it_is_back(portal: Failover) -> None:
    org = organization(portal)
    before = dataset(portal, "Written before", org)
    with stopped(portal, "solr"):
        page = portal.get("/dataset/")
        api = portal.call("package_search", q="households")
        # Writes are kept: a new dataset, and a change to an existing one.
        during = dataset(portal, "Written while Solr was down", org)
        changed = portal.result("package_patch", id=before["id"], title="Changed while Solr was down")
        # A deletion cannot be kept for later: refused, and the dataset is still there.
        deletion = portal.call("package_delete", id=before["id"])
        kept = portal.result("package_show", id=before["id"])
        equity = portal.get("/equity")
    assert page.status_code == 503
    assert "Search is unavailable" in page.text
    assert page.headers["Retry-After"] == "2"
    assert api.status_code == 503
    assert api.json()["error"]["__type"] == "Search Unavailable"
    assert changed["title"] == "Changed while Solr was down"
    assert deletion.status_code == 503
    assert kept["state"] == "active"
    assert equity.status_code == 200  # the indicators ask the database which datasets the reader sees

    # Found by search once Solr is back, with no rebuild run by hand (the recovery job).
    found = wait(lambda: searchable(portal, f"name:{during['name']}"), RECOVERY, "the new dataset indexed")
    assert found[0]["title"] == "Written while Solr was down"
    wait(
        lambda: [d["title"] for d in searchable(portal, f"name:{before['name']}")]
        == ["Changed while Solr was down"],
        RECOVERY,
        "the changed dataset indexed again",
    )
    assert portal.get("/dataset/").status_code == 200
    assert portal.result("cd3p_recovery_show")["index_pending"] == []


def test_redis_down_pages_answer_and_an_upload_is_checked_once_it_is_back(portal: Failover) -> None:
    package = dataset(portal, "Uploaded while Redis was down")
    text = tract_file(40)
    with stopped(portal, "redis"):
        resource = upload(portal, package, text)
        download = portal.get(f"/dataset/{package['id']}/resource/{resource['id']}/download/tracts.csv")
        waiting = check(portal, resource)
        equity = portal.get("/equity")
        shown = portal.get(f"/dataset/{package['name']}")
    # The file is stored, its check waits; the pages answer.
    assert download.status_code == 200
    assert download.content == text.encode()
    assert waiting["state"] == "pending"
    assert equity.status_code == 200
    assert shown.status_code == 200

    # Redis back: the worker (started again by its supervisor) runs the check queued by the
    # recovery job, and the table is loaded, no one resubmitting the file.
    done = loaded(portal, resource)
    assert (done["state"], done["report"]["load"]["state"]) == ("passed", "complete")
    assert table_total(portal, resource) == len(list(csv.DictReader(io.StringIO(text))))


def test_a_worker_killed_while_checking_is_replaced_and_the_check_started_again(portal: Failover) -> None:
    package = dataset(portal, "Checked when its worker died")
    rows = 600_000  # a check of a few seconds (1.2 s for 300,000 rows on an idle machine)
    resource = upload(portal, package, tract_file(rows))
    wait(lambda: check(portal, resource).get("heartbeat"), RECOVERY, "the check started")
    assert check(portal, resource)["state"] == "pending"  # still checking

    portal.kill_worker()

    done = loaded(portal, resource, timeout=3 * RECOVERY)
    assert (done["state"], done["report"]["load"]["state"]) == ("passed", "complete")
    assert done["report"]["attempts"] == 2
    assert table_total(portal, resource) == rows


def test_postgres_restarted_the_portal_reconnects_and_an_interrupted_load_is_retried(
    portal: Failover,
) -> None:
    package = dataset(portal, "Loaded when PostgreSQL restarted")
    rows = 600_000
    resource = upload(portal, package, tract_file(rows))

    def loading() -> bool:
        load = check(portal, resource)["report"].get("load") or {}
        return load.get("state") == "running" and load.get("phase") not in (None, "checking")

    wait(loading, 3 * RECOVERY, "the load started", every=0.1)
    portal.service("restart", "postgres")

    # Each of the web server's processes answers the next requests (connections tested first).
    assert [portal.call("package_show", id=package["id"]).status_code for _ in range(6)] == [200] * 6
    # The load was rolled back with its connection, and started again from its check.
    done = loaded(portal, resource, timeout=3 * RECOVERY)
    assert (done["state"], done["report"]["load"]["state"]) == ("passed", "complete")
    assert done["report"]["attempts"] == 2
    assert table_total(portal, resource) == rows
