"""The Data Sharing Agreement's pages: what each role sees and may do through the web forms.

Pages are read with API-token headers or a logged-in cookie session; forms are posted with a
cookie session (what CSRF protection is for) and the CSRF token a browser would send. What changed
is checked through the actions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action, call_auth

from ckanext.cd3p.agreements import ledger as ledger_module
from ckanext.cd3p.agreements import views
from ckanext.cd3p.analysis.model import DerivedResource, SavedQuery
from ckanext.cd3p.common import geography, pages
from ckanext.cd3p.feeds.model import Feed
from ckanext.cd3p.indicators.model import IndicatorSource
from ckanext.cd3p.ingestion.model import ResourceCheck
from ckanext.cd3p.plugin import Cd3pPlugin
from ckanext.cd3p.requests.model import DataRequest, DataRequestComment, DataRequestFollower
from tests import factories, partners
from tests.web import PASSWORD, Browser, field_error, is_login_redirect, person, soup, text


@pytest.fixture
def sysadmin(clean_db: None) -> dict[str, Any]:
    """A sysadmin with an API token who can also log in (the shared fixture's password is random)."""
    return factories.SysadminWithToken(password=PASSWORD)


def site() -> dict[str, str]:
    return {"user": partners.site_user()}


def ledger(**filters: Any) -> list[dict[str, Any]]:
    return call_action("cd3p_signature_list", site(), limit=1000, **filters)["results"]


def applications(**filters: Any) -> list[dict[str, Any]]:
    return call_action("cd3p_partner_application_list", site(), **filters)["results"]


def requests_(**filters: Any) -> list[dict[str, Any]]:
    return call_action("cd3p_membership_request_list", site(), **filters)["results"]


APPLICATION = {
    "organization_title": "Eastside Tech Hub",
    "sector": "nonprofit",
    "website": "https://eastside.example.org",
    "contact_name": "Dana Reyes",
    "contact_email": "dana@eastside.example.org",
    "contact_phone": "313-555-0100",
    "data_description": "Laptops lent by neighborhood, 2022 to now.",
    "service_area": ["district-3", "district-4"],
    "focus_group": "true",
}


def apply(user: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return call_action("cd3p_partner_application_create", {"user": user["name"]}, **{**APPLICATION, **fields})


def ask_to_join(org: dict[str, Any], user: dict[str, Any], role: str = "member") -> dict[str, Any]:
    return call_action(
        "cd3p_membership_request_create",
        {"user": user["name"]},
        organization_id=org["id"],
        role=role,
        message="I run the lab on Gratiot.",
        acknowledge=True,
    )


@pytest.fixture
def partner(agreement: dict[str, Any]) -> dict[str, Any]:
    """A signed partner organization, its admin and a member."""
    admin = person(token=True)
    member = person(token=True)
    org = partners.organization(admin, title="Tech Town Neighbors", name="tech-town")
    partners.join(org, member)
    return {"org": org, "admin": admin, "member": member}


@pytest.fixture
def unsigned(agreement: dict[str, Any]) -> dict[str, Any]:
    """An approved partner organization whose admin has not signed yet."""
    admin = person(token=True)
    org = partners.organization(admin, signed=False, title="Brightmoor Makers", name="brightmoor")
    return {"org": org, "admin": admin}


# --- the agreement ------------------------------------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestAgreementPage:
    def test_anyone_reads_the_active_text_with_its_hash(self, app: Any, agreement: dict[str, Any]) -> None:
        response = app.get("/agreement")

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        assert page.select_one(".cd3p-agreement > h1").get_text(strip=True) == agreement["title"]
        assert page.select_one(".cd3p-version").get_text(strip=True) == "template-1"
        assert page.select_one(".cd3p-sha256").get_text(strip=True) == agreement["text_sha256"]
        # The Markdown body is rendered, not shown as source.
        headings = [h.get_text(strip=True) for h in page.select(".cd3p-agreement-text h2")]
        assert "1. Purpose" in headings
        assert "## 1. Purpose" not in page.get_text()
        # Anonymous visitors are invited to log in; there is no form to post.
        assert page.select_one(".cd3p-acknowledge-form") is None
        assert page.select_one(".cd3p-acknowledge a[href*='/user/login']") is not None

    def test_the_text_shows_no_remote_image(self, app: Any, clean_db: None) -> None:
        context = site()
        body = (
            "## Terms\n\n"
            "Read this ![tracking pixel](https://evil.example/p.gif) carefully.\n\n"
            '<img src="https://evil.example/q.gif" alt="raw">\n\n'
            "![ref pixel][px]\n\n[px]: https://evil.example/r.gif\n"
        )
        call_action("cd3p_agreement_create", context, version="pixel-1", title="Pixel test", body=body)
        call_action("cd3p_agreement_activate", context, id="pixel-1")

        response = app.get("/agreement")

        assert response.status_code == 200
        text_block = BeautifulSoup(response.body, "html.parser").select_one(".cd3p-agreement-text")
        assert text_block.select("img") == []
        assert "evil.example" not in response.body
        paragraphs = [p.get_text(" ", strip=True) for p in text_block.select("p")]
        assert paragraphs == ["Read this tracking pixel carefully.", "raw", "ref pixel"]  # the alt texts

    def test_nothing_active_yet(self, app: Any, clean_db: None) -> None:
        response = app.get("/agreement")

        assert response.status_code == 200
        assert "No version of the agreement is active yet" in response.body

    def test_a_user_acknowledges_the_agreement(self, app: Any, agreement: dict[str, Any]) -> None:
        user = person()
        browser = Browser(app, user)
        form = browser.page("/agreement").select_one("form.cd3p-acknowledge-form")
        assert form.find("button").get_text(strip=True) == "I have read and acknowledge this agreement"
        assert form.find("input", {"name": "text_sha256"})["value"] == agreement["text_sha256"]

        response = browser.post(
            "/agreement/acknowledge",
            {"agreement_id": agreement["id"], "text_sha256": agreement["text_sha256"]},
        )

        assert response.status_code == 302
        assert response.headers["Location"].endswith("/agreement")
        entries = ledger(user_id=user["name"])
        assert [(e["kind"], e["agreement_version"]) for e in entries] == [("acknowledge", "template-1")]
        page = browser.page("/agreement")
        assert page.select_one("form.cd3p-acknowledge-form") is None
        assert "You have acknowledged version template-1" in page.get_text()
        assert "You acknowledged version template-1" in page.get_text()  # the flash message

    def test_acknowledging_a_text_other_than_the_active_one_is_refused(
        self, app: Any, agreement: dict[str, Any]
    ) -> None:
        user = person()
        browser = Browser(app, user)

        response = browser.post(
            "/agreement/acknowledge", {"agreement_id": agreement["id"], "text_sha256": "0" * 64}
        )

        assert response.status_code == 200
        assert "The text you read is not the text of version template-1" in text(response)
        assert ledger(user_id=user["name"]) == []

    def test_anonymous_acknowledgement_goes_to_the_login(self, app: Any, agreement: dict[str, Any]) -> None:
        response = Browser(app).post("/agreement/acknowledge", {"agreement_id": agreement["id"]})

        assert is_login_redirect(response)
        assert ledger() == []

    def test_versions(self, app: Any, agreement: dict[str, Any], sysadmin: dict[str, Any]) -> None:
        call_action(
            "cd3p_agreement_create", site(), version="2027-1", title="Draft 2027", body="New *terms*."
        )
        user = person(token=True)

        assert app.get("/agreement/template-1").status_code == 200
        assert app.get("/agreement/2027-1", headers={"Authorization": user["token"]}).status_code == 403
        draft = app.get("/agreement/2027-1", headers={"Authorization": sysadmin["token"]})
        assert draft.status_code == 200
        assert "This is version 2027-1, which is draft" in draft.body
        assert (
            BeautifulSoup(draft.body, "html.parser").select_one(".cd3p-agreement-text em").get_text()
            == "terms"
        )
        assert app.get("/agreement/no-such-version").status_code == 404


# --- agreement versions (sysadmins) -------------------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestAgreementAdmin:
    def test_only_sysadmins_manage_versions(self, app: Any, agreement: dict[str, Any], sysadmin: Any) -> None:
        user = person(token=True)
        for path in (
            "/ckan-admin/agreements",
            "/ckan-admin/agreements/new",
            "/ckan-admin/agreements/template-1/edit",
        ):
            assert app.get(path, headers={"Authorization": user["token"]}).status_code == 403, path
            assert is_login_redirect(app.get(path, follow_redirects=False)), path

        page = BeautifulSoup(
            app.get("/ckan-admin/agreements", headers={"Authorization": sysadmin["token"]}).body,
            "html.parser",
        )
        rows = {r["data-version"]: r.get_text(" ", strip=True) for r in page.select("tr[data-version]")}
        assert "active" in rows["template-1"]
        # The sysadmin area links to the agreement pages.
        tabs = [a.get_text(strip=True) for a in page.select(".page-header .nav-tabs a")]
        assert {"Agreements", "Ledger", "Partner applications"} <= set(tabs)

    def test_new_version_edit_and_activate(self, app: Any, agreement: dict[str, Any], sysadmin: Any) -> None:
        browser = Browser(app, sysadmin)

        response = browser.post(
            "/ckan-admin/agreements/new",
            {
                "version": "2027-1",
                "title": "Agreement 2027",
                "body": "# Terms\r\n\r\nShare *well*.\r\n",
                "effective_date": "2027-01-01",
            },
        )

        assert response.status_code == 302
        draft = call_action("cd3p_agreement_show", site(), id="2027-1")
        assert draft["state"] == "draft"
        assert draft["body"] == "# Terms\n\nShare *well*.\n"  # stored (and hashed) with LF
        assert draft["effective_date"].startswith("2027-01-01")

        edit_form = browser.page("/ckan-admin/agreements/2027-1/edit").select_one("form.cd3p-agreement-form")
        assert edit_form.find("textarea", {"name": "body"}).get_text() == draft["body"]
        response = browser.post(
            f"/ckan-admin/agreements/{draft['id']}/edit",
            {"title": "Agreement 2027 (final)", "body": draft["body"], "effective_date": "2027-02-01"},
        )
        assert response.status_code == 302
        assert call_action("cd3p_agreement_show", site(), id="2027-1")["title"] == "Agreement 2027 (final)"

        row = browser.page("/ckan-admin/agreements").select_one("tr[data-version='2027-1']")
        activate = row.find("form", action=lambda a: a and a.endswith("/activate"))
        response = browser.post(activate["action"], {})
        assert response.status_code == 302
        states = {a["version"]: a["state"] for a in call_action("cd3p_agreement_list", site())}
        assert states == {"2027-1": "active", "template-1": "retired"}
        assert "Version 2027-1 is now the active agreement" in text(browser.get("/ckan-admin/agreements"))

        # Active versions are frozen: the edit page sends the sysadmin back with the reason.
        response = browser.get("/ckan-admin/agreements/2027-1/edit")
        assert response.status_code == 302
        assert "only drafts can be changed" in text(browser.get("/ckan-admin/agreements"))

    def test_a_draft_nobody_signed_is_deleted_and_a_signed_version_is_kept(
        self, app: Any, agreement: dict[str, Any], sysadmin: Any
    ) -> None:
        draft = call_action("cd3p_agreement_create", site(), version="2027-1", title="Next", body="Next")
        browser = Browser(app, sysadmin)
        page = browser.page("/ckan-admin/agreements")
        active_row = page.select_one("tr[data-version='template-1']")
        assert active_row.find("form", action=lambda a: a and a.endswith("/delete")) is None
        delete = page.select_one("tr[data-version='2027-1']").find(
            "form", action=lambda a: a and a.endswith("/delete")
        )

        response = browser.post(delete["action"], {})

        assert response.status_code == 302
        assert [a["version"] for a in call_action("cd3p_agreement_list", site())] == ["template-1"]
        assert "Draft 2027-1 deleted." in text(browser.get("/ckan-admin/agreements"))
        with pytest.raises(tk.ObjectNotFound):
            call_action("cd3p_agreement_show", site(), id=draft["id"])

        # The active version stays, through the page and the API.
        response = browser.post(f"/ckan-admin/agreements/{agreement['id']}/delete", {})
        assert response.status_code == 302
        assert "Only a draft can be deleted; version template-1 is active" in text(
            browser.get("/ckan-admin/agreements")
        )
        with pytest.raises(tk.ValidationError, match="Only a draft can be deleted"):
            call_action("cd3p_agreement_delete", site(), id="template-1")
        assert call_action("cd3p_agreement_show", site(), id="template-1")["state"] == "active"

    def test_only_sysadmins_delete_drafts(self, app: Any, agreement: dict[str, Any], sysadmin: Any) -> None:
        call_action("cd3p_agreement_create", site(), version="2027-1", title="Next", body="Next")
        admin = person(token=True)
        partners.organization(admin, name="tech-town")
        response = app.post(
            "/api/action/cd3p_agreement_delete",
            json={"id": "2027-1"},
            headers={"Authorization": admin["token"]},
        )
        assert response.status_code == 403
        assert Browser(app, admin).post("/ckan-admin/agreements/2027-1/delete", {}).status_code == 403
        assert is_login_redirect(Browser(app).post("/ckan-admin/agreements/2027-1/delete", {}))
        assert app.post("/api/action/cd3p_agreement_delete", json={"id": "2027-1"}).status_code == 403
        for context in ({"user": admin["name"]}, {"user": None}):
            with pytest.raises(tk.NotAuthorized):
                call_auth("cd3p_agreement_delete", {**context, "model": model}, id="2027-1")
        assert call_auth("cd3p_agreement_delete", {"user": sysadmin["name"], "model": model}, id="2027-1")
        assert {a["version"] for a in call_action("cd3p_agreement_list", site())} == {"2027-1", "template-1"}

    def test_a_retired_version_is_not_deleted(
        self, app: Any, agreement: dict[str, Any], sysadmin: Any
    ) -> None:
        partners.active_agreement("2027-1")  # template-1 is retired

        response = app.post(
            "/api/action/cd3p_agreement_delete",
            json={"id": "template-1"},
            headers={"Authorization": sysadmin["token"]},
        )

        assert response.status_code == 409
        assert "Only a draft can be deleted; version template-1 is retired" in response.json["error"]["id"][0]
        states = {a["version"]: a["state"] for a in call_action("cd3p_agreement_list", site())}
        assert states == {"2027-1": "active", "template-1": "retired"}

    def test_a_draft_the_ledger_names_is_kept(self, agreement: dict[str, Any]) -> None:
        """No action signs or acknowledges a draft; were an entry to name one, the draft stays."""
        draft = call_action("cd3p_agreement_create", site(), version="2027-1", title="Next", body="Next")
        ledger_module.append(
            kind="acknowledge",
            agreement_id=draft["id"],
            agreement_version=draft["version"],
            text_sha256=draft["text_sha256"],
            user_id="someone",
            user_name="someone",
        )
        model.Session.commit()

        with pytest.raises(tk.ValidationError, match="The ledger names version 2027-1: it stays"):
            call_action("cd3p_agreement_delete", site(), id="2027-1")
        assert call_action("cd3p_agreement_show", site(), id="2027-1")["state"] == "draft"

    def test_invalid_version_is_shown_with_the_input_kept(
        self, app: Any, agreement: dict[str, Any], sysadmin: Any
    ) -> None:
        browser = Browser(app, sysadmin)

        response = browser.post(
            "/ckan-admin/agreements/new",
            {"version": "Not Valid!", "title": "", "body": "Kept text", "effective_date": "soon"},
        )

        assert response.status_code == 200
        page = soup(response)
        assert "Missing value" in field_error(page, "field-title")
        assert "Date format incorrect" in field_error(page, "field-effective_date")
        assert "lowercase" in field_error(page, "field-version")
        assert page.find("textarea", {"name": "body"}).get_text() == "Kept text"
        assert page.find("input", {"name": "version"})["value"] == "Not Valid!"
        assert [a["version"] for a in call_action("cd3p_agreement_list", site())] == ["template-1"]


# --- signing ------------------------------------------------------------------------------------


SIGNATURE = {
    "signatory_name": "Alex Morgan",
    "signatory_title": "Executive Director",
    "confirm_authority": "true",
}


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestSigning:
    def _form(self, browser: Browser, org: dict[str, Any]) -> dict[str, str]:
        form = browser.page(f"/organization/{org['name']}/agreement").select_one("form.cd3p-sign-form")
        assert form is not None
        return {
            i["name"]: i.get("value", "")
            for i in form.select("input[type=hidden]")
            if i["name"] != "_csrf_token"
        }

    def test_the_admin_signs_for_the_organization(
        self, app: Any, unsigned: dict[str, Any], agreement: dict[str, Any]
    ) -> None:
        org, admin = unsigned["org"], unsigned["admin"]
        browser = Browser(app, admin)
        page = browser.page(f"/organization/{org['name']}/agreement")
        assert "Not signed" in page.select_one(".cd3p-standing").get_text()
        assert page.select_one(".cd3p-sign-form") is not None
        assert "I confirm I have authority to sign for Brightmoor Makers" in page.get_text()
        assert page.select_one(".cd3p-scroll .cd3p-agreement-text, .cd3p-agreement-text.cd3p-scroll")
        hidden = self._form(browser, org)
        assert hidden == {"agreement_id": agreement["id"], "text_sha256": agreement["text_sha256"]}

        response = browser.post(f"/organization/{org['name']}/agreement", {**hidden, **SIGNATURE})

        assert response.status_code == 302
        status = call_action("cd3p_agreement_status", organization_id=org["id"])
        assert status["current"] and status["version"] == "template-1"
        assert status["signatory_name"] == "Alex Morgan" and status["signed_by"] == admin["name"]
        [entry] = ledger(kind="sign")
        assert entry["text_sha256"] == agreement["text_sha256"]
        page = browser.page(f"/organization/{org['name']}/agreement")
        assert page.select_one(".cd3p-sign-form") is None
        standing = page.select_one(".cd3p-standing").get_text(" ", strip=True)
        assert "Signed" in standing and "Alex Morgan, Executive Director" in standing

    @pytest.mark.parametrize(
        ("overrides", "field_id", "message"),
        [
            ({"signatory_name": "  "}, "field-signatory_name", "Missing value"),
            ({"confirm_authority": None}, "field-confirm_authority", "Must be confirmed"),
        ],
    )
    def test_bad_input_is_shown_next_to_the_field_and_nothing_is_signed(
        self, app: Any, unsigned: dict[str, Any], overrides: dict[str, Any], field_id: str, message: str
    ) -> None:
        org = unsigned["org"]
        browser = Browser(app, unsigned["admin"])
        data = {**self._form(browser, org), **SIGNATURE, **overrides}

        response = browser.post(
            f"/organization/{org['name']}/agreement", {k: v for k, v in data.items() if v is not None}
        )

        assert response.status_code == 200
        page = soup(response)
        assert message in field_error(page, field_id)
        assert message in page.select_one(".error-explanation").get_text()
        assert page.find("input", {"name": "signatory_title"})["value"] == "Executive Director"  # kept
        assert ledger(kind="sign") == []
        assert not call_action("cd3p_agreement_status", organization_id=org["id"])["signed"]

    def test_non_admins_see_the_standing_only(self, app: Any, partner: dict[str, Any], unsigned: Any) -> None:
        org = unsigned["org"]
        member = partner["member"]  # a member elsewhere, not an admin here
        for headers in ({}, {"Authorization": member["token"]}):
            response = app.get(f"/organization/{org['name']}/agreement", headers=headers)
            assert response.status_code == 200
            page = BeautifulSoup(response.body, "html.parser")
            assert page.select_one(".cd3p-standing") is not None
            assert page.select_one(".cd3p-sign-form") is None

        response = Browser(app, member).post(
            f"/organization/{org['name']}/agreement",
            {"agreement_id": "template-1", **SIGNATURE},
        )
        assert response.status_code == 403
        assert ledger(kind="sign", organization_id=org["id"]) == []

    def test_unknown_organization_is_a_404(self, app: Any, agreement: dict[str, Any]) -> None:
        assert app.get("/organization/no-such-org/agreement").status_code == 404


# --- the ledger ---------------------------------------------------------------------------------


def _csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _as_csv(entry: dict[str, Any]) -> dict[str, str]:
    return {field: pages.csv_cell(entry.get(field)) for field in views.CSV_FIELDS}


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestLedgerPages:
    def test_the_organization_admin_sees_its_ledger(self, app: Any, partner: dict[str, Any]) -> None:
        org = partner["org"]
        response = app.get(
            f"/organization/{org['name']}/ledger", headers={"Authorization": partner["admin"]["token"]}
        )

        assert response.status_code == 200
        rows = BeautifulSoup(response.body, "html.parser").select("table.cd3p-ledger tbody tr[data-entry-id]")
        entries = ledger(organization_id=org["id"])
        assert [r["data-entry-id"] for r in rows] == [e["id"] for e in entries]
        assert {e["kind"] for e in entries} == {"sign", "acknowledge"}
        first = rows[0].get_text(" ", strip=True)
        assert "Alex Morgan, Executive Director" in first and entries[0]["entry_hash"][:12] in first
        assert first.split(" ")[2] == "UTC"  # time shown in UTC

    def test_a_members_acknowledgement_for_another_organization_is_not_shown(
        self, app: Any, partner: dict[str, Any]
    ) -> None:
        """Asking to join another partner records an acknowledgement naming it: it says whom the
        member asked, so it is that organization's entry, not this one's (issue 13)."""
        org = partner["org"]
        other_admin = person(token=True)
        other = partners.organization(other_admin, title="Brightmoor Makers", name="brightmoor")
        # A member whose personal acknowledgement was withdrawn acknowledges again when asking to
        # join the other organization: that entry names it.
        member = partner["member"]
        mine = ledger(user_id=member["id"], kind="acknowledge")
        call_action("cd3p_signature_revoke", site(), id=mine[0]["id"], reason="Test: acknowledge again")
        ask_to_join(other, member)
        for_other = [e for e in ledger(user_id=member["id"], kind="acknowledge") if e["organization_id"]]
        assert [e["organization_name"] for e in for_other] == ["brightmoor"]

        shown = call_action(
            "cd3p_signature_list", {"user": partner["admin"]["name"]}, organization_id=org["id"]
        )["results"]
        assert {e["organization_id"] for e in shown} <= {org["id"], None}
        assert for_other[0]["id"] not in {e["id"] for e in shown}
        page = app.get(
            f"/organization/{org['name']}/ledger", headers={"Authorization": partner["admin"]["token"]}
        )
        assert page.status_code == 200
        assert "brightmoor" not in page.get_data(as_text=True).lower()
        rows = soup(page).select("table.cd3p-ledger tbody tr[data-entry-id]")
        assert for_other[0]["id"] not in {r["data-entry-id"] for r in rows}

        theirs = call_action(
            "cd3p_signature_list", {"user": other_admin["name"]}, organization_id=other["id"]
        )["results"]
        assert for_other[0]["id"] in {e["id"] for e in theirs}

    def test_others_are_refused(self, app: Any, partner: dict[str, Any]) -> None:
        org = partner["org"]
        for path in (f"/organization/{org['name']}/ledger", f"/organization/{org['name']}/ledger.csv"):
            assert app.get(path, headers={"Authorization": partner["member"]["token"]}).status_code == 403
            assert is_login_redirect(app.get(path, follow_redirects=False))
        assert (
            app.get("/ckan-admin/ledger", headers={"Authorization": partner["admin"]["token"]}).status_code
            == 403
        )
        assert is_login_redirect(app.get("/ckan-admin/ledger", follow_redirects=False))

    def test_csv_export_is_the_actions_entries(self, app: Any, partner: dict[str, Any]) -> None:
        org = partner["org"]
        headers = {"Authorization": partner["admin"]["token"]}

        for path in (
            f"/organization/{org['name']}/ledger.csv",
            f"/organization/{org['name']}/ledger?format=csv",
        ):
            response = app.get(path, headers=headers)

            assert response.status_code == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            assert (
                response.headers["Content-Disposition"] == 'attachment; filename="cd3p-ledger-tech-town.csv"'
            )
            assert response.get_data(as_text=True).splitlines()[0] == ",".join(views.CSV_FIELDS)
            assert _csv_rows(response) == [_as_csv(e) for e in ledger(organization_id=org["id"])]

    def test_sysadmin_csv_has_every_page_and_disarms_formulas(
        self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        admin = person()
        org = partners.organization(admin, signed=False)
        partners.sign(org, admin, signatory_name='=HYPERLINK("http://x")')
        monkeypatch.setattr(views, "CSV_PAGE_SIZE", 2)  # several pages of the action

        response = app.get("/ckan-admin/ledger.csv", headers={"Authorization": sysadmin["token"]})

        rows = _csv_rows(response)
        entries = ledger()
        assert len(entries) == 3 and len(rows) == len(entries)
        assert rows == [_as_csv(e) for e in entries]
        assert rows[-1]["signatory_name"] == '\'=HYPERLINK("http://x")'

    def test_sysadmin_filters_the_ledger(
        self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any]
    ) -> None:
        headers = {"Authorization": sysadmin["token"]}

        everything = BeautifulSoup(app.get("/ckan-admin/ledger", headers=headers).body, "html.parser")
        signatures = BeautifulSoup(
            app.get(
                "/ckan-admin/ledger",
                query_string={"kind": "sign", "organization": "tech-town"},
                headers=headers,
            ).body,
            "html.parser",
        )
        bad = app.get("/ckan-admin/ledger", query_string={"since": "yesterday"}, headers=headers)
        csv_rows = _csv_rows(
            app.get("/ckan-admin/ledger.csv", query_string={"kind": "acknowledge"}, headers=headers)
        )

        assert len(everything.select("tbody tr[data-entry-id]")) == 2
        assert [r["data-entry-id"] for r in signatures.select("tbody tr[data-entry-id]")] == [
            e["id"] for e in ledger(kind="sign")
        ]
        assert signatures.find("select", {"name": "kind"}).find("option", selected=True)["value"] == "sign"
        assert bad.status_code == 200 and "Date format incorrect" in bad.body
        assert [r["kind"] for r in csv_rows] == ["acknowledge"]

    def test_ledger_pages(
        self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(pages, "PAGE_SIZE", 1)
        headers = {"Authorization": sysadmin["token"]}
        entries = ledger(organization_id="tech-town")

        first = BeautifulSoup(
            app.get("/ckan-admin/ledger?organization=tech-town", headers=headers).body, "html.parser"
        )
        second = BeautifulSoup(
            app.get("/ckan-admin/ledger?organization=tech-town&page=2", headers=headers).body, "html.parser"
        )

        assert [r["data-entry-id"] for r in first.select("tbody tr[data-entry-id]")] == [entries[0]["id"]]
        assert [r["data-entry-id"] for r in second.select("tbody tr[data-entry-id]")] == [entries[1]["id"]]
        assert first.select_one(".pagination a[href*='page=2'][href*='organization=tech-town']") is not None

    def test_verify_the_chain(self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any]) -> None:
        response = app.get("/ckan-admin/ledger?verify=1", headers={"Authorization": sysadmin["token"]})

        assert "The chain is intact: 2 entries" in response.body

    def test_verify_tells_the_newest_entries_were_removed(
        self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any]
    ) -> None:
        newest = ledger()[-1]
        session = model.Session
        session.execute(sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only"))
        session.execute(sa.text("DELETE FROM cd3p_signature WHERE id = :id"), {"id": newest["id"]})
        session.execute(sa.text("ALTER TABLE cd3p_signature ENABLE TRIGGER cd3p_signature_append_only"))
        session.commit()

        response = app.get("/ckan-admin/ledger?verify=1", headers={"Authorization": sysadmin["token"]})

        alert = soup(response).select_one(".cd3p-verification.alert-danger").get_text(" ", strip=True)
        assert alert == (
            "The chain is BROKEN after 1 good entries: "
            "the newest 1 entries were removed: the last checkpoint counts 2."
        )

    def test_sysadmin_revokes_an_entry_with_a_reason(
        self, app: Any, partner: dict[str, Any], sysadmin: dict[str, Any]
    ) -> None:
        [signature] = ledger(kind="sign")
        browser = Browser(app, sysadmin)
        path = f"/ckan-admin/ledger/{signature['id']}/revoke?kind=sign"

        missing = browser.post(path, {"reason": " "})

        assert missing.status_code == 200
        row = soup(missing).find("tr", {"data-entry-id": signature["id"]})
        assert "Missing value" in row.get_text()
        assert ledger(kind="revoke") == []

        response = browser.post(path, {"reason": "Signed by someone without authority"})

        assert response.status_code == 302
        assert response.headers["Location"].endswith("/ckan-admin/ledger?kind=sign")
        [revocation] = ledger(kind="revoke")
        assert revocation["revokes"] == signature["id"]
        assert revocation["reason"] == "Signed by someone without authority"
        assert not call_action("cd3p_agreement_status", organization_id=partner["org"]["id"])["signed"]
        page = browser.page("/ckan-admin/ledger?kind=sign")
        assert "Revoked" in page.find("tr", {"data-entry-id": signature["id"]}).get_text()

    def test_others_cannot_revoke(self, app: Any, partner: dict[str, Any]) -> None:
        [signature] = ledger(kind="sign")

        response = Browser(app, partner["admin"]).post(
            f"/ckan-admin/ledger/{signature['id']}/revoke", {"reason": "mine"}
        )

        assert response.status_code == 403
        assert ledger(kind="revoke") == []


# --- becoming a partner -------------------------------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestPartnerApplication:
    def test_visitors_read_the_steps_and_are_asked_to_log_in(self, app: Any, agreement: Any) -> None:
        response = app.get("/partner/apply")

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        steps = [li.get_text(" ", strip=True) for li in page.select(".cd3p-steps li")]
        assert [s.split(".")[0] for s in steps] == ["1", "2", "3"]
        assert "Sign the agreement" in steps[1] and "Upload data" in steps[2]
        link = page.find("a", string=lambda s: s and "Log in or register to apply" in s)
        assert link is not None and "/user/login" in link["href"]
        assert page.select_one("form.cd3p-apply-form") is None
        # Every page's header offers the way in.
        assert (
            page.select_one(".masthead a[href='/partner/apply']").get_text(strip=True) == "Become a partner"
        )

    def test_a_user_applies_and_sees_where_it_stands(self, app: Any, agreement: Any) -> None:
        user = person()
        browser = Browser(app, user)
        form = browser.page("/partner/apply").select_one("form.cd3p-apply-form")
        sectors = [o["value"] for o in form.select("select[name=sector] option") if o["value"]]
        assert "nonprofit" in sectors and "grassroots" in sectors
        districts = [i["value"] for i in form.select("input[name=service_area]")]
        assert districts == [f"district-{n}" for n in range(1, 8)]
        assert form.find("input", {"name": "focus_group", "type": "checkbox"}) is not None

        response = browser.post("/partner/apply", APPLICATION)

        assert response.status_code == 302
        assert response.headers["Location"].endswith("/partner/status")
        [application] = applications()
        assert application["user_name"] == user["name"]
        assert application["state"] == "pending"
        assert application["service_area"] == "district-3,district-4"
        assert application["focus_group"] is True
        page = browser.page("/partner/status")
        apply_step = page.select_one("[data-step=apply]")
        assert apply_step["data-state"] == "pending"
        assert "waiting for review" in apply_step.get_text()
        assert "Eastside Tech Hub" in page.get_text()
        # A second application waits for the first.
        assert "is waiting for review" in browser.page("/partner/apply").get_text()

    def test_invalid_application_keeps_the_input(self, app: Any, agreement: Any) -> None:
        browser = Browser(app, person())

        response = browser.post(
            "/partner/apply", {**APPLICATION, "sector": "", "contact_email": "not an email"}
        )

        assert response.status_code == 200
        page = soup(response)
        assert "Missing value" in field_error(page, "field-sector")
        assert "Email" in field_error(page, "field-contact_email")
        assert page.find("input", {"name": "organization_title"})["value"] == "Eastside Tech Hub"
        assert page.find("input", {"value": "district-3"}).has_attr("checked")
        assert page.find("input", {"value": "district-1"}).has_attr("checked") is False
        assert applications() == []

    def test_anonymous_status_and_post_go_to_the_login(self, app: Any, agreement: Any) -> None:
        assert is_login_redirect(app.get("/partner/status", follow_redirects=False))
        assert is_login_redirect(Browser(app).post("/partner/apply", APPLICATION))
        assert applications() == []

    def test_only_sysadmins_see_the_queue(self, app: Any, agreement: Any, sysadmin: dict[str, Any]) -> None:
        applicant = person(token=True)
        apply(applicant, contact_phone="<b>313</b>")

        assert (
            app.get("/ckan-admin/partners", headers={"Authorization": applicant["token"]}).status_code == 403
        )
        assert is_login_redirect(app.get("/ckan-admin/partners", follow_redirects=False))
        response = app.get("/ckan-admin/partners", headers={"Authorization": sysadmin["token"]})
        card = BeautifulSoup(response.body, "html.parser").select_one("article[data-application-id]")
        shown = card.get_text(" ", strip=True)
        for value in ("Eastside Tech Hub", "Nonprofit", "https://eastside.example.org", "Dana Reyes",
                      "dana@eastside.example.org", "Laptops lent by neighborhood", "Council District 3",
                      "Council District 4", "Interested", applicant["name"]):  # fmt: skip
            assert value in shown, value
        assert "<b>313</b>" in shown and card.find("b") is None  # escaped
        # The sysadmin's own status page lists their own applications only.
        mine = app.get("/partner/status", headers={"Authorization": sysadmin["token"]})
        assert "You have not applied yet" in mine.body and "Eastside Tech Hub" not in mine.body

    def test_sysadmin_approves_and_the_applicant_signs_then_publishes(
        self, app: Any, agreement: Any, sysadmin: dict[str, Any]
    ) -> None:
        applicant = person()
        application = apply(applicant)
        admin_browser = Browser(app, sysadmin)

        response = admin_browser.post(f"/ckan-admin/partners/{application['id']}/approve", {})

        assert response.status_code == 302
        approved = call_action("cd3p_partner_application_show", site(), id=application["id"])
        assert approved["state"] == "approved"
        org = call_action("organization_show", id=approved["organization_id"])
        assert org["title"] == "Eastside Tech Hub"
        members = call_action("member_list", id=org["id"], object_type="user")
        assert (applicant["id"], "user", "Admin") in members
        assert "Approved: Eastside Tech Hub was created" in text(admin_browser.get("/ckan-admin/partners"))
        assert admin_browser.page("/ckan-admin/partners?state=approved").select_one(
            f"[data-application-id='{application['id']}']"
        )

        browser = Browser(app, applicant)
        page = browser.page("/partner/status")
        sign_step = page.select_one("[data-step=sign]")
        assert sign_step["data-state"] == "todo"
        assert sign_step.find("a")["href"] == f"/organization/{org['name']}/agreement"

        partners.sign(org, applicant)
        page = browser.page("/partner/status")
        assert page.select_one("[data-step=sign]")["data-state"] == "done"
        upload_step = page.select_one("[data-step=upload]")
        assert upload_step["data-state"] == "todo"
        assert upload_step.find("a", string=lambda s: s and "Add a dataset" in s)["href"] == (
            f"/dataset/new?owner_org={org['id']}"
        )
        factories.Dataset(owner_org=org["id"])
        upload_step = browser.page("/partner/status").select_one("[data-step=upload]")
        assert upload_step["data-state"] == "done" and "1 dataset(s)" in upload_step.get_text()

    def test_sysadmin_rejects_with_a_reason_the_applicant_sees(
        self, app: Any, agreement: Any, sysadmin: dict[str, Any]
    ) -> None:
        applicant = person()
        application = apply(applicant)
        admin_browser = Browser(app, sysadmin)
        path = f"/ckan-admin/partners/{application['id']}/reject"

        missing = admin_browser.post(path, {"reason": ""})

        assert missing.status_code == 200
        card = soup(missing).select_one(f"[data-application-id='{application['id']}']")
        assert "Missing value" in card.select_one(".cd3p-reject-form").get_text()
        assert applications()[0]["state"] == "pending"

        response = admin_browser.post(path, {"reason": "Please apply through your parent organization"})

        assert response.status_code == 302
        assert applications()[0]["state"] == "rejected"
        step = Browser(app, applicant).page("/partner/status").select_one("[data-step=apply]")
        assert step["data-state"] == "rejected"
        assert "Please apply through your parent organization" in step.get_text()

    def test_others_cannot_decide(self, app: Any, agreement: Any) -> None:
        applicant = person()
        application = apply(applicant)
        browser = Browser(app, applicant)

        assert browser.post(f"/ckan-admin/partners/{application['id']}/approve", {}).status_code == 403
        assert (
            browser.post(f"/ckan-admin/partners/{application['id']}/reject", {"reason": "x"}).status_code
            == 403
        )
        assert applications()[0]["state"] == "pending"


# --- joining a partner --------------------------------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestJoining:
    def test_organization_pages_link_to_the_agreement_pages(self, app: Any, partner: dict[str, Any]) -> None:
        path = "/organization/tech-town"

        def links(headers: dict[str, str]) -> set[str]:
            page = BeautifulSoup(app.get(path, headers=headers).body, "html.parser")
            return {a.get_text(" ", strip=True) for a in page.select(".page-header a")}

        admin = links({"Authorization": partner["admin"]["token"]})
        member = links({"Authorization": partner["member"]["token"]})
        visitor = links({"Authorization": person(token=True)["token"]})

        assert {"Data Sharing Agreement", "Ledger", "Requests"} <= admin and "Ask to join" not in admin
        assert "Data Sharing Agreement" in member and not {"Ledger", "Requests", "Ask to join"} & member
        assert {"Data Sharing Agreement", "Ask to join"} <= visitor and not {"Ledger", "Requests"} & visitor

    def test_a_user_asks_to_join_and_the_admin_approves(self, app: Any, partner: dict[str, Any]) -> None:
        user = person()
        browser = Browser(app, user)
        form = browser.page("/organization/tech-town/join").select_one("form.cd3p-join-form")
        assert [o["value"] for o in form.select("select[name=role] option")] == ["member", "editor"]
        assert browser.page("/organization/tech-town/join").find("a", href="/agreement") is not None

        unticked = browser.post("/organization/tech-town/join", {"role": "editor", "message": "Hello"})

        assert unticked.status_code == 200
        assert "Must be confirmed" in field_error(soup(unticked), "field-acknowledge")
        assert soup(unticked).find("textarea", {"name": "message"}).get_text() == "Hello"
        assert requests_() == []

        response = browser.post(
            "/organization/tech-town/join", {"role": "editor", "message": "Hello", "acknowledge": "true"}
        )

        assert response.status_code == 302
        [request] = requests_()
        assert (request["user_name"], request["role"], request["state"]) == (
            user["name"],
            "editor",
            "pending",
        )
        assert request["acknowledgement_id"]
        assert "waiting for its admins" in browser.page("/organization/tech-town/join").get_text()

        admin = Browser(app, partner["admin"])
        card = admin.page("/organization/tech-town/requests").select_one(
            f"[data-request-id='{request['id']}']"
        )
        assert user["name"] in card.get_text() and "Hello" in card.get_text()

        response = admin.post(f"/organization/tech-town/requests/{request['id']}/approve", {})

        assert response.status_code == 302
        assert requests_()[0]["state"] == "approved"
        members = call_action("member_list", id=partner["org"]["id"], object_type="user")
        assert (user["id"], "user", "Editor") in members
        assert f"{user['name']} is now a member of Tech Town Neighbors" in text(
            admin.get("/organization/tech-town/requests")
        )

    def test_the_admin_declines_with_a_reason(self, app: Any, partner: dict[str, Any]) -> None:
        request = ask_to_join(partner["org"], person())
        admin = Browser(app, partner["admin"])
        path = f"/organization/tech-town/requests/{request['id']}/reject"

        missing = admin.post(path, {"reason": ""})
        assert missing.status_code == 200
        assert "Missing value" in soup(missing).select_one(f"[data-request-id='{request['id']}']").get_text()
        assert requests_()[0]["state"] == "pending"

        assert admin.post(path, {"reason": "We only take staff"}).status_code == 302
        assert requests_()[0]["state"] == "rejected"
        assert requests_()[0]["reason"] == "We only take staff"

    def test_only_admins_see_and_decide_the_queue(self, app: Any, partner: dict[str, Any]) -> None:
        request = ask_to_join(partner["org"], person())
        member = partner["member"]

        assert (
            app.get(
                "/organization/tech-town/requests", headers={"Authorization": member["token"]}
            ).status_code
            == 403
        )
        assert is_login_redirect(app.get("/organization/tech-town/requests", follow_redirects=False))
        response = Browser(app, member).post(f"/organization/tech-town/requests/{request['id']}/approve", {})
        assert response.status_code == 403
        assert requests_()[0]["state"] == "pending"

    def test_join_page_needs_a_login_and_a_signed_organization(
        self, app: Any, unsigned: dict[str, Any]
    ) -> None:
        assert is_login_redirect(app.get("/organization/brightmoor/join", follow_redirects=False))

        user = person(token=True)
        response = app.get("/organization/brightmoor/join", headers={"Authorization": user["token"]})

        assert response.status_code == 200
        assert "cannot take new members until it signs" in response.body
        assert BeautifulSoup(response.body, "html.parser").select_one("form.cd3p-join-form") is None
        assert (
            app.get("/organization/nowhere/join", headers={"Authorization": user["token"]}).status_code == 404
        )


# --- the banner ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestBanner:
    def _notices(self, app: Any, user: dict[str, Any], path: str = "/dataset/") -> list[Any]:
        page = BeautifulSoup(app.get(path, headers={"Authorization": user["token"]}).body, "html.parser")
        return page.select(".cd3p-agreement-notice")

    def test_grace_period_banner_for_every_member(self, app: Any, agreement: dict[str, Any]) -> None:
        admin, member = person(token=True), person(token=True)
        org = partners.organization(admin, title="<script>alert(1)</script> Hub", name="hub")
        partners.join(org, member)
        assert self._notices(app, member) == []  # signed the active version: nothing to say

        partners.active_agreement("2027-1")

        for user in (admin, member):
            response = app.get("/dataset/", headers={"Authorization": user["token"]})
            assert "<script>alert(1)</script>" not in response.body
            assert "&lt;script&gt;alert(1)&lt;/script&gt; Hub" in response.body
            [notice] = BeautifulSoup(response.body, "html.parser").select(".cd3p-agreement-notice")
            said = notice.get_text(" ", strip=True)
            assert said.startswith("A new version of the Data Sharing Agreement is active.")
            assert "<script>alert(1)</script> Hub keeps its rights until" in said
            assert notice.find("a")["href"] == "/organization/hub/agreement"
        status = call_action("cd3p_agreement_status", organization_id=org["id"])
        with app.flask_app.test_request_context():
            grace_end = tk.h.render_datetime(status["grace_end"], with_hours=True)
        assert grace_end in self._notices(app, member)[0].get_text()

    def test_unsigned_and_lapsed_banners_are_for_admins(
        self, app: Any, agreement: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        admin = person(token=True)
        partners.organization(admin, signed=False, title="Brightmoor Makers", name="brightmoor")

        [notice] = self._notices(app, admin, "/")
        assert notice.get_text(" ", strip=True).startswith(
            "Brightmoor Makers has not signed the Data Sharing Agreement."
        )

        lapsed_admin, member = person(token=True), person(token=True)
        org = partners.organization(lapsed_admin, title="Corktown Coders", name="corktown")
        partners.join(org, member)
        partners.active_agreement("2027-1")
        monkeypatch.setitem(ckan_config, "ckanext.cd3p.agreement.grace_days", 0)

        [notice] = self._notices(app, lapsed_admin)
        assert "Its signature is for version template-1" in notice.get_text()
        assert notice["data-kind"] == "lapsed"
        assert self._notices(app, member) == []

    def test_no_banner_for_visitors(self, app: Any, partner: dict[str, Any]) -> None:
        partners.active_agreement("2027-1")

        assert "cd3p-agreement-notice" not in app.get("/dataset/").body


# --- CSRF ---------------------------------------------------------------------------------------


def _world() -> dict[str, Any]:
    """One of everything a form acts on."""
    w: dict[str, Any] = {"sysadmin": factories.Sysadmin(password=PASSWORD)}
    partners.active_agreement()
    w["draft"] = call_action(
        "cd3p_agreement_create", site(), version="2027-1", title="Next", body="Next text"
    )
    w["admin"] = person()
    w["org"] = partners.organization(w["admin"], name="tech-town")
    w["unsigned_admin"] = person()
    w["unsigned"] = partners.organization(w["unsigned_admin"], signed=False, name="brightmoor")
    w["user"] = person()
    w["application"] = apply(person())
    w["request"] = ask_to_join(w["org"], person())
    w["signature"] = ledger(kind="sign")[0]
    # The file checks' and the equity pages' forms: a dataset of the signed organization with a
    # DataStore table of Detroit tracts, a held check of it, and a registered indicator source.
    w["dataset"] = factories.Dataset(owner_org=w["org"]["id"], name="csrf-survey")
    w["resource"] = factories.Resource(
        package_id=w["dataset"]["id"], name="survey", url="http://example.com/survey.csv", format="CSV"
    )
    # A feed (a link with a refresh schedule; no format, so it is not loaded when made).
    w["feed"] = factories.Resource(
        package_id=w["dataset"]["id"],
        name="feed",
        url="http://example.com/feed.csv",
        refresh_frequency="daily",
    )
    tract = sorted(geography.tracts())[0]
    call_action(
        "datastore_create",
        resource_id=w["resource"]["id"],
        force=True,
        fields=[
            {"id": "geoid", "type": "text"},
            {"id": "no_computer", "type": "numeric"},
            {"id": "households", "type": "numeric"},
        ],
        records=[{"geoid": tract, "no_computer": 120, "households": 900}],
    )
    model.Session.add(
        ResourceCheck(
            resource_id=w["resource"]["id"],
            package_id=w["dataset"]["id"],
            fingerprint="held-for-the-test",
            state="held",
            report={"findings": [{"column": "geoid", "kind": "test", "reason": "test", "rows": []}]},
        )
    )
    model.Session.add(
        IndicatorSource(
            id="registered-source",
            dataset="csrf-survey",
            resource="survey",
            key="geoid",
            vintage="2025",
            citation="Test",
            indicators=[],
        )
    )
    model.Session.commit()
    # The data requests' forms: an open request of the user (the org's admin follows it), and a
    # closed one to reopen.
    w["data_request"] = call_action(
        "cd3p_data_request_create", {"user": w["user"]["name"]}, title="Broadband by block", description="D"
    )
    call_action("cd3p_data_request_follow", {"user": w["admin"]["name"]}, id=w["data_request"]["id"])
    closed = call_action(
        "cd3p_data_request_create", {"user": w["user"]["name"]}, title="Old", description="D"
    )
    w["closed_request"] = call_action(
        "cd3p_data_request_close", {"user": site()["user"]}, id=closed["id"], outcome="declined", reason="No"
    )
    # The analysis workspace's forms: a query the user saved.
    w["saved_query"] = call_action(
        "cd3p_saved_query_create",
        {"user": w["user"]["name"]},
        name="Households",
        spec={"resource_id": w["resource"]["id"]},
    )
    return w


def _snapshot() -> tuple[Any, ...]:
    model.Session.expire_all()
    return (
        len(ledger()),
        sorted((a["version"], a["state"], a["title"]) for a in call_action("cd3p_agreement_list", site())),
        sorted((a["id"], a["state"]) for a in applications()),
        sorted((r["id"], r["state"]) for r in requests_()),
        sorted((c.fingerprint, c.state) for c in model.Session.query(ResourceCheck)),
        sorted(s.id for s in model.Session.query(IndicatorSource)),
        call_action("package_show", id="csrf-survey")["contains_personal_data"],
        sorted((r.id, r.state, r.title, r.updated) for r in model.Session.query(DataRequest)),
        model.Session.query(DataRequestComment).count(),
        model.Session.query(DataRequestFollower).count(),
        sorted(q.id for q in model.Session.query(SavedQuery)),
        sorted(d.id for d in model.Session.query(DerivedResource)),
        sorted((f.resource_id, f.next_fetch) for f in model.Session.query(Feed)),
    )


SOURCE_FORM = {
    "id": "csrf-source",
    "dataset": "csrf-survey",
    "resource": "survey",
    "key": "geoid",
    "vintage": "Survey 2025",
    "citation": "Test survey",
    "indicator_id": "csrf-no-computer",
    "indicator_title": "Households without a computer (test)",
    "indicator_description": "Counted by the test.",
    "indicator_topic": "devices",
    "indicator_unit": "percent",
    "indicator_direction": "higher",
    "indicator_column": "no_computer",
    "indicator_kind": "count",
    "indicator_weight_column": "households",
    "indicator_weight_label": "households",
}


# Every POST route of the blueprint, by endpoint: (who posts, path, form data).
POSTS: dict[str, Callable[[dict[str, Any]], tuple[str, str, dict[str, Any]]]] = {
    "cd3p.agreement_acknowledge": lambda w: ("user", "/agreement/acknowledge", {}),
    "cd3p.admin_agreement_new": lambda w: (
        "sysadmin",
        "/ckan-admin/agreements/new",
        {"version": "2028-1", "title": "T", "body": "B"},
    ),
    "cd3p.admin_agreement_edit": lambda w: (
        "sysadmin",
        f"/ckan-admin/agreements/{w['draft']['id']}/edit",
        {"title": "Changed", "body": "Next text"},
    ),
    "cd3p.admin_agreement_activate": lambda w: (
        "sysadmin",
        f"/ckan-admin/agreements/{w['draft']['id']}/activate",
        {},
    ),
    "cd3p.admin_agreement_delete": lambda w: (
        "sysadmin",
        f"/ckan-admin/agreements/{w['draft']['id']}/delete",
        {},
    ),
    "cd3p.organization_agreement": lambda w: (
        "unsigned_admin",
        "/organization/brightmoor/agreement",
        {"agreement_id": "template-1", **SIGNATURE},
    ),
    "cd3p.ledger_revoke": lambda w: (
        "sysadmin",
        f"/ckan-admin/ledger/{w['signature']['id']}/revoke",
        {"reason": "test"},
    ),
    "cd3p.partner_apply": lambda w: ("user", "/partner/apply", APPLICATION),
    "cd3p.admin_partner_approve": lambda w: (
        "sysadmin",
        f"/ckan-admin/partners/{w['application']['id']}/approve",
        {},
    ),
    "cd3p.admin_partner_reject": lambda w: (
        "sysadmin",
        f"/ckan-admin/partners/{w['application']['id']}/reject",
        {"reason": "No"},
    ),
    "cd3p.organization_join": lambda w: ("user", "/organization/tech-town/join", {"acknowledge": "true"}),
    "cd3p.organization_request_approve": lambda w: (
        "admin",
        f"/organization/tech-town/requests/{w['request']['id']}/approve",
        {},
    ),
    "cd3p.organization_request_reject": lambda w: (
        "admin",
        f"/organization/tech-town/requests/{w['request']['id']}/reject",
        {"reason": "No"},
    ),
    "cd3p_checks.recheck": lambda w: (
        "admin",
        f"/dataset/{w['dataset']['id']}/resource/{w['resource']['id']}/check",
        {},
    ),
    "cd3p_checks.mark_personal": lambda w: (
        "admin",
        f"/dataset/{w['dataset']['id']}/resource/{w['resource']['id']}/mark-personal",
        {},
    ),
    "cd3p_freshness.feed_run": lambda w: (
        "admin",
        f"/dataset/{w['dataset']['id']}/resource/{w['feed']['id']}/feed",
        {},
    ),
    "cd3p_checks.admin_release": lambda w: (
        "sysadmin",
        f"/ckan-admin/checks/{w['resource']['id']}/release",
        {"reason": "Not personal: a test"},
    ),
    "cd3p_equity.admin_sources": lambda w: ("sysadmin", "/ckan-admin/indicator-sources", SOURCE_FORM),
    "cd3p_requests.new": lambda w: ("user", "/data-requests/new", {"title": "T", "description": "D"}),
    "cd3p_requests.edit": lambda w: (
        "user",
        f"/data-requests/{w['data_request']['id']}/edit",
        {"title": "Changed", "description": "D"},
    ),
    "cd3p_requests.comment": lambda w: (
        "user",
        f"/data-requests/{w['data_request']['id']}/comment",
        {"text": "Hi"},
    ),
    "cd3p_requests.follow": lambda w: ("user", f"/data-requests/{w['data_request']['id']}/follow", {}),
    "cd3p_requests.unfollow": lambda w: ("admin", f"/data-requests/{w['data_request']['id']}/unfollow", {}),
    "cd3p_requests.assign": lambda w: (
        "admin",
        f"/data-requests/{w['data_request']['id']}/assign",
        {"organization_id": w["org"]["id"]},
    ),
    "cd3p_requests.close": lambda w: (
        "sysadmin",
        f"/data-requests/{w['data_request']['id']}/close",
        {"outcome": "declined", "reason": "No"},
    ),
    "cd3p_requests.reopen": lambda w: ("sysadmin", f"/data-requests/{w['closed_request']['id']}/reopen", {}),
    "cd3p_equity.admin_source_delete": lambda w: (
        "sysadmin",
        "/ckan-admin/indicator-sources/registered-source/delete",
        {},
    ),
    "cd3p_analysis.saved_create": lambda w: (
        "user",
        "/analysis/saved",
        {"name": "Q", "spec": json.dumps({"resource_id": w["resource"]["id"]})},
    ),
    "cd3p_analysis.saved_delete": lambda w: ("user", f"/analysis/saved/{w['saved_query']['id']}/delete", {}),
    "cd3p_analysis.save": lambda w: (
        "admin",
        "/analysis/save",
        {
            "spec": json.dumps({"resource_id": w["resource"]["id"]}),
            "package_id": w["dataset"]["id"],
            "name": "Saved result",
        },
    ),
}


@pytest.mark.usefixtures("with_plugins")
def test_every_post_route_is_covered(app: Any) -> None:
    """Every POST route of every blueprint of the plugin."""
    blueprints = {bp.name for bp in Cd3pPlugin().get_blueprint()}
    posted = {
        rule.endpoint
        for rule in app.flask_app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in blueprints and "POST" in (rule.methods or ())
    }
    assert posted == set(POSTS)


@pytest.mark.usefixtures("with_plugins", "clean_db")
@pytest.mark.parametrize("form", sorted(POSTS))
def test_forms_need_the_csrf_token(app: Any, form: str) -> None:
    world = _world()
    who, path, data = POSTS[form](world)
    browser = Browser(app, world[who])
    before = _snapshot()

    refused = browser.post(path, data, csrf=False)

    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert _snapshot() == before

    accepted = browser.post(path, data)

    assert accepted.status_code == 302, text(accepted)[:500]
    assert _snapshot() != before
