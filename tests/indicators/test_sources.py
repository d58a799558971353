"""Partner datasets registered as indicator sources: the action, its checks, the admin page, and
margins of error propagated with the Census Bureau's formulas, all checked against numbers computed
here from the source file.

The partner table is made from the real ACS tract file: households without a computer as a count
(households x (1 - f_computer), rounded) with a margin of error, and households with theirs. The ACS
files shipped with the demo carry no margins, so the margins are generated (deterministically) in
the shape the ACS publishes them.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action, call_auth

from ckanext.cd3p.common import geography
from tests import equity, factories, partners
from tests.web import Browser, field_error, person, soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_index")

DATASET = "eastside-device-survey-2025"
RESOURCE = "No computer by tract (CSV)"


def proportion_moe(num: float, den: float, num_var: float, den_var: float) -> float:
    """ACS General Handbook, ch. 8: MOE of a proportion, or of a ratio when the radicand is negative."""
    p = num / den
    radicand = num_var - p * p * den_var
    if radicand < 0:
        radicand = num_var + p * p * den_var
    return math.sqrt(radicand) / den


def survey_rows() -> list[dict[str, Any]]:
    """Detroit tracts with both figures: the count, the households, and their 90% margins."""
    rows = []
    for r in equity.acs_rows():
        hh, f = equity.num(r["households"]), equity.num(r["f_computer"])
        if r["geoid"] not in geography.tracts() or hh is None or f is None:
            continue
        count = round(hh * (1 - f))
        rows.append(
            {
                "geoid": r["geoid"],
                "no_computer": count,
                "no_computer_moe": round(1.645 * math.sqrt(count + 25) * 1.4),
                "households": hh,
                "households_moe": round(0.06 * hh + 12),
            }
        )
        row = rows[-1]
        row["share"] = count / hh
        row["share_moe"] = proportion_moe(count, hh, row["no_computer_moe"] ** 2, row["households_moe"] ** 2)
    return rows


@pytest.fixture
def survey(agreement: dict[str, Any]) -> dict[str, Any]:
    """The shipped sources and a partner's survey table, public, in the DataStore."""
    loaded = equity.load_sources()
    dataset = factories.Dataset(name=DATASET, title="Eastside device survey", owner_org=loaded["org"]["id"])
    resource = factories.Resource(package_id=dataset["id"], name=RESOURCE, url="http://example.com/s.csv")
    columns = ["no_computer", "no_computer_moe", "households", "households_moe", "share", "share_moe"]
    call_action(
        "datastore_create",
        resource_id=resource["id"],
        force=True,
        fields=[{"id": "geoid", "type": "text"}] + [{"id": c, "type": "numeric"} for c in columns],
        records=survey_rows(),
    )
    return {**loaded, "dataset": dataset, "resource": resource}


def words(node: Any) -> str:
    return node.get_text(" ", strip=True)


def definition(**overrides: Any) -> dict[str, Any]:
    source = {
        "id": "eastside-survey",
        "dataset": DATASET,
        "resource": RESOURCE,
        "key": "geoid",
        "vintage": "Survey 2025",
        "citation": "Eastside Tech Hub household survey",
    }
    indicator = {
        "id": "survey-no-computer",
        "title": "Households without a computer (survey)",
        "description": "Households without a computer, counted by the survey.",
        "topic": "devices",
        "unit": "percent",
        "direction": "higher",
        "column": "no_computer",
        "kind": "count",
        "moe": "no_computer_moe",
        "weight_column": "households",
        "weight_label": "households",
        "weight_moe": "households_moe",
    }
    indicator.update(overrides.pop("indicator", {}))
    return {**source, **overrides, "indicators": [indicator]}


def register(**overrides: Any) -> dict[str, Any]:
    return call_action(
        "cd3p_indicator_source_create", {"user": partners.site_user()}, **definition(**overrides)
    )


def registered() -> list[str]:
    sources = call_action("cd3p_indicator_source_list", {"user": partners.site_user()})
    return [s["id"] for s in sources if s.get("registered")]


def test_a_registered_count_is_a_share_of_its_weight_with_propagated_margins(survey: dict[str, Any]) -> None:
    register()
    rows = {r["geoid"]: r for r in survey_rows()}

    tracts = equity.show("survey-no-computer")
    for v in tracts["values"]:
        r = rows.get(v["id"])
        if r is None:
            assert v["value"] is None and v["moe"] is None, v["id"]
            continue
        hh, n = r["households"], r["no_computer"]
        assert v["value"] == pytest.approx(100 * n / hh)
        expected = proportion_moe(n, hh, r["no_computer_moe"] ** 2, r["households_moe"] ** 2)
        assert v["moe"] == pytest.approx(100 * expected)

    sums: dict[str, list[float]] = {}
    for geoid, r in rows.items():
        s = sums.setdefault(geography.tracts()[geoid].district, [0.0, 0.0, 0.0, 0.0])
        s[0] += r["no_computer"]
        s[1] += r["households"]
        s[2] += r["no_computer_moe"] ** 2  # the MOE of a sum: root of the summed squares
        s[3] += r["households_moe"] ** 2
    districts = equity.show("survey-no-computer", "council_district")
    assert len(districts["values"]) == 7
    for v in districts["values"]:
        num, den, num_var, den_var = sums[v["id"]]
        assert v["numerator"] == pytest.approx(num)
        assert v["denominator"] == pytest.approx(den)
        assert v["value"] == pytest.approx(100 * num / den)
        assert v["moe"] == pytest.approx(100 * proportion_moe(num, den, num_var, den_var))
        assert 0 < v["moe"] < 5  # a district's margin is far narrower than a tract's
    assert districts["vintage"] == "Survey 2025"
    assert [s["dataset"] for s in districts["sources"]] == [DATASET]

    listed = call_action("cd3p_indicator_list", {}, topic="devices")
    assert "survey-no-computer" in [i["id"] for i in listed]
    place = call_action("cd3p_place_show", {}, level="council_district", id="district-4")
    assert "survey-no-computer" in [i["indicator"]["id"] for i in place["indicators"]]


def test_a_share_with_a_margin_keeps_the_tract_margin_and_weights_another_source(
    survey: dict[str, Any],
) -> None:
    """A share's MOE at a tract is the source's own; aggregated with weights from the shipped ACS
    source (taken as exact, no weight margin), it is sqrt(sum (w x moe)^2) / sum w."""
    rows = {r["geoid"]: r for r in survey_rows()}
    register(
        indicator={
            "id": "survey-no-computer-share",
            "column": "share",
            "kind": "share",
            "moe": "share_moe",
            "weight_source": "tract-acs",
            "weight_column": "households",
            "weight_moe": "",
        }
    )
    tracts = {v["id"]: v for v in equity.show("survey-no-computer-share")["values"]}
    for geoid, r in rows.items():
        assert tracts[geoid]["value"] == pytest.approx(100 * r["share"])
        assert tracts[geoid]["moe"] == pytest.approx(100 * r["share_moe"])

    num = den = var = 0.0
    for r in rows.values():
        num += r["households"] * r["share"]
        den += r["households"]
        var += (r["households"] * r["share_moe"]) ** 2
    city = equity.show("survey-no-computer-share", "city")
    assert city["citywide"]["value"] == pytest.approx(100 * num / den)
    assert city["citywide"]["moe"] == pytest.approx(100 * math.sqrt(var) / den)
    assert [s["id"] for s in city["sources"]] == ["eastside-survey", "tract-acs"]


def test_bad_definitions_are_refused_with_the_reason_and_nothing_is_registered(
    survey: dict[str, Any],
) -> None:
    cases = [
        ({"dataset": "no-such-dataset"}, "dataset", "Dataset not found"),
        ({"resource": "Nope"}, "resource", RESOURCE),  # the message lists the resources there are
        ({"key": "tract"}, "key", "no_computer_moe"),  # ... and the columns there are
        ({"key": "no_computer"}, "key", "None of the values"),
        ({"id": "tract-acs"}, "id", "exists"),
        ({"indicator": {"id": "poverty-rate"}}, "indicators", "taken"),
        ({"indicator": {"column": "no_laptop"}}, "indicators", "no column no_laptop"),
        (
            {"indicator": {"weight_source": "tract-acs", "weight_moe": "households_moe"}},
            "indicators",
            "households_moe",
        ),
        ({"indicator": {"weight_source": "elsewhere"}}, "indicators", "unknown weight source"),
        ({"indicator": {"kind": "ratio"}}, "indicators", "Value must be one of"),
        ({"indicator": {"topic": "sports"}}, "indicators", "Value must be one of"),
        ({"indicator": {"title": ""}}, "indicators", "Missing value"),
        ({"level": "zip"}, "level", "Value must be one of"),
    ]
    for overrides, field, message in cases:
        with pytest.raises(tk.ValidationError) as e:
            register(**overrides)
        assert field in e.value.error_dict, overrides
        assert message in str(e.value.error_dict[field]), (overrides, e.value.error_dict)
    with pytest.raises(tk.ValidationError, match="at least one"):
        call_action(
            "cd3p_indicator_source_create",
            {"user": partners.site_user()},
            **{**definition(), "indicators": []},
        )
    assert registered() == []
    assert "survey-no-computer" not in [i["id"] for i in call_action("cd3p_indicator_list", {})]


def test_removing_a_source_removes_its_indicators(survey: dict[str, Any]) -> None:
    register()
    assert equity.show("survey-no-computer", "city")["citywide"]["value"] is not None
    call_action("cd3p_indicator_source_delete", {"user": partners.site_user()}, id="eastside-survey")
    assert registered() == []
    with pytest.raises(tk.ObjectNotFound):
        equity.show("survey-no-computer", "city")
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_indicator_source_delete", {"user": partners.site_user()}, id="eastside-survey")
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_indicator_source_delete", {"user": partners.site_user()}, id="tract-acs")


def test_a_partner_tier_source_is_withheld_from_the_public(survey: dict[str, Any]) -> None:
    register()
    call_action(
        "package_patch", {"user": partners.site_user()}, id=DATASET, private=True, access_level="partners"
    )
    with pytest.raises(tk.NotAuthorized):
        equity.show("survey-no-computer", "city")
    place = call_action("cd3p_place_show", {"user": "", "ignore_auth": False}, level="city", id="city")
    assert "survey-no-computer" in place["withheld"]
    member = factories.User()
    partners.join(survey["org"], member)
    assert equity.show("survey-no-computer", "city", user=member["name"])["citywide"]["value"] is not None


@pytest.mark.parametrize(
    "action", ["cd3p_indicator_source_create", "cd3p_indicator_source_delete", "cd3p_indicator_source_list"]
)
def test_only_sysadmins_manage_sources(survey: dict[str, Any], action: str) -> None:
    member, editor, org_admin = factories.User(), factories.User(), factories.User()
    partners.join(survey["org"], member)
    partners.join(survey["org"], editor, "editor")
    partners.join(survey["org"], org_admin, "admin")
    for name in ["", factories.User()["name"], member["name"], editor["name"], org_admin["name"]]:
        with pytest.raises(tk.NotAuthorized):
            call_auth(action, {"user": name, "model": None})
    assert call_auth(action, {"user": factories.Sysadmin()["name"], "model": None})


class TestAdminPage:
    URL = "/ckan-admin/indicator-sources"

    def form(self) -> dict[str, str]:
        data = definition()
        indicator = data.pop("indicators")[0]
        return {**data, **{f"indicator_{k}": v for k, v in indicator.items()}}

    def test_sysadmins_register_through_the_form_and_see_it_on_the_equity_page(
        self, app: Any, survey: Any
    ) -> None:
        admin = factories.Sysadmin(password="correct-horse-123")
        browser = Browser(app, admin)
        page = browser.page(self.URL)
        shipped = [tr["data-source"] for tr in page.select("tr[data-source]")]
        assert shipped == ["tract-acs", "tract-no-internet", "tract-poverty"]
        assert "Shipped" in words(page.select_one("tr[data-source=tract-acs]"))

        response = browser.post(self.URL, self.form())
        assert response.status_code == 302
        assert registered() == ["eastside-survey"]
        row = browser.page(self.URL).select_one("tr[data-source=eastside-survey]")
        assert "Households without a computer (survey)" in words(row)
        assert admin["name"] in words(row)

        overview = browser.page("/equity")
        assert overview.select_one("[data-indicator=survey-no-computer]") is not None
        indicator = browser.page("/equity/indicator/survey-no-computer?level=council_district")
        moes = [words(td) for td in indicator.select("td.cd3p-moe")]
        assert len(moes) == 7 and all(m.startswith("±") for m in moes)

        response = browser.post(f"{self.URL}/eastside-survey/delete", {})
        assert response.status_code == 302
        assert registered() == []

    def test_a_bad_column_is_shown_with_the_input_kept_and_nothing_registered(
        self, app: Any, survey: Any
    ) -> None:
        browser = Browser(app, factories.Sysadmin(password="correct-horse-123"))
        response = browser.post(self.URL, {**self.form(), "vintage": ""})
        assert response.status_code == 200
        assert "Missing value" in field_error(soup(response), "field-vintage")

        response = browser.post(self.URL, {**self.form(), "indicator_column": "no_laptop"})
        assert response.status_code == 200
        page = soup(response)
        assert "no column no_laptop" in words(page.select_one(".cd3p-source-form"))
        assert page.find(id="field-indicator_column")["value"] == "no_laptop"
        assert page.find(id="field-citation")["value"] == "Eastside Tech Hub household survey"
        assert registered() == []

    def test_csrf_is_required(self, app: Any, survey: Any) -> None:
        browser = Browser(app, factories.Sysadmin(password="correct-horse-123"))
        refused = browser.post(self.URL, self.form(), csrf=False)
        assert refused.status_code == 400
        assert "CSRF" in refused.get_data(as_text=True)
        assert registered() == []

    def test_others_are_refused(self, app: Any, survey: Any) -> None:
        assert Browser(app).get(self.URL).status_code == 302  # anonymous: log in first
        assert Browser(app, person()).get(self.URL).status_code == 403
        editor = person()
        partners.join(survey["org"], editor, "editor")
        assert Browser(app, editor).get(self.URL).status_code == 403
        assert Browser(app, editor).post(self.URL, self.form()).status_code == 403
        assert registered() == []
