"""The partner directory's pages: /partners (its filters, list, map and table), the gaps, the
organization page as the partner's profile, "who serves this place" on the place pages, and
/dashboard/partnership; markup in what partners write is shown as text; refusals and bad filters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from tests import equity, partners
from tests.ecosystem import world
from tests.web import Browser, is_login_redirect, person, soup, text

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

XSS = "<script>alert(1)</script>"


@pytest.fixture
def w(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    return world.build()


def _rows(page: Any, table_id: str, key: str = "data-partner") -> list[str]:
    return [tr[key] for tr in page.select(f"#{table_id} tbody tr[{key}]")]


class TestDirectory:
    def test_the_list_its_filters_and_the_standing(self, app: Any, w: dict[str, Any]) -> None:
        browser = Browser(app)
        page = browser.page("/partners")
        assert _rows(page, "cd3p-partner-list") == ["eastside-connect", "osborn-wifi", "wsu-lab"]
        row = page.select_one('tr[data-partner="eastside-connect"]')
        assert row.select_one(".cd3p-standing-badge")["data-standing"] == "current"
        assert "template-1" in row.get_text()
        assert row.select_one("a.cd3p-contact-email")["href"] == "mailto:hello@eastside.example.org"
        assert row.select_one(".cd3p-services")["data-from"] == "declared"
        assert "Device distribution" in row.get_text()
        assert page.select_one('tr[data-partner="osborn-wifi"] .cd3p-standing-badge')["data-standing"] == (
            "unsigned"
        )

        filtered = browser.page("/partners?district=district-3&service=home_internet")
        assert _rows(filtered, "cd3p-partner-list") == ["osborn-wifi"]
        assert _rows(browser.page("/partners?sector=academic"), "cd3p-partner-list") == ["wsu-lab"]

    def test_the_map_and_its_table_count_the_partners_serving_each_district(
        self, app: Any, w: dict[str, Any]
    ) -> None:
        browser = Browser(app)
        page = browser.page("/partners?service=device_distribution")
        table = {
            tr["data-place"]: int(tr.select_one('[data-key="count"]').get_text())
            for tr in page.select("#cd3p-partner-districts tbody tr")
        }
        assert table == {f"district-{n}": (1 if n in (1, 3, 5) else 0) for n in range(1, 8)}
        mapped = page.select_one("[data-cd3p-map]")
        assert mapped["data-geojson"].startswith("/partners/districts.geojson?")

        response = browser.get(mapped["data-geojson"])
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/geo+json"
        features = json.loads(response.get_data(as_text=True))["features"]
        assert {f["id"]: f["properties"]["count"] for f in features} == table
        assert all(f["geometry"] for f in features)
        assert len(page.select("#cd3p-map + figcaption .cd3p-legend li")) >= 1

    @pytest.mark.parametrize(
        "query", ["sector=pirates", "service=teleportation", "district=district-99", "q=" + "x" * 300]
    )
    def test_an_unknown_filter_is_a_400_that_says_which(
        self, app: Any, w: dict[str, Any], query: str
    ) -> None:
        for path in ("/partners", "/partners/districts.geojson"):
            response = Browser(app).get(f"{path}?{query}")
            assert response.status_code == 400, path
            assert query.partition("=")[0] in text(response)


class TestGaps:
    def test_the_gaps_page_asks_for_a_service_with_a_need_count(self, app: Any, w: dict[str, Any]) -> None:
        browser = Browser(app)
        page = browser.page("/partners/gaps")
        assert page.select_one("#field-service option[selected]")["value"] == "device_distribution"
        options = [o["value"] for o in page.select("#field-service option")]
        assert "public_wifi" not in options
        # No need count is loaded here: no place is named.
        assert page.select("#cd3p-gaps-table tbody tr[data-place]") == []

        assert browser.get("/partners/gaps?service=public_wifi").status_code == 400
        assert browser.get("/partners/gaps?service=device_distribution&level=zip").status_code == 400
        assert browser.get("/partners/gaps.geojson").status_code == 400
        assert browser.get("/partners/gaps.geojson?service=home_internet").status_code == 200


class TestProfile:
    def test_the_organization_page_is_the_partners_profile(self, app: Any, w: dict[str, Any]) -> None:
        call_action(
            "cd3p_data_request_create",
            {"user": person()["name"]},
            title="Laptops by block",
            description="For District 3",
            addressed_to="eastside-connect",
        )
        page = Browser(app).page("/organization/eastside-connect")
        profile = page.select_one("#cd3p-partner-profile")
        assert profile.select_one(".cd3p-profile-sector").get_text(strip=True) == "Nonprofit"
        assert profile.select_one(".cd3p-standing-badge")["data-standing"] == "current"
        services = profile.select_one(".cd3p-profile-services")
        assert services["data-from"] == "declared"
        assert "Device distribution" in services.get_text() and "IT certification" not in services.get_text()
        assert [li["data-place"] for li in profile.select("#cd3p-service-area li")] == [
            "district-1",
            "district-3",
        ]
        assert (
            profile.select_one("[data-cd3p-map]")["data-geojson"]
            == "/partners/eastside-connect/districts.geojson"
        )
        assert profile.select_one(".cd3p-profile-mission strong").get_text() == "Eastside"
        assert [
            tr.select_one("a").get_text()
            for tr in profile.select("#cd3p-partner-requests tbody tr[data-request-id]")
        ] == ["Laptops by block"]
        assert "Ask this partner for data" in profile.select_one('a[href^="/data-requests/new"]').get_text()

        area = Browser(app).get("/partners/eastside-connect/districts.geojson")
        inside = {
            f["id"] for f in json.loads(area.get_data(as_text=True))["features"] if f["properties"]["in_area"]
        }
        assert inside == {"district-1", "district-3"}
        assert Browser(app).get("/partners/no-such-partner/districts.geojson").status_code == 404

    def test_a_member_sees_the_services_of_the_organization_only_programme(
        self, app: Any, w: dict[str, Any]
    ) -> None:
        services = (
            Browser(app, w["member"])
            .page("/organization/eastside-connect")
            .select_one(".cd3p-profile-services")
        )
        assert services["data-from"] == "programmes"
        assert "IT certification training" in services.get_text()


class TestEscaping:
    def test_markup_in_a_partners_title_mission_and_contact_is_shown_as_text(
        self, app: Any, agreement: dict[str, Any], clean_index: None
    ) -> None:
        equity.load_sources()  # the place page shows the indicators of its sources
        website = 'https://evil.example.org/?q="><script>alert(2)</script>'
        partners.organization(
            person(),
            name="evil",
            title=f"Evil {XSS}",
            mission=f"Mission {XSS} <img src=x onerror=alert(3)>",
            website=website,
            service_area=["district-2"],
        )
        for path in ("/partners", "/organization/evil", "/equity/place/council_district/district-2"):
            response = Browser(app).get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert "<script>alert(" not in html, path
            assert "onerror=alert(3)" not in html.replace("&lt;img", ""), path
            page = soup(response)
            assert f"Evil {XSS}" in page.get_text(), path
        link = soup(Browser(app).get("/partners")).select_one("a.cd3p-website")
        assert link["href"] == website


class TestPlacePages:
    def test_who_serves_a_district_and_a_tract_in_it(self, app: Any, w: dict[str, Any]) -> None:
        equity.load_sources()  # the place page shows the indicators of its sources
        browser = Browser(app)
        page = browser.page("/equity/place/council_district/district-3")
        assert _rows(page, "cd3p-place-partners-table") == ["eastside-connect", "osborn-wifi"]
        assert page.select_one('#cd3p-place-partners a[href="/partners/gaps"]')

        tract = next(t for t, found in sorted(geography.tracts().items()) if found.district == "district-5")
        assert _rows(browser.page(f"/equity/place/tract/{tract}"), "cd3p-place-partners-table") == ["wsu-lab"]


class TestPartnership:
    def test_a_visitor_is_sent_to_log_in(self, app: Any, w: dict[str, Any]) -> None:
        assert is_login_redirect(Browser(app).get("/dashboard/partnership"))

    def test_an_admin_sees_their_signature_organization_queue_and_requests(
        self, app: Any, w: dict[str, Any]
    ) -> None:
        resident = person()
        asked = call_action(
            "cd3p_data_request_create",
            {"user": resident["name"]},
            title="Classes by district",
            description="For District 3",
            addressed_to="eastside-connect",
        )
        admin_page = Browser(app, w["admin"]).page("/dashboard/partnership")
        assert [tr["data-kind"] for tr in admin_page.select("#cd3p-my-ledger tbody tr[data-kind]")] == [
            "sign"
        ]
        assert _rows(admin_page, "cd3p-my-queue", "data-request-id") == [asked["id"]]
        assert admin_page.select_one('.cd3p-my-organizations tr[data-organization="eastside-connect"]')

        dashboard = Browser(app, w["admin"]).page("/dashboard/datasets")
        assert dashboard.select_one('a[href="/dashboard/partnership"]')

        resident_page = Browser(app, resident).page("/dashboard/partnership")
        assert _rows(resident_page, "cd3p-mine-table", "data-request-id") == [asked["id"]]
        assert _rows(resident_page, "cd3p-my-queue", "data-request-id") == []
