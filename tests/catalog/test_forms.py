"""The dataset form validates exactly like the API, behind CKAN's CSRF protection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.web import field_error


@pytest.fixture
def editor(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    user = factories.UserWithToken()
    org = partners.organization(factories.User(), name="tech-town")
    partners.join(org, user, "editor")
    return {**user, "org": org}


def _form(app: Any, editor: dict[str, Any]) -> tuple[dict[str, str], str]:
    headers = {"Authorization": editor["token"]}
    page = BeautifulSoup(app.get("/dataset/new", headers=headers).body, "html.parser")
    return headers, page.find("input", {"name": "_csrf_token"})["value"]


def _fields(editor: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "name": "laptop-loans-2024",
        "title": "Laptop loans 2024",
        "notes": "Laptops lent by the library, by neighborhood.",
        "owner_org": editor["org"]["id"],
        "equity_topics": ["device-access", "telehealth"],
        "demographic_dimensions": "age",
        "geography_level": "neighborhood",
        "geographic_coverage": "district-3",
        "temporal_start": "2024-01-01",
        "temporal_end": "2024-12-31",
        "access_level": "partners",
        "contains_personal_data": "no",
        "small_cell_threshold": "11",
        "steward_email": "steward@example.org",
        "save": "continue",
        "_ckan_phase": "dataset_new_1",
        **overrides,
    }


@pytest.mark.usefixtures("with_plugins")
class TestDatasetForm:
    def test_form_groups_the_fields_with_help(self, app: Any, editor: dict[str, Any]) -> None:
        headers = {"Authorization": editor["token"]}
        page = BeautifulSoup(app.get("/dataset/new", headers=headers).body, "html.parser")

        groups = [h.get_text(strip=True) for h in page.select("h2.cd3p-form-group")]
        assert groups == ["What it is", "Where and when", "How it was made", "Who may see it"]
        assert page.find("input", {"name": "equity_topics", "value": "telehealth", "type": "checkbox"})
        coverage = [o["value"] for o in page.select("select[name=geographic_coverage] option")]
        assert "district-3" in coverage and "city" in coverage and len(coverage) >= 1 + 7 + 208
        assert "Counts below this number are suppressed" in page.get_text()

    def test_partner_editor_creates_a_dataset(self, app: Any, editor: dict[str, Any]) -> None:
        headers, token = _form(app, editor)

        response = app.post(
            "/dataset/new",
            data={**_fields(editor), "_csrf_token": token},
            headers=headers,
            follow_redirects=False,
        )

        assert response.status_code == 302
        assert "/dataset/laptop-loans-2024/resource/new" in response.headers["Location"]
        shown = call_action("package_show", id="laptop-loans-2024")
        assert shown["equity_topics"] == ["device-access", "telehealth"]
        assert shown["demographic_dimensions"] == ["age"]
        assert shown["private"] is True  # partners-only data is not public
        assert shown["spatial"]  # filled from District 3's boundary

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"temporal_end": "2023-12-31"}, "temporal_end", "must not be before its start"),
            ({"small_cell_threshold": "0"}, "small_cell_threshold", "Must be a positive integer"),
            ({"steward_email": "not an email"}, "steward_email", "Email"),
            ({"geography_level": ""}, "geography_level", "Missing value"),
            ({"geographic_coverage": "custom", "spatial": "{oops"}, "spatial", "Not valid JSON"),
        ],
    )
    def test_bad_input_shows_the_field_error_and_saves_nothing(
        self, app: Any, editor: dict[str, Any], overrides: dict[str, Any], field: str, message: str
    ) -> None:
        headers, token = _form(app, editor)

        response = app.post(
            "/dataset/new", data={**_fields(editor, **overrides), "_csrf_token": token}, headers=headers
        )

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        error_summary = page.select_one(".error-explanation").get_text(" ", strip=True)
        assert message.lower() in error_summary.lower()
        assert (
            call_action(
                "package_search", q="name:laptop-loans-2024", include_private=True, include_drafts=True
            )["count"]
            == 0
        )

    def test_a_post_without_the_csrf_token_is_refused(self, app: Any, editor: dict[str, Any]) -> None:
        # A browser session (cookie) is what CSRF protection is for; API-token requests are exempt,
        # as browsers never attach a token on their own. One client keeps the session cookie.
        browser = app.test_client()
        login = BeautifulSoup(browser.get("/user/login").get_data(as_text=True), "html.parser")
        token = login.find("input", {"name": "_csrf_token"})["value"]
        browser.post(
            "/user/login", data={"login": editor["name"], "password": "correct123", "_csrf_token": token}
        )
        assert browser.get("/dataset/new").status_code == 200  # logged in

        response = browser.post("/dataset/new", data=_fields(editor))

        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
        assert (
            call_action(
                "package_search", q="name:laptop-loans-2024", include_private=True, include_drafts=True
            )["count"]
            == 0
        )


# --- URL fields: web links (http or https) only ----------------------------------------------------

BAD_URLS = [
    "javascript:alert(5)",
    "JavaScript:alert(5)",
    " javascript:alert(5)",
    "\tjavascript:alert(5)",
    "java\nscript:alert(5)",
    "data:text/html,<script>alert(5)</script>",
    "ftp://x",
    "https://",
    "detroitmi.gov/x",
]
GOOD_URL = "https://detroitmi.gov/x"
URL_ERROR = ["Must be a web address starting with http:// or https://"]


def _api(app: Any, action: str, user: dict[str, Any], data: dict[str, Any]) -> Any:
    return app.post(f"/api/action/{action}", json=data, headers={"Authorization": user["token"]})


def _refused(response: Any) -> dict[str, Any]:
    assert response.status_code == 409, response.body
    return response.json["error"]


@pytest.mark.usefixtures("with_plugins")
class TestUrlFields:
    def test_the_datasets_source_url(self, app: Any, editor: dict[str, Any]) -> None:
        dataset = {
            "name": "laptop-loans-2024",
            "owner_org": editor["org"]["id"],
            "geography_level": "tract",
            "contains_personal_data": "no",
        }
        for bad in BAD_URLS:
            error = _refused(_api(app, "package_create", editor, {**dataset, "url": bad}))
            assert error["url"] == URL_ERROR, repr(bad)
        assert call_action("package_search", q="name:laptop-loans-2024", include_private=True)["count"] == 0

        created = _api(app, "package_create", editor, {**dataset, "url": GOOD_URL}).json["result"]
        assert created["url"] == GOOD_URL
        assert (
            _api(app, "package_patch", editor, {"id": created["id"], "url": ""}).json["result"]["url"] == ""
        )

    def test_a_resources_link(self, app: Any, editor: dict[str, Any]) -> None:
        dataset = factories.Dataset(owner_org=editor["org"]["id"])
        for bad in BAD_URLS:
            error = _refused(_api(app, "resource_create", editor, {"package_id": dataset["id"], "url": bad}))
            assert error["url"] == URL_ERROR, repr(bad)
        assert call_action("package_show", id=dataset["id"])["resources"] == []

        created = _api(app, "resource_create", editor, {"package_id": dataset["id"], "url": GOOD_URL})
        assert created.json["result"]["url"] == GOOD_URL

    def test_an_uploaded_file_is_named_by_its_file_name(
        self, editor: dict[str, Any], upload: Callable[..., dict[str, Any]]
    ) -> None:
        dataset = factories.Dataset(owner_org=editor["org"]["id"])

        resource = upload(dataset["id"], b"geoid,households\n1,2\n", "households.csv", format="CSV")

        assert resource["url_type"] == "upload"
        assert resource["url"].endswith(f"/resource/{resource['id']}/download/households.csv")

    def test_the_organizations_website(self, app: Any, editor: dict[str, Any]) -> None:
        sysadmin = factories.SysadminWithToken()
        for bad in BAD_URLS:
            org = {"name": "eastside-tech", "sector": "nonprofit", "website": bad}
            refused = _refused(_api(app, "organization_create", sysadmin, org))
            assert refused["website"] == URL_ERROR, repr(bad)
            patch = {"id": editor["org"]["id"], "website": bad}
            assert _refused(_api(app, "organization_patch", sysadmin, patch))["website"] == URL_ERROR
        assert "website" not in call_action("organization_show", id=editor["org"]["id"])

        patched = _api(app, "organization_patch", sysadmin, {"id": editor["org"]["id"], "website": GOOD_URL})
        assert patched.status_code == 200
        assert call_action("organization_show", id=editor["org"]["id"])["website"] == GOOD_URL

    def test_the_partner_applications_website(self, app: Any, agreement: dict[str, Any]) -> None:
        application = {
            "organization_title": "Eastside Tech Hub",
            "sector": "nonprofit",
            "contact_name": "Dana Reyes",
            "contact_email": "dana@eastside.example.org",
            "data_description": "Laptops lent by neighborhood.",
        }
        applicant = factories.UserWithToken()
        for bad in BAD_URLS:
            error = _refused(
                _api(app, "cd3p_partner_application_create", applicant, {**application, "website": bad})
            )
            assert list(error) == ["website", "__type"], repr(bad)

        made = _api(app, "cd3p_partner_application_create", applicant, {**application, "website": GOOD_URL})
        assert made.json["result"]["website"] == GOOD_URL

    def test_the_form_shows_the_error_next_to_the_field(self, app: Any, editor: dict[str, Any]) -> None:
        headers, token = _form(app, editor)

        response = app.post(
            "/dataset/new",
            data={**_fields(editor, url="javascript:alert(5)"), "_csrf_token": token},
            headers=headers,
        )

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        assert URL_ERROR[0] in field_error(page, "field-url")
        assert page.find("input", {"name": "url"})["value"] == "javascript:alert(5)"  # kept, as text
        assert not page.select('a[href^="javascript:"]')
        assert call_action("package_search", q="name:laptop-loans-2024", include_private=True)["count"] == 0
