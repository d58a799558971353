"""The queues: the open requests waiting on an organization's admins (every one, for sysadmins),
oldest first with their age, through the API and the page; everyone else is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from tests import factories, partners
from tests.requests.world import act, closed_dataset
from tests.web import PASSWORD, Browser, is_login_redirect, person, soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """Two signed partners, and requests asked 30, 20, 10 and 5 days ago: one addressed to the City,
    one addressed to Eastside, one assigned to Westside, and an access request for Eastside's
    dataset; and one addressed to Eastside that is closed."""
    world: dict[str, Any] = {
        "sysadmin": factories.Sysadmin(password=PASSWORD),
        "resident": person(),
        "east_admin": person(),
        "west_admin": person(),
    }
    partners.acknowledge(world["resident"])
    world["east"] = partners.organization(world["east_admin"], title="Eastside Connect")
    world["west"] = partners.organization(world["west_admin"], title="Westside Labs")
    world["closed"], _ = closed_dataset(world["east"])

    def ask(days: int, **data: Any) -> dict[str, Any]:
        with freeze_time(NOW - dt.timedelta(days=days)):
            return act("cd3p_data_request_create", world["resident"], description="Please", **data)

    world["city"] = ask(30, title="Library Wi-Fi use")
    world["to_east"] = ask(20, title="Hotspot loans", addressed_to=world["east"]["name"])
    world["to_west"] = ask(10, title="Laptop repairs")
    act(
        "cd3p_data_request_assign",
        world["sysadmin"],
        id=world["to_west"]["id"],
        organization_id=world["west"]["id"],
    )
    world["access"] = ask(
        5, kind="access", title="Device recipients", dataset_id=world["closed"]["id"], purpose="Planning"
    )
    done = ask(40, title="Old question", addressed_to=world["east"]["name"])
    act("cd3p_data_request_assign", world["east_admin"], id=done["id"], organization_id=world["east"]["id"])
    act("cd3p_data_request_close", world["east_admin"], id=done["id"], outcome="declined", reason="Answered")
    return world


def _queue(user: dict[str, Any], **data: Any) -> dict[str, Any]:
    with freeze_time(NOW):
        return act("cd3p_data_request_queue", user, **data)


def test_each_admin_sees_what_waits_on_their_organization_oldest_first(w: dict[str, Any]) -> None:
    every = _queue(w["sysadmin"])
    assert [(r["title"], r["age_days"]) for r in every["results"]] == [
        ("Library Wi-Fi use", 30),
        ("Hotspot loans", 20),
        ("Laptop repairs", 10),
        ("Device recipients", 5),
    ]
    assert (every["count"], every["unassigned"]) == (4, 3)
    assert [r["title"] for r in _queue(w["east_admin"])["results"]] == ["Hotspot loans", "Device recipients"]
    assert [r["title"] for r in _queue(w["west_admin"])["results"]] == ["Laptop repairs"]
    one = _queue(w["sysadmin"], organization_id=w["west"]["name"])
    assert [r["title"] for r in one["results"]] == ["Laptop repairs"]


def test_the_queue_is_refused_to_everyone_else(w: dict[str, Any]) -> None:
    for user in (None, w["resident"]):
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_queue", user)
    with pytest.raises(tk.NotAuthorized):
        act("cd3p_data_request_queue", w["east_admin"], organization_id=w["west"]["id"])
    with pytest.raises(tk.ObjectNotFound):
        act("cd3p_data_request_queue", w["east_admin"], organization_id="no-such-org")
    with pytest.raises(tk.ValidationError):
        act("cd3p_data_request_queue", w["east_admin"], limit="many")


def test_the_queue_page(app: Any, w: dict[str, Any]) -> None:
    assert is_login_redirect(Browser(app).get("/data-requests/queue"))
    assert Browser(app, w["resident"]).get("/data-requests/queue").status_code == 403
    # Logged in at the frozen time too: a session from a later time is not valid yet.
    with freeze_time(NOW):
        east = Browser(app, w["east_admin"])
        page = east.get("/data-requests/queue")
    assert page.status_code == 200
    rows = soup(page).select("table.cd3p-queue tbody tr")
    assert [
        (r.select_one("a").get_text(strip=True), r.select_one(".cd3p-age").get_text(strip=True)) for r in rows
    ] == [
        ("Hotspot loans", "20"),
        ("Device recipients", "5"),
    ]
    assert east.get(f"/data-requests/queue?organization={w['west']['name']}").status_code == 403
    assert east.get("/data-requests/queue?organization=nothing").status_code == 404
    refused = east.get("/data-requests/queue?organization=a%00b")
    assert refused.status_code == 400
    assert "organization_id" in refused.get_data(as_text=True)
    # The list links to the queue for those who have one.
    assert soup(east.get("/data-requests")).select_one("a.cd3p-queue-link") is not None
    assert soup(Browser(app, w["resident"]).get("/data-requests")).select_one("a.cd3p-queue-link") is None
