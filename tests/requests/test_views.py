"""The pages of data requests: the lifecycle through the web forms (with CSRF), who sees which
form, the refusals (403, the login page, 404), and Markdown rendered safely in every text field.

Forms are posted with a cookie session and the CSRF token a browser would send; what changed is
checked on the pages themselves and through the actions."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.web import PASSWORD, Browser, is_login_redirect, person, soup, text

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """A resident who asks, a neighbour, a signed partner's admin, a sysadmin, and the partner's
    public and organization-only datasets."""
    world: dict[str, Any] = {
        "resident": person(),
        "neighbour": person(),
        "admin": person(),
        "sysadmin": factories.Sysadmin(password=PASSWORD),
    }
    world["org"] = partners.organization(world["admin"], title="Eastside Connect", name="eastside")
    world["public"] = factories.Dataset(
        owner_org=world["org"]["id"], name="hotspot-loans", title="Hotspot loans"
    )
    world["closed"] = factories.Dataset(
        owner_org=world["org"]["id"],
        name="device-recipients",
        title="Device recipients",
        access_level="organization",
    )
    return world


def _id(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def _state(request_id: str) -> str:
    return call_action("cd3p_data_request_show", {"user": partners.site_user()}, id=request_id)["state"]


def _ask(browser: Browser, **fields: Any) -> str:
    data = {
        "title": "Broadband by block",
        "description": "For **Osborn** and Denby",
        "places": "Osborn",
        **fields,
    }
    return _id(browser.post("/data-requests/new", data))


def _access(browser: Browser, w: dict[str, Any], **fields: Any) -> str:
    data = {
        "title": "Device recipients",
        "description": "Rows for District 3",
        "purpose": "Plan the drive",
        **fields,
    }
    return _id(browser.post(f"/data-requests/new?kind=access&dataset={w['closed']['name']}", data))


class TestLifecycle:
    def test_ask_comment_claim_decline_reopen_fulfil_and_follow(self, app: Any, w: dict[str, Any]) -> None:
        visitor = Browser(app)
        assert is_login_redirect(visitor.get("/data-requests/new"))
        resident = Browser(app, w["resident"])

        # The form: the active organizations to address it to; errors shown on the form.
        form = resident.page("/data-requests/new")
        options = [o.get_text(strip=True) for o in form.select("#field-addressed_to option")]
        assert options == ["The City", "Eastside Connect"]
        refused = resident.post("/data-requests/new", {"title": "", "description": "x"})
        assert refused.status_code == 200
        assert "Missing value" in soup(refused).select_one(".cd3p-request-form").get_text()

        # Asked: the request's page, with a flash; Markdown rendered.
        asked = resident.post(
            "/data-requests/new",
            {
                "title": "Broadband by block",
                "description": "For **Osborn**",
                "places": "Osborn",
                "addressed_to": "",
            },
        )
        request_id = _id(asked)
        assert asked.headers["Location"].endswith(f"/data-requests/{request_id}")
        page = resident.page(f"/data-requests/{request_id}")
        assert "Your data request was made" in page.get_text()
        assert page.select_one(".cd3p-description strong").get_text() == "Osborn"
        assert page.select_one(".cd3p-state").get_text(strip=True) == "Open"
        assert page.select_one(".cd3p-organization").get_text(strip=True) == "The City"
        assert page.select_one(".cd3p-close-form") is None and page.select_one(".cd3p-assign-form") is None
        assert page.select_one(".cd3p-edit") is not None

        # The requester changes its words while it is open.
        assert resident.page(f"/data-requests/{request_id}/edit").select_one("#field-title")["value"] == (
            "Broadband by block"
        )
        assert (
            resident.post(f"/data-requests/{request_id}/edit", {"title": "", "description": "x"}).status_code
            == 200
        )
        saved = resident.post(
            f"/data-requests/{request_id}/edit",
            {"title": "Broadband by block, 2024", "description": "For Osborn"},
        )
        assert saved.status_code == 302
        assert (
            "Broadband by block, 2024"
            in resident.page(f"/data-requests/{request_id}").select_one(".cd3p-request h1").get_text()
        )

        # The public list: state, kind, title, organization, age, followers; a link to ask.
        listed = visitor.page("/data-requests")
        row = listed.select_one(f"tr[data-request-id='{request_id}']")
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
        assert cells == ["Open", "New data", "Broadband by block, 2024", "The City", "0", "0"]
        assert listed.select_one("a[href='/data-requests/new']") is not None
        assert (
            visitor.page("/data-requests?state=declined").select_one(f"tr[data-request-id='{request_id}']")
            is None
        )
        assert visitor.get("/data-requests?state=nonsense").status_code == 200
        assert is_login_redirect(visitor.get("/data-requests?mine=1"))
        assert (
            resident.page("/data-requests?mine=1").select_one(f"tr[data-request-id='{request_id}']")
            is not None
        )

        # A visitor reads it, with a link to log in; a visitor's POST is sent to log in.
        assert visitor.page(f"/data-requests/{request_id}").select_one(".cd3p-login-to-comment") is not None
        assert is_login_redirect(visitor.post(f"/data-requests/{request_id}/comment", {"text": "Hi"}))

        # A neighbour comments, follows and unfollows; closing is refused.
        neighbour = Browser(app, w["neighbour"])
        assert (
            neighbour.post(f"/data-requests/{request_id}/comment", {"text": "We need it **too**"}).status_code
            == 302
        )
        assert neighbour.post(f"/data-requests/{request_id}/comment", {"text": " "}).status_code == 200
        assert neighbour.post(f"/data-requests/{request_id}/follow", {}).status_code == 302
        page = neighbour.page(f"/data-requests/{request_id}")
        assert page.select_one(".cd3p-followers").get_text(strip=True) == "1"
        assert page.select_one(".cd3p-comment .cd3p-markdown strong").get_text() == "too"
        assert (
            page.select_one(".cd3p-unfollow-form") is not None and page.select_one(".cd3p-close-form") is None
        )
        assert neighbour.post(f"/data-requests/{request_id}/follow", {}).status_code == 200  # already
        assert (
            neighbour.post(
                f"/data-requests/{request_id}/close", {"outcome": "declined", "reason": "No"}
            ).status_code
            == 403
        )
        assert neighbour.post(f"/data-requests/{request_id}/edit", {"title": "Mine now"}).status_code == 403
        assert neighbour.page("/data-requests?followed=1").select_one(f"tr[data-request-id='{request_id}']")
        assert neighbour.post(f"/data-requests/{request_id}/unfollow", {}).status_code == 302
        assert (
            neighbour.page(f"/data-requests/{request_id}").select_one(".cd3p-followers").get_text(strip=True)
            == "0"
        )

        # The organization's admin claims it.
        admin = Browser(app, w["admin"])
        page = admin.page(f"/data-requests/{request_id}")
        assert [o.get_text(strip=True) for o in page.select(".cd3p-assign-form option")] == [
            "Eastside Connect"
        ]
        assert (
            admin.post(f"/data-requests/{request_id}/assign", {"organization_id": w["org"]["id"]}).status_code
            == 302
        )
        page = admin.page(f"/data-requests/{request_id}")
        assert page.select_one(".cd3p-state").get_text(strip=True) == "Assigned"
        assert page.select_one(".cd3p-organization").get_text(strip=True) == "Eastside Connect"
        assert page.select_one(".cd3p-close-form") is not None
        assert resident.page(f"/data-requests/{request_id}").select_one(".cd3p-edit") is None  # assigned

        # Declined: a reason is needed, then shown.
        refused = admin.post(f"/data-requests/{request_id}/close", {"outcome": "declined", "reason": ""})
        assert refused.status_code == 200 and "Missing value" in text(refused)
        assert _state(request_id) == "assigned"
        closed = admin.post(
            f"/data-requests/{request_id}/close", {"outcome": "declined", "reason": "We hold **none**"}
        )
        assert closed.status_code == 302
        page = resident.page(f"/data-requests/{request_id}")
        assert page.select_one(".cd3p-state").get_text(strip=True) == "Declined"
        assert page.select_one(".cd3p-reason strong").get_text() == "none"
        assert page.select_one(".cd3p-reopen-form") is not None

        # The requester reopens it: assigned again.
        assert resident.post(f"/data-requests/{request_id}/reopen", {}).status_code == 302
        assert _state(request_id) == "assigned"
        assert neighbour.post(f"/data-requests/{request_id}/reopen", {}).status_code == 403

        # Fulfilled with a dataset, linked from the page.
        bad = admin.post(
            f"/data-requests/{request_id}/close", {"outcome": "fulfilled", "dataset_id": "no-such"}
        )
        assert bad.status_code == 200 and "Dataset not found" in text(bad)
        done = admin.post(
            f"/data-requests/{request_id}/close", {"outcome": "fulfilled", "dataset_id": w["public"]["name"]}
        )
        assert done.status_code == 302
        page = visitor.page(f"/data-requests/{request_id}")
        assert page.select_one(".cd3p-state").get_text(strip=True) == "Fulfilled"
        assert page.select_one(".cd3p-fulfilled-by")["href"] == "/dataset/hotspot-loans"

    def test_a_sysadmin_assigns_to_any_organization(self, app: Any, w: dict[str, Any]) -> None:
        request_id = _ask(Browser(app, w["resident"]))
        other = partners.organization(person(), title="Westside Labs")
        sysadmin = Browser(app, w["sysadmin"])
        options = [
            o["value"]
            for o in sysadmin.page(f"/data-requests/{request_id}").select(".cd3p-assign-form option")
        ]
        assert set(options) == {w["org"]["id"], other["id"]}
        assert (
            sysadmin.post(f"/data-requests/{request_id}/assign", {"organization_id": other["id"]}).status_code
            == 302
        )
        assert _state(request_id) == "assigned"

    def test_unknown_ids_and_missing_csrf(self, app: Any, w: dict[str, Any]) -> None:
        resident = Browser(app, w["resident"])
        request_id = _ask(resident)
        assert resident.get("/data-requests/no-such-request").status_code == 404
        assert resident.get("/data-requests/no-such-request/edit").status_code == 404
        assert resident.post("/data-requests/no-such-request/comment", {"text": "Hi"}).status_code == 404
        refused = resident.post(f"/data-requests/{request_id}/comment", {"text": "Hi"}, csrf=False)
        assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)  # CKAN's answer
        assert (
            resident.post("/data-requests/new", {"title": "T", "description": "D"}, csrf=False).status_code
            == 400
        )
        assert (
            call_action("cd3p_data_request_show", {"user": partners.site_user()}, id=request_id)["comments"]
            == []
        )


class TestAccessRequests:
    def test_seen_by_its_requester_and_the_datasets_admins_only(self, app: Any, w: dict[str, Any]) -> None:
        resident = Browser(app, w["resident"])
        form = resident.page(f"/data-requests/new?kind=access&dataset={w['closed']['name']}")
        assert (
            form.select_one(".cd3p-request-dataset").get_text(" ", strip=True) == "Dataset: device-recipients"
        )
        assert (
            form.select_one("#field-purpose") is not None and form.select_one("#field-addressed_to") is None
        )
        refused = resident.post(
            f"/data-requests/new?kind=access&dataset={w['closed']['name']}",
            {"title": "T", "description": "D"},
        )
        assert refused.status_code == 200 and "Missing value" in text(refused)
        request_id = _access(resident, w)

        page = resident.page(f"/data-requests/{request_id}")
        assert page.select_one(".cd3p-kind").get_text(strip=True) == "Access"
        assert page.select_one(".cd3p-purpose").get_text(strip=True) == "Plan the drive"
        assert (
            page.select_one(".cd3p-dataset").get_text(strip=True) == w["closed"]["id"]
        )  # not theirs to read
        admin_page = Browser(app, w["admin"]).page(f"/data-requests/{request_id}")
        assert admin_page.select_one(".cd3p-dataset a").get_text(strip=True) == "Device recipients"
        assert admin_page.select_one(".cd3p-close-form") is not None

        neighbour = Browser(app, w["neighbour"])
        assert neighbour.get(f"/data-requests/{request_id}").status_code == 403
        assert neighbour.post(f"/data-requests/{request_id}/comment", {"text": "Hi"}).status_code == 403
        assert neighbour.post(f"/data-requests/{request_id}/follow", {}).status_code == 403
        assert is_login_redirect(Browser(app).get(f"/data-requests/{request_id}"))
        assert neighbour.page("/data-requests").select_one(f"tr[data-request-id='{request_id}']") is None
        assert resident.page("/data-requests?kind=access").select_one(f"tr[data-request-id='{request_id}']")


class TestMarkdownAndXss:
    def test_no_markup_in_any_text_field_reaches_a_page(self, app: Any, w: dict[str, Any]) -> None:
        resident = Browser(app, w["resident"])
        admin = Browser(app, w["admin"])
        sysadmin = Browser(app, w["sysadmin"])
        pages_ = []
        for payload in XSS:
            new_id = _ask(
                resident, title=f"T {payload}", description=f"**bold** {payload}", places=f"P {payload}"
            )
            access_id = _access(
                resident, w, title=f"A {payload}", description=f"D {payload}", purpose=f"**bold** {payload}"
            )
            pages_.append(resident.get(f"/data-requests/{new_id}/edit"))  # open: its words in the form
            claimed = admin.post(f"/data-requests/{new_id}/assign", {"organization_id": w["org"]["id"]})
            assert claimed.status_code == 302
            for request_id in (new_id, access_id):
                assert (
                    resident.post(
                        f"/data-requests/{request_id}/comment", {"text": f"**bold** {payload}"}
                    ).status_code
                    == 302
                )
                assert (
                    admin.post(
                        f"/data-requests/{request_id}/close",
                        {"outcome": "declined", "reason": f"**bold** {payload}"},
                    ).status_code
                    == 302
                )
            # A refused form shows the posted text again, escaped.
            shown = resident.post("/data-requests/new", {"title": payload, "description": ""})
            assert shown.status_code == 200
            pages_.append(shown)
            # Reopened: the duplicate refused shows its value again.
            assert resident.post(f"/data-requests/{new_id}/reopen", {}).status_code == 302
            pages_.append(
                sysadmin.post(
                    f"/data-requests/{new_id}/close", {"outcome": "duplicate", "duplicate_of": payload}
                )
            )
            for browser in (resident, admin, Browser(app)):
                pages_.append(browser.get(f"/data-requests/{new_id}"))
                pages_.append(browser.get("/data-requests"))
            for browser in (resident, admin):
                pages_.append(browser.get(f"/data-requests/{access_id}"))
                pages_.append(browser.get("/data-requests?kind=access"))
        for response in pages_:
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert "<script>alert(1)" not in html and "<img src=x" not in html
            page = soup(response)
            assert not page.select("[onerror]")
            assert not [s for s in page.find_all("script") if "alert(1)" in s.get_text()]
        page = soup(pages_[-1])  # the access list shows titles as text
        assert (
            "A <script>alert(1)</script>" in page.get_text()
            or "A <img src=x onerror=alert(1)>" in page.get_text()
        )
        read = Browser(app, w["resident"]).page(f"/data-requests/{access_id}")
        assert [
            s.get_text()
            for s in read.select(
                ".cd3p-purpose strong, .cd3p-reason strong, .cd3p-comment .cd3p-markdown strong"
            )
        ] == [
            "bold",
            "bold",
            "bold",
        ]


def test_a_dataset_not_found_offers_to_ask_for_access_without_saying_it_exists(
    app: Any, w: dict[str, Any]
) -> None:
    resident = Browser(app, w["resident"])
    for name in (w["closed"]["name"], "no-such-dataset"):
        page = resident.get(f"/dataset/{name}")
        assert page.status_code == 404
        link = soup(page).select_one(".cd3p-ask-access a")
        assert link["href"] == f"/data-requests/new?kind=access&dataset={name}"
    assert soup(Browser(app).get(f"/dataset/{w['closed']['name']}")).select_one(".cd3p-ask-access") is None


def test_a_partner_profile_link_presets_whom_a_new_data_request_asks(app: Any, w: dict[str, Any]) -> None:
    page = Browser(app, w["resident"]).get(f"/data-requests/new?addressed_to={w['org']['name']}")
    chosen = soup(page).select_one("#field-addressed_to option[selected]")
    assert (chosen["value"], chosen.get_text(strip=True)) == (w["org"]["id"], "Eastside Connect")
    page = Browser(app, w["resident"]).get("/data-requests/new?addressed_to=<b>nobody</b>")
    assert soup(page).select_one("#field-addressed_to option[selected]")["value"] == ""
