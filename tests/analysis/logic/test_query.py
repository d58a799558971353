"""cd3p_query_run against the real Detroit sources in the DataStore: every result equals the same
computation done here in Python over the source files (filters, group by, roll-up to council
districts, aggregates, the join), and the refusals (an unreadable table, a bad spec naming its key,
the row cap, the timeout)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from psycopg2 import sql

from ckanext.cd3p.analysis import runner
from ckanext.cd3p.analysis.compiler import Compiled
from ckanext.cd3p.common import geography
from tests import equity, factories, partners

ANONYMOUS: dict[str, Any] = {"user": "", "ignore_auth": False}


@pytest.fixture
def w(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    loaded = equity.kept_sources(request)
    ids = {}
    for key, dataset in loaded["datasets"].items():
        shown = call_action("package_show", id=dataset["id"])
        ids[key] = shown["resources"][0]["id"]
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    no_internet = {
        r["FIPS"]: equity.num(r["NoIntP"]) for r in equity.csv_rows("oeps_tract_2019_no_internet.csv", "FIPS")
    }
    return {"ids": ids, "acs": acs, "no_internet": no_internet}


def run(spec: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    return call_action("cd3p_query_run", dict(context or ANONYMOUS), spec=spec)


def test_filters_select_the_rows_python_selects(w: dict[str, Any]) -> None:
    result = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "columns": ["geoid", "households", "f_broadband"],
            "filters": [
                {"column": "households", "op": "gte", "value": 1000},
                {"column": "f_broadband", "op": "between", "value": [0.3, 0.6]},
                {"column": "geoid", "op": "contains", "value": "26163"},
            ],
            "sort": [{"column": "households", "desc": True}, {"column": "geoid"}],
            "limit": 1000,
        }
    )
    expected = sorted(
        (
            (g, equity.num(r["households"]), equity.num(r["f_broadband"]))
            for g, r in w["acs"].items()
            if "26163" in g
            and equity.num(r["households"]) is not None
            and equity.num(r["households"]) >= 1000
            and equity.num(r["f_broadband"]) is not None
            and 0.3 <= equity.num(r["f_broadband"]) <= 0.6
        ),
        key=lambda t: (-t[1], t[0]),
    )
    got = [(r["geoid"], r["households"], r["f_broadband"]) for r in result["records"]]
    assert got == expected and result["total"] == len(expected) > 10
    assert [f["id"] for f in result["fields"]] == ["geoid", "households", "f_broadband"]


def test_in_and_empty_filters(w: dict[str, Any]) -> None:
    some = sorted(w["acs"])[:3]
    found = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "columns": ["geoid"],
            "filters": [{"column": "geoid", "op": "in", "value": some}],
            "sort": ["geoid"],
        }
    )
    assert [r["geoid"] for r in found["records"]] == some
    empty = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "columns": ["geoid"],
            "filters": [{"column": "mhi", "op": "empty"}],
            "limit": 1000,
        }
    )
    assert sorted(r["geoid"] for r in empty["records"]) == sorted(
        g for g, r in w["acs"].items() if equity.num(r["mhi"]) is None
    )


def test_roll_up_to_council_districts_with_every_aggregate(w: dict[str, Any]) -> None:
    result = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "rollup": {"key": "geoid", "level": "council_district"},
            "aggregates": [
                {"fn": "count", "as": "tracts"},
                {"fn": "sum", "column": "households", "as": "households"},
                {"fn": "mean", "column": "mhi", "as": "mean_income"},
                {"fn": "min", "column": "mhi", "as": "lowest_income"},
                {"fn": "max", "column": "mhi", "as": "highest_income"},
                {"fn": "median", "column": "mhi", "as": "median_income"},
            ],
        }
    )
    tracts = geography.tracts()
    by_district: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for geoid, row in w["acs"].items():
        if geoid in tracts and tracts[geoid].district:
            by_district[tracts[geoid].district].append(row)
    got = {r["council_district"]: r for r in result["records"]}
    assert sorted(got) == sorted(by_district) and len(got) == 7
    for district, rows in by_district.items():
        incomes = [equity.num(r["mhi"]) for r in rows if equity.num(r["mhi"]) is not None]
        households = sum(equity.num(r["households"]) or 0 for r in rows)
        row = got[district]
        assert row["tracts"] == len(rows)
        assert row["households"] == pytest.approx(households)
        assert row["mean_income"] == pytest.approx(statistics.fmean(incomes))
        assert (row["lowest_income"], row["highest_income"]) == (min(incomes), max(incomes))
        assert row["median_income"] == pytest.approx(statistics.median(incomes))
    city = run({"resource_id": w["ids"]["tract-acs"], "rollup": {"key": "geoid", "level": "city"}})
    assert city["records"] == [{"city": "city", "count": sum(len(v) for v in by_district.values())}]


def test_group_by_a_column(w: dict[str, Any]) -> None:
    result = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "group_by": ["n_isp"],
            "aggregates": [{"fn": "count", "as": "tracts"}],
            "filters": [{"column": "n_isp", "op": "empty", "value": False}],
            "limit": 1000,
        }
    )
    counts: dict[float, int] = defaultdict(int)
    for row in w["acs"].values():
        if equity.num(row["n_isp"]) is not None:
            counts[equity.num(row["n_isp"])] += 1
    assert [(r["n_isp"], r["tracts"]) for r in result["records"]] == sorted(counts.items())


def test_a_join_brings_the_second_table_s_column_by_its_key(w: dict[str, Any]) -> None:
    result = run(
        {
            "resource_id": w["ids"]["tract-acs"],
            "columns": ["geoid", "households", "NoIntP"],
            "join": {
                "resource_id": w["ids"]["tract-no-internet"],
                "on": ["geoid", "FIPS"],
                "columns": ["NoIntP"],
            },
            "limit": 1000,
        }
    )
    assert result["total"] == len(w["acs"])
    got = {r["geoid"]: r["NoIntP"] for r in result["records"]}
    assert got == {g: w["no_internet"].get(g) for g in w["acs"]}
    assert sum(v is not None for v in got.values()) > 200


def test_a_bad_spec_names_the_key_at_fault(w: dict[str, Any]) -> None:
    rid = w["ids"]["tract-acs"]
    cases = [
        (
            {"resource_id": rid, "filters": [{"column": "households", "op": "like", "value": 1}]},
            "filters[0].op",
        ),
        ({"resource_id": rid, "filters": [{"column": "nope", "op": "eq", "value": 1}]}, "filters[0].column"),
        (
            {"resource_id": rid, "filters": [{"column": "households", "op": "eq", "value": "many"}]},
            "filters[0].value",
        ),
        ({"resource_id": rid, "aggregates": [{"fn": "sum", "column": "geoid"}]}, "aggregates[0].column"),
        ({"resource_id": rid, "aggregates": [{"fn": "mode", "column": "mhi"}]}, "aggregates[0].fn"),
        ({"resource_id": rid, "rollup": {"key": "geoid", "level": "ward"}}, "rollup.level"),
        ({"resource_id": rid, "group_by": ["n_isp"], "columns": ["geoid"]}, "columns[0]"),
        ({"resource_id": rid, "sort": [{"column": "mhi"}], "columns": ["geoid"]}, "sort[0].column"),
        ({"resource_id": rid, "join": {"resource_id": rid, "on": ["geoid"], "columns": []}}, "join.on"),
        ({"resource_id": rid, "limit": 10**9}, "limit"),
        ({"resource_id": rid, "having": 1}, "spec"),
        ({"resource_id": "no-such-table"}, "resource_id"),
        (
            {"resource_id": rid, "join": {"resource_id": "nothing", "on": ["geoid", "geoid"]}},
            "join.resource_id",
        ),
    ]
    for spec, key in cases:
        with pytest.raises(tk.ValidationError) as error:
            run(spec)
        assert key in error.value.error_dict, (spec, error.value.error_dict)


def test_the_api_answers_a_bad_spec_with_409_and_runs_a_get(app: Any, w: dict[str, Any]) -> None:
    bad = app.post(
        "/api/action/cd3p_query_run", json={"spec": {"resource_id": w["ids"]["tract-acs"], "limit": -1}}
    )
    assert bad.status_code == 409
    assert "limit" in bad.json["error"]

    good = app.get(
        "/api/action/cd3p_query_run",
        query_string={
            "spec": json.dumps({"resource_id": w["ids"]["tract-acs"], "columns": ["geoid"], "limit": 2})
        },
    )
    assert good.status_code == 200
    assert len(good.json["result"]["records"]) == 2


def test_an_unreadable_table_is_refused_before_anything_runs(w: dict[str, Any]) -> None:
    dataset = factories.Dataset(
        owner_org=partners.organization(factories.User())["id"], access_level="organization"
    )
    resource = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": "closed"},
        fields=[{"id": "geoid", "type": "text"}],
        records=[{"geoid": "26163500100"}],
        force=True,
    )
    with pytest.raises(tk.NotAuthorized):
        run({"resource_id": resource["resource_id"]})
    with pytest.raises(tk.NotAuthorized):
        run(
            {
                "resource_id": w["ids"]["tract-acs"],
                "join": {"resource_id": resource["resource_id"], "on": ["geoid", "geoid"]},
            }
        )


def test_a_statement_past_the_timeout_is_stopped(ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.analysis.timeout_ms", 200)
    slow = Compiled(
        query=sql.SQL("SELECT pg_sleep(2)"),
        count=sql.SQL("SELECT 1"),
        params={},
        fields=[{"id": "x", "type": "text"}],
    )
    with pytest.raises(tk.ValidationError, match="longer than 0.2 s"):
        runner.execute(slow, total=False)


def test_pages_carry_the_whole_result_s_size(w: dict[str, Any]) -> None:
    spec = {"resource_id": w["ids"]["tract-acs"], "columns": ["geoid"], "sort": ["geoid"], "limit": 100}
    pages = [run({**spec, "offset": offset}) for offset in (0, 100, 10_000)]
    assert [p["total"] for p in pages] == [len(w["acs"])] * 3
    assert pages[2]["records"] == []
    first, second = ([r["geoid"] for r in p["records"]] for p in pages[:2])
    assert first + second == sorted(w["acs"])[:200]
