"""What moves a dataset's last data change: a DataStore write, a table loaded by the worker, and
not an edit of its metadata; and what a data change does to an overdue dataset (fresh again, in
the search index too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from ckan.tests.helpers import call_action
from freezegun import freeze_time

from ckanext.cd3p.feeds import daily, freshness
from tests import factories
from tests.helpers import wait_for_load

DAY = dt.timedelta(days=1)


def _last_change(dataset: dict[str, Any]) -> dt.datetime:
    found = freshness.moment(call_action("cd3p_freshness_show", id=dataset["id"])["last_change"])
    assert found is not None
    return found


def _table(resource_id: str, households: int = 812) -> None:
    call_action(
        "datastore_create",
        resource_id=resource_id,
        force=True,
        fields=[{"id": "geoid", "type": "text"}, {"id": "households", "type": "int"}],
        records=[{"geoid": "26163500100", "households": households}],
    )


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestLastChange:
    @pytest.fixture
    def dataset(self, organization: dict[str, Any]) -> dict[str, Any]:
        return factories.Dataset(owner_org=organization["id"], update_frequency="weekly")

    def test_a_datastore_write_moves_it_and_a_metadata_edit_does_not(
        self, dataset: dict[str, Any], sysadmin: dict[str, Any]
    ) -> None:
        resource = factories.Resource(package_id=dataset["id"], url="http://example.com/d.csv", format="CSV")
        created = _last_change(dataset)
        assert created == freshness.moment(resource["created"])

        _table(resource["id"])
        written = _last_change(dataset)
        assert written > created

        editor = {"user": sysadmin["name"]}
        call_action(
            "package_patch", editor, id=dataset["id"], title="Hotspots lent, renamed", notes="New words"
        )
        call_action("resource_patch", editor, id=resource["id"], description="The loans, by tract")
        assert _last_change(dataset) == written

        call_action(
            "datastore_upsert",
            resource_id=resource["id"],
            force=True,
            method="insert",
            records=[{"geoid": "26163500200", "households": 640}],
        )
        upserted = _last_change(dataset)
        assert upserted > written

        call_action(
            "datastore_delete", resource_id=resource["id"], force=True, filters={"geoid": "26163500200"}
        )
        assert _last_change(dataset) > upserted

    def test_a_table_loaded_by_the_worker_moves_it(
        self, dataset: dict[str, Any], upload: Callable[..., dict[str, Any]], xloader_token: str
    ) -> None:
        resource = upload(dataset["id"], b"geoid,households\n26163500100,812\n", "hotspots.csv", format="CSV")
        check = wait_for_load(resource["id"])
        assert check["report"]["load"]["state"] == "complete", check

        uploaded = freshness.moment(call_action("resource_show", id=resource["id"])["last_modified"])
        assert uploaded is not None
        # The load, after the upload, is the last change (recorded by the worker).
        assert _last_change(dataset) > uploaded

    def test_a_data_change_makes_an_overdue_dataset_fresh_in_search_too(
        self, dataset: dict[str, Any]
    ) -> None:
        resource = factories.Resource(package_id=dataset["id"], url="http://example.com/d.csv", format="CSV")
        later = freshness.moment(resource["created"]) + 15 * DAY
        with freeze_time(later):
            daily.run()
            assert call_action("cd3p_freshness_show", id=dataset["id"])["state"] == "overdue"
            assert _found("overdue") == [dataset["name"]]

            _table(resource["id"])

            found = call_action("cd3p_freshness_show", id=dataset["id"])
            assert (found["state"], found["last_change"]) == ("fresh", later.isoformat())
            assert _found("overdue") == []
            assert _found("fresh") == [dataset["name"]]


def _found(state: str) -> list[str]:
    result = call_action("package_search", fq=f'freshness:"{state}"', include_private=True)
    return sorted(d["name"] for d in result["results"])
