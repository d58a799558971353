"""Uploads are loaded into the DataStore by the real xloader worker (a separate process)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from ckan.tests.helpers import call_action

from tests import factories
from tests.helpers import wait_for_check, wait_for_xloader

CSV = (
    "geoid,tract,households,share_no_computer,surveyed_on\n"
    "26163520300,Tract 5203,1234,0.096,2019-06-01\n"
    "26163520400,Tract 5204,877,0.215,2019-06-02\n"
    "26163520500,Tract 5205,1502,,2019-06-03\n"
)


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestXloader:
    def test_uploaded_csv_is_loaded_with_typed_columns(
        self, organization: dict[str, Any], upload: Callable[..., dict[str, Any]], xloader_token: str
    ) -> None:
        dataset = factories.Dataset(owner_org=organization["id"])

        resource = upload(dataset["id"], CSV.encode(), "tracts.csv", format="CSV")
        status = wait_for_xloader(resource["id"])

        assert status["status"] == "complete", status
        result = call_action("datastore_search", resource_id=resource["id"], sort="_id")
        types = {f["id"]: f["type"] for f in result["fields"]}
        # A GEOID is a code, not an amount: it stays text.
        assert types == {
            "_id": "int",
            "geoid": "text",
            "tract": "text",
            "households": "int8",
            "share_no_computer": "numeric",
            "surveyed_on": "date",
        }
        expected = list(csv.DictReader(io.StringIO(CSV)))
        assert result["total"] == len(expected) == 3
        assert [r["households"] for r in result["records"]] == [int(r["households"]) for r in expected]
        assert result["records"][0]["share_no_computer"] == pytest.approx(0.096)
        # An empty cell is no data, not zero.
        assert result["records"][2]["share_no_computer"] is None
        assert result["records"][1]["surveyed_on"].startswith("2019-06-02")
        assert call_action("resource_show", id=resource["id"])["datastore_active"] is True

    def test_data_dictionary_type_survives_a_reload(
        self, organization: dict[str, Any], upload: Callable[..., dict[str, Any]], xloader_token: str
    ) -> None:
        """An editor keeps an identifier as text; the reload keeps the leading zero."""
        dataset = factories.Dataset(owner_org=organization["id"])
        data = b"fips,no_internet_pct\n01117030317,7.37\n26163520300,21.4\n"
        resource = upload(dataset["id"], data, "no_internet.csv", format="CSV")
        assert wait_for_xloader(resource["id"])["status"] == "complete"
        fields = call_action("datastore_info", id=resource["id"])["fields"]

        call_action(
            "datastore_create",
            resource_id=resource["id"],
            force=True,
            fields=[
                {
                    "id": f["id"],
                    "type": f["type"],
                    "info": {"type_override": "text" if f["id"] == "fips" else f["type"]},
                }
                for f in fields
            ],
        )
        call_action("xloader_submit", resource_id=resource["id"], ignore_hash=True)
        assert wait_for_xloader(resource["id"])["status"] == "complete"

        records = call_action("datastore_search", resource_id=resource["id"], sort="_id")["records"]
        assert [r["fips"] for r in records] == ["01117030317", "26163520300"]
        assert records[0]["no_internet_pct"] == pytest.approx(7.37)

    def test_malformed_upload_ends_in_a_visible_error(
        self,
        app: Any,
        sysadmin: dict[str, Any],
        organization: dict[str, Any],
        upload: Callable[..., dict[str, Any]],
        xloader_token: str,
    ) -> None:
        """Refused by the check before loading, which says why on the resource page."""
        dataset = factories.Dataset(owner_org=organization["id"])
        # Binary noise with a .csv name, as when a spreadsheet is saved with the wrong extension.
        garbage = bytes(range(256)) * 40

        resource = upload(dataset["id"], garbage, "broken.csv", format="CSV")
        check = wait_for_check(resource["id"])

        assert check["state"] == "failed"
        assert "not CSV text" in check["report"]["error"]
        assert call_action("resource_show", id=resource["id"]).get("datastore_active") is not True
        page = app.get(
            f"/dataset/{dataset['id']}/resource/{resource['id']}",
            headers={"Authorization": sysadmin["token"]},
        )
        assert page.status_code == 200
        assert "not CSV text" in page.body

    def test_ragged_csv_names_the_rows(
        self, organization: dict[str, Any], upload: Callable[..., dict[str, Any]], xloader_token: str
    ) -> None:
        dataset = factories.Dataset(owner_org=organization["id"])
        ragged = b"geoid,households\n26163520300,1234\n26163520400,877,extra,cells\n"

        resource = upload(dataset["id"], ragged, "ragged.csv", format="CSV")
        check = wait_for_check(resource["id"])

        assert check["state"] == "failed", check
        assert "Row 3 of the file has more fields than the header's 2 columns" in check["report"]["error"]
