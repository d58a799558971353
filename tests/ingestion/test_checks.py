"""Checks before loading, end to end: files are uploaded through resource_create, checked by the
real worker (the same queue as xloader), and held, refused or loaded by the real xloader.

What a partner would notice is asserted: the check's state and report, the DataStore table (or its
absence, or the previous one intact), the dataset's access level and activity, who may download a
held file, and the report on the resource page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action, call_auth

from ckanext.cd3p.common import geography
from ckanext.cd3p.ingestion import checks
from tests import factories, partners
from tests.helpers import wait_for_check, wait_for_xloader
from tests.web import Browser, soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")

TRACTS = sorted(geography.tracts())[:4]
CLEAN = "geoid,households,no_computer\n" + "".join(
    f"{g},{1000 + i},{100 + i}\n" for i, g in enumerate(TRACTS)
)
PERSONAL = (
    "participant,email,phone,households\n"
    "Maria Johnson,maria.johnson@example.org,(313) 555-0142,3\n"
    "James Williams,jwilliams@example.com,313-555-0177,2\n"
    "Patricia Brown,pbrown@example.net,313.555.0190,4\n"
    "Robert Davis,robert.davis@example.org,(313) 555-0111,1\n"
)


def site() -> dict[str, Any]:
    return {"user": partners.site_user()}


def public_dataset(partner: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return factories.Dataset(owner_org=partner["org"]["id"], access_level="public", **fields)


def test_a_clean_file_passes_and_is_loaded(partner: dict[str, Any], put: Callable[..., Any]) -> None:
    dataset = public_dataset(partner)
    resource = put(CLEAN.encode(), "tracts.csv", dataset, geo_key_column="geoid", geo_key_level="tract")

    check = wait_for_check(resource["id"])
    assert check["state"] == "passed", check["report"]
    assert check["report"]["findings"] == []
    assert check["report"]["geography"] == {
        "column": "geoid",
        "level": "tract",
        "checked": True,
        "rows": 4,
        "unknown_total": 0,
        "unknown": [],
    }
    assert check["report"]["tables"][0]["rows"] == 4
    assert wait_for_xloader(resource["id"])["status"] == "complete"
    records = call_action("datastore_search", resource_id=resource["id"], sort="_id")["records"]
    assert [str(r["geoid"]) for r in records] == TRACTS


def test_personal_data_is_held_not_loaded_and_the_dataset_made_private(
    app: Any, partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(PERSONAL.encode(), "participants.csv", dataset)

    check = wait_for_check(resource["id"])

    assert check["state"] == "held"
    flagged = {(f["column"], f["kind"]) for f in check["report"]["findings"]}
    assert {("participant", "person_name"), ("email", "email"), ("phone", "phone")} <= flagged
    report_text = str(check["report"])
    assert "maria" not in report_text.lower() and "555-0142" not in report_text  # no values repeated
    after = call_action("package_show", site(), id=dataset["id"])
    assert (after["access_level"], after["private"]) == ("organization", True)
    assert check["report"]["previous_access_level"] == "public"
    assert not call_action("resource_show", site(), id=resource["id"]).get("datastore_active")
    status = call_action("xloader_status", {"ignore_auth": True}, resource_id=resource["id"])
    assert status["status"] == "error"
    assert "personal data" in status["error"]["message"]

    # Only the organization's admins (and sysadmins) may download the held file.
    download = f"/dataset/{dataset['id']}/resource/{resource['id']}/download/participants.csv"
    assert Browser(app).get(download).status_code == 302  # visitors are sent to log in
    for role in ("member", "editor"):
        assert app.get(download, headers={"Authorization": partner[role]["token"]}).status_code == 403, role
    got = app.get(download, headers={"Authorization": partner["admin"]["token"]})
    assert got.status_code == 200 and got.body == PERSONAL

    # The editor reads the report on the resource page: columns and reasons, never the values.
    page = soup(
        app.get(
            f"/dataset/{dataset['id']}/resource/{resource['id']}",
            headers={"Authorization": partner["editor"]["token"]},
        )
    )
    section = page.select_one("section.cd3p-check")
    assert section is not None and section["data-state"] == "held"
    columns = [row["data-column"] for row in section.select("tr[data-column]")]
    assert {"participant", "email", "phone"} <= set(columns)
    assert "maria" not in section.get_text().lower()
    member_page = app.get(
        f"/dataset/{dataset['id']}/resource/{resource['id']}",
        headers={"Authorization": partner["member"]["token"]},
    )
    assert "cd3p-check" not in member_page.body  # members read the data, not the checks


def test_marking_the_dataset_personal_loads_the_held_file(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(PERSONAL.encode(), "participants.csv", dataset)
    held = wait_for_check(resource["id"])
    assert held["state"] == "held"

    call_action("cd3p_resource_mark_personal", {"user": partner["editor"]["name"]}, id=resource["id"])

    check = wait_for_check(resource["id"], after=held["id"])
    assert check["state"] == "passed" and check["report"]["findings_accepted"] is True
    assert wait_for_xloader(resource["id"])["status"] == "complete"
    assert call_action("datastore_search", resource_id=resource["id"])["total"] == 4
    after = call_action("package_show", site(), id=dataset["id"])
    assert (after["contains_personal_data"], after["access_level"]) == ("yes", "organization")
    changes = call_action("package_activity_list", site(), id=dataset["id"])
    assert partner["editor"]["id"] in {
        a["user_id"] for a in changes if a["activity_type"] == "changed package"
    }


def test_a_bad_reload_leaves_the_previous_table_untouched(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(CLEAN.encode(), "tracts.csv", dataset, geo_key_column="geoid", geo_key_level="tract")
    first = wait_for_check(resource["id"])
    assert wait_for_xloader(resource["id"])["status"] == "complete"
    before = call_action("datastore_search", resource_id=resource["id"], sort="_id")["records"]

    bad = CLEAN + "26999999999,5,1\n,7,2\n"  # a code outside Detroit and an empty one
    put(bad.encode(), "tracts-2025.csv", id=resource["id"])
    check = wait_for_check(resource["id"], after=first["id"])

    assert check["state"] == "failed"
    geo = check["report"]["geography"]
    assert geo["unknown_total"] == 2
    assert geo["unknown"] == [
        {"sheet": "", "row": 6, "value": "26999999999"},
        {"sheet": "", "row": 7, "value": ""},
    ]
    assert call_action("datastore_search", resource_id=resource["id"], sort="_id")["records"] == before
    assert call_action("resource_show", site(), id=resource["id"])["datastore_active"] is True


def test_an_unreadable_file_is_refused_with_the_reason(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(bytes(range(256)) * 40, "broken.csv", dataset)

    check = wait_for_check(resource["id"])

    assert check["state"] == "failed"
    assert check["report"]["error"]
    assert not call_action("resource_show", site(), id=resource["id"]).get("datastore_active")


def test_a_missing_geography_column_is_refused(partner: dict[str, Any], put: Callable[..., Any]) -> None:
    dataset = public_dataset(partner)
    resource = put(CLEAN.encode(), "tracts.csv", dataset, geo_key_column="GEOID10", geo_key_level="tract")

    check = wait_for_check(resource["id"])

    assert check["state"] == "failed"
    assert "GEOID10" in check["report"]["geography"]["error"]
    assert "geoid" in check["report"]["geography"]["error"]  # the columns there are


@pytest.mark.ckan_config("ckan.max_resource_size", 1)
def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    big = CLEAN.encode() + b"x" * (1024 * 1024 + 1)

    with pytest.raises(tk.ValidationError) as e:
        put(big, "big.csv", dataset)

    assert "limited to 1 MB" in str(e.value.error_dict["upload"])
    assert call_action("package_show", site(), id=dataset["id"])["resources"] == []


def test_sysadmins_see_held_files_and_may_release_a_false_alarm(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(PERSONAL.encode(), "participants.csv", dataset)
    held = wait_for_check(resource["id"])

    queue = call_action("cd3p_resource_check_list", site())
    assert [c["resource_id"] for c in queue] == [resource["id"]]
    assert queue[0]["dataset_name"] == dataset["name"]
    with pytest.raises(tk.ValidationError):
        call_action("cd3p_resource_check_release", site(), id=resource["id"], reason="")

    call_action("cd3p_resource_check_release", site(), id=resource["id"], reason="Test names from a sample.")

    assert wait_for_xloader(resource["id"])["status"] == "complete"
    assert call_action("package_show", site(), id=dataset["id"])["access_level"] == "public"
    released = call_action("cd3p_resource_check_show", site(), id=resource["id"])
    assert released["id"] == held["id"] and released["state"] == "passed"
    assert released["report"]["release_reason"] == "Test names from a sample."
    assert call_action("cd3p_resource_check_list", site()) == []


def test_who_may_see_and_act_on_checks(partner: dict[str, Any], put: Callable[..., Any]) -> None:
    dataset = public_dataset(partner)
    resource = put(CLEAN.encode(), "tracts.csv", dataset)
    wait_for_check(resource["id"])
    other = partners.organization(factories.User())
    outsider = factories.User()
    partners.join(other, outsider, "admin")
    roles = {
        "anonymous": "",
        "registered": factories.User()["name"],
        "member": partner["member"]["name"],
        "editor": partner["editor"]["name"],
        "admin": partner["admin"]["name"],
        "admin of another organization": outsider["name"],
        "sysadmin": factories.Sysadmin()["name"],
    }
    expected = {
        "cd3p_resource_check_show": {"editor", "admin", "sysadmin"},
        "cd3p_resource_check_run": {"editor", "admin", "sysadmin"},
        "cd3p_resource_mark_personal": {"editor", "admin", "sysadmin"},
        "cd3p_resource_check_list": {"sysadmin"},
        "cd3p_resource_check_release": {"sysadmin"},
    }
    wrong = []
    for action, allowed in expected.items():
        for role, name in roles.items():
            try:
                call_auth(action, {"user": name, "model": model}, id=resource["id"])
                passed = True
            except tk.NotAuthorized:
                passed = False
            if passed != (role in allowed):
                wrong.append(f"{action} {role}: {'allowed' if passed else 'refused'}")
    assert wrong == []


CP1252_TEXT = "Caf\u00e9 Se\u00f1or \u2013 \u201cRosa\u2019s\u201d"  # curly quotes and a dash: cp1252 only


@pytest.mark.parametrize(
    ("encoding", "detected", "text"),
    [
        ("utf-8", "utf-8", CP1252_TEXT),
        ("utf-8-sig", "utf-8-sig", CP1252_TEXT),
        ("cp1252", "windows-1252", CP1252_TEXT),
        ("latin-1", "iso-8859-1", "Caf\u00e9 Se\u00f1or, Ni\u00f1o"),
    ],
)
def test_each_encoding_is_detected_and_loaded_as_written(
    partner: dict[str, Any], put: Callable[..., Any], encoding: str, detected: str, text: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([["geoid", "program", "households"], [TRACTS[0], text, 12], [TRACTS[1], "Plain", 7]])
    dataset = public_dataset(partner)
    resource = put(buffer.getvalue().encode(encoding), f"programs-{encoding}.csv", dataset)

    check = wait_for_check(resource["id"])

    assert check["state"] == "passed", check["report"]
    assert check["report"]["tables"][0]["encoding"] == detected
    assert check["report"]["tables"][0]["columns"] == ["geoid", "program", "households"]  # no BOM in it
    assert wait_for_xloader(resource["id"])["status"] == "complete"
    records = call_action("datastore_search", resource_id=resource["id"], sort="_id")["records"]
    assert [r["program"] for r in records] == [text, "Plain"]


def test_the_screening_takes_the_threshold_the_public_views_take(tmp_path: Any) -> None:
    """One small-cell threshold (common/privacy.threshold): the check read a stored "0" as 0 (no
    small cell at all) and failed on "abc", where the suppressed views read both as 11."""
    path = tmp_path / "ages.csv"
    path.write_text("tract,age,households\n" + "".join(f"26163{i:06d},{30 + i},{3 + i}\n" for i in range(10)))
    for stored in ("0", "abc", None):
        report, _tables = checks.inspect(path, "CSV", {}, {"small_cell_threshold": stored})
        assert [f["kind"] for f in report["findings"]] == ["exact_age"], stored
    report, _tables = checks.inspect(path, "CSV", {}, {"small_cell_threshold": "3"})
    assert report["findings"] == []


def test_a_datastore_only_resource_has_no_file_to_check(partner: dict[str, Any]) -> None:
    """A table written through the DataStore API alone (``url_type`` "datastore") queues no check
    when it is made or submitted; a check asked for says there is no file, and the table stays."""
    dataset = public_dataset(partner)
    resource = factories.Resource(
        package_id=dataset["id"], url="_datastore_only_resource", url_type="datastore", format="CSV"
    )
    call_action(
        "datastore_create",
        resource_id=resource["id"],
        force=True,
        fields=[{"id": "geoid", "type": "text"}],
        records=[{"geoid": sorted(geography.tracts())[0]}],
    )
    call_action("xloader_submit", site(), resource_id=resource["id"])
    assert checks.latest(resource["id"]) is None

    call_action("cd3p_resource_check_run", site(), id=resource["id"])
    check = wait_for_check(resource["id"])
    assert (check["state"], check["report"]["error"]) == (
        "failed",
        "This resource has no file: its table is written through the DataStore API.",
    )
    assert call_action("datastore_search", resource_id=resource["id"])["total"] == 1
