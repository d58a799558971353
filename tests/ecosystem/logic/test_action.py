"""The partner directory through the Action API: the filters list exactly the partners they should,
with their standing; an organization-only programme's services stay hidden from visitors; the gaps
equal an independent computation from the indicator's values; the refusals and the bad filters."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from tests import equity, partners
from tests.ecosystem import world
from tests.web import person

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


def _as(user: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"user": user["name"] if user else "", "ignore_auth": False}


def _names(found: dict[str, Any]) -> list[str]:
    return [p["name"] for p in found["results"]]


@pytest.fixture
def w(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    return world.build()


class TestList:
    def test_each_filter_lists_exactly_the_expected_partners(self, w: dict[str, Any]) -> None:
        def listed(**filters: Any) -> list[str]:
            return _names(call_action("cd3p_partner_list", _as(), **filters))

        assert listed() == ["eastside-connect", "osborn-wifi", "wsu-lab"]  # by title
        assert listed(sector="nonprofit") == ["eastside-connect"]
        assert listed(service="device_distribution") == ["eastside-connect", "wsu-lab"]
        assert listed(district="district-3") == ["eastside-connect", "osborn-wifi"]
        assert listed(district="district-3", service="home_internet") == ["osborn-wifi"]
        assert listed(district="district-5", sector="nonprofit") == []
        assert listed(q="eastside FAMILIES") == []  # the whole text, any case
        assert listed(q="FAMILIES") == ["eastside-connect"]  # in the mission
        assert listed(district="district-2") == []

    def test_each_partner_carries_its_profile_standing_and_contact(self, w: dict[str, Any]) -> None:
        found = {p["name"]: p for p in call_action("cd3p_partner_list", _as())["results"]}

        signed = found["eastside-connect"]
        assert signed["sector"] == "nonprofit"
        assert signed["service_area"] == ["district-1", "district-3"]
        assert signed["standing"] == {
            "signed": True,
            "current": True,
            "stale": False,
            "version": "template-1",
            "active_version": "template-1",
        }
        assert signed["contact_email"] == "hello@eastside.example.org"
        assert signed["website"] == "https://eastside.example.org"
        assert found["osborn-wifi"]["standing"]["signed"] is False
        assert found["wsu-lab"]["standing"]["signed"] is False

    def test_the_facets_count_the_partners_each_value_would_list(self, w: dict[str, Any]) -> None:
        facets = call_action("cd3p_partner_list", _as(), service="device_distribution")["facets"]

        # Districts and sectors with the service filter kept; services without it.
        assert facets["district"] == {
            "district-1": 1,
            "district-2": 0,
            "district-3": 1,
            "district-4": 0,
            "district-5": 1,
            "district-6": 0,
            "district-7": 0,
        }
        assert facets["sector"] == {"nonprofit": 1, "academic": 1}
        assert facets["service"]["device_distribution"] == 2
        assert facets["service"]["home_internet"] == 1


class TestProgrammeServices:
    def test_an_organization_only_programmes_services_are_not_told_to_a_visitor(
        self, w: dict[str, Any]
    ) -> None:
        seen_by_visitor = call_action("cd3p_partner_show", _as(), id="eastside-connect")
        assert seen_by_visitor["services"] == ["device_distribution", "digital_skills"]
        assert seen_by_visitor["services_from"] == "declared"
        assert _names(call_action("cd3p_partner_list", _as(), service="it_certification")) == []

        seen_by_member = call_action("cd3p_partner_show", _as(w["member"]), id="eastside-connect")
        assert seen_by_member["services"] == ["it_certification"]
        assert seen_by_member["services_from"] == "programmes"
        assert _names(call_action("cd3p_partner_list", _as(w["member"]), service="it_certification")) == [
            "eastside-connect"
        ]


class TestShow:
    def test_a_profile_lists_the_open_requests_for_the_partner_the_caller_may_see(
        self, w: dict[str, Any]
    ) -> None:
        resident = person()
        asked = call_action(
            "cd3p_data_request_create",
            {"user": resident["name"]},
            title="Laptops by block",
            description="For Osborn",
            addressed_to="osborn-wifi",
        )
        call_action(
            "cd3p_data_request_create",
            {"user": resident["name"]},
            title="For the City",
            description="Not for a partner",
        )

        shown = call_action("cd3p_partner_show", _as(), id="osborn-wifi")
        assert [(r["id"], r["age_days"]) for r in shown["requests"]] == [(asked["id"], 0)]
        assert call_action("cd3p_partner_show", _as(), id="eastside-connect")["requests"] == []

    def test_an_unknown_organization_is_not_found(self, w: dict[str, Any]) -> None:
        with pytest.raises(tk.ObjectNotFound):
            call_action("cd3p_partner_show", _as(), id="no-such-partner")


class TestPartnership:
    def test_a_partner_admin_sees_what_they_signed_their_organizations_and_their_queue(
        self, w: dict[str, Any]
    ) -> None:
        asked = call_action(
            "cd3p_data_request_create",
            {"user": person()["name"]},
            title="Classes by district",
            description="For District 3",
            addressed_to="eastside-connect",
        )

        mine = call_action("cd3p_partnership_show", _as(w["admin"]))
        assert [(e["kind"], e["organization_name"], e["revoked"]) for e in mine["entries"]] == [
            ("sign", "eastside-connect", False)
        ]
        assert [(o["name"], o["capacity"], o["standing"]["current"]) for o in mine["organizations"]] == [
            ("eastside-connect", "admin", True)
        ]
        assert [(r["id"], r["age_days"]) for r in mine["queue"]] == [(asked["id"], 0)]

        member = call_action("cd3p_partnership_show", _as(w["member"]))
        assert [e["kind"] for e in member["entries"]] == ["acknowledge"]
        assert member["queue"] == []  # a member administers nothing

    def test_a_visitor_is_refused(self, w: dict[str, Any]) -> None:
        with pytest.raises(tk.NotAuthorized):
            call_action("cd3p_partnership_show", _as())


class TestBadInput:
    @pytest.mark.parametrize(
        ("action", "data", "field"),
        [
            ("cd3p_partner_list", {"sector": "pirates"}, "sector"),
            ("cd3p_partner_list", {"service": "teleportation"}, "service"),
            ("cd3p_partner_list", {"district": "district-99"}, "district"),
            ("cd3p_partner_list", {"district": ["district-1"]}, "district"),
            ("cd3p_partner_list", {"q": "x" * 201}, "q"),
            ("cd3p_partner_gaps", {}, "service"),
            ("cd3p_partner_gaps", {"service": "public_wifi"}, "service"),  # no need count answers it
            ("cd3p_partner_gaps", {"service": "device_distribution", "level": "zip"}, "level"),
            ("cd3p_partner_gaps", {"service": "device_distribution", "limit": -1}, "limit"),
        ],
    )
    def test_an_unknown_filter_is_a_validation_error_naming_it(
        self, action: str, data: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(tk.ValidationError) as error:
            call_action(action, _as(), **data)
        assert field in error.value.error_dict


# --- the gaps ---------------------------------------------------------------------------------------


def _expected_gaps(level: str, served_districts: set[str]) -> list[tuple[str, float]]:
    """Independently: households without a computer per tract (the indicator's numerator, as a
    visitor reads it), summed per district for districts; the places of no served district, most
    need first, twenty of them."""
    values = equity.show("households-without-computer", "tract")["values"]
    tracts = geography.tracts()
    per_tract = {v["id"]: float(v["numerator"]) for v in values if v.get("numerator") is not None}
    if level == "tract":
        places = {t: n for t, n in per_tract.items() if tracts[t].district not in served_districts}
    else:
        places = {}
        for t, n in per_tract.items():
            places[tracts[t].district] = places.get(tracts[t].district, 0.0) + n
        places = {d: n for d, n in places.items() if d not in served_districts}
    return sorted(places.items(), key=lambda item: -item[1])[:20]


@pytest.mark.parametrize("level", ["council_district", "tract"])
def test_the_gaps_are_the_unserved_places_of_most_need(
    agreement: dict[str, Any], clean_index: None, level: str
) -> None:
    equity.load_sources()
    w = world.build()  # device distribution declared in districts 1, 3 (Eastside) and 5 (WSU)
    partners.organization(
        name="northwest", title="Northwest", service_area=["district-2"], services=["job_placement"]
    )

    found = call_action("cd3p_partner_gaps", _as(), service="device_distribution", level=level)

    expected = _expected_gaps(level, {"district-1", "district-3", "district-5"})
    assert expected  # the sources hold a need for the other districts
    assert [p["id"] for p in found["places"]] == [code for code, _need in expected]
    assert [p["need"] for p in found["places"]] == pytest.approx([need for _code, need in expected])
    assert found["need"]["available"] is True
    assert found["measure"]["id"] == "devices_distributed"
    assert w["signed"]["name"] == "eastside-connect"


def test_without_a_need_count_open_to_the_caller_there_is_no_gap(agreement: dict[str, Any]) -> None:
    """No source loaded: the need cannot be read, so no place is named (privacy fails closed)."""
    found = call_action("cd3p_partner_gaps", _as(), service="home_internet")

    assert found["places"] == []
    assert found["need"]["available"] is False
