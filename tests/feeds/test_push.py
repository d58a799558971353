"""Push: a partner's own system replaces a resource's file through the portal's HTTP API, with an
API token in the ``Authorization`` header (``resource_patch`` with ``upload``), by curl, by ckanapi
(its Python client and its command line) and by Python's requests, then reads the check before
loading back (``cd3p_resource_check_show``) until the file is loaded, held or refused.

Everything goes over HTTP to the portal's application, served here on 127.0.0.1 by a real WSGI
server (werkzeug) with this test's configuration (the test environments give xloader no API token,
and ``xloader_token`` gives it one valid in this test's database), and through the real worker, as
a partner's script would: no action is called in this process after the first file is in place,
except to read what must not have changed. The rows the DataStore serves are compared with the rows
of the file pushed, parsed here on their own.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests
from ckan.lib import uploader
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from werkzeug.serving import make_server

from ckanext.cd3p.common import geography
from tests import factories, partners
from tests.helpers import poll, serving, wait_for_load
from tests.web import person

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")

TRACTS = sorted(geography.tracts())[:4]
HEADER = "geoid,households,no_computer\n"


def tract_file(households: int, no_computer: int) -> str:
    """A CSV of four Detroit tracts, each count one more than the last tract's."""
    return HEADER + "".join(f"{g},{households + i},{no_computer + i}\n" for i, g in enumerate(TRACTS))


FIRST = tract_file(1000, 100)
PERSONAL = (
    "participant,email,phone,households\n"
    "Maria Johnson,maria.johnson@example.org,(313) 555-0142,3\n"
    "James Williams,jwilliams@example.com,313-555-0177,2\n"
    "Patricia Brown,pbrown@example.net,313.555.0190,4\n"
    "Robert Davis,robert.davis@example.org,(313) 555-0111,1\n"
)


def rows_of(text: str) -> list[dict[str, Any]]:
    """The rows a tract file should load as: the geography code as text, the counts as integers."""
    return [
        {"geoid": row["geoid"], "households": int(row["households"]), "no_computer": int(row["no_computer"])}
        for row in csv.DictReader(io.StringIO(text))
    ]


_SERVED: list[str] = []


@pytest.fixture(autouse=True)
def portal(app: Any) -> Iterator[str]:
    """The portal's application served over HTTP on a free port of 127.0.0.1 for the test."""
    with serving(make_server("127.0.0.1", 0, app.flask_app, threaded=True)) as base:
        _SERVED[:] = [base]
        yield base


def site_url() -> str:
    """Where the partner's script sends its calls: the application served for the test."""
    return _SERVED[0]


def api(action: str, token: str | None = None, **data: Any) -> requests.Response:
    """An action called over HTTP, as a partner's script calls it (JSON body, token header)."""
    headers = {"Authorization": token} if token else {}
    return requests.post(f"{site_url()}/api/3/action/{action}", json=data, headers=headers, timeout=30)


def result(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text[:2000]
    answer = response.json()
    assert answer["success"] is True
    return answer["result"]


def read_back(resource_id: str, token: str, after: str) -> dict[str, Any]:
    """``cd3p_resource_check_show`` over HTTP until the check of the pushed file (not the earlier
    check ``after``) is decided and, if it passed, its load has ended."""

    def decided() -> dict[str, Any] | None:
        check = result(api("cd3p_resource_check_show", token, id=resource_id))
        if check["id"] == after or check["state"] == "pending":
            return None
        load = check["report"].get("load") or {}
        if check["state"] == "passed" and load.get("state") not in ("complete", "failed"):
            return None
        return check

    return poll(decided, timeout=120, what=f"the check of the file pushed to {resource_id}", every=0.3)


def table(resource_id: str, token: str) -> list[dict[str, Any]]:
    """The resource's DataStore rows over HTTP, in the file's order, without ``_id``."""
    found = result(api("datastore_search", token, resource_id=resource_id, sort="_id", limit=1000))
    assert found["total"] == len(found["records"])
    return [{k: v for k, v in record.items() if k != "_id"} for record in found["records"]]


@pytest.fixture
def loaded(partner: dict[str, Any], put: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A public dataset of the partner with a tract table whose first file (FIRST) is loaded."""
    dataset = factories.Dataset(owner_org=partner["org"]["id"], access_level="public")
    resource = put(FIRST.encode(), "tracts.csv", dataset, geo_key_column="geoid", geo_key_level="tract")
    check = wait_for_load(resource["id"])
    assert (check["state"], check["report"]["load"]["state"]) == ("passed", "complete")
    return {"dataset": dataset, "resource": resource, "check": check, "token": partner["editor"]["token"]}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_loaded(loaded: dict[str, Any], name: str, text: str) -> None:
    """The pushed file ``name`` replaced the resource's file, passed its check and is the table."""
    rid, token = loaded["resource"]["id"], loaded["token"]
    shown = result(api("resource_show", token, id=rid))
    assert shown["url_type"] == "upload"
    site = tk.config["ckan.site_url"].rstrip("/")
    assert shown["url"] == f"{site}/dataset/{loaded['dataset']['id']}/resource/{rid}/download/{name}"
    assert shown["size"] == len(text.encode())
    download = requests.get(shown["url"], headers={"Authorization": token}, timeout=30)
    assert (download.status_code, download.content) == (200, text.encode())

    check = read_back(rid, token, after=loaded["check"]["id"])
    assert check["state"] == "passed", check["report"]
    assert check["report"]["file"] == name
    assert check["report"]["findings"] == []
    assert check["report"]["geography"] == {
        "column": "geoid",
        "level": "tract",
        "checked": True,
        "rows": 4,
        "unknown_total": 0,
        "unknown": [],
    }
    assert check["report"]["load"]["state"] == "complete"
    assert check["report"]["load"]["rows"] == 4
    assert table(rid, token) == rows_of(text)
    assert table(rid, token) != rows_of(FIRST)


# --- the three ways ---------------------------------------------------------------------------------


def test_curl_replaces_the_file_and_the_check_reads_back_passed(
    loaded: dict[str, Any], tmp_path: Path
) -> None:
    text = tract_file(2000, 200)
    path = write(tmp_path, "tracts-2025.csv", text)

    done = subprocess.run(
        [
            "curl",
            "-sS",
            "-H",
            f"Authorization: {loaded['token']}",
            "-F",
            f"id={loaded['resource']['id']}",
            "-F",
            f"upload=@{path}",
            f"{site_url()}/api/3/action/resource_patch",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["success"] is True, answer
    assert answer["result"]["id"] == loaded["resource"]["id"]
    assert_loaded(loaded, "tracts-2025.csv", text)


def test_ckanapi_in_python_replaces_the_file(loaded: dict[str, Any], tmp_path: Path) -> None:
    text = tract_file(3000, 300)
    path = write(tmp_path, "tracts-2026.csv", text)

    portal = ckanapi.RemoteCKAN(site_url(), apikey=loaded["token"], user_agent="cd3p-push-test")
    with path.open("rb") as upload:
        patched = portal.action.resource_patch(id=loaded["resource"]["id"], upload=upload)

    assert patched["id"] == loaded["resource"]["id"]
    assert_loaded(loaded, "tracts-2026.csv", text)
    # The check read back through ckanapi too.
    check = portal.action.cd3p_resource_check_show(id=loaded["resource"]["id"])
    assert (check["state"], check["report"]["load"]["state"]) == ("passed", "complete")


def test_the_ckanapi_command_replaces_the_file(loaded: dict[str, Any], tmp_path: Path) -> None:
    text = tract_file(4000, 400)
    path = write(tmp_path, "tracts-2027.csv", text)
    command = Path(sys.executable).with_name("ckanapi")

    done = subprocess.run(
        [
            str(command),
            "action",
            "resource_patch",
            f"id={loaded['resource']['id']}",
            f"upload@{path}",
            "-r",
            site_url(),
            "-a",
            loaded["token"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["id"] == loaded["resource"]["id"]
    assert_loaded(loaded, "tracts-2027.csv", text)


def test_python_requests_replaces_the_file(loaded: dict[str, Any]) -> None:
    text = tract_file(5000, 500)

    response = requests.post(
        f"{site_url()}/api/3/action/resource_patch",
        headers={"Authorization": loaded["token"]},
        data={"id": loaded["resource"]["id"]},
        files={"upload": ("tracts-2028.csv", text.encode(), "text/csv")},
        timeout=60,
    )

    assert result(response)["id"] == loaded["resource"]["id"]
    assert_loaded(loaded, "tracts-2028.csv", text)


# --- what is refused --------------------------------------------------------------------------------


def assert_first_table_kept(loaded: dict[str, Any]) -> None:
    rid, token = loaded["resource"]["id"], loaded["token"]
    assert table(rid, token) == rows_of(FIRST)
    assert result(api("resource_show", token, id=rid))["datastore_active"] is True


def test_a_file_with_an_unknown_tract_fails_and_the_previous_table_is_kept(loaded: dict[str, Any]) -> None:
    rid, token = loaded["resource"]["id"], loaded["token"]
    bad = FIRST + "26999999999,5,1\n"  # a tract outside Detroit, on the file's sixth line

    response = requests.post(
        f"{site_url()}/api/3/action/resource_patch",
        headers={"Authorization": token},
        data={"id": rid},
        files={"upload": ("tracts-bad.csv", bad.encode(), "text/csv")},
        timeout=60,
    )
    assert result(response)["url"].endswith("/tracts-bad.csv")  # the file is replaced, not loaded

    check = read_back(rid, token, after=loaded["check"]["id"])
    assert check["state"] == "failed"
    assert check["report"]["file"] == "tracts-bad.csv"
    assert check["report"]["geography"] == {
        "column": "geoid",
        "level": "tract",
        "checked": True,
        "rows": 5,
        "unknown_total": 1,
        "unknown": [{"sheet": "", "row": 6, "value": "26999999999"}],
    }
    assert "load" not in check["report"]
    assert_first_table_kept(loaded)
    status = result(api("xloader_status", token, resource_id=rid))
    assert status["status"] == "error"
    assert status["error"]["message"] == (
        "Not loaded: the file failed its check. 1 geography code is not known ('26999999999', row 6)."
    )


def test_a_file_with_personal_data_is_held_and_the_previous_table_is_kept(loaded: dict[str, Any]) -> None:
    rid, token = loaded["resource"]["id"], loaded["token"]

    response = requests.post(
        f"{site_url()}/api/3/action/resource_patch",
        headers={"Authorization": token},
        data={"id": rid, "geo_key_column": "", "geo_key_level": ""},
        files={"upload": ("participants.csv", PERSONAL.encode(), "text/csv")},
        timeout=60,
    )
    result(response)

    check = read_back(rid, token, after=loaded["check"]["id"])
    assert check["state"] == "held"
    flagged = {(f["column"], f["kind"]) for f in check["report"]["findings"]}
    assert {("participant", "person_name"), ("email", "email"), ("phone", "phone")} <= flagged
    assert check["report"]["previous_access_level"] == "public"
    assert "load" not in check["report"]
    assert_first_table_kept(loaded)
    dataset = result(api("package_show", token, id=loaded["dataset"]["id"]))
    assert (dataset["access_level"], dataset["private"]) == ("organization", True)


@pytest.mark.parametrize("who", ["member", "outsider", "anonymous"])
def test_a_token_that_may_not_edit_the_dataset_is_refused_and_nothing_changes(
    loaded: dict[str, Any], partner: dict[str, Any], who: str
) -> None:
    rid = loaded["resource"]["id"]
    tokens = {
        "member": partner["member"]["token"],
        "outsider": person(token=True)["token"],
        "anonymous": None,
    }
    token = tokens[who]
    before = call_action("resource_show", {"user": partners.site_user()}, id=rid)

    response = requests.post(
        f"{site_url()}/api/3/action/resource_patch",
        headers={"Authorization": token} if token else {},
        data={"id": rid},
        files={"upload": ("tracts-2025.csv", tract_file(9000, 900).encode(), "text/csv")},
        timeout=60,
    )

    assert response.status_code == 403
    answer = response.json()
    assert answer["success"] is False
    assert answer["error"]["__type"] == "Authorization Error"
    # Nor may they read the file's check.
    assert api("cd3p_resource_check_show", token, id=rid).status_code == 403

    after = call_action("resource_show", {"user": partners.site_user()}, id=rid)
    assert after == before
    stored = uploader.get_resource_uploader(after).get_path(rid)
    assert Path(stored).read_bytes() == FIRST.encode()
    assert result(api("cd3p_resource_check_show", loaded["token"], id=rid))["id"] == loaded["check"]["id"]
    assert_first_table_kept(loaded)
