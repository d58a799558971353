"""The impact pages: /impact (coverage by place, outcomes by quarter, targeting, cost per outcome,
the programmes), its CSV and GeoJSON, and a programme's page, read as the public and as a partner.

Every number the tests expect is computed here from the report file itself and the Census source
file (households without a computer), not read back from the action.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography, maps
from ckanext.cd3p.impact import views
from tests import equity
from tests.impact import world as impact_world
from tests.impact.world import DEVICES, SERVED, TRACTS
from tests.web import Browser, person, soup, text

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def world(request: pytest.FixtureRequest) -> dict[str, Any]:
    return impact_world.kept(request)


# --- what the files say -----------------------------------------------------------------------------


def outcomes_by(data: bytes, measure: str, level: str) -> dict[str, float]:
    """Outcomes per place of a level (and ``city``), summed from the report file: a tract's rows
    count in its tract, district and neighbourhood; a district's own rows in that district."""
    found: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(data.decode())):
        if row["measure"] != measure:
            continue
        count = float(row["count"])
        found["city"] += count
        if row["geo_level"] == "tract":
            tract = geography.tracts()[row["geo_id"]]
            place = {
                "tract": row["geo_id"],
                "council_district": tract.district,
                "neighborhood": tract.neighborhood,
            }
            found[place[level]] += count
        elif row["geo_level"] == level:
            found[row["geo_id"]] += count
    return dict(found)


def spend_by_tract(data: bytes, measure: str) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(data.decode())):
        if row["measure"] == measure and row["geo_level"] == "tract" and row["cost"]:
            found[row["geo_id"]] += float(row["cost"])
    return dict(found)


def households_without_computer() -> dict[str, float]:
    """Need for devices per tract, from the Census file: households x (1 - share with a computer)."""
    return {
        str(r["geoid"]): float(r["households"]) * (1 - float(r["f_computer"]))
        for r in equity.acs_rows()
        if r.get("households") not in (None, "") and r.get("f_computer") not in (None, "")
    }


def table(page: Any, table_id: str) -> dict[str, dict[str, str]]:
    """A table's rows by their data-place (or data-programme, data-measure) value: cell text by key."""
    rows = {}
    for tr in page.find(id=table_id).find_all("tr"):
        key = tr.get("data-place") or tr.get("data-programme") or tr.get("data-measure")
        if key:
            rows[key] = {
                td["data-key"]: td.get_text(" ", strip=True) for td in tr.find_all("td") if td.get("data-key")
            }
    return rows


def count(text_: str) -> float:
    return float(text_.replace(",", "").replace("$", ""))


# --- /impact --------------------------------------------------------------------------------------


def test_the_public_page_shows_outcomes_need_and_coverage_by_tract(app: Any, world: dict[str, Any]) -> None:
    # Most outcomes first: the ten tracts served are on the first page.
    response = app.get("/impact?measure=devices_distributed&level=tract&sort=-outcomes")
    assert response.status_code == 200
    page = soup(response)

    want = outcomes_by(DEVICES, "devices_distributed", "tract")
    need = households_without_computer()
    rows = table(page, "cd3p-places")
    for tract in SERVED:
        assert count(rows[tract]["outcomes"]) == want[tract]
        assert count(rows[tract]["need"]) == pytest.approx(need[tract], abs=0.5)
        assert float(rows[tract]["coverage"]) == pytest.approx(want[tract] / need[tract] * 100, abs=0.05)
        assert count(rows[tract]["unmet"]) == pytest.approx(max(need[tract] - want[tract], 0), abs=0.5)
    # Spend and cost per outcome of a tract that reported cost on every row.
    last = SERVED[-1]
    spend = spend_by_tract(DEVICES, "devices_distributed")[last]
    assert count(rows[last]["spend"]) == pytest.approx(spend, abs=0.5)
    assert count(rows[last]["cost_per_outcome"]) == pytest.approx(spend / want[last], abs=0.005)
    # The city row: every row, the district's own and the partner-tier programme's none of it.
    assert count(rows["city"]["outcomes"]) == want["city"]
    shown = [tr["data-place"] for tr in page.select("#cd3p-places tbody tr")]
    assert len(shown) == 50 and shown[:10] == sorted(SERVED, key=lambda t: (-want[t], int(t)))
    pages_listed = [a.get_text(strip=True) for a in page.select(".pagination a")]
    assert str(-(-len(TRACTS) // 50)) in pages_listed  # every tract is a page away
    # The partner-tier programme is not listed and not counted; markup in titles is text.
    # Only the programmes reporting devices are in the table; the training one is counted.
    listed = table(page, "cd3p-programme-list")
    assert set(listed) == {"eastside-laptop-lending"}
    assert page.find(id="cd3p-other-programmes").get_text(" ", strip=True).startswith("1 other programme")
    assert (
        "<script>alert(1)</script>"
        in page.find(attrs={"data-programme": "eastside-laptop-lending"}).get_text()
    )
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    # One of the programmes counted is illustrative, and the page says so.
    assert page.select_one(".cd3p-illustrative") is not None


def test_district_outcomes_add_their_tracts_and_the_rows_reported_for_the_district(
    app: Any, world: dict[str, Any]
) -> None:
    page = soup(app.get("/impact?measure=devices_distributed&level=council_district"))
    # By default the place with the most unmet need comes first.
    unmet = [count(td.get_text()) for td in page.select('#cd3p-places tbody td[data-key="unmet"]')]
    assert len(unmet) == 7 and unmet == sorted(unmet, reverse=True)
    want = outcomes_by(DEVICES, "devices_distributed", "council_district")
    rows = table(page, "cd3p-places")
    assert {d: count(rows[d]["outcomes"]) for d in ("district-3", "district-5")} == {
        d: want[d] for d in ("district-3", "district-5")
    }
    assert want["district-3"] > 60  # tracts and the district's own row
    assert count(rows["district-1"]["outcomes"]) == 0
    assert count(rows["city"]["outcomes"]) == want["city"]


def test_outcomes_by_quarter_table_and_cost_per_outcome_by_measure(app: Any, world: dict[str, Any]) -> None:
    page = soup(app.get("/impact"))
    quarters = [th.get_text(strip=True) for th in page.select("#cd3p-by-quarter thead th")][1:-1]
    assert quarters == ["2025-Q1", "2025-Q2"]
    devices = page.select_one('#cd3p-by-quarter tr[data-measure="devices_distributed"]')
    cells = [td.get_text(strip=True) for td in devices.find_all("td")]
    by_quarter: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(DEVICES.decode())):
        by_quarter[row["period"]] += float(row["count"])
    assert [count(c) for c in cells] == [
        by_quarter["2025-Q1"],
        by_quarter["2025-Q2"],
        sum(by_quarter.values()),
    ]
    # The chart draws the same outcomes, and the targets.
    chart = json.loads(page.select_one("canvas[data-cd3p-series]")["data-cd3p-series"])
    assert chart["labels"] == ["2025-Q1", "2025-Q2"]
    assert chart["series"][0]["values"] == [by_quarter["2025-Q1"], by_quarter["2025-Q2"]]
    assert chart["series"][1]["values"] == [500, None]
    # Training: 25 enrolments of a programme whose threshold is 30: hidden for the public.
    training = page.select_one('#cd3p-cost-measures tr[data-measure="training_enrolled"]')
    assert "suppressed" in training.get_text()
    spent = sum(float(r["cost"]) for r in csv.DictReader(io.StringIO(DEVICES.decode())) if r["cost"])
    devices_cost = page.select_one('#cd3p-cost-measures tr[data-measure="devices_distributed"]')
    cost = [td.get_text(strip=True) for td in devices_cost.find_all("td")]
    assert count(cost[1]) == pytest.approx(spent, abs=0.5)
    assert count(cost[2]) == pytest.approx(spent / sum(by_quarter.values()), abs=0.005)


def test_a_partner_member_sees_the_partner_tier_programme_and_raw_counts(
    app: Any, world: dict[str, Any]
) -> None:
    browser = Browser(app, world["member"])
    page = browser.page("/impact?measure=training_enrolled&level=tract&sort=-outcomes")
    rows = table(page, "cd3p-places")
    assert count(rows[SERVED[0]]["outcomes"]) == 25
    assert set(table(page, "cd3p-programme-list")) == {"skills-lab"}
    devices_page = browser.page("/impact?measure=devices_distributed&level=tract&sort=-outcomes")
    assert set(table(devices_page, "cd3p-programme-list")) == {"eastside-laptop-lending", "partner-pilot"}
    devices = table(devices_page, "cd3p-places")
    want = outcomes_by(DEVICES, "devices_distributed", "tract")
    assert count(devices[SERVED[1]]["outcomes"]) == want[SERVED[1]] + 1000


def test_a_narrow_selection_below_city_level_is_refused_for_the_public(
    app: Any, world: dict[str, Any]
) -> None:
    registered = Browser(app, person())
    assert (
        registered.get("/impact?measure=devices_distributed&level=tract&period_from=2025-Q2").status_code
        == 403
    )
    # At city level it is open, and counts only that quarter.
    page = registered.page("/impact?measure=devices_distributed&level=city&period_from=2025-Q2")
    assert count(table(page, "cd3p-places")["city"]["outcomes"]) == 45 * 4 + 60
    # A visitor is asked to log in first.
    response = app.get("/impact?level=tract&period_from=2025-Q2", follow_redirects=False)
    assert response.status_code == 302 and "/user/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "query",
    [
        "measure=median_earnings_q2",
        "measure=devices",
        "level=county",
        "period_from=2025-13",
        "measure=" + "x" * 5000,
    ],
)
def test_a_bad_choice_is_a_400_saying_what_is_wrong(app: Any, world: dict[str, Any], query: str) -> None:
    response = app.get("/impact?" + query)
    assert response.status_code == 400
    assert any(word in text(response) for word in ("measure", "level", "period_from"))


# --- downloads ------------------------------------------------------------------------------------


def test_the_csv_and_geojson_hold_the_pages_numbers(app: Any, world: dict[str, Any]) -> None:
    want = outcomes_by(DEVICES, "devices_distributed", "council_district")
    response = app.get("/impact/places.csv?measure=devices_distributed&level=council_district")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert float(rows["district-3"]["outcomes"]) == want["district-3"]
    assert float(rows["city"]["outcomes"]) == want["city"]
    assert rows["city"]["illustrative"] == "true"
    assert len(rows) == 7 + 1

    collection = json.loads(
        app.get("/impact/places.geojson?measure=devices_distributed&level=council_district").data
    )
    features = {f["id"]: f for f in collection["features"]}
    assert len(features) == 7 and all(f["geometry"] for f in features.values())
    assert collection["mapped"]["key"] == "coverage"
    assert features["district-3"]["properties"]["outcomes"] == want["district-3"]
    # Each district's colour is its class's, computed from the coverage the CSV holds.
    coverage = [None if r["coverage"] == "" else float(r["coverage"]) for k, r in rows.items() if k != "city"]
    found = maps.classes(coverage, "lower")
    assert collection["classes"] == found
    for code, feature in features.items():
        value = None if rows[code]["coverage"] == "" else float(rows[code]["coverage"])
        assert feature["properties"]["color"] == maps.color(value, False, found)


def test_the_map_value_is_coverage_where_need_is_counted_and_outcomes_where_it_is_not() -> None:
    with_need = {"need": {"available": True}, "measure": {"unit": "devices"}}
    without = {"need": None, "measure": {"unit": "sessions"}}
    assert views.mapped(with_need) == {"key": "coverage", "direction": "lower", "unit": "percent"}
    assert views.mapped(without) == {"key": "outcomes", "direction": "higher", "unit": "sessions"}
    assert views.map_value({"suppressed": True, "coverage": 3.0}, "coverage") is None


# --- a programme's page ---------------------------------------------------------------------------


def test_a_programme_page_shows_target_against_actual_by_quarter(app: Any, world: dict[str, Any]) -> None:
    response = app.get("/impact/programme/eastside-laptop-lending")
    assert response.status_code == 200
    page = soup(response)
    by_quarter: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(DEVICES.decode())):
        by_quarter[row["period"]] += float(row["count"])
    trend = page.find(id="trend-devices_distributed")
    rows = {tr["data-period"]: tr for tr in trend.find_all("tr") if tr.get("data-period")}
    assert (
        count(rows["2025-Q1"].find(attrs={"data-key": "outcomes"}).get_text(strip=True))
        == by_quarter["2025-Q1"]
    )
    assert rows["2025-Q1"].find(attrs={"data-key": "target"}).get_text(strip=True) == "500"
    assert (
        count(rows["2025-Q2"].find(attrs={"data-key": "outcomes"}).get_text(strip=True))
        == by_quarter["2025-Q2"]
    )
    totals = table(page, "cd3p-programme-totals")["devices_distributed"]
    assert count(totals["outcomes"]) == sum(by_quarter.values())
    assert totals["target"] == "500"  # what its report's target column adds up to
    assert totals["planned"] == "800"  # what the programme planned, in its metadata
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert page.select_one(".cd3p-illustrative") is None  # a real programme: no illustrative label
    assert [r.get_text(" ", strip=True) for r in page.select("#cd3p-reports tbody tr td:nth-of-type(1)")] == [
        "passed"
    ]

    illustrative = soup(app.get("/impact/programme/skills-lab"))
    assert illustrative.select_one(".cd3p-illustrative") is not None
    assert "suppressed" in illustrative.find(id="cd3p-programme-totals").get_text()


def test_a_programme_page_is_refused_or_missing_as_its_dataset_is(app: Any, world: dict[str, Any]) -> None:
    registered = Browser(app, person())
    assert registered.get("/impact/programme/partner-pilot").status_code == 403
    assert Browser(app, world["member"]).get("/impact/programme/partner-pilot").status_code == 200
    assert registered.get("/impact/programme/no-such-programme").status_code == 404
    dataset = world["sources"]["datasets"]["tract-acs"]["name"]  # a dataset, not a programme
    assert registered.get(f"/impact/programme/{dataset}").status_code == 404


# --- a place's page and an organization's ---------------------------------------------------------


def test_a_place_shows_its_reach_and_the_programmes_serving_it(app: Any, world: dict[str, Any]) -> None:
    district = "district-3"
    want = outcomes_by(DEVICES, "devices_distributed", "council_district")
    found = call_action(
        "cd3p_impact_place_show", {"user": "", "ignore_auth": False}, level="council_district", id=district
    )
    devices = next(m for m in found["measures"] if m["measure"]["id"] == "devices_distributed")
    assert devices["place"]["outcomes"] == want[district]
    need = households_without_computer()
    in_district = [t for t in TRACTS if geography.tracts()[t].district == district and t in need]
    assert devices["place"]["need"] == pytest.approx(sum(need[t] for t in in_district), abs=0.5)
    # Devices (counts of 40 and more) name their programme; the 25 training enrolments of a
    # programme whose threshold is 30 do not, for the public, and its numbers are hidden.
    assert [(p["name"], p["measures"]) for p in found["programmes"]] == [
        ("eastside-laptop-lending", ["devices_distributed"])
    ]
    training = next(m for m in found["measures"] if m["measure"]["id"] == "training_enrolled")
    assert training["place"]["suppressed"] and training["place"]["outcomes"] is None

    page = soup(app.get(f"/equity/place/council_district/{district}"))
    rows = table(page, "cd3p-place-reach-table")
    assert count(rows["devices_distributed"]["outcomes"]) == want[district]
    assert "suppressed" in rows["training_enrolled"]["outcomes"]
    listed = [li["data-programme"] for li in page.select(".cd3p-place-programmes li")]
    assert listed == ["eastside-laptop-lending"]

    member = call_action(
        "cd3p_impact_place_show",
        {"user": world["member"]["name"], "ignore_auth": False},
        level="tract",
        id=SERVED[0],
    )
    assert [p["name"] for p in member["programmes"]] == ["eastside-laptop-lending", "skills-lab"]
    assert (
        next(m for m in member["measures"] if m["measure"]["id"] == "training_enrolled")["place"]["outcomes"]
        == 25
    )


@pytest.mark.parametrize(
    ("level", "place"), [("tract", "26163999999"), ("council_district", "district-9"), ("zip", "48201")]
)
def test_an_unknown_place_is_not_found_and_a_bad_level_refused(
    world: dict[str, Any], level: str, place: str
) -> None:
    error = tk.ValidationError if level == "zip" else tk.ObjectNotFound
    with pytest.raises(error):
        call_action("cd3p_impact_place_show", {"user": "", "ignore_auth": False}, level=level, id=place)


def test_an_organization_page_shows_its_programmes_and_their_totals(app: Any, world: dict[str, Any]) -> None:
    response = app.get("/organization/eastside-tech")
    assert response.status_code == 200
    page = soup(response)
    totals = table(page, "totals-eastside-laptop-lending")
    assert (
        count(totals["devices_distributed"]["outcomes"])
        == outcomes_by(DEVICES, "devices_distributed", "tract")["city"]
    )
    assert page.find(id="totals-partner-pilot") is None  # partners only
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    member = Browser(app, world["member"]).page("/organization/eastside-tech")
    assert count(table(member, "totals-partner-pilot")["devices_distributed"]["outcomes"]) == 1000


# --- targeting ------------------------------------------------------------------------------------


def test_targeting_shares_and_concentration_index_match_the_report_and_the_index(
    app: Any, world: dict[str, Any]
) -> None:
    index = {
        v["id"]: v["value"]
        for v in equity.show("digital-equity-index", "tract")["values"]
        if isinstance(v["value"], int | float) and not v["suppressed"]
    }
    outcomes: dict[str, float] = defaultdict(float)
    spend: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(DEVICES.decode())):
        if row["measure"] == "devices_distributed" and row["geo_level"] == "tract" and row["geo_id"] in index:
            outcomes[row["geo_id"]] += float(row["count"])
            spend[row["geo_id"]] += float(row["cost"] or 0)
    scores = sorted(index.values(), reverse=True)
    cut = scores[-(-len(scores) // 5) - 1]  # the fifth of tracts with the highest scores, ties in
    top = {t for t, s in index.items() if s >= cut}
    share = sum(outcomes[t] for t in top) / sum(outcomes.values())
    spend_share = sum(spend[t] for t in top) / sum(spend.values())
    # Concentration index: 2 cov(y, r) / mean(y), r the fractional rank from the lowest score
    # (tied tracts share the mean of their ranks), over every scored tract.
    ordered = sorted(index, key=index.get)
    n = len(ordered)
    ranks = {}
    for score in set(index.values()):
        positions = [i for i, t in enumerate(ordered) if index[t] == score]
        for i in positions:
            ranks[ordered[i]] = (sum(positions) / len(positions) + 0.5) / n
    y = [outcomes.get(t, 0.0) for t in ordered]
    r = [ranks[t] for t in ordered]
    mean_y, mean_r = sum(y) / n, sum(r) / n
    concentration = 2 * (sum(a * b for a, b in zip(y, r, strict=True)) / n - mean_y * mean_r) / mean_y

    found = call_action(
        "cd3p_impact_show", {"user": "", "ignore_auth": False}, measure="devices_distributed", level="tract"
    )["targeting"]
    assert found["top_fifth_tracts"] == len(top) and found["tracts"] == n
    assert found["outcomes"] == sum(outcomes.values())
    assert found["top_fifth_outcome_share"] == pytest.approx(share)
    assert found["top_fifth_spend_share"] == pytest.approx(spend_share)
    assert found["concentration_index"] == pytest.approx(concentration)

    page = soup(app.get("/impact?measure=devices_distributed"))
    shown = {dd["data-key"]: dd.get_text(strip=True) for dd in page.select("#cd3p-targeting dd")}
    assert shown["top_fifth_outcome_share"] == f"{share * 100:,.1f}%"
    assert shown["concentration_index"] == f"{concentration:+.3f}"
    # The programme's dataset page leads to its reach.
    dataset = soup(app.get("/programme/eastside-laptop-lending"))
    assert dataset.select_one('a[href="/impact/programme/eastside-laptop-lending"]') is not None


# --- every measure citywide ------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["", "member"])
def test_the_summary_gives_each_measure_as_impact_show_does_at_city_level(
    world: dict[str, Any], user: str
) -> None:
    context = {"user": world["member"]["name"] if user else "", "ignore_auth": False}
    summary = call_action("cd3p_impact_summary", dict(context), measure="devices_distributed")
    for item in summary["measures"]:
        alone = call_action("cd3p_impact_show", dict(context), measure=item["measure"]["id"], level="city")
        keys = ("outcomes", "spend", "cost_per_outcome", "suppressed")
        assert {k: item["city"][k] for k in keys} == {k: alone["city"][k] for k in keys}
        assert item["trend"] == alone["trend"]
    devices = next(i for i in summary["measures"] if i["measure"]["id"] == "devices_distributed")
    want = outcomes_by(DEVICES, "devices_distributed", "tract")["city"]
    assert devices["city"]["outcomes"] == want + (1000 if user else 0)  # the partner pilot for its member
    (partner,) = summary["organizations"]
    assert (partner["id"], partner["outcomes"]) == ("eastside-tech", devices["city"]["outcomes"])
    training = next(i for i in summary["measures"] if i["measure"]["id"] == "training_enrolled")
    assert training["city"]["suppressed"] is (not user)  # 25 people: hidden from the public only
