"""A person's view: headless Chromium (Debian's) against the test web server (fixtures in conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories, partners


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestBrowser:
    def test_home_page(self, page: Page, site_url: str) -> None:
        page.goto(site_url + "/")

        expect(page.get_by_role("heading", level=1)).to_have_text("Detroit Demographic Data Portal")
        intro = page.get_by_role(
            "heading", level=2, name="City of Detroit Demographic Data Portal", exact=True
        )
        expect(intro).to_be_visible()
        expect(page.get_by_role("link", name="Browse the data")).to_be_visible()
        page.get_by_role("link", name="Browse the data").click()
        expect(page).to_have_url(site_url + "/dataset/")

    def test_dataset_page(self, page: Page, site_url: str) -> None:
        org: dict[str, Any] = factories.Organization(title="Data Driven Detroit")
        dataset = factories.Dataset(
            title="Households without a computer", owner_org=org["id"], notes="Share of households, by tract."
        )
        factories.Resource(
            package_id=dataset["id"], name="By tract (CSV)", url="http://example.com/t.csv", format="CSV"
        )

        page.goto(f"{site_url}/dataset/{dataset['name']}")

        expect(page.get_by_role("article").get_by_role("heading", level=1)).to_contain_text(
            "Households without a computer"
        )
        expect(page.get_by_text("Share of households, by tract.")).to_be_visible()
        expect(page.get_by_role("link", name="By tract (CSV)")).to_be_visible()
        expect(page.get_by_text("Data Driven Detroit").first).to_be_visible()

    def test_partner_editor_creates_a_dataset_and_finds_it_by_a_facet(
        self, page: Page, site_url: str
    ) -> None:
        editor = factories.User(name="partner-editor", password="correct-horse-123")
        partners.active_agreement()
        org = partners.organization(factories.User(), title="Tech Town Neighbors", sector="grassroots")
        partners.join(org, editor, "editor")

        page.goto(site_url + "/user/login")
        page.fill("#field-login", "partner-editor")
        page.fill("#field-password", "correct-horse-123")
        page.get_by_role("button", name="Login").click()
        expect(page).not_to_have_url(site_url + "/user/login")

        page.goto(site_url + "/dataset/new")
        page.fill("#field-title", "Telehealth readiness survey")  # the URL name follows the title
        page.check("input[name=equity_topics][value=telehealth]")
        page.select_option("#field-geography_level", "neighborhood")
        page.select_option("#field-geographic_coverage", "district-3")
        page.select_option("#field-access_level", "public")
        page.select_option("#field-contains_personal_data", "no")
        page.locator("button[name=save]").last.click()

        # Step 2: a link resource, then Finish.
        page.click("#resource-link-button")
        page.fill("#field-resource-url", "https://example.org/telehealth.csv")
        page.fill("#field-name", "Survey answers (CSV)")
        page.locator("button[name=save]").last.click()
        expect(page.get_by_role("article").get_by_role("heading", level=1)).to_contain_text(
            "Telehealth readiness survey"
        )

        # A visitor finds it by the "Digital literacy: telehealth" facet.
        page.context.clear_cookies()
        page.goto(site_url + "/dataset/")
        page.get_by_role("link", name="Digital literacy: telehealth").click()
        expect(page.locator(".dataset-heading a")).to_have_text(["Telehealth readiness survey"])
