"""The analysis workspace in a real browser (issue 17): a signed partner's editor picks the Detroit
ACS table, rolls its tracts up to council districts with a sum, sees the chart drawn and the map's
legend beside the table, saves the result as a resource of their organization's dataset, and then
finds it through the catalog search."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ckan.tests.helpers import call_action
from playwright.sync_api import Browser, BrowserContext, expect

from tests import equity, factories, partners
from tests.browser.conftest import log_in
from tests.helpers import poll
from tests.web import person


@pytest.fixture
def w(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    loaded = equity.kept_sources(request)
    acs = call_action("package_show", id=loaded["datasets"]["tract-acs"]["id"])["resources"][0]
    admin, editor = person(), person()
    org = partners.organization(admin, title="Osborn Neighborhood Alliance")
    partners.join(org, editor, "editor")
    target = factories.Dataset(owner_org=org["id"], title="Osborn broadband results")
    return {"acs": acs, "editor": editor, "org": org, "target": target}


def test_an_editor_groups_by_district_sees_the_chart_and_saves_the_result(
    browser: Browser, contexts: list[BrowserContext], site_url: str, w: dict[str, Any]
) -> None:
    page = log_in(browser, contexts, site_url, w["editor"]["name"])
    page.goto(site_url + "/analysis")
    page.select_option("#field-resource_id", w["acs"]["id"])
    page.get_by_role("button", name="Choose").click()
    expect(page.locator('input[name="columns"][value="households"]')).to_be_visible()

    page.select_option("#field-rollup_key", "geoid")
    page.select_option("#field-rollup_level", "council_district")
    page.select_option("#field-agg_fn_0", "sum")
    page.select_option("#field-agg_column_0", "households")
    page.fill("#field-agg_as_0", "households")
    page.get_by_role("button", name="Run the query").click()

    expect(page.locator("#cd3p-analysis-table tbody tr")).to_have_count(7)
    expect(page.locator("#cd3p-analysis-chart")).to_have_attribute("data-drawn", "true")
    box = page.locator("#cd3p-analysis-chart").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    expect(page.locator("#cd3p-analysis-map")).to_have_class(re.compile("cd3p-map-ready"))
    expect(page.locator("#cd3p-analysis-map")).to_have_attribute("data-places", "7")
    assert page.locator(".cd3p-legend-class").count() >= 2
    expect(page.locator("#cd3p-analysis-table")).to_contain_text("Council District 3")

    name = "Households by council district"
    page.select_option("#field-package_id", w["target"]["id"])
    page.fill("#field-resource-name", name)
    page.get_by_role("button", name="Save as a resource").click()
    expect(page).to_have_url(re.compile(rf"/dataset/{w['target']['id']}/resource/[0-9a-f-]{{36}}$"))
    expect(page.locator("body")).to_contain_text(name)

    def found() -> bool:
        page.goto(f"{site_url}/dataset/?q=%22{name.replace(' ', '+')}%22")
        return page.locator(f'a[href="/dataset/{w["target"]["name"]}"]').count() > 0

    poll(found, 60, "the saved resource's dataset found by its name", every=1)
