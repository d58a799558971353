"""E-mail of the partner workflow, delivered to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.mail import Inbox, body, free_port


@pytest.mark.usefixtures("with_plugins", "with_request_context")
def test_applications_and_requests_notify_the_people_concerned(
    agreement: dict[str, Any], inbox: Inbox
) -> None:
    admin = factories.Sysadmin(email="sysadmin@detroitmi.gov")
    applicant = factories.User(email="lead@techtown.example")
    application = partners.apply(
        applicant, "Tech Town Neighbors", data_description="Hotspot loans by block group & Lee's <survey>"
    )
    (received,) = inbox.to("sysadmin@detroitmi.gov")
    assert "New partner application: Tech Town Neighbors" in received["Subject"]
    # A plain-text message: what was typed arrives as typed, not HTML-escaped.
    assert "Hotspot loans by block group & Lee's <survey>" in body(received)

    call_action("cd3p_partner_application_approve", {"user": admin["name"]}, id=application["id"])
    (decided,) = inbox.to("lead@techtown.example")
    assert "was approved" in decided["Subject"]
    assert "/organization/tech-town-neighbors/agreement" in body(decided)

    org = call_action("organization_show", id="tech-town-neighbors")
    partners.sign(org, applicant)
    joiner = factories.User(email="joiner@example.org")
    request = call_action(
        "cd3p_membership_request_create",
        {"user": joiner["name"]},
        organization_id=org["id"],
        role="editor",
        message="I run the Tuesday laptop clinic",
        acknowledge=True,
    )
    (asked,) = [m for m in inbox.to("lead@techtown.example") if "asks to join" in m["Subject"]]
    assert "I run the Tuesday laptop clinic" in body(asked)

    call_action(
        "cd3p_membership_request_reject", {"user": applicant["name"]}, id=request["id"], reason="Not now"
    )
    (declined,) = inbox.to("joiner@example.org")
    assert "was rejected" in declined["Subject"]
    assert "Reason: Not now" in body(declined)


@pytest.mark.usefixtures("with_plugins", "with_request_context")
def test_an_unreachable_smtp_server_does_not_fail_the_action(
    agreement: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.notifications", True)
    factories.Sysadmin(email="sysadmin@detroitmi.gov")
    applicant = factories.User()
    application = call_action(
        "cd3p_partner_application_create",
        {"user": applicant["name"]},
        organization_title="Eastside Readers",
        sector="grassroots",
        contact_name="Sam",
        contact_email="sam@example.org",
        data_description="Library card sign-ups",
    )
    assert call_action("cd3p_partner_application_show", id=application["id"])["state"] == "pending"
