"""Pages render with the plugin enabled and show what a visitor looks for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import validators
from ckanext.cd3p.ingestion import checks
from tests import factories
from tests.web import Browser, is_login_redirect


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPages:
    def test_home_page_introduces_the_portal(self, app: Any) -> None:
        response = app.get("/")

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        assert (
            page.find("h2", id="cd3p-intro-title").get_text(strip=True)
            == "City of Detroit Demographic Data Portal"
        )
        steps = [li.get_text(" ", strip=True) for li in page.select(".cd3p-steps li")]
        assert [s.split(".")[0] for s in steps] == ["1", "2", "3"]
        assert "Sign the agreement" in steps[1]

    def test_dataset_page_shows_the_dataset_and_its_resources(self, app: Any) -> None:
        dataset = factories.Dataset(
            title="Households without a computer",
            notes="Share of households with **no computer**.",
            source_citation="US Census Bureau, ACS 2015-2019",
            owner_org=factories.Organization()["id"],
        )
        factories.Resource(
            package_id=dataset["id"], name="By tract (CSV)", url="http://example.com/t.csv", format="CSV"
        )

        response = app.get(f"/dataset/{dataset['name']}")

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        assert page.select_one("article h1").get_text(strip=True).startswith("Households without a computer")
        assert page.find("strong", string="no computer") is not None  # Markdown rendered
        assert "By tract (CSV)" in page.get_text()
        assert "US Census Bureau, ACS 2015-2019" in page.get_text()

    def test_search_page_lists_datasets_with_facets(self, app: Any) -> None:
        org = factories.Organization(title="Data Driven Detroit")
        factories.Dataset(title="Broadband by tract", owner_org=org["id"], tags=[{"name": "broadband"}])
        factories.Dataset(title="Devices by tract", owner_org=org["id"], tags=[{"name": "devices"}])

        response = app.get("/dataset/", query_string={"q": "broadband"})

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        titles = [a.get_text(strip=True) for a in page.select(".dataset-heading a")]
        assert titles == ["Broadband by tract"]
        facet_text = page.select_one(".module-facet, section.module").get_text(" ", strip=True)
        assert facet_text

    def test_user_input_is_escaped(self, app: Any) -> None:
        dataset = factories.Dataset(
            title="<script>alert('x')</script> Tracts", owner_org=factories.Organization()["id"]
        )

        response = app.get(f"/dataset/{dataset['name']}")

        assert "<script>alert('x')</script>" not in response.body
        assert "&lt;script&gt;" in response.body

    def test_methodology_and_limitations_are_markdown_without_html(self, app: Any) -> None:
        dataset = factories.Dataset(
            owner_org=factories.Organization()["id"],
            methodology="**bold** <script>alert(1)</script>",
            limitations="Margins of error: *see* ![pixel](https://evil.example/p.gif)",
        )

        response = app.get(f"/dataset/{dataset['name']}")

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        cells = {
            th.get_text(strip=True): th.find_next_sibling("td")
            for th in page.select(".cd3p-about th.dataset-label")
        }
        methodology, limitations = cells["Methodology"], cells["Known limitations"]
        assert str(methodology.find("strong")) == "<strong>bold</strong>"
        assert methodology.get_text(" ", strip=True) == "bold alert(1)"  # the tag is gone, not shown
        assert "<script>alert(1)" not in response.body
        assert str(limitations.find("em")) == "<em>see</em>"
        assert limitations.find("img") is None and "evil.example" not in response.body
        assert limitations.get_text(" ", strip=True) == "Margins of error: see pixel"

    def test_a_stored_url_that_is_not_a_web_link_is_shown_as_text(
        self, app: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with monkeypatch.context() as before_the_check:  # values stored before URLs were checked
            before_the_check.setattr(validators, "http_url", lambda value: value)
            org = factories.Organization(website="javascript:alert(5)")
            dataset = factories.Dataset(owner_org=org["id"], url="javascript:alert(5)")
        assert call_action("package_show", id=dataset["id"])["url"] == "javascript:alert(5)"

        dataset_page = BeautifulSoup(app.get(f"/dataset/{dataset['name']}").body, "html.parser")
        about = BeautifulSoup(app.get(f"/organization/about/{org['name']}").body, "html.parser")

        assert not dataset_page.select('[href*="javascript:"]')
        assert [s.get_text() for s in dataset_page.select(".cd3p-not-a-link")] == ["javascript:alert(5)"]
        # The organization's about page (scheming's) lists every field as text, the website too.
        assert not about.select('[href*="javascript:"]')
        website = next(dt for dt in about.select("dt") if dt.get_text(strip=True) == "Website:")
        assert website.find_next_sibling("dd").get_text(strip=True) == "javascript:alert(5)"

    def test_a_web_link_is_a_link(self, app: Any) -> None:
        dataset = factories.Dataset(
            owner_org=factories.Organization()["id"], url="https://detroitmi.gov/data?a=1&b=<2>"
        )

        page = BeautifulSoup(app.get(f"/dataset/{dataset['name']}").body, "html.parser")

        source = page.select_one('.cd3p-about td[property="foaf:homepage"] a')
        assert (source["href"], source.get_text()) == ("https://detroitmi.gov/data?a=1&b=<2>",) * 2

    def test_unknown_dataset_is_a_404(self, app: Any) -> None:
        assert app.get("/dataset/no-such-dataset", status=404).status_code == 404


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestResourceViews:
    def test_uploaded_geojson_gets_a_map_view(
        self, organization: dict[str, Any], upload: Callable[..., dict[str, Any]]
    ) -> None:
        dataset = factories.Dataset(owner_org=organization["id"])
        geojson = b'{"type": "FeatureCollection", "features": []}'

        resource = upload(dataset["id"], geojson, "neighborhoods.geojson", format="GeoJSON")

        views = call_action("resource_view_list", id=resource["id"])
        assert [v["view_type"] for v in views] == ["geojson_view"]

    def test_image_resource_gets_an_image_view(self) -> None:
        dataset = factories.Dataset(owner_org=factories.Organization()["id"])
        resource = factories.Resource(
            package_id=dataset["id"], url="http://example.com/map.png", format="PNG"
        )

        views = call_action("resource_view_list", id=resource["id"])

        assert [v["view_type"] for v in views] == ["image_view"]


CSV = b"geoid,households\n26163500100,120\n26163500200,95\n"


@pytest.mark.usefixtures("with_plugins", "clean_index")
class TestDownloadBeforeTheCheck:
    """A file is for everyone only once it has passed its check: until then (pending here, as this
    test environment runs no worker) only the dataset's editors and sysadmins may download it."""

    @pytest.fixture
    def pending(self, partner: dict[str, Any], put: Callable[..., dict[str, Any]]) -> dict[str, Any]:
        dataset = factories.Dataset(owner_org=partner["org"]["id"], access_level="public")
        resource = put(CSV, "households.csv", dataset)
        assert checks.latest(resource["id"]).state == "pending"
        return {
            **partner,
            "url": f"/dataset/{dataset['id']}/resource/{resource['id']}/download/households.csv",
            "resource": resource,
        }

    def _as(self, app: Any, url: str, user: dict[str, Any]) -> Any:
        return app.get(url, headers={"Authorization": user["token"]}, follow_redirects=False)

    def test_visitors_are_sent_to_log_in(self, app: Any, pending: dict[str, Any]) -> None:
        assert is_login_redirect(Browser(app).get(pending["url"]))

    def test_registered_users_who_may_not_edit_it_are_refused(
        self, app: Any, pending: dict[str, Any]
    ) -> None:
        outsider = factories.UserWithToken()
        for user in (outsider, pending["member"]):
            response = self._as(app, pending["url"], user)
            assert response.status_code == 403, user["name"]
            assert "not passed its check" in response.body

    def test_the_datasets_editors_and_sysadmins_download_it(
        self, app: Any, pending: dict[str, Any], sysadmin: dict[str, Any]
    ) -> None:
        for user in (pending["editor"], pending["admin"], sysadmin):
            response = self._as(app, pending["url"], user)
            assert (response.status_code, response.body.encode()) == (200, CSV), user["name"]

    @pytest.mark.parametrize("state", ["held", "failed"])
    def test_a_held_or_failed_file_is_refused_too(
        self, app: Any, pending: dict[str, Any], state: str
    ) -> None:
        _set_check(pending["resource"]["id"], state)

        assert is_login_redirect(Browser(app).get(pending["url"]))
        assert self._as(app, pending["url"], factories.UserWithToken()).status_code == 403

    def test_once_passed_everyone_downloads_it(self, app: Any, pending: dict[str, Any]) -> None:
        _set_check(pending["resource"]["id"], "passed")

        response = Browser(app).get(pending["url"])

        assert (response.status_code, response.get_data()) == (200, CSV)
        assert self._as(app, pending["url"], factories.UserWithToken()).status_code == 200


def _set_check(resource_id: str, state: str) -> None:
    """What the check job would have decided (this environment runs no worker)."""
    check = checks.latest(resource_id)
    assert check is not None
    check.state = state
    model.Session.commit()


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestOrganizations:
    def test_list_and_page_show_the_sector(self, app: Any) -> None:
        factories.Organization(name="tech-town-neighbors", title="Tech Town Neighbors", sector="grassroots")
        factories.Organization(name="motor-city-telecom", title="Motor City Telecom", sector="corporation")

        listing = BeautifulSoup(app.get("/organization/").body, "html.parser")
        items = {
            li.select_one(".media-heading").get_text(strip=True): li.select_one(".cd3p-sector").get_text(
                strip=True
            )
            for li in listing.select("li.media-item")
        }
        assert items == {
            "Tech Town Neighbors": "Grassroots / community group",
            "Motor City Telecom": "Corporation",
        }
        page = BeautifulSoup(app.get("/organization/motor-city-telecom").body, "html.parser")
        assert page.select_one(".cd3p-sector").get_text(" ", strip=True) == "Sector: Corporation"

    def test_sector_is_required_and_checked(self) -> None:
        sysadmin = factories.Sysadmin()
        with pytest.raises(tk.ValidationError) as err:
            call_action("organization_create", {"user": sysadmin["name"]}, name="no-sector")
        assert "sector" in err.value.error_dict
        with pytest.raises(tk.ValidationError) as err:
            call_action("organization_create", {"user": sysadmin["name"]}, name="bad-sector", sector="cartel")
        assert "sector" in err.value.error_dict

    def test_the_service_area_offers_and_takes_the_citys_council_districts(self, app: Any) -> None:
        """One list (common/geography.council_districts), read from the shipped boundaries: the
        validator had its own ``district-1`` to ``district-7`` and the form read the schema's."""
        with open(cd3p_config.data_dir() / "boundaries" / "council_districts.geojson", encoding="utf-8") as f:
            numbers = sorted(int(feature["properties"]["district"]) for feature in json.load(f)["features"])
        expected = [f"district-{n}" for n in numbers]
        sysadmin = factories.SysadminWithToken()
        page = BeautifulSoup(
            app.get("/organization/new", headers={"Authorization": sysadmin["token"]}).body,
            "html.parser",
        )
        assert [i["value"] for i in page.select('input[name="service_area"]')] == expected
        org = call_action(
            "organization_create",
            {"user": sysadmin["name"]},
            name="everywhere",
            sector="grassroots",
            service_area=expected,
        )
        assert org["service_area"] == expected
        with pytest.raises(tk.ValidationError) as err:
            call_action(
                "organization_create",
                {"user": sysadmin["name"]},
                name="beyond",
                sector="grassroots",
                service_area=[expected[0], f"district-{numbers[-1] + 1}"],
            )
        assert f"district-{numbers[-1] + 1}" in str(err.value.error_dict["service_area"])


@pytest.mark.usefixtures("with_plugins")
def test_the_schema_is_documented_by_the_api() -> None:
    schema = call_action("scheming_dataset_schema_show", type="dataset")

    names = [f["field_name"] for f in schema["dataset_fields"]]
    for field in (
        "equity_topics",
        "demographic_dimensions",
        "geography_level",
        "access_level",
        "steward_email",
    ):
        assert field in names
    topics = next(f for f in schema["dataset_fields"] if f["field_name"] == "equity_topics")
    assert {"value": "telehealth", "label": "Digital literacy: telehealth"} in topics["choices"]
    assert [f["field_name"] for f in schema["dataset_fields"] if not f.get("help_text")] == []
