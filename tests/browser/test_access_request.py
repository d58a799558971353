"""An access request in a real browser: a registered user asks for an organization-only dataset,
the organization's admin approves it, and the user opens the data (issue 16)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests import partners
from tests.browser.conftest import log_in
from tests.requests.world import closed_dataset
from tests.web import person

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "clean_datastore")


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    world: dict[str, Any] = {"admin": person(), "resident": person()}
    partners.acknowledge(world["resident"])
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    world["closed"], world["resource"] = closed_dataset(world["org"], name="device-recipients")
    return world


def test_a_user_asks_for_access_an_admin_approves_and_the_user_opens_the_data(
    browser: Browser, contexts: list[BrowserContext], site_url: str, w: dict[str, Any]
) -> None:
    resident = log_in(browser, contexts, site_url, w["resident"]["name"])
    dataset_url = f"{site_url}/dataset/device-recipients"
    assert resident.goto(dataset_url).status == 404  # not theirs to read yet

    # The "not found" page offers to ask for access to the dataset named in its address.
    resident.get_by_role("link", name="Ask for access").click()
    expect(resident).to_have_url(site_url + "/data-requests/new?kind=access&dataset=device-recipients")
    resident.fill("#field-title", "Device recipients by tract")
    resident.fill("#field-purpose", "Plan next year's device drive")
    resident.fill("#field-description", "Only the counts by tract")
    resident.get_by_role("button", name="Ask").click()
    expect(resident).to_have_url(re.compile(r"/data-requests/[0-9a-f-]{36}$"))
    request_url = resident.url

    admin = log_in(browser, contexts, site_url, w["admin"]["name"])
    admin.goto(request_url)
    expect(admin.locator(".cd3p-purpose")).to_contain_text("Plan next year's device drive")
    admin.select_option("#field-outcome", "fulfilled")
    admin.get_by_role("button", name="Close the request").click()
    expect(admin.locator(".cd3p-outcome")).to_contain_text("Fulfilled")

    # The user opens the dataset's page, and its table through the API in the same session.
    assert resident.goto(dataset_url).status == 200
    expect(resident.get_by_role("article").get_by_role("heading", name="Device recipients")).to_be_visible()
    api = resident.request.get(f"{site_url}/api/3/action/datastore_search?resource_id={w['resource']['id']}")
    assert api.status == 200
    assert [r["tract"] for r in api.json()["result"]["records"]] == ["26163500100"]
    # Another registered user still cannot.
    other = person()
    neighbour = log_in(browser, contexts, site_url, other["name"])
    assert neighbour.goto(dataset_url).status == 404
