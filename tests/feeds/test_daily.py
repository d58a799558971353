"""The daily freshness job (`ckan cd3p freshness run`), frozen in time, delivering to a real SMTP
server (aiosmtpd) on 127.0.0.1: the data steward is told once when a dataset becomes overdue (its
organization's admins when it has no steward), sysadmins once when it becomes delinquent; running
the job again tells nothing new, and a data change makes the next overdue news again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan import model
from ckan.cli.cli import ckan
from ckan.tests.helpers import CKANCliRunner, call_action
from freezegun import freeze_time

from ckanext.cd3p.feeds import daily, freshness
from tests import factories, partners
from tests.mail import Inbox, body, subject

pytestmark = pytest.mark.usefixtures("with_plugins", "with_request_context", "clean_index")

DAY = dt.timedelta(days=1)


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """A signed partner with an admin; its weekly dataset with a data steward, and a monthly one
    without; a sysadmin."""
    world: dict[str, Any] = {
        "admin": factories.User(email="orgadmin@example.org"),
        "sysadmin": factories.Sysadmin(email="sysadmin@example.org"),
    }
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    world["stewarded"] = factories.Dataset(
        owner_org=world["org"]["id"],
        name="hotspot-loans",
        title="Hotspot loans & returns",
        update_frequency="weekly",
        steward_name="Dana Reyes",
        steward_email="dana.reyes@example.org",
    )
    world["orphan"] = factories.Dataset(
        owner_org=world["org"]["id"],
        name="device-repairs",
        title="Device repairs",
        update_frequency="monthly",
    )
    world["never"] = factories.Dataset(owner_org=world["org"]["id"], update_frequency="never")
    return world


def _created(dataset: dict[str, Any]) -> dt.datetime:
    found = freshness.moment(dataset["metadata_created"])
    assert found is not None
    return found


def _told(inbox: Inbox) -> list[tuple[str, str]]:
    """(recipient, subject) of the messages since the last call, sorted; then forgotten."""
    found = sorted((m["To"].split("<")[-1].rstrip(">"), subject(m)) for m in inbox.messages)
    inbox.clear()
    return found


def _sysadmin_addresses() -> list[str]:
    users = model.Session.query(model.User).filter_by(sysadmin=True, state="active").all()
    return sorted(u.email for u in users if u.email)


def test_the_steward_is_told_once_when_overdue_and_sysadmins_once_when_delinquent(
    w: dict[str, Any], inbox: Inbox
) -> None:
    start = _created(w["stewarded"])
    inbox.clear()

    with freeze_time(start + 7 * DAY):  # due: nobody is told
        assert daily.run()["changed"] == 1
    assert _told(inbox) == []

    with freeze_time(start + 14 * DAY):
        counts = daily.run()
    assert (counts["overdue"], counts["delinquent"]) == (1, 0)
    (message,) = inbox.messages
    assert _told(inbox) == [("dana.reyes@example.org", "Overdue: Hotspot loans & returns")]
    text = body(message)
    assert text.startswith("Dana Reyes,\n")
    assert 'The dataset "Hotspot loans & returns" is overdue for an update.' in text  # not HTML-escaped
    assert f"its data last changed on {start.date().isoformat()} (UTC)" in text
    assert f"a new version was due on {(start + 7 * DAY).date().isoformat()}" in text
    assert "Its update frequency is Weekly" in text
    assert "/dataset/hotspot-loans" in text

    for later in (14, 15, 20):  # the same state again: nothing new
        with freeze_time(start + later * DAY + dt.timedelta(hours=1)):
            daily.run()
    assert _told(inbox) == []

    with freeze_time(start + 21 * DAY + dt.timedelta(hours=1)):
        counts = daily.run()
    assert (counts["overdue"], counts["delinquent"]) == (0, 1)
    addresses = _sysadmin_addresses()
    assert "sysadmin@example.org" in addresses
    assert _told(inbox) == [(a, "Delinquent: Hotspot loans & returns") for a in addresses]

    with freeze_time(start + 22 * DAY):
        daily.run()
    assert _told(inbox) == []

    # New data: fresh again, so its next overdue is news again.
    with freeze_time(start + 30 * DAY):
        resource = factories.Resource(package_id=w["stewarded"]["id"], url="http://example.com/l.csv")
        call_action(
            "datastore_create",
            resource_id=resource["id"],
            force=True,
            fields=[{"id": "loans", "type": "int"}],
            records=[{"loans": 3}],
        )
        assert call_action("cd3p_freshness_show", id="hotspot-loans")["state"] == "fresh"
        daily.run()
    assert _told(inbox) == []
    with freeze_time(start + 44 * DAY):
        daily.run()
    assert _told(inbox) == [("dana.reyes@example.org", "Overdue: Hotspot loans & returns")]


def test_without_a_steward_the_organizations_admins_are_told_and_straight_to_delinquent_both(
    w: dict[str, Any], inbox: Inbox
) -> None:
    start = _created(w["orphan"])
    inbox.clear()
    admins = call_action("member_list", id=w["org"]["id"], object_type="user", capacity="admin")
    admin_addresses = sorted(filter(None, (model.User.get(user_id).email for user_id, _, _ in admins)))
    assert "orgadmin@example.org" in admin_addresses

    with freeze_time(start + 60 * DAY):  # the monthly dataset: delinquent at once (the weekly one too)
        counts = daily.run()
    assert (counts["overdue"], counts["delinquent"]) == (2, 2)
    told = _told(inbox)
    assert [t for t in told if t[1] == "Overdue: Device repairs"] == [
        (a, "Overdue: Device repairs") for a in admin_addresses
    ]
    assert [t for t in told if t[1] == "Delinquent: Device repairs"] == [
        (a, "Delinquent: Device repairs") for a in _sysadmin_addresses()
    ]
    with freeze_time(start + 61 * DAY):
        daily.run()
    assert _told(inbox) == []


def test_the_command_runs_the_job(w: dict[str, Any], ckan_config: Any) -> None:
    """What a daily scheduler runs: `ckan -c <ini> cd3p freshness run`."""
    runner = CKANCliRunner(env={"CKAN_INI": ckan_config["__file__"]})
    with freeze_time(_created(w["stewarded"]) + 14 * DAY):
        result = runner.invoke(ckan, ["cd3p", "freshness", "run"])
    assert result.exit_code == 0, result.output
    assert "freshness: hotspot-loans: fresh -> overdue" in result.output
    assert (
        "freshness: 2 datasets evaluated, 1 changed state, 1 overdue and 0 delinquent told" in result.output
    )
