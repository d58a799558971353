"""The digital-equity pages: what anonymous visitors and partners see, checked against the numbers
that cd3p_indicator_show and cd3p_place_show return to the same visitor.

The sources are the real Detroit tables (tests/equity.py). Pages are read as an anonymous visitor
and as a partner (an API token in the Authorization header, which CKAN's views accept).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import maps
from ckanext.cd3p.indicators import helpers, registry
from ckanext.cd3p.indicators import views as eq
from tests import equity, factories, partners

pytestmark = pytest.mark.usefixtures("with_plugins")

ACS = "detroit-tract-broadband-acs-2015-2019"
NO_INTERNET = "us-tracts-no-internet-2019"


@pytest.fixture
def sources(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    return equity.kept_sources(request)


@pytest.fixture
def partner(sources: dict[str, Any]) -> dict[str, Any]:
    """A member of the partner organization that publishes the sources."""
    user = factories.UserWithToken()
    partners.join(sources["org"], user)
    return user


def get(app: Any, path: str, user: dict[str, Any] | None = None, **params: Any) -> Any:
    headers = {"Authorization": user["token"]} if user else {}
    return app.get(path, query_string=params, headers=headers, follow_redirects=False)


def page(app: Any, path: str, user: dict[str, Any] | None = None, **params: Any) -> BeautifulSoup:
    response = get(app, path, user, **params)
    assert response.status_code == 200, (path, params, response.status_code)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text(node: Any) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def formatted(value: dict[str, Any], unit: str) -> str:
    """What a page must show for a value of the action."""
    if value["suppressed"]:
        return "suppressed"
    if value["value"] is None:
        return "no data"
    return helpers.cd3p_format_value(value["value"], unit)


def user_name(user: dict[str, Any] | None) -> str:
    return user["name"] if user else ""


def restrict(dataset: str, **fields: Any) -> None:
    call_action("package_patch", {"user": partners.site_user()}, id=dataset, **fields)


def every_id() -> list[str]:
    return registry.registry().ids()


# --- formatting and classes (no database) ----------------------------------------------------------


def test_numbers_are_formatted_for_reading() -> None:
    assert helpers.cd3p_format_value(24.1234, "percent") == "24.1%"
    assert helpers.cd3p_format_value(0.0, "percent") == "0.0%"
    assert helpers.cd3p_format_value(45123.4, "dollars") == "$45,123"
    assert helpers.cd3p_format_value(1234.56, "Mbps") == "1,234.6 Mbps"
    assert helpers.cd3p_format_value(3.25, "providers") == "3.2"
    assert helpers.cd3p_format_value(None, "percent") == ""
    assert helpers.cd3p_format_count(263688.4) == "263,688"
    assert helpers.cd3p_format_moe(None, "percent") == "—"
    assert helpers.cd3p_format_moe(1.26, "percent") == "±1.3%"


def test_quantile_classes_run_light_to_dark_in_the_need_direction() -> None:
    values = [float(v) for v in range(1, 101)] + [None, None]

    higher = eq.classes(values, "higher")
    lower = eq.classes(values, "lower")

    assert len(higher) == 5
    assert [c["count"] for c in higher] == [20, 20, 20, 20, 20]
    assert higher[0]["lower"] == 1 and higher[-1]["upper"] == 100
    assert all(a["upper"] == b["lower"] for a, b in itertools.pairwise(higher))
    assert [c["color"] for c in higher] == list(maps.PALETTES[5])
    assert [c["color"] for c in lower] == list(reversed(maps.PALETTES[5]))  # darkest = lowest
    assert (
        eq.class_of(1.0, higher) == 0
        and eq.class_of(100.0, higher) == 4
        and eq.class_of(None, higher) is None
    )
    # Repeated values merge classes rather than make empty ones.
    assert [c["count"] for c in eq.classes([1.0] * 10 + [2.0], "higher")] == [10, 1]
    assert eq.classes([None], "higher") == []


def test_places_sort_with_missing_values_last() -> None:
    places = [
        {"id": "a", "name": "Census Tract 10", "value": 5.0, "suppressed": False},
        {"id": "b", "name": "Census Tract 9", "value": None, "suppressed": False},
        {"id": "c", "name": "Census Tract 100", "value": 7.0, "suppressed": True},
        {"id": "d", "name": "Census Tract 2", "value": 9.0, "suppressed": False},
    ]
    assert [p["id"] for p in maps.sort_places(places, "name", eq.SORT_KEYS)] == ["d", "b", "a", "c"]
    assert [p["id"] for p in maps.sort_places(places, "-value", eq.SORT_KEYS)] == ["d", "a", "b", "c"]
    assert [p["id"] for p in maps.sort_places(places, "value", eq.SORT_KEYS)] == ["a", "d", "b", "c"]
    assert [p["id"] for p in maps.sort_places(places, "nonsense", eq.SORT_KEYS)] == ["d", "b", "a", "c"]


def test_highest_need_breaks_ties_by_name_across_the_cut() -> None:
    values = [5.0, 9.0, 9.0, None, 7.0, 9.0, 1.0]
    places = [
        {"id": str(i), "name": f"Census Tract {100 - i * 10}", "value": v, "suppressed": i == 6}
        for i, v in enumerate(values)
    ]
    # Three tracts tie at 9.0 for two places: the first two by name (Tract 50 before 80 and 90).
    assert [p["id"] for p in eq.highest_need(places, "higher", 2)] == ["5", "2"]
    assert [p["id"] for p in eq.highest_need(places, "higher", 10)] == ["5", "2", "1", "4", "0"]
    assert [p["id"] for p in eq.highest_need(places, "lower", 2)] == ["0", "4"]  # 1.0 is suppressed


# --- /equity ------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_partner", [False, True])
def test_overview_headlines_are_the_citywide_values(
    app: Any, sources: dict[str, Any], partner: dict[str, Any], as_partner: bool
) -> None:
    user = partner if as_partner else None

    doc = page(app, "/equity", user)

    for indicator_id in every_id():
        result = equity.show(indicator_id, "city", user_name(user))
        card = doc.select_one(f'.cd3p-headline[data-indicator="{indicator_id}"]')
        assert card is not None, indicator_id
        unit = result["indicator"]["unit"]
        assert text(card.select_one(".cd3p-headline-value")) == formatted(result["citywide"], unit)
        assert result["vintage"] in text(card)
        assert card.select_one("a")["href"] == f"/equity/indicator/{indicator_id}"
    # Topic navigation, and Equity in the main navigation.
    topics = [a["href"] for a in doc.select(".cd3p-topic-links a")]
    assert {"#topic-devices", "#topic-connectivity", "#topic-income"} <= set(topics)
    assert all(doc.find(id=t[1:]) is not None for t in topics)
    assert doc.select_one("header").find("a", string="Equity")["href"] == "/equity"
    # Every source dataset is linked.
    linked = {a["href"] for a in doc.select(".cd3p-sources a")}
    assert linked == {f"/dataset/{s.dataset}" for s in registry.registry().sources.values()}


def test_overview_map_legend_and_highest_need(app: Any, sources: dict[str, Any]) -> None:
    result = equity.show("households-without-computer", "council_district")

    doc = page(app, "/equity", indicator="households-without-computer", level="council_district")

    selected = doc.select_one("#field-indicator option[selected]")
    assert selected["value"] == "households-without-computer"
    assert doc.select_one("#field-level option[selected]")["value"] == "council_district"
    form = doc.select_one("form.cd3p-map-form")
    assert form["method"] == "get" and form["action"].startswith("/equity")
    the_map = doc.select_one("[data-cd3p-map]")
    assert the_map["data-geojson"] == (
        "/equity/indicator/households-without-computer.geojson?level=council_district"
    )
    assert the_map["data-tiles"] == ""  # no tile server configured: a plain background

    expected = eq.classes([eq.shown(v) for v in result["values"]], "higher")
    legend = doc.select(".cd3p-legend-class")
    assert [(float(li["data-lower"]), float(li["data-upper"]), li["data-color"]) for li in legend] == [
        (c["lower"], c["upper"], c["color"]) for c in expected
    ]
    assert sum(c["count"] for c in expected) == 7

    top = eq.highest_need(result["values"], "higher")
    rows = doc.select(".cd3p-top-table tbody tr")
    assert [r["data-place"] for r in rows] == [v["id"] for v in top]
    assert [text(r.select_one(".cd3p-value")) for r in rows] == [formatted(v, "percent") for v in top]
    values = [v["value"] for v in top]
    assert values == sorted(values, reverse=True)
    assert rows[0].select_one("a")["href"] == f"/equity/place/council_district/{top[0]['id']}"


def test_overview_lowest_values_are_the_highest_need_when_lower_means_need(
    app: Any, sources: dict[str, Any]
) -> None:
    result = equity.show("median-household-income", "neighborhood")

    doc = page(app, "/equity", indicator="median-household-income", level="neighborhood")

    rows = doc.select(".cd3p-top-table tbody tr")
    assert len(rows) == 10
    lowest = sorted((v for v in result["values"] if v["value"] is not None), key=lambda v: v["value"])[:10]
    assert [r["data-place"] for r in rows] == [v["id"] for v in lowest]
    assert text(rows[0].select_one(".cd3p-value")).startswith("$")
    legend = doc.select(".cd3p-legend-class")
    assert legend[0]["data-color"] == maps.PALETTES[len(legend)][-1]  # the lowest incomes darkest


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_overview_opens_before_any_source_is_published(app: Any) -> None:
    doc = page(app, "/equity")

    cards = doc.select(".cd3p-headline")
    assert len(cards) == len(every_id())
    assert all(text(c.select_one(".cd3p-headline-value")) == "Not available yet" for c in cards)
    assert doc.select_one("[data-cd3p-map]") is None
    states = {li["data-dataset"]: li["data-state"] for li in doc.select(".cd3p-sources li")}
    assert states == {s.dataset: "missing" for s in registry.registry().sources.values()}
    assert not doc.select(".cd3p-sources a")


@pytest.mark.ckan_config("ckanext.spatial.common_map.custom_url", "https://tiles.example.org/{z}/{x}/{y}.png")
@pytest.mark.ckan_config("ckanext.spatial.common_map.attribution", "<b>Tiles</b> & data")
def test_a_configured_tile_server_is_used_with_its_attribution(app: Any, sources: dict[str, Any]) -> None:
    response = get(app, "/equity/indicator/poverty-rate", level="council_district")
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")

    the_map = doc.select_one("[data-cd3p-map]")
    assert the_map["data-tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert the_map["data-attribution"] == "<b>Tiles</b> & data"
    assert "Map tiles: Tiles & data" in text(doc.select_one(".cd3p-legend-box"))  # as text
    assert "<b>Tiles</b>" not in response.get_data(as_text=True)  # escaped in the attribute


# --- /equity/indicator/<id> ---------------------------------------------------------------------


@pytest.mark.parametrize("as_partner", [False, True])
def test_indicator_table_shows_the_action_values_and_no_data(
    app: Any, sources: dict[str, Any], partner: dict[str, Any], as_partner: bool
) -> None:
    user = partner if as_partner else None
    result = equity.show("households-without-broadband", "tract", user_name(user))

    doc = page(app, "/equity/indicator/households-without-broadband", user)

    rows = {r["data-place"]: r for r in doc.select("#cd3p-places tbody tr")}
    assert set(rows) == {v["id"] for v in result["values"]} and len(rows) == 297
    for v in result["values"]:
        row = rows[v["id"]]
        assert text(row.select_one(".cd3p-value")) == formatted(v, "percent"), v["id"]
        if v["value"] is None:
            assert text(row.select_one(".cd3p-numerator")) == "—"
        else:
            assert text(row.select_one(".cd3p-numerator")) == helpers.cd3p_format_count(v["numerator"])
            assert text(row.select_one(".cd3p-denominator")) == helpers.cd3p_format_count(v["denominator"])
        assert text(row.select_one(".cd3p-moe")) == "—"  # the sources have no margins of error
    no_data = [r for r in rows.values() if text(r.select_one(".cd3p-value")) == "no data"]
    assert len(no_data) == 4 == sum(1 for v in result["values"] if v["value"] is None)
    assert all("0.0%" not in text(r) for r in no_data)  # never shown as zero
    assert text(doc.select_one(".cd3p-citywide")).startswith(formatted(result["citywide"], "percent"))


def test_indicator_page_compares_districts_explains_and_gives_the_api_call(
    app: Any, sources: dict[str, Any]
) -> None:
    districts = equity.show("poverty-rate", "council_district")

    doc = page(app, "/equity/indicator/poverty-rate", level="neighborhood")

    rows = doc.select(".cd3p-districts tbody tr[data-place]")
    assert [r["data-place"] for r in rows] == [f"district-{n}" for n in range(1, 8)]
    for row, v in zip(rows, districts["values"], strict=True):
        assert text(row.select_one(".cd3p-value")) == formatted(v, "percent")
    city_row = doc.select_one(".cd3p-city-row .cd3p-value")
    assert text(city_row) == formatted(districts["citywide"], "percent")

    method = text(doc.select_one(".cd3p-method"))
    assert "povP" in method and "never by averaging percentages" in method
    assert registry.registry().indicators["poverty-rate"].caveat in method
    assert "interior point" in method

    api = doc.select_one(".cd3p-api-url")
    assert text(api) == "/api/3/action/cd3p_indicator_show?id=poverty-rate&level=neighborhood"
    answer = app.get(api["href"]).json["result"]
    shown = {r["data-place"]: text(r.select_one(".cd3p-value")) for r in doc.select("#cd3p-places tbody tr")}
    assert shown == {v["id"]: formatted(v, "percent") for v in answer["values"]}

    assert doc.select_one("canvas#cd3p-histogram")["data-cd3p-chart"]
    bins = doc.select("#cd3p-bins tbody tr")  # the chart's table alternative
    counted = sum(int(text(r.select_one("td"))) for r in bins)
    assert counted == sum(1 for v in answer["values"] if v["value"] is not None)


def test_digital_equity_index_page_shows_sub_scores_and_method(app: Any, sources: dict[str, Any]) -> None:
    result = equity.show("digital-equity-index", "council_district")
    groups = list(result["indicator"]["components"])

    doc = page(app, "/equity/indicator/digital-equity-index", level="council_district", sort="-value")

    headers = [th["data-sort"] for th in doc.select("#cd3p-places thead th")]
    assert headers == ["name", "value", *groups, "denominator", "tracts_with_data"]
    rows = doc.select("#cd3p-places tbody tr")
    ranked = sorted(result["values"], key=lambda v: -(v["value"] or 0))
    assert [r["data-place"] for r in rows] == [v["id"] for v in ranked]
    for row, v in zip(rows, ranked, strict=True):
        assert text(row.select_one(".cd3p-value")) == formatted(v, "score")
        for group in groups:
            assert text(row.select_one(f".cd3p-{group}")) == helpers.cd3p_format_value(v[group], "score")
    method = text(doc.select_one(".cd3p-method"))
    assert "scaled from 0 to 1" in method and "mean of the two sub-scores" in method
    linked = {a["href"] for a in doc.select(".cd3p-method a")}
    components = {i for ids in result["indicator"]["components"].values() for i in ids}
    assert linked == {f"/equity/indicator/{i}" for i in components}


def test_text_from_the_data_is_escaped(app: Any, sources: dict[str, Any]) -> None:
    restrict(ACS, title='Tracts <script>alert("x")</script>')

    body = get(app, "/equity").get_data(as_text=True)

    assert '<script>alert("x")</script>' not in body
    assert "Tracts &lt;script&gt;" in body


def test_indicator_table_sorts_on_the_server(app: Any, sources: dict[str, Any]) -> None:
    result = equity.show("median-household-income", "neighborhood")

    def order(**params: Any) -> list[str]:
        doc = page(app, "/equity/indicator/median-household-income", level="neighborhood", **params)
        return [r["data-place"] for r in doc.select("#cd3p-places tbody tr")]

    known = [v for v in result["values"] if v["value"] is not None]
    missing = [
        v["id"] for v in sorted(result["values"], key=lambda v: v["name"].lower()) if v["value"] is None
    ]
    by_value = [v["id"] for v in sorted(known, key=lambda v: -v["value"])]
    assert order(sort="-value") == by_value + missing
    assert order(sort="value") == list(reversed(by_value)) + missing
    by_households = [v["id"] for v in sorted(known, key=lambda v: v["denominator"])]
    assert order(sort="denominator") == by_households + missing
    names = [v["id"] for v in sorted(result["values"], key=lambda v: v["name"].lower())]
    assert order() == names == order(sort="'; DROP TABLE")

    doc = page(app, "/equity/indicator/median-household-income", level="neighborhood", sort="-value")
    header = doc.select_one('#cd3p-places th[data-sort="value"]')
    assert header["aria-sort"] == "descending"
    assert "sort=value" in header.select_one("a")["href"]  # the next click sorts ascending


def test_small_cells_are_labelled_suppressed_for_the_public_only(
    app: Any, sources: dict[str, Any], partner: dict[str, Any]
) -> None:
    restrict(ACS, small_cell_threshold=1000)
    public = equity.show("households-without-computer")
    suppressed = {v["id"] for v in public["values"] if v["suppressed"]}
    assert suppressed

    doc = page(app, "/equity/indicator/households-without-computer")
    rows = {r["data-place"]: r for r in doc.select("#cd3p-places tbody tr")}
    labelled = {g for g, r in rows.items() if r.select_one(".cd3p-suppressed")}
    assert labelled == suppressed
    assert all(text(rows[g].select_one(".cd3p-value")) == "suppressed" for g in suppressed)
    assert doc.select_one(".cd3p-legend-suppressed") is not None

    seen = page(app, "/equity/indicator/households-without-computer", partner)
    assert not seen.select(".cd3p-suppressed")
    member = {v["id"]: v for v in equity.show("households-without-computer", user=partner["name"])["values"]}
    for g in suppressed:
        row = seen.select_one(f'#cd3p-places tr[data-place="{g}"]')
        assert text(row.select_one(".cd3p-value")) == formatted(member[g], "percent")


# --- downloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["tract", "council_district", "city"])
def test_csv_download_rows_are_the_action_values(app: Any, sources: dict[str, Any], level: str) -> None:
    result = equity.show("households-without-broadband", level)

    response = get(app, "/equity/indicator/households-without-broadband.csv", level=level)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["id"] for r in rows] == [v["id"] for v in result["values"]]
    for row, v in zip(rows, result["values"], strict=True):
        assert row["level"] == level and row["name"] == v["name"]
        for field in ("value", "numerator", "denominator", "moe"):
            assert (float(row[field]) if row[field] else None) == v[field], (v["id"], field)
        assert row["suppressed"] == ("true" if v["suppressed"] else "false")
        assert int(row["tracts"]) == v["tracts"] and int(row["tracts_with_data"]) == v["tracts_with_data"]


@pytest.mark.parametrize("level", ["tract", "neighborhood"])
def test_geojson_has_one_feature_per_place(app: Any, sources: dict[str, Any], level: str) -> None:
    result = equity.show("unemployment-rate", level)

    response = get(app, "/equity/indicator/unemployment-rate.geojson", level=level)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/geo+json"
    collection = json.loads(response.get_data(as_text=True))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [f["id"] for f in features] == [v["id"] for v in result["values"]]
    for feature, v in zip(features, result["values"], strict=True):
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert feature["properties"]["value"] == v["value"]
        assert feature["properties"]["name"] == v["name"]
        assert feature["properties"]["label"] == formatted(v, "percent")
    expected = eq.classes([eq.shown(v) for v in result["values"]], "higher")
    assert collection["classes"] == expected
    assert {f["properties"]["color"] for f in features if f["properties"]["value"] is not None} <= {
        c["color"] for c in expected
    }


def test_city_outline(app: Any) -> None:
    collection = get(app, "/equity/city.geojson").json
    assert [f["id"] for f in collection["features"]] == ["city"]


# --- /equity/place/<level>/<id> -------------------------------------------------------------------


@pytest.mark.parametrize("as_partner", [False, True])
def test_place_page_against_the_city_and_where_need_stands_out(
    app: Any, sources: dict[str, Any], partner: dict[str, Any], as_partner: bool
) -> None:
    user = partner if as_partner else None
    place = call_action(
        "cd3p_place_show",
        {"user": user_name(user), "ignore_auth": False},
        level="council_district",
        id="district-5",
    )

    doc = page(app, "/equity/place/council_district/district-5", user)

    assert text(doc.select_one("#content h1")) == "Council District 5"
    for item in place["indicators"]:
        ind = item["indicator"]
        row = doc.select_one(f'.cd3p-place-table tr[data-indicator="{ind["id"]}"]')
        assert text(row.select_one(".cd3p-value")) == formatted(item["value"], ind["unit"])
        assert text(row.select_one(".cd3p-city-value")) == formatted(item["citywide"], ind["unit"])

    # Independently: worse than the city by 20% or more in the need direction.
    expected: dict[str, list[str]] = {"devices": [], "connectivity": [], "training": []}
    group_of = {"devices": "devices", "connectivity": "connectivity"}
    for item in place["indicators"]:
        ind, value, city = item["indicator"], item["value"]["value"], item["citywide"]["value"]
        group = group_of.get(ind["topic"], "training" if ind["topic"] != "index" else None)
        if group is None or value is None or city is None:
            continue
        ratio = value / city
        if (ind["direction"] == "higher" and ratio >= 1.2) or (ind["direction"] == "lower" and ratio <= 0.8):
            sentence = (
                f"{ind['title']}: {formatted(item['value'], ind['unit'])}, {ratio:.1f} times the city's "
                f"{formatted(item['citywide'], ind['unit'])}."
                if ind["direction"] == "higher"
                else f"{ind['title']}: {formatted(item['value'], ind['unit'])}, {round((1 - ratio) * 100)}% "
                f"below the city's {formatted(item['citywide'], ind['unit'])}."
            )
            expected[group].append(sentence)
    assert any(expected.values()), "District 5 stands out somewhere in the demo data"
    for group, sentences in expected.items():
        found = [text(li) for li in doc.select(f'.cd3p-standouts[data-group="{group}"] li')]
        assert found == sentences, group


def test_tract_page_links_its_district_and_neighbourhood(app: Any, sources: dict[str, Any]) -> None:
    from ckanext.cd3p.common import geography

    geoid, tract = next(iter(sorted(geography.tracts().items())))

    doc = page(app, f"/equity/place/tract/{geoid}")

    links = {a["href"] for a in doc.select(".lead a")}
    assert links == {
        f"/equity/place/council_district/{tract.district}",
        f"/equity/place/neighborhood/{tract.neighborhood}",
    }
    assert page(app, "/equity/place/city/city").select_one(".cd3p-place-table") is not None


def test_place_page_mentions_withheld_indicators(
    app: Any, sources: dict[str, Any], partner: dict[str, Any]
) -> None:
    restrict(NO_INTERNET, access_level="partners")

    public = page(app, "/equity/place/neighborhood/neighborhood-brightmoor")
    note = public.select_one(".cd3p-withheld-note")
    assert note is not None and "Households with no internet access" in text(note)
    assert public.select_one('.cd3p-place-table tr[data-indicator="households-no-internet"]') is None

    seen = page(app, "/equity/place/neighborhood/neighborhood-brightmoor", partner)
    assert seen.select_one(".cd3p-withheld-note") is None
    assert seen.select_one('.cd3p-place-table tr[data-indicator="households-no-internet"]') is not None


# --- errors -------------------------------------------------------------------------------------


def test_unknown_indicator_or_place_is_404_and_bad_level_400(app: Any, sources: dict[str, Any]) -> None:
    for path in (
        "/equity/indicator/households-with-flying-cars",
        "/equity/indicator/households-with-flying-cars.csv",
        "/equity/indicator/households-with-flying-cars.geojson",
        "/equity/place/council_district/district-9",
        "/equity/place/tract/26163999999",
    ):
        assert get(app, path).status_code == 404, path
    assert get(app, "/equity", indicator="households-with-flying-cars").status_code == 404

    for path in (
        "/equity",
        "/equity/indicator/poverty-rate",
        "/equity/indicator/poverty-rate.csv",
        "/equity/indicator/poverty-rate.geojson",
    ):
        response = get(app, path, level="county")
        assert response.status_code == 400, path
    response = get(app, "/equity/place/county/wayne")
    assert response.status_code == 400
    assert "Unknown geography level" in text(BeautifulSoup(response.get_data(as_text=True), "html.parser"))


def test_a_source_the_visitor_may_not_read_is_refused(
    app: Any, sources: dict[str, Any], partner: dict[str, Any]
) -> None:
    restrict(NO_INTERNET, access_level="partners")
    outsider = factories.UserWithToken()

    for path in (
        "/equity/indicator/households-no-internet",
        "/equity/indicator/households-no-internet.csv",
        "/equity/indicator/households-no-internet.geojson",
    ):
        anonymous = get(app, path)
        assert anonymous.status_code == 302 and "/user/login" in anonymous.headers["Location"], path
        assert get(app, path, outsider).status_code == 403, path
        assert get(app, path, partner).status_code == 200, path
    response = get(app, "/equity", outsider, indicator="households-no-internet")
    assert response.status_code == 403

    # The overview still opens: the refused indicator's headline says it is shared with partners.
    doc = page(app, "/equity", outsider)
    card = doc.select_one('.cd3p-headline[data-indicator="households-no-internet"]')
    assert "Shared with partners only" in text(card)
    assert re.search(r"\d", text(card.select_one(".cd3p-headline-value"))) is None
    partner_card = page(app, "/equity", partner).select_one(
        '.cd3p-headline[data-indicator="households-no-internet"]'
    )
    assert text(partner_card.select_one(".cd3p-headline-value")).endswith("%")


# --- dataset pages ----------------------------------------------------------------------------------


def test_source_dataset_pages_list_the_indicators_they_feed(app: Any, sources: dict[str, Any]) -> None:
    doc = page(app, f"/dataset/{NO_INTERNET}")
    box = doc.select_one(".cd3p-feeds")
    assert box is not None and text(box.select_one("h2")) == "Feeds these indicators"
    assert [li["data-indicator"] for li in box.select("li")] == [
        "households-no-internet",
        "digital-equity-index",
    ]
    assert box.select_one("a")["href"] == "/equity/indicator/households-no-internet"

    acs = page(app, f"/dataset/{ACS}").select_one(".cd3p-feeds")
    fed = [li["data-indicator"] for li in acs.select("li")]
    assert {"households-without-computer", "median-household-income", "poverty-rate"} <= set(fed)

    other = factories.Dataset(owner_org=sources["org"]["id"])
    assert page(app, f"/dataset/{other['name']}").select_one(".cd3p-feeds") is None
