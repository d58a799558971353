"""Datasets are indexed in the real Solr core and found with facet counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests import factories
from tests.helpers import statements


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPackageSearch:
    def test_created_dataset_is_found_by_free_text(self) -> None:
        org = factories.Organization()
        factories.Dataset(
            name="households-without-computer",
            title="Households without a computer",
            notes="Share of Detroit households with no desktop, laptop or tablet.",
            owner_org=org["id"],
        )
        factories.Dataset(name="unrelated", title="Street trees", owner_org=org["id"])

        result = call_action("package_search", q="laptop")

        assert result["count"] == 1
        assert [d["name"] for d in result["results"]] == ["households-without-computer"]

    def test_facet_counts_come_from_solr(self) -> None:
        d3 = factories.Organization(name="data-driven-detroit")
        city = factories.Organization(name="detroit-digital-equity")
        for i in range(3):
            factories.Dataset(owner_org=d3["id"], tags=[{"name": "broadband"}], name=f"d3-{i}")
        factories.Dataset(
            owner_org=city["id"], tags=[{"name": "broadband"}, {"name": "devices"}], name="city-0"
        )

        result = call_action("package_search", **{"facet.field": '["organization", "tags"]', "rows": 0})

        assert result["count"] == 4
        assert result["facets"]["organization"] == {"data-driven-detroit": 3, "detroit-digital-equity": 1}
        assert result["facets"]["tags"] == {"broadband": 4, "devices": 1}

    def test_filtering_by_a_facet_narrows_the_results(self) -> None:
        org = factories.Organization()
        factories.Dataset(owner_org=org["id"], tags=[{"name": "broadband"}])
        factories.Dataset(owner_org=org["id"], tags=[{"name": "devices"}])

        result = call_action("package_search", fq='tags:"devices"')

        assert result["count"] == 1
        assert result["results"][0]["tags"][0]["name"] == "devices"

    def test_deleted_dataset_disappears_from_search(self) -> None:
        dataset = factories.Dataset(owner_org=factories.Organization()["id"])
        assert call_action("package_search", q=f"name:{dataset['name']}")["count"] == 1

        call_action("package_delete", {"user": factories.Sysadmin()["name"]}, id=dataset["id"])

        assert call_action("package_search", q=f"name:{dataset['name']}")["count"] == 0


def _facets(result: dict[str, Any], field: str) -> dict[str, int]:
    return result["facets"].get(field, {})


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestDemographicFacets:
    @pytest.fixture
    def catalog(self) -> dict[str, dict[str, Any]]:
        # Fixed descriptions: the factories' random text draws from a word list that has "bank",
        # which the free-text search below would match (English stemming) one time in a few dozen.
        grassroots = factories.Organization(name="tech-town-neighbors", sector="grassroots")
        company = factories.Organization(name="motor-city-telecom", sector="corporation")
        return {
            "a": factories.Dataset(
                name="telehealth-survey",
                title="Telehealth survey of seniors",
                notes="Seniors who used video visits with their doctors.",
                owner_org=grassroots["id"],
                equity_topics=["telehealth", "device-access"],
                demographic_dimensions=["age"],
                geography_level="neighborhood",
                temporal_start="2018-06-01",
                temporal_end="2020-01-31",
            ),
            "b": factories.Dataset(
                name="laptop-distribution",
                title="Laptop distribution",
                notes="Laptops given to residents, by tract.",
                owner_org=grassroots["id"],
                equity_topics=["device-access"],
                geography_level="tract",
                temporal_start="2020-01-01",
                temporal_end="2020-12-31",
            ),
            "c": factories.Dataset(
                name="online-banking-classes",
                title="Online banking classes",
                notes="Classes on paying bills online.",
                owner_org=company["id"],
                equity_topics=["fintech"],
                demographic_dimensions=["age", "household-income"],
                geography_level="tract",
            ),
        }

    def test_multi_valued_topics_count_each_dataset_once_per_topic(self, catalog: dict[str, Any]) -> None:
        result = call_action("package_search", **{"facet.field": '["vocab_equity_topics"]', "rows": 0})

        assert _facets(result, "vocab_equity_topics") == {"device-access": 2, "telehealth": 1, "fintech": 1}
        telehealth = call_action("package_search", fq='vocab_equity_topics:"telehealth"')
        assert [d["name"] for d in telehealth["results"]] == ["telehealth-survey"]

    def test_combined_filters(self, catalog: dict[str, Any]) -> None:
        result = call_action(
            "package_search",
            fq='vocab_equity_topics:"device-access" AND geography_level:"tract"',
            **{"facet.field": '["vocab_demographic_dimensions", "partner_sector"]'},
        )

        assert [d["name"] for d in result["results"]] == ["laptop-distribution"]
        assert _facets(result, "partner_sector") == {"grassroots": 1}
        assert _facets(result, "vocab_demographic_dimensions") == {}

    def test_partner_sector_and_years(self, catalog: dict[str, Any]) -> None:
        result = call_action(
            "package_search", **{"facet.field": '["partner_sector", "vocab_temporal_years"]', "rows": 0}
        )

        assert _facets(result, "partner_sector") == {"grassroots": 2, "corporation": 1}
        assert _facets(result, "vocab_temporal_years") == {"2018": 1, "2019": 1, "2020": 2}

    def test_facets_work_with_free_text(self, catalog: dict[str, Any]) -> None:
        result = call_action(
            "package_search", q="banking", **{"facet.field": '["vocab_demographic_dimensions"]'}
        )

        assert result["count"] == 1
        assert _facets(result, "vocab_demographic_dimensions") == {"age": 1, "household-income": 1}

    def test_facets_work_with_spatial_search(self, catalog: dict[str, Any]) -> None:
        # Two datasets on the east side (District 4), one downtown (District 6).
        org = factories.Organization(sector="philanthropy")
        for name, place in (("east-a", "district-4"), ("east-b", "district-4"), ("downtown", "district-6")):
            factories.Dataset(
                name=name, owner_org=org["id"], equity_topics=["job-placement"], geographic_coverage=place
            )

        result = call_action(
            "package_search",
            extras={"ext_bbox": "-82.94,42.40,-82.92,42.42"},
            **{"facet.field": '["vocab_equity_topics", "partner_sector"]'},
        )

        assert sorted(d["name"] for d in result["results"]) == ["east-a", "east-b"]
        assert _facets(result, "vocab_equity_topics") == {"job-placement": 2}
        assert _facets(result, "partner_sector") == {"philanthropy": 2}

    def test_facet_items_carry_readable_labels(self, catalog: dict[str, Any]) -> None:
        result = call_action(
            "package_search",
            **{"facet.field": '["vocab_equity_topics", "partner_sector", "geography_level"]'},
        )

        topics = {
            i["name"]: i["display_name"] for i in result["search_facets"]["vocab_equity_topics"]["items"]
        }
        assert topics["telehealth"] == "Digital literacy: telehealth"
        assert result["search_facets"]["vocab_equity_topics"]["title"] == "Equity topic"
        sectors = {i["name"]: i["display_name"] for i in result["search_facets"]["partner_sector"]["items"]}
        assert sectors == {"grassroots": "Grassroots / community group", "corporation": "Corporation"}

    def test_search_page_shows_the_facets_with_labels(self, app: Any, catalog: dict[str, Any]) -> None:
        response = app.get("/dataset/", query_string={"vocab_equity_topics": "device-access"})

        assert response.status_code == 200
        page = BeautifulSoup(response.body, "html.parser")
        assert sorted(a.get_text(strip=True) for a in page.select(".dataset-heading a")) == [
            "Laptop distribution",
            "Telehealth survey of seniors",
        ]
        text = page.get_text(" ", strip=True)
        for expected in (
            "Equity topic",
            "Digital literacy: telehealth",
            "Partner sector",
            "Grassroots / community group",
        ):
            assert expected in text


def test_long_values_are_cut_in_the_index_only_where_solr_keeps_one_term() -> None:
    """Solr refuses a term over 32,766 bytes; a tokenised field and the GeoJSON ckanext-spatial
    parses after our hook are left whole."""
    from ckanext.cd3p.catalog import search as cd3p_search

    outline = '{"type": "Polygon", "coordinates": [' + "[-83.1, 42.3], " * 3000 + "[-83.1, 42.3]]}"
    indexed = cd3p_search.fit_terms(
        {"url": "é" * 20_000, "res_format": ["x" * 40_000], "notes": "n" * 40_000, "spatial": outline}
    )
    assert len(indexed["url"].encode()) <= cd3p_search.MAX_TERM_BYTES
    assert indexed["url"] == "é" * (cd3p_search.MAX_TERM_BYTES // 2)
    assert indexed["res_format"] == ["x" * cd3p_search.MAX_TERM_BYTES]
    assert indexed["notes"] == "n" * 40_000
    assert indexed["spatial"] == outline


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
def test_the_sector_map_is_read_in_one_query_and_kept_through_dataset_writes() -> None:
    orgs = [factories.Organization(sector=sector) for sector in ("grassroots", "corporation", "state-agency")]
    sysadmin = {"user": factories.Sysadmin()["name"]}
    first = factories.Dataset(owner_org=orgs[0]["id"])
    # Three organizations, one query for their sectors; writing datasets does not read them again.
    with statements("group_extra") as read:
        for org in orgs:
            call_action("package_create", dict(sysadmin), **_dataset(org))
        call_action("package_patch", dict(sysadmin), id=first["id"], title="Renamed")
    assert read == []
    result = call_action("package_search", **{"facet.field": '["partner_sector"]', "rows": 0})
    assert _facets(result, "partner_sector") == {"grassroots": 2, "corporation": 1, "state-agency": 1}

    # An organization's new sector reaches the next dataset indexed, in the same request.
    call_action("organization_patch", dict(sysadmin), id=orgs[1]["id"], sector="nonprofit")
    with statements("group_extra") as read:
        call_action("package_create", dict(sysadmin), **_dataset(orgs[1]))
    assert len([s for s in read if "sector" in s]) == 1
    result = call_action(
        "package_search", fq=f'owner_org:"{orgs[1]["id"]}"', **{"facet.field": '["partner_sector"]'}
    )
    assert _facets(result, "partner_sector") == {"corporation": 1, "nonprofit": 1}


def _dataset(org: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"d-{uuid.uuid4().hex[:12]}",
        "title": "Sector test",
        "owner_org": org["id"],
        "geography_level": "tract",
        "contains_personal_data": "no",
    }
