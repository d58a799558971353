"""Freshness states at each threshold of each frequency (HDX's), frozen in time: the rule itself,
and ``cd3p_freshness_show`` on a dataset as time passes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from freezegun import freeze_time

from ckanext.cd3p.feeds import freshness
from tests import factories

DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
CHANGED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

# HDX's thresholds: due, overdue, delinquent (days after the last change).
TABLE = {
    "continuous": (1, 2, 3),
    "daily": (1, 2, 3),
    "weekly": (7, 14, 21),
    "monthly": (30, 44, 60),
    "quarterly": (90, 120, 150),
    "semiannual": (180, 210, 240),
    "annual": (365, 425, 455),
}


def _boundaries(due: int, overdue: int, delinquent: int) -> list[tuple[dt.timedelta, str]]:
    """(time since the last change, state) just before and at each threshold."""
    return [
        (dt.timedelta(0), "fresh"),
        (due * DAY - SECOND, "fresh"),
        (due * DAY, "due"),
        (overdue * DAY - SECOND, "due"),
        (overdue * DAY, "overdue"),
        (delinquent * DAY - SECOND, "overdue"),
        (delinquent * DAY, "delinquent"),
        (3650 * DAY, "delinquent"),
    ]


@pytest.mark.parametrize("frequency", sorted(TABLE))
def test_each_frequency_changes_state_at_hdx_thresholds(frequency: str) -> None:
    for age, expected in _boundaries(*TABLE[frequency]):
        with freeze_time(CHANGED + age):
            assert freshness.state(frequency, CHANGED) == expected, (frequency, age)
    assert freshness.due_at(frequency, CHANGED) == CHANGED + TABLE[frequency][0] * DAY


@pytest.mark.parametrize("frequency", ["irregular", "never", None, "", "fortnightly"])
def test_as_needed_never_and_no_frequency_are_always_fresh(frequency: str | None) -> None:
    with freeze_time(CHANGED + 10_000 * DAY):
        assert freshness.state(frequency, CHANGED) == "fresh"
    assert freshness.due_at(frequency, CHANGED) is None


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestShow:
    @pytest.fixture
    def org(self) -> dict[str, Any]:
        return factories.Organization()

    def test_a_weekly_dataset_without_data_ages_from_its_creation(self, org: dict[str, Any]) -> None:
        dataset = factories.Dataset(owner_org=org["id"], update_frequency="weekly", name="wifi-hotspots")
        created = freshness.moment(dataset["metadata_created"])
        assert created is not None
        for age, expected in _boundaries(7, 14, 21):
            with freeze_time(created + age):
                found = call_action("cd3p_freshness_show", id="wifi-hotspots")
            assert found == {
                "id": dataset["id"],
                "name": "wifi-hotspots",
                "title": dataset["title"],
                "state": expected,
                "last_change": created.isoformat(),
                "due_at": (created + 7 * DAY).isoformat(),
                "frequency": "weekly",
            }, age

    def test_a_dataset_updated_as_needed_is_fresh_with_no_due_date(self, org: dict[str, Any]) -> None:
        dataset = factories.Dataset(owner_org=org["id"], update_frequency="irregular")
        with freeze_time(dt.datetime.now(dt.UTC) + 1000 * DAY):
            found = call_action("cd3p_freshness_show", id=dataset["name"])
        assert (found["state"], found["due_at"], found["frequency"]) == ("fresh", None, "irregular")

    def test_the_newest_resource_is_the_last_change(self, org: dict[str, Any]) -> None:
        dataset = factories.Dataset(owner_org=org["id"], update_frequency="monthly")
        resource = factories.Resource(
            package_id=dataset["id"], url="http://example.com/a.csv", last_modified="2030-01-05T10:00:00"
        )
        assert resource["last_modified"].startswith("2030-01-05")
        with freeze_time("2030-02-04T10:00:00Z"):  # 30 days later
            found = call_action("cd3p_freshness_show", id=dataset["id"])
        assert found["last_change"] == "2030-01-05T10:00:00+00:00"
        assert found["due_at"] == "2030-02-04T10:00:00+00:00"
        assert found["state"] == "due"

    def test_only_those_who_may_see_the_dataset_are_answered(self, org: dict[str, Any]) -> None:
        closed = factories.Dataset(
            owner_org=org["id"], update_frequency="weekly", access_level="organization"
        )
        stranger = factories.User()
        with pytest.raises(tk.NotAuthorized):
            call_action(
                "cd3p_freshness_show", {"user": stranger["name"], "ignore_auth": False}, id=closed["id"]
            )
        with pytest.raises(tk.ObjectNotFound):
            call_action("cd3p_freshness_show", id="no-such-dataset")
        with pytest.raises(tk.ValidationError):
            call_action("cd3p_freshness_show", {"ignore_auth": True})
