"""The analysis workspace's pages against the real Detroit sources in the DataStore: a query built
from the form's fields shows the numbers Python computes here over the source files (the page, its
pages, the CSV, the GeoJSON); a bad spec is a 400 naming its key; an unreadable table a 403 (the
login page for visitors); names and values that carry markup are escaped, and formulas neutralised
in the CSV; saved queries through the web forms (CSRF), shared by their link and computed in the
rights of whoever opens it; the link from a resource's page."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import pytest
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from tests import equity, factories, partners
from tests.web import Browser, is_login_redirect, person, soup, text

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@pytest.fixture
def w(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    loaded = equity.kept_sources(request)
    ids = {}
    for key, dataset in loaded["datasets"].items():
        ids[key] = call_action("package_show", id=dataset["id"])["resources"][0]["id"]
    return {"ids": ids, "acs": {r["geoid"]: r for r in equity.acs_rows()}, "datasets": loaded["datasets"]}


def _by_district(acs: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    tracts = geography.tracts()
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for geoid, row in acs.items():
        if geoid in tracts:
            found[tracts[geoid].district].append(row)
    return found


def _url(spec: dict[str, Any], path: str = "/analysis", **more: Any) -> str:
    extra = "".join(f"&{k}={v}" for k, v in more.items())
    return f"{path}?spec={quote(json.dumps(spec))}{extra}"


def _cells(page: Any, column: str) -> list[str]:
    table = page.find(id="cd3p-analysis-table")
    return [td.get_text(strip=True) for td in table.select(f'tbody td[data-column="{column}"]')]


def _places(page: Any, column: str) -> dict[str, str]:
    table = page.find(id="cd3p-analysis-table")
    found = {}
    for tr in table.select("tbody tr"):
        place = tr.select_one("td[data-place]")
        found[place["data-place"]] = tr.select_one(f'td[data-column="{column}"]').get_text(strip=True)
    return found


def _private_table(
    org: dict[str, Any], columns: list[str], records: list[dict[str, Any]], **meta: Any
) -> str:
    dataset = factories.Dataset(owner_org=org["id"], **meta)
    created = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": "table"},
        fields=[{"id": c, "type": "text" if c == "geoid" else "numeric"} for c in columns],
        records=records,
        force=True,
    )
    return created["resource_id"]


# --- a query from the form ------------------------------------------------------------------------


def test_the_form_builds_a_grouped_query_and_shows_python_s_numbers(app: Any, w: dict[str, Any]) -> None:
    rid = w["ids"]["tract-acs"]
    browser = Browser(app)
    start = browser.page("/analysis")
    assert rid in [o["value"] for o in start.select("#field-resource_id option")]

    chosen = browser.page(f"/analysis?resource_id={rid}")
    assert {i["value"] for i in chosen.select('input[name="columns"]')} >= {"geoid", "households", "mhi"}

    query = (
        f"/analysis?resource_id={rid}&table_shown={rid}&rollup_key=geoid&rollup_level=council_district"
        "&agg_fn_0=sum&agg_column_0=households&agg_as_0=households&agg_fn_1=count&agg_as_1=tracts"
        "&filter_column_0=&filter_op_0=&limit=50"
    )
    page = browser.page(query)
    expected = _by_district(w["acs"])
    households = {d: sum(equity.num(r["households"]) or 0 for r in rows) for d, rows in expected.items()}
    shown = _places(page, "households")
    assert {d: float(v) for d, v in shown.items()} == pytest.approx(households)
    assert {d: int(v) for d, v in _places(page, "tracts").items()} == {d: len(r) for d, r in expected.items()}
    assert len(shown) == 7
    assert page.find(id="cd3p-analysis-total")["data-total"] == "7"
    # The place is shown by its name.
    assert _cells(page, "council_district")[0] == "Council District 1"
    # The chart of the first number by district, and the map of the first aggregate.
    chart = json.loads(page.find(id="cd3p-analysis-chart")["data-cd3p-analysis-chart"])
    assert chart["type"] == "bar" and chart["y"] == "households"
    assert chart["labels"] == [f"Council District {n}" for n in range(1, 8)]
    assert chart["series"][0]["values"] == pytest.approx([households[f"district-{n}"] for n in range(1, 8)])
    figure = page.find(id="cd3p-analysis-map")
    assert figure["data-geojson"].startswith("/analysis/result.geojson?spec=")
    assert len(page.select(".cd3p-legend-class")) >= 2
    # The form shows the query again.
    assert page.find(id="field-rollup_level").find("option", selected=True)["value"] == "council_district"
    assert page.find(id="field-agg_as_0")["value"] == "households"
    # The equivalent API call answers the same numbers.
    get_url = page.find(id="cd3p-analysis-api-get").get_text()
    assert "/api/3/action/cd3p_query_run?spec=" in get_url, get_url
    api = app.get("/api/3/action/" + get_url.split("/api/3/action/", 1)[1])
    assert {r["council_district"]: r["households"] for r in api.json["result"]["records"]} == pytest.approx(
        households
    )
    assert "curl -X POST" in page.find(id="cd3p-analysis-api-curl").get_text()


def test_the_result_is_paged_50_rows_a_page_within_the_limit(app: Any, w: dict[str, Any]) -> None:
    rid = w["ids"]["tract-acs"]
    spec = {
        "resource_id": rid,
        "columns": ["geoid", "households"],
        "sort": [{"column": "geoid"}],
        "limit": 120,
    }
    geoids = sorted(w["acs"])[:120]
    browser = Browser(app)
    pages_ = [browser.page(_url(spec, page=n)) for n in (1, 2, 3)]
    assert [_cells(p, "geoid") for p in pages_] == [geoids[:50], geoids[50:100], geoids[100:120]]
    assert pages_[0].find(id="cd3p-analysis-total")["data-total"] == "120"
    assert _cells(pages_[2], "households") == [
        str(int(h)) if (h := equity.num(w["acs"][g]["households"])) is not None and h.is_integer() else str(h)
        for g in geoids[100:120]
    ]
    assert pages_[0].select_one(".pagination") is not None
    past = browser.page(_url(spec, page=9))
    assert _cells(past, "geoid") == []


def test_the_csv_has_the_same_numbers(app: Any, w: dict[str, Any]) -> None:
    spec = {
        "resource_id": w["ids"]["tract-acs"],
        "rollup": {"key": "geoid", "level": "council_district"},
        "aggregates": [{"fn": "sum", "column": "households", "as": "households"}],
    }
    response = Browser(app).get(_url(spec, "/analysis/result.csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = {
        d: sum(equity.num(r["households"]) or 0 for r in rows_) for d, rows_ in _by_district(w["acs"]).items()
    }
    assert {r["council_district"]: float(r["households"]) for r in rows} == pytest.approx(expected)
    assert list(rows[0]) == ["council_district", "households"]


def test_the_geojson_has_one_feature_per_district(app: Any, w: dict[str, Any]) -> None:
    spec = {
        "resource_id": w["ids"]["tract-acs"],
        "rollup": {"key": "geoid", "level": "council_district"},
        "aggregates": [{"fn": "mean", "column": "mhi", "as": "income"}],
    }
    response = Browser(app).get(_url(spec, "/analysis/result.geojson"))
    assert response.status_code == 200
    collection = response.json
    assert sorted(f["id"] for f in collection["features"]) == [f"district-{n}" for n in range(1, 8)]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in collection["features"])
    assert all(f["properties"]["color"].startswith("#") for f in collection["features"])
    names = {f["id"]: f["properties"]["name"] for f in collection["features"]}
    assert names["district-3"] == "Council District 3"
    # Not rolled up to a mapped level: no map.
    flat = Browser(app).get(_url({"resource_id": w["ids"]["tract-acs"]}, "/analysis/result.geojson"))
    assert flat.status_code == 400


def test_a_line_chart_over_quarters(app: Any, w: dict[str, Any]) -> None:
    org = partners.organization(factories.User())
    dataset = factories.Dataset(owner_org=org["id"])
    created = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": "by quarter"},
        fields=[{"id": "quarter", "type": "text"}, {"id": "served", "type": "numeric"}],
        records=[{"quarter": q, "served": n} for q, n in (("2024Q1", 5), ("2024Q2", 7), ("2024Q1", 4))],
        force=True,
    )
    spec = {
        "resource_id": created["resource_id"],
        "group_by": ["quarter"],
        "aggregates": [{"fn": "sum", "column": "served", "as": "served"}],
    }
    page = Browser(app).page(_url(spec))
    chart = json.loads(page.find(id="cd3p-analysis-chart")["data-cd3p-analysis-chart"])
    assert chart == {
        "type": "line",
        "labels": ["2024Q1", "2024Q2"],
        "series": [{"label": "served", "values": [9, 7]}],
        "x": "quarter",
        "y": "served",
    }


# --- refusals -------------------------------------------------------------------------------------


def test_a_bad_spec_is_a_400_naming_its_key(app: Any, w: dict[str, Any]) -> None:
    rid = w["ids"]["tract-acs"]
    browser = Browser(app)
    cases = [
        (
            {"resource_id": rid, "filters": [{"column": "households", "op": "like", "value": 1}]},
            "filters[0].op",
        ),
        ({"resource_id": rid, "aggregates": [{"fn": "sum", "column": "geoid"}]}, "aggregates[0].column"),
        ({"resource_id": rid, "limit": -1}, "limit"),
        ({"resource_id": rid, "having": 1}, "spec"),
        ({"resource_id": "no-such-table"}, "resource_id"),
    ]
    for spec, key in cases:
        response = browser.get(_url(spec))
        assert response.status_code == 400, (spec, response.status_code)
        errors = soup(response).find(id="cd3p-analysis-errors")
        assert key in [li["data-key"] for li in errors.select("li")], (spec, errors)
        for path in ("/analysis/result.csv", "/analysis/result.geojson"):
            download = browser.get(_url(spec, path))
            assert download.status_code == 400 and key in text(download), (path, spec)
    for raw in ("not json", "[1, 2]", "{" * 200, "\x00"):
        assert browser.get(f"/analysis?spec={quote(raw)}").status_code == 400, raw
    assert browser.get("/analysis/result.csv").status_code == 400

    # From the form: the error next to its field, the value kept.
    page = browser.get(
        f"/analysis?resource_id={rid}&table_shown={rid}&filter_column_0=households&filter_op_0=gte"
        "&filter_value_0=many"
    )
    assert page.status_code == 400
    found = soup(page)
    assert found.find(id="field-filter_value_0")["value"] == "many"
    assert "Must be a number" in found.select_one('[data-error-for="filters[0].value"]').get_text()


def test_an_unreadable_table_is_refused(app: Any, w: dict[str, Any]) -> None:
    org = partners.organization(factories.User())
    rid = _private_table(org, ["geoid", "n"], [{"geoid": "26163500100", "n": 3}], access_level="organization")
    spec = {"resource_id": rid}
    outsider = Browser(app, person())
    assert outsider.get(_url(spec)).status_code == 403
    assert outsider.get(f"/analysis?resource_id={rid}").status_code == 403
    assert outsider.get(_url(spec, "/analysis/result.csv")).status_code == 403
    joined = {
        "resource_id": w["ids"]["tract-acs"],
        "join": {"resource_id": rid, "on": ["geoid", "geoid"], "columns": ["n"]},
    }
    assert outsider.get(_url(joined)).status_code == 403
    assert is_login_redirect(Browser(app).get(_url(spec)))
    # Not listed among the tables a visitor may choose.
    listed = [o["value"] for o in outsider.page("/analysis").select("#field-resource_id option")]
    assert rid not in listed and w["ids"]["tract-acs"] in listed


# --- markup in names and values -------------------------------------------------------------------


def test_markup_is_escaped_and_formulas_neutralised(app: Any, w: dict[str, Any]) -> None:
    org = partners.organization(factories.User())
    dataset = factories.Dataset(owner_org=org["id"], title=f"Tricky {IMG}")
    created = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": SCRIPT},
        fields=[{"id": SCRIPT, "type": "text"}, {"id": IMG, "type": "numeric"}],
        records=[{SCRIPT: f'=HYPERLINK("http://evil") {IMG}', IMG: 1}, {SCRIPT: SCRIPT, IMG: 2}],
        force=True,
    )
    rid = created["resource_id"]
    spec = {"resource_id": rid, "filters": [{"column": SCRIPT, "op": "contains", "value": "<"}]}
    browser = Browser(app)
    for response in (browser.get(f"/analysis?resource_id={rid}"), browser.get(_url(spec))):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert SCRIPT not in html and IMG not in html
        page = soup(response)
        assert not page.find_all("img", onerror=True)
        assert all("alert" not in (s.string or "") for s in page.find_all("script"))
    page = soup(browser.get(_url(spec)))
    assert {i["value"] for i in page.select('input[name="columns"]')} == {SCRIPT, IMG}
    assert [th.get_text() for th in page.select("#cd3p-analysis-table thead th")] == [SCRIPT, IMG]
    assert _cells(page, SCRIPT) == [f'=HYPERLINK("http://evil") {IMG}', SCRIPT]
    assert (
        SCRIPT in page.find(id="cd3p-analysis-api-get").get_text()
        or quote(SCRIPT, safe="") in page.find(id="cd3p-analysis-api-get").get_text()
    )
    assert SCRIPT in page.find(id="cd3p-analysis-api-curl").get_text()
    rows = list(
        csv.reader(io.StringIO(browser.get(_url(spec, "/analysis/result.csv")).get_data(as_text=True)))
    )
    assert rows == [[SCRIPT, IMG], [f'\'=HYPERLINK("http://evil") {IMG}', "1"], [SCRIPT, "2"]]


# --- saved queries --------------------------------------------------------------------------------


def test_saved_queries_through_the_web_are_shared_and_run_in_the_viewer_s_rights(
    app: Any, w: dict[str, Any]
) -> None:
    owner, other = person(), person()
    org = partners.organization(owner)
    closed = _private_table(
        org, ["geoid", "n"], [{"geoid": "26163500100", "n": 3}], access_level="organization"
    )
    public = {
        "resource_id": w["ids"]["tract-acs"],
        "rollup": {"key": "geoid", "level": "council_district"},
        "aggregates": [{"fn": "count", "as": "tracts"}],
    }
    mine = Browser(app, owner)
    theirs = Browser(app, other)

    refused = mine.post(
        "/analysis/saved", {"name": "Tracts by district", "spec": json.dumps(public)}, csrf=False
    )
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert call_action("cd3p_saved_query_list", {"user": owner["name"]}) == []

    done = mine.post("/analysis/saved", {"name": "Tracts by district", "spec": json.dumps(public)})
    assert done.status_code == 302
    link = done.headers["Location"]
    saved_id = link.rstrip("/").rsplit("/", 1)[-1]
    assert mine.post("/analysis/saved", {"name": "", "spec": json.dumps(public)}).status_code == 400
    assert mine.post("/analysis/saved", {"name": "x", "spec": "{}"}).status_code == 400

    counts = {d: len(r) for d, r in _by_district(w["acs"]).items()}
    for browser in (theirs, Browser(app)):
        page = browser.page(f"/analysis/saved/{saved_id}")
        assert "Tracts by district" in page.select_one("h1.h2").get_text()
        assert {d: int(v) for d, v in _places(page, "tracts").items()} == counts
        assert page.find(id="field-rollup_level").find("option", selected=True)["value"] == "council_district"
        assert page.find(id="cd3p-delete-query") is None

    # A query of a table only the owner's organization reads: its link shows the query to others,
    # never its rows.
    done = mine.post("/analysis/saved", {"name": "Closed", "spec": json.dumps({"resource_id": closed})})
    closed_id = done.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert _cells(mine.page(f"/analysis/saved/{closed_id}"), "n") == ["3"]
    assert theirs.get(f"/analysis/saved/{closed_id}").status_code == 403
    assert (
        call_action("cd3p_saved_query_show", {"user": other["name"]}, id=closed_id)["spec"]["resource_id"]
        == closed
    )

    listed = mine.page("/dashboard/queries")
    assert [a.get_text() for a in listed.select("#cd3p-saved-queries tbody th a")] == [
        "Closed",
        "Tracts by district",
    ]
    assert is_login_redirect(Browser(app).get("/dashboard/queries"))
    assert theirs.page("/dashboard/queries").select("#cd3p-saved-queries tbody tr td.empty")

    assert theirs.post(f"/analysis/saved/{saved_id}/delete", {}).status_code == 403
    assert mine.page(f"/analysis/saved/{saved_id}").find(id="cd3p-delete-query") is not None
    deleted = mine.post(f"/analysis/saved/{saved_id}/delete", {})
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/dashboard/queries")
    assert theirs.get(f"/analysis/saved/{saved_id}").status_code == 404
    assert mine.post(f"/analysis/saved/{saved_id}/delete", {}).status_code == 404


def test_every_datastore_resource_page_links_to_the_workspace(app: Any, w: dict[str, Any]) -> None:
    dataset = w["datasets"]["tract-acs"]
    rid = w["ids"]["tract-acs"]
    page = Browser(app).page(f"/dataset/{dataset['name']}/resource/{rid}")
    assert page.find(id="cd3p-analyse-link")["href"] == f"/analysis?resource_id={rid}"
    other = factories.Dataset(owner_org=partners.organization(factories.User())["id"])
    plain = factories.Resource(package_id=other["id"], url="http://example.com/file.pdf", format="PDF")
    shown = Browser(app).page(f"/dataset/{other['name']}/resource/{plain['id']}")
    assert shown.find(id="cd3p-analyse-link") is None


FIELDS = [
    "resource_id",
    "table_shown",
    "columns",
    "filter_column_0",
    "filter_op_0",
    "filter_value_0",
    "filter_op_1",
    "group_by",
    "rollup_key",
    "rollup_level",
    "agg_fn_0",
    "agg_column_0",
    "agg_as_0",
    "sort_column",
    "sort_desc",
    "limit",
    "join_resource_id",
    "join_left",
    "join_right",
    "join_columns",
    "spec",
    "page",
]
VALUES = ["\x00", "a\x00b", "x" * 100_000, "99999999999999999999999", "-1", " ", "<b>x</b>", "[" * 10_000]


def test_bad_input_on_every_page_is_never_a_500(app: Any, w: dict[str, Any]) -> None:
    rid = w["ids"]["tract-acs"]
    good = {"resource_id": rid, "table_shown": rid, "rollup_key": "geoid", "rollup_level": "council_district"}
    wrong = []
    for browser in (Browser(app), Browser(app, person())):
        for field in FIELDS:
            for value in VALUES:
                for path in ("/analysis", "/analysis/result.csv", "/analysis/result.geojson"):
                    response = browser.get(path, query_string={**good, field: value})
                    if response.status_code >= 500:
                        wrong.append((path, field, value[:20], response.status_code))
        for value in VALUES:
            for path in ("/analysis/saved", "/analysis/save", "/analysis/saved/x/delete"):
                response = browser.post(path, {"spec": value, "name": value, "package_id": value})
                if response.status_code >= 500:
                    wrong.append((path, "form", value[:20], response.status_code))
        for value in ("%00", "x" * 2000, "..", "%3Cscript%3E"):
            for path in (f"/analysis/saved/{value}", f"/analysis/saved/{value}/delete"):
                response = browser.get(path) if "delete" not in path else browser.post(path, {})
                if response.status_code >= 500:
                    wrong.append((path, "id", value[:20], response.status_code))
    assert not wrong
