"""Becoming a partner, in a real browser against the test web server: a registered user applies, a
sysadmin approves, the new admin signs the Data Sharing Agreement, then publishes a table that the
xloader worker loads into the DataStore."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.tests.helpers import call_action
from playwright.sync_api import Browser, BrowserContext, expect

from tests import factories, partners
from tests.browser.conftest import log_in
from tests.helpers import wait_for_xloader
from tests.web import PASSWORD

CSV = "neighborhood,laptops_lent,households\nBrightmoor,120,4310\nChadsey Condon,85,5120\nOsborn,143,6450\n"


@pytest.fixture
def sysadmin(clean_db: None) -> dict[str, Any]:
    """A sysadmin who logs in with PASSWORD; its API token is the one the xloader_token fixture
    hands to the worker."""
    return factories.SysadminWithToken(name="city-admin", password=PASSWORD)


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "clean_datastore")
def test_a_partner_applies_is_approved_signs_and_publishes(
    browser: Browser,
    contexts: list[BrowserContext],
    site_url: str,
    sysadmin: dict[str, Any],
    xloader_token: str,
) -> None:
    partners.active_agreement()
    factories.User(name="dana-reyes", password=PASSWORD)

    # Step 1: the applicant applies.
    applicant = log_in(browser, contexts, site_url, "dana-reyes")
    applicant.get_by_role("link", name="Become a partner").click()
    expect(applicant).to_have_url(site_url + "/partner/apply")
    applicant.fill("#field-organization_title", "Eastside Tech Hub")
    applicant.select_option("#field-sector", "nonprofit")
    applicant.fill("#field-website", "https://eastside.example.org")
    applicant.check("#field-service_area-district-4")
    applicant.fill("#field-data_description", "Laptops lent by neighborhood, 2022 to now.")
    applicant.fill("#field-contact_name", "Dana Reyes")
    applicant.fill("#field-contact_email", "dana@eastside.example.org")
    applicant.check("#field-focus_group")
    applicant.get_by_role("button", name="Apply").click()

    expect(applicant).to_have_url(site_url + "/partner/status")
    expect(applicant.locator("[data-step=apply]")).to_contain_text("waiting for review")

    # The City approves it.
    city = log_in(browser, contexts, site_url, "city-admin")
    city.goto(site_url + "/ckan-admin")
    city.get_by_role("link", name="Partner applications").click()
    card = city.locator("article[data-application-id]", has_text="Eastside Tech Hub")
    expect(card).to_contain_text("Laptops lent by neighborhood")
    card.get_by_role("button", name="Approve and create Eastside Tech Hub").click()
    expect(city.locator(".flash-messages")).to_contain_text("Approved: Eastside Tech Hub was created")

    # Step 2: the applicant, now the organization's admin, signs.
    applicant.reload()
    expect(applicant.locator("[data-step=apply]")).to_contain_text("Approved")
    expect(applicant.locator(".cd3p-agreement-notice")).to_contain_text(
        "Eastside Tech Hub has not signed the Data Sharing Agreement"
    )
    applicant.locator("[data-step=sign]").get_by_role("link", name="Sign the agreement").click()
    expect(applicant).to_have_url(site_url + "/organization/eastside-tech-hub/agreement")
    applicant.fill("#field-signatory_name", "Dana Reyes")
    applicant.fill("#field-signatory_title", "Executive Director")
    applicant.get_by_label("I confirm I have authority to sign for Eastside Tech Hub").check()
    applicant.get_by_role("button", name="Sign the agreement for Eastside Tech Hub").click()

    expect(applicant.locator(".flash-messages")).to_contain_text(
        "Eastside Tech Hub signed version template-1"
    )
    expect(applicant.locator(".cd3p-standing")).to_contain_text("Dana Reyes, Executive Director")
    expect(applicant.locator(".cd3p-agreement-notice")).to_have_count(0)

    # Step 3: a dataset with an uploaded table.
    applicant.goto(site_url + "/partner/status")
    expect(applicant.locator("[data-step=sign]")).to_have_attribute("data-state", "done")
    org = call_action("organization_show", id="eastside-tech-hub")
    applicant.get_by_role("link", name="Add a dataset").click()
    expect(applicant).to_have_url(f"{site_url}/dataset/new?owner_org={org['id']}")
    # The URL name follows the title once the form's scripts run: wait for the preview of the URL
    # they add (under load, "load" can come before the modules start), then for the name itself.
    expect(applicant.locator(".slug-preview")).to_have_count(1)
    applicant.fill("#field-title", "Laptop loans by neighborhood")
    expect(applicant.locator("#field-name")).to_have_value("laptop-loans-by-neighborhood")
    applicant.check("input[name=equity_topics][value=device-access]")
    applicant.select_option("#field-geography_level", "neighborhood")
    applicant.select_option("#field-geographic_coverage", "district-4")
    applicant.select_option("#field-access_level", "public")
    applicant.select_option("#field-contains_personal_data", "no")
    expect(applicant.locator("#field-organizations")).to_have_value(org["id"])
    applicant.locator("button[name=save]").last.click()

    with applicant.expect_file_chooser() as chooser:
        applicant.click("#resource-upload-button")
    chooser.value.set_files({"name": "laptop-loans.csv", "mimeType": "text/csv", "buffer": CSV.encode()})
    applicant.fill("#field-name", "Laptop loans (CSV)")
    applicant.locator("button[name=save]").last.click()
    expect(applicant.get_by_role("article").get_by_role("heading", level=1)).to_contain_text(
        "Laptop loans by neighborhood"
    )

    dataset = call_action("package_show", id="laptop-loans-by-neighborhood")
    assert dataset["owner_org"] == org["id"]
    [resource] = dataset["resources"]
    assert resource["url_type"] == "upload" and resource["format"] == "CSV"

    # The test web server has no xloader token (test.ini: NOT_SET, as a token is only valid in the
    # database pytest has just reset), so its own submission was skipped; submit the upload again
    # with a token of this test's sysadmin, and the worker loads it from the web server.
    call_action("xloader_submit", {"user": sysadmin["name"]}, resource_id=resource["id"])
    status = wait_for_xloader(resource["id"])

    assert status["status"] == "complete", status
    found = call_action("datastore_search", resource_id=resource["id"], sort="_id")
    assert [r["neighborhood"] for r in found["records"]] == ["Brightmoor", "Chadsey Condon", "Osborn"]
    assert [r["laptops_lent"] for r in found["records"]] == [120, 85, 143]

    # The partner's status page now counts the dataset.
    applicant.goto(site_url + "/partner/status")
    expect(applicant.locator("[data-step=upload]")).to_have_attribute("data-state", "done")
