"""Datasets are indexed in the real Solr core and found with facet counts."""

from __future__ import annotations

import pytest
from ckan.tests.helpers import call_action

from tests import factories


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
