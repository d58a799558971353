"""The partners the directory tests read (tests/ecosystem/logic/test_action.py, test_views.py):
three organizations of different sectors, service areas and services, one signed, built through
the actions as the portal builds them; and an organization-only programme whose services a visitor
must not learn."""

from __future__ import annotations

from typing import Any

from ckan.tests.helpers import call_action

from tests import partners
from tests.impact.test_programme import PROGRAMME
from tests.web import person


def build() -> dict[str, Any]:
    """Needs an active agreement (the ``agreement`` fixture) and a clean index."""
    admin, member = person(), person()
    signed = partners.organization(
        admin,
        name="eastside-connect",
        title="Eastside Connect",
        sector="nonprofit",
        service_area=["district-1", "district-3"],
        services=["device_distribution", "digital_skills"],
        mission="Laptops and classes for **Eastside** families.",
        contact_email="hello@eastside.example.org",
        website="https://eastside.example.org",
    )
    partners.join(signed, member)
    unsigned = partners.organization(
        person(),
        signed=False,
        name="osborn-wifi",
        title="Osborn Wi-Fi",
        sector="grassroots",
        service_area=["district-3"],
        services=["home_internet", "public_wifi"],
    )
    campus = partners.organization(
        name="wsu-lab",
        title="WSU Lab",
        sector="academic",
        service_area=["district-5"],
        services=["device_distribution"],
    )
    # An organization-only programme of the signed partner: its members see its service, visitors
    # see the declared ones.
    programme = call_action(
        "package_create",
        {"user": admin["name"]},
        **{
            **PROGRAMME,
            "owner_org": signed["id"],
            "name": "cert-cohort",
            "title": "Certification cohort",
            "services": ["it_certification"],
            "access_level": "organization",
        },
    )
    return {
        "admin": admin,
        "member": member,
        "signed": signed,
        "unsigned": unsigned,
        "campus": campus,
        "programme": programme,
    }
