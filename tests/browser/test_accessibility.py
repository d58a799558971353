"""WCAG 2.1 A and AA on the equity pages, checked by axe-core (the copy bundled with
axe-playwright-python) in headless Chromium against the running test server, and the map form used
by keyboard only.

axe checks what a machine can: contrast of every text against its background, names of form
controls, links and images, landmark and heading structure, table headers, ARIA use. Judgement calls
(whether a text alternative says enough) stay with people.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import equity

pytestmark = pytest.mark.usefixtures("with_plugins")

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = [
    "/equity",
    "/equity?indicator=median-household-income&level=council_district",
    "/equity/indicator/households-without-broadband?level=council_district",
    "/equity/indicator/digital-equity-index",
    "/equity/place/council_district/district-4",
    "/equity/place/tract/26163500100",
]


@pytest.fixture
def sources(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return equity.kept_sources(request)


def violations(page: Page) -> list[str]:
    axe = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
    page.evaluate(axe)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", WCAG
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(n['target'][0] for n in v['nodes'][:5])}"
        for v in found
    ]


def audit(page: Page, url: str) -> list[str]:
    """The page's WCAG violations, once its map and chart are drawn (they are checked too)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return violations(page)


@pytest.mark.parametrize("path", PAGES)
def test_equity_pages_pass_axe(page: Page, site_url: str, sources: dict[str, Any], path: str) -> None:
    assert audit(page, site_url + path) == []


def test_the_map_form_works_by_keyboard(page: Page, site_url: str, sources: dict[str, Any]) -> None:
    page.goto(site_url + "/equity")
    select = page.locator("#field-indicator")
    select.focus()
    expect(select).to_be_focused()
    page.keyboard.press("End")  # the last option, as a keyboard user picks it
    chosen = select.input_value()
    assert chosen and chosen != "digital-equity-index"
    page.keyboard.press("Tab")
    expect(page.locator("#field-level")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".cd3p-map-form button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/equity?indicator={chosen}&level=tract*")
    title = equity.show(chosen, "city")["indicator"]["title"]
    expect(page.locator(".cd3p-map-intro")).to_contain_text(title)


IMPACT_PAGES = [
    "/impact",
    "/impact?measure=training_enrolled&level=council_district",
    "/impact/programme/eastside-laptop-lending",
    "/impact/programme/skills-lab",
    "/organization/eastside-tech",
]


@pytest.fixture
def impact(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    from tests.impact import world

    return world.kept(request)


@pytest.mark.parametrize("path", IMPACT_PAGES)
def test_impact_pages_pass_axe(page: Page, site_url: str, impact: dict[str, Any], path: str) -> None:
    assert audit(page, site_url + path) == []
