"""Pages render with the plugin enabled and show what a visitor looks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories


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
