"""The equity map in a real browser: headless Chromium (Debian's) against the web server of the
configuration pytest runs with (``ckan.site_url``), whose database the fixtures fill with the Detroit
sources. A visitor switches the map's indicator and geography with the form, and reads the legend.

The server must run the current code: ``scripts/portal.sh restart development`` (for mine.ini).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ckanext.cd3p.common import geography
from ckanext.cd3p.indicators import views as eq
from tests import equity
from tests.browser.maps import legend


@pytest.fixture
def sources(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return equity.kept_sources(request)


def expected_legend(indicator: str, level: str) -> list[tuple[float, float, str]]:
    result = equity.show(indicator, level)
    found = eq.classes([eq.shown(v) for v in result["values"]], result["indicator"]["direction"])
    return [(c["lower"], c["upper"], c["color"]) for c in found]


def fills(page: Page) -> set[str]:
    return set(
        page.locator("#cd3p-map path.cd3p-map-place").evaluate_all(
            "paths => paths.map(p => p.getAttribute('fill'))"
        )
    )


@pytest.mark.usefixtures("with_plugins")
def test_switch_the_map_indicator_and_read_the_legend(
    page: Page, site_url: str, sources: dict[str, Any]
) -> None:
    page.goto(site_url + "/equity")

    # The map opens on the Digital Equity Index by tract: one path per tract.
    the_map = page.locator("#cd3p-map")
    expect(the_map).to_have_class(re.compile(r"cd3p-map-ready"))
    assert the_map.get_attribute("data-error") is None
    expect(page.locator("#cd3p-map path.cd3p-map-place")).to_have_count(len(geography.tracts()))
    assert legend(page) == expected_legend("digital-equity-index", "tract")

    # Switch indicator and geography with the form, by keyboard as well as by mouse.
    page.select_option("#field-indicator", "households-without-computer")
    page.select_option("#field-level", "council_district")
    page.get_by_role("button", name="Show", exact=True).click()

    expect(page).to_have_url(re.compile(r"indicator=households-without-computer&level=council_district"))
    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))
    expect(page.locator("#cd3p-map path.cd3p-map-place")).to_have_count(7)
    expected = expected_legend("households-without-computer", "council_district")
    assert legend(page) == expected
    assert page.locator("#cd3p-map").get_attribute("data-places") == "7"
    # Every district is drawn in its legend class's colour.
    assert fills(page) <= {color for _lower, _upper, color in expected}
    # The legend's text shows the same bounds, formatted.
    first = page.locator(".cd3p-legend-class .cd3p-legend-range").first
    expect(first).to_have_text(f"{expected[0][0]:.1f}% \N{EN DASH} {expected[0][1]:.1f}%")

    # A district's tooltip names it and its value.
    page.locator("#cd3p-map path.cd3p-map-place").first.hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text("Council District")

    # The form works from the keyboard too: focus the select, pick, press Enter on the button.
    page.focus("#field-level")
    page.keyboard.press("ArrowDown")  # Council district -> Neighborhood
    page.focus("#field-indicator")
    page.select_option("#field-indicator", "median-household-income")
    page.focus("button[type=submit].btn-primary")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"indicator=median-household-income&level=neighborhood"))
    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))
    neighbourhoods = len({t.neighborhood for t in geography.tracts().values()})
    expect(page.locator("#cd3p-map path.cd3p-map-place")).to_have_count(neighbourhoods)
    assert legend(page) == expected_legend("median-household-income", "neighborhood")


@pytest.mark.usefixtures("with_plugins")
def test_indicator_page_draws_map_and_chart(page: Page, site_url: str, sources: dict[str, Any]) -> None:
    page.goto(site_url + "/equity/indicator/poverty-rate?level=council_district")

    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))
    expect(page.locator("#cd3p-map path.cd3p-map-place")).to_have_count(7)
    expect(page.locator("canvas#cd3p-histogram")).to_have_attribute("data-drawn", "true")
    # The places table is sortable with links (no script needed).
    page.locator('#cd3p-places th[data-sort="value"] a').click()
    expect(page.locator('#cd3p-places th[data-sort="value"]')).to_have_attribute("aria-sort", "ascending")
