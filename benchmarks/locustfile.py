"""The load of benchmarks/bench_http.py: visitors browsing the portal, for Locust (headless).

Each simulated visitor waits 1 to 3 s between requests (someone reading a page) and picks, by
weight, one of the pages and API calls a visitor of CD3P makes. What exists on the site is found once,
at the start (a dataset, a DataStore table, an indicator, a place): the same file loads CD3P and
plain CKAN, which has only the catalog part (``/``, ``/dataset``, a dataset page, the search and
DataStore APIs); on plain CKAN the CD3P tasks are skipped, so its numbers are of the catalog part.

Requests are named by their route (``/dataset/[name]``), so the statistics are per endpoint.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, between, events, task

# Found once per run, before the first visitor starts (see _discover).
SITE: dict[str, Any] = {}
FACETS = (
    "vocab_equity_topics",
    "geography_level",
    "vocab_demographic_dimensions",
    "access_level",
    "partner_sector",
    "organization",
    "res_format",
    "license_id",
)


@events.test_start.add_listener
def _discover(environment: Any, **_kwargs: Any) -> None:
    import requests

    host = environment.host.rstrip("/")

    def action(name: str, **params: Any) -> Any:
        response = requests.get(f"{host}/api/3/action/{name}", params=params, timeout=60)
        return response.json().get("result") if response.status_code == 200 else None

    found = action("package_search", rows=50, fq="res_format:CSV OR num_resources:[1 TO *]") or {}
    datasets = [d["name"] for d in found.get("results", [])]
    tables = [
        r["id"] for d in found.get("results", []) for r in d.get("resources", []) if r.get("datastore_active")
    ]
    indicators = [i["id"] for i in action("cd3p_indicator_list") or []]
    SITE.update(
        datasets=datasets or [None],
        tables=tables,
        indicators=indicators,
        places=["district-1", "district-3", "district-5"] if indicators else [],
    )
    print(
        f"locustfile: {len(datasets)} datasets, {len(tables)} DataStore tables, {len(indicators)} indicators"
    )


class Visitor(FastHttpUser):
    wait_time = between(1, 3)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(4)
    def search_with_facets(self) -> None:
        query = random.choice(("", "internet", "households", "income"))
        self.client.get(f"/dataset/?q={query}&sort=score+desc%2C+metadata_modified+desc", name="/dataset?q")
        self.client.get(
            "/api/3/action/package_search",
            params={"q": query, "facet.field": str(list(FACETS)).replace("'", '"'), "rows": 20, "fq": ""},
            name="package_search (facets)",
        )

    @task(4)
    def dataset_page(self) -> None:
        name = random.choice(SITE["datasets"])
        if name:
            self.client.get(f"/dataset/{name}", name="/dataset/[name]")

    @task(2)
    def datastore_search(self) -> None:
        if SITE["tables"]:
            self.client.get(
                "/api/3/action/datastore_search",
                params={"resource_id": random.choice(SITE["tables"]), "limit": 100},
                name="datastore_search",
            )

    @task(3)
    def equity(self) -> None:
        if SITE["indicators"]:
            self.client.get("/equity", name="/equity")

    @task(3)
    def indicator_page(self) -> None:
        if SITE["indicators"]:
            self.client.get(
                f"/equity/indicator/{random.choice(SITE['indicators'])}", name="/equity/indicator/[id]"
            )

    @task(2)
    def indicator_api(self) -> None:
        if SITE["indicators"]:
            self.client.get(
                "/api/3/action/cd3p_indicator_show",
                params={"id": random.choice(SITE["indicators"]), "level": "tract"},
                name="cd3p_indicator_show",
            )

    @task(2)
    def place_api(self) -> None:
        if SITE["places"]:
            self.client.get(
                "/api/3/action/cd3p_place_show",
                params={"level": "council_district", "id": random.choice(SITE["places"])},
                name="cd3p_place_show",
            )
