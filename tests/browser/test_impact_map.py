"""The coverage map of /impact in a real browser: headless Chromium (Debian's) against the web
server of the configuration pytest runs with, whose database holds the impact world (three
programmes with reports loaded by the worker). A visitor switches the outcome with the form and
reads the legend, which must match classes computed here from the report file and the Census file.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ckanext.cd3p.common import geography, maps
from tests import equity
from tests.browser.maps import legend
from tests.impact import world as impact_world
from tests.impact.world import DEVICES, TRAINING


@pytest.fixture
def world(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return impact_world.kept(request)


def tract_outcomes(data: bytes, measure: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for row in csv.DictReader(io.StringIO(data.decode())):
        if row["measure"] == measure and row["geo_level"] == "tract":
            found[row["geo_id"]] = found.get(row["geo_id"], 0.0) + float(row["count"])
    return found


def expected_classes(
    need: dict[str, float], outcomes: dict[str, float], hidden: set[str] = frozenset()
) -> list[tuple[float, float, str]]:
    """Coverage per Detroit tract (outcomes per 100 in need; none without need), in classes where
    the lowest coverage is darkest."""
    coverage = [
        None if t in hidden or not need.get(t) else outcomes.get(t, 0.0) / need[t] * 100
        for t in geography.tracts()
    ]
    return [(c["lower"], c["upper"], c["color"]) for c in maps.classes(coverage, "lower")]


def same(found: list[tuple[float, float, str]], wanted: list[tuple[float, float, str]]) -> bool:
    return len(found) == len(wanted) and all(
        a[2] == b[2] and a[0] == pytest.approx(b[0]) and a[1] == pytest.approx(b[1])
        for a, b in zip(found, wanted, strict=True)
    )


def test_switch_the_outcome_on_the_coverage_map_and_read_the_legend(
    page: Page, site_url: str, world: dict[str, Any]
) -> None:
    rows = equity.acs_rows()
    without_computer = {
        str(r["geoid"]): float(r["households"]) * (1 - float(r["f_computer"]))
        for r in rows
        if r.get("households") not in (None, "") and r.get("f_computer") not in (None, "")
    }
    without_degree = {
        str(r["geoid"]): float(r["population"]) * (1 - float(r["f_ba"]))
        for r in rows
        if r.get("population") not in (None, "") and r.get("f_ba") not in (None, "")
    }

    page.goto(site_url + "/impact")
    the_map = page.locator("#cd3p-map")
    expect(the_map).to_have_class(re.compile(r"cd3p-map-ready"))
    assert the_map.get_attribute("data-error") is None
    expect(page.locator("#cd3p-map path.cd3p-map-place")).to_have_count(len(geography.tracts()))
    expect(page.locator("#field-measure")).to_have_value("devices_distributed")
    devices = expected_classes(without_computer, tract_outcomes(DEVICES, "devices_distributed"))
    assert len(devices) > 1
    assert same(legend(page), devices)
    expect(page.locator(".cd3p-legend-suppressed")).to_have_count(0)

    # Switch the outcome with the form: training, whose one tract (25 people, below its
    # programme's threshold of 30) is hidden from the public.
    page.select_option("#field-measure", "training_enrolled")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"measure=training_enrolled"))
    expect(page.locator("#cd3p-map")).to_have_class(re.compile(r"cd3p-map-ready"))
    expect(page.locator("#cd3p-coverage-title")).to_have_text("Coverage: People enrolled in training")
    hidden = set(tract_outcomes(TRAINING, "training_enrolled"))
    training = expected_classes(without_degree, {}, hidden)
    assert same(legend(page), training)
    expect(page.locator(".cd3p-legend-suppressed")).to_contain_text("(1)")
    # The hidden tract is drawn in the suppressed grey, with a tooltip that says so.
    assert len(hidden) == 1
    fills = page.locator("#cd3p-map path.cd3p-map-place").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    assert fills.count(maps.SUPPRESSED_COLOR) == 1
    # The chart of outcomes by quarter is drawn beside its table.
    expect(page.locator("canvas#cd3p-trend-chart")).to_have_attribute("data-drawn", "true")
