"""Switching language in a real browser: headless Chromium (Debian's) against the test web server,
whose database the fixtures fill with the Detroit sources. A visitor picks Arabic in the footer's
language menu: the page turns right to left, its headings are the Arabic catalog's, and nothing
spills out of the page, at a desktop's width and a phone's.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import equity
from tests.helpers import translated

# Elements wider than the page, or starting left of it, that are not clipped by a scrolling or
# hidden-overflow box (a map's panes, a table's scroller): what a reader would have to scroll to.
SPILLING = """
() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p);
      if (o.overflowX !== 'visible' || o.overflow !== 'visible') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    if ((r.right > width + 1 || r.left < -1) && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' +
               Math.round(r.left) + '..' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, out: out.slice(0, 10)};
}
"""


def arabic(msgid: str) -> str:
    return translated("ar", msgid)


@pytest.fixture
def sources(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return equity.kept_sources(request)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_switch_to_arabic_right_to_left_and_nothing_spills(
    page: Page, site_url: str, sources: dict[str, Any], viewport: tuple[int, int]
) -> None:
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(site_url + "/equity")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))  # scripts ran
    expect(page.locator(".lang-select .select2-container")).to_have_count(1)  # the menu's module too

    # The footer's language menu (CKAN's): choosing a language goes to the same page in it.
    menu = page.locator("#field-lang-select")
    value = menu.locator("option[lang=ar]").get_attribute("value")
    menu.select_option(value=value, force=True)

    expect(page).to_have_url(re.compile(r"/ar/equity$"))
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", level=1, name=arabic("Digital equity in Detroit"))).to_be_visible()
    expect(page.get_by_role("heading", name=arabic("The whole city"))).to_be_visible()
    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))
    spilling = page.evaluate(SPILLING)
    assert spilling["out"] == [] and spilling["scroll"] <= spilling["width"], spilling

    # The next page stays in Arabic, and lays out as well.
    page.goto(site_url + "/ar/impact")
    expect(page.get_by_role("heading", level=1, name=arabic("Programme reach against need"))).to_be_visible()
    spilling = page.evaluate(SPILLING)
    assert spilling["out"] == [] and spilling["scroll"] <= spilling["width"], spilling
