"""The cd3p actions: agreements, signing, the ledger, applications and membership requests.

Each bad input is checked for its error and for changing nothing (the ledger's length, the state of
the application or request, the organization's members).
"""

from __future__ import annotations

from typing import Any

import pytest
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners

pytestmark = pytest.mark.usefixtures("with_plugins")


def _ledger_size() -> int:
    return call_action("cd3p_signature_list", {"user": partners.site_user()})["count"]


def _members(org: dict[str, Any]) -> set[str]:
    return {m[0] for m in call_action("member_list", id=org["id"], object_type="user")}


@pytest.mark.usefixtures("clean_db")
class TestAgreements:
    def test_one_active_version_and_activation_retires_the_previous(self, agreement: dict[str, Any]) -> None:
        second = partners.active_agreement("2027-1")
        versions = {
            a["version"]: a["state"]
            for a in call_action("cd3p_agreement_list", {"user": partners.site_user()})
        }
        assert versions == {"template-1": "retired", "2027-1": "active"}
        assert call_action("cd3p_agreement_show", id="current")["id"] == second["id"]

    def test_only_drafts_change(self, agreement: dict[str, Any]) -> None:
        with pytest.raises(tk.ValidationError, match="Only a draft can be changed"):
            call_action(
                "cd3p_agreement_update", {"user": partners.site_user()}, id=agreement["id"], body="new"
            )
        assert call_action("cd3p_agreement_show", id=agreement["id"])["body"] == agreement["body"]

    def test_drafts_are_hidden_from_the_public(self, agreement: dict[str, Any]) -> None:
        call_action(
            "cd3p_agreement_create", {"user": partners.site_user()}, version="draft-2", title="t", body="b"
        )
        public = {a["version"] for a in call_action("cd3p_agreement_list", {"user": ""})}
        assert public == {"template-1"}


@pytest.mark.usefixtures("clean_db")
class TestSigning:
    def test_sign_records_the_exact_text_and_makes_the_org_current(self, agreement: dict[str, Any]) -> None:
        admin = factories.User()
        org = partners.organization(admin, signed=False)
        status = call_action("cd3p_agreement_status", organization_id=org["id"])
        assert (status["signed"], status["current"]) == (False, False)

        result = partners.sign(org, admin, text_sha256=agreement["text_sha256"])
        sig = result["signature"]
        assert sig["text_sha256"] == agreement["text_sha256"]
        assert (sig["signatory_name"], sig["user_name"], sig["agreement_version"]) == (
            "Alex Morgan",
            admin["name"],
            "template-1",
        )
        assert sig["client_ip"] is None  # off by default
        status = call_action("cd3p_agreement_status", organization_id=org["name"])
        assert (status["signed"], status["current"], status["stale"], status["version"]) == (
            True,
            True,
            False,
            "template-1",
        )

    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"signatory_name": "  "}, "signatory_name", "Missing value"),
            ({"signatory_title": ""}, "signatory_title", "Missing value"),
            ({"confirm_authority": False}, "confirm_authority", "Must be confirmed"),
            ({"confirm_authority": "no"}, "confirm_authority", "Must be confirmed"),
            ({"text_sha256": "0" * 64}, "text_sha256", "not the text of version"),
        ],
    )
    def test_bad_signatures_change_nothing(
        self, agreement: dict[str, Any], change: dict[str, Any], field: str, message: str
    ) -> None:
        admin = factories.User()
        org = partners.organization(admin, signed=False)
        with pytest.raises(tk.ValidationError) as e:
            partners.sign(org, admin, **change)
        assert message in str(e.value.error_dict[field])
        assert _ledger_size() == 0
        assert call_action("cd3p_agreement_status", organization_id=org["id"])["signed"] is False

    def test_signing_twice_is_refused(self, agreement: dict[str, Any]) -> None:
        admin = factories.User()
        org = partners.organization(admin)
        with pytest.raises(tk.ValidationError, match="already signed version template-1"):
            partners.sign(org, admin)
        assert _ledger_size() == 1

    @pytest.mark.parametrize("state", ["draft", "retired"])
    def test_only_the_active_version_can_be_signed(self, agreement: dict[str, Any], state: str) -> None:
        admin = factories.User()
        org = partners.organization(admin, signed=False)
        sysadmin = {"user": partners.site_user()}
        if state == "draft":
            target = call_action("cd3p_agreement_create", sysadmin, version="next", title="t", body="b")
        else:
            partners.active_agreement("next")
            target = agreement
        with pytest.raises(tk.ValidationError, match=f"is {state}; only the active version can be signed"):
            partners.sign(org, admin, agreement_id=target["id"])
        assert _ledger_size() == 0

    def test_signing_for_an_organization_you_do_not_administer_is_refused(
        self, agreement: dict[str, Any]
    ) -> None:
        admin, outsider = factories.User(), factories.User()
        org = partners.organization(admin, signed=False)
        partners.organization(outsider)  # an admin, but of another organization
        context = {"user": outsider["name"], "ignore_auth": False}
        with pytest.raises(tk.NotAuthorized, match="Only admins of"):
            call_action(
                "cd3p_agreement_sign",
                context,
                organization_id=org["id"],
                agreement_id=agreement["id"],
                signatory_name="X",
                signatory_title="Y",
                confirm_authority=True,
            )
        assert call_action("cd3p_agreement_status", organization_id=org["id"])["signed"] is False


@pytest.mark.usefixtures("clean_db")
class TestMembershipGate:
    def test_unsigned_org_takes_only_its_first_admin(self, agreement: dict[str, Any]) -> None:
        admin, editor = factories.User(), factories.User()
        org = partners.organization(admin, signed=False)
        partners.acknowledge(editor)
        with pytest.raises(tk.NotAuthorized, match="has not signed the Data Sharing Agreement"):
            call_action(
                "organization_member_create",
                {"user": partners.site_user()},
                id=org["id"],
                username=editor["name"],
                role="editor",
            )
        assert editor["id"] not in _members(org)

    def test_signed_org_requires_the_users_acknowledgement(self, agreement: dict[str, Any]) -> None:
        admin, editor = factories.User(), factories.User()
        org = partners.organization(admin)
        with pytest.raises(tk.NotAuthorized, match="has not acknowledged"):
            call_action(
                "organization_member_create",
                {"user": admin["name"]},
                id=org["id"],
                username=editor["name"],
                role="editor",
            )
        partners.acknowledge(editor)
        call_action(
            "organization_member_create",
            {"user": admin["name"]},
            id=org["id"],
            username=editor["name"],
            role="editor",
        )
        assert editor["id"] in _members(org)

    def test_invites_are_refused_before_any_account_is_created(self, agreement: dict[str, Any]) -> None:
        admin = factories.User()
        org = partners.organization(admin)
        users_before = model.Session.query(model.User).count()
        with pytest.raises(tk.NotAuthorized, match="must acknowledge the Data Sharing Agreement"):
            call_action(
                "user_invite",
                {"user": admin["name"]},
                email="new@example.org",
                group_id=org["id"],
                role="editor",
            )
        assert model.Session.query(model.User).count() == users_before

    def test_organization_users_list_is_gated_too(self, agreement: dict[str, Any]) -> None:
        admin, outsider = factories.User(), factories.User()
        org = partners.organization(admin)
        with pytest.raises(tk.NotAuthorized, match="has not acknowledged"):
            call_action(
                "organization_patch",
                {"user": partners.site_user()},
                id=org["id"],
                users=[
                    {"name": admin["name"], "capacity": "admin"},
                    {"name": outsider["name"], "capacity": "editor"},
                ],
            )
        assert outsider["id"] not in _members(org)


APPLICATION = {
    "organization_title": "Tech Town Neighbors",
    "sector": "grassroots",
    "website": "https://techtown.example.org",
    "contact_name": "Lee Jordan",
    "contact_email": "lee@techtown.example.org",
    "data_description": "Hotspot loans by block group, monthly",
    "service_area": ["district-5", "district-6"],
    "focus_group": True,
}


@pytest.mark.usefixtures("clean_db")
class TestPartnerApplications:
    def test_approval_creates_the_organization_with_the_applicant_as_first_admin(
        self, agreement: dict[str, Any]
    ) -> None:
        applicant = factories.User()
        created = call_action("cd3p_partner_application_create", {"user": applicant["name"]}, **APPLICATION)
        assert (created["state"], created["organization_name"], created["service_area"]) == (
            "pending",
            "tech-town-neighbors",
            "district-5,district-6",
        )
        approved = call_action(
            "cd3p_partner_application_approve", {"user": partners.site_user()}, id=created["id"]
        )
        org = call_action("organization_show", id="tech-town-neighbors")
        assert approved["organization_id"] == org["id"]
        assert (org["title"], org["sector"], org["service_area"]) == (
            "Tech Town Neighbors",
            "grassroots",
            ["district-5", "district-6"],
        )
        roles = {m[0]: m[2] for m in call_action("member_list", id=org["id"], object_type="user")}
        assert roles[applicant["id"]] == "Admin"
        # the first admin can sign straight away
        assert partners.sign(org, applicant)["status"]["current"] is True

        with pytest.raises(tk.ValidationError, match="already been approved"):
            call_action("cd3p_partner_application_approve", {"user": partners.site_user()}, id=created["id"])
        with pytest.raises(tk.ValidationError, match="already been approved"):
            call_action(
                "cd3p_partner_application_reject",
                {"user": partners.site_user()},
                id=created["id"],
                reason="x",
            )
        assert call_action("organization_list") == ["tech-town-neighbors"]

    def test_reject_needs_a_reason_and_the_applicant_sees_it(self, agreement: dict[str, Any]) -> None:
        applicant = factories.User()
        created = call_action("cd3p_partner_application_create", {"user": applicant["name"]}, **APPLICATION)
        with pytest.raises(tk.ValidationError, match="Missing value"):
            call_action(
                "cd3p_partner_application_reject",
                {"user": partners.site_user()},
                id=created["id"],
                reason=" ",
            )
        assert call_action("cd3p_partner_application_show", id=created["id"])["state"] == "pending"
        call_action(
            "cd3p_partner_application_reject",
            {"user": partners.site_user()},
            id=created["id"],
            reason="Outside Detroit",
        )
        mine = call_action("cd3p_partner_application_list", {"user": applicant["name"]})["results"]
        assert [(a["state"], a["reason"]) for a in mine] == [("rejected", "Outside Detroit")]
        assert call_action("organization_list") == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"sector": "bakery"}, "sector"),
            ({"contact_email": "not-an-email"}, "contact_email"),
            ({"service_area": ["district-9"]}, "service_area"),
            ({"data_description": ""}, "data_description"),
            ({"website": "javascript:alert(1)"}, "website"),
        ],
    )
    def test_bad_applications_are_refused(
        self, agreement: dict[str, Any], change: dict[str, Any], field: str
    ) -> None:
        applicant = factories.User()
        with pytest.raises(tk.ValidationError) as e:
            call_action(
                "cd3p_partner_application_create", {"user": applicant["name"]}, **{**APPLICATION, **change}
            )
        assert field in e.value.error_dict
        assert call_action("cd3p_partner_application_list", {"user": partners.site_user()})["count"] == 0

    def test_one_pending_application_per_user_and_no_name_clash(self, agreement: dict[str, Any]) -> None:
        applicant = factories.User()
        call_action("cd3p_partner_application_create", {"user": applicant["name"]}, **APPLICATION)
        with pytest.raises(tk.ValidationError, match="already have a pending application"):
            call_action(
                "cd3p_partner_application_create",
                {"user": applicant["name"]},
                **{**APPLICATION, "organization_title": "Another"},
            )
        factories.Organization(name="eastside-readers")
        with pytest.raises(tk.ValidationError, match="already exists"):
            call_action(
                "cd3p_partner_application_create",
                {"user": factories.User()["name"]},
                **{**APPLICATION, "organization_title": "Eastside Readers"},
            )


@pytest.mark.usefixtures("clean_db")
class TestMembershipRequests:
    def test_request_acknowledges_and_approval_adds_the_member(self, agreement: dict[str, Any]) -> None:
        admin, user = factories.User(), factories.User()
        org = partners.organization(admin)
        request = call_action(
            "cd3p_membership_request_create",
            {"user": user["name"]},
            organization_id=org["name"],
            role="editor",
            message="I run the laptop clinic",
            acknowledge=True,
        )
        acks = call_action(
            "cd3p_signature_list", {"user": admin["name"]}, organization_id=org["id"], kind="acknowledge"
        )
        assert [a["user_name"] for a in acks["results"]] == [user["name"]]
        assert request["acknowledgement_id"] == acks["results"][0]["id"]
        queue = call_action(
            "cd3p_membership_request_list", {"user": admin["name"]}, organization_id=org["id"]
        )
        assert [r["user_name"] for r in queue["results"]] == [user["name"]]

        call_action("cd3p_membership_request_approve", {"user": admin["name"]}, id=request["id"])
        roles = {m[0]: m[2] for m in call_action("member_list", id=org["id"], object_type="user")}
        assert roles[user["id"]] == "Editor"
        with pytest.raises(tk.ValidationError, match="already been approved"):
            call_action("cd3p_membership_request_approve", {"user": admin["name"]}, id=request["id"])

    def test_bad_requests_change_nothing(self, agreement: dict[str, Any]) -> None:
        admin, user = factories.User(), factories.User()
        org = partners.organization(admin)
        unsigned = partners.organization(factories.User(), signed=False, title="Unsigned Partner")

        def ask(**data: Any) -> None:
            call_action(
                "cd3p_membership_request_create",
                {"user": user["name"]},
                **{"organization_id": org["id"], "acknowledge": True, **data},
            )

        with pytest.raises(tk.ValidationError, match="Must be confirmed"):
            ask(acknowledge=False)
        with pytest.raises(tk.ValidationError, match="has not signed"):
            ask(organization_id=unsigned["id"])
        with pytest.raises(tk.ValidationError) as e:
            ask(role="admin")
        assert "role" in e.value.error_dict
        assert _ledger_size() == 1  # the signed organization's signature, nothing else
        ask()
        with pytest.raises(tk.ValidationError, match="already asked to join"):
            ask()
        with pytest.raises(tk.ValidationError, match="already a member"):
            call_action(
                "cd3p_membership_request_create",
                {"user": admin["name"]},
                organization_id=org["id"],
                acknowledge=True,
            )
        assert call_action("cd3p_membership_request_list", {"user": partners.site_user()})["count"] == 1


class TestNotRevoked:
    """One "not revoked" rule (ledger.not_revoked): the request to join took the newest entry of the
    user's whatever its standing, so it could name a revoked signature."""

    def test_a_membership_request_names_an_acknowledgement_that_stands(
        self, agreement: dict[str, Any]
    ) -> None:
        user = factories.User()
        own = partners.acknowledge(user)  # personal, then a signature as another partner's first admin
        first = partners.organization(user, title="First partner")
        site = {"user": partners.site_user()}
        signature = call_action("cd3p_signature_list", site, organization_id=first["id"], kind="sign")
        [signed] = signature["results"]
        assert signed["user_id"] == user["id"] and signed["created"] > own["created"]
        call_action("cd3p_signature_revoke", site, id=signed["id"], reason="signed in error")

        other = partners.organization(factories.User(), title="Second partner")
        request = call_action(
            "cd3p_membership_request_create",
            {"user": user["name"]},
            organization_id=other["id"],
            acknowledge=True,
        )
        assert request["acknowledgement_id"] == own["id"]
        entries = call_action("cd3p_signature_list", site, user_id=user["id"])["results"]
        by_id = {e["id"]: e for e in entries}
        assert by_id[signed["id"]]["revoked"] is True
        assert by_id[own["id"]]["revoked"] is False
