"""Indicators computed from the DataStore, checked against numbers computed here from the source files.

The source tables are loaded into the DataStore with datastore_create from the real Detroit files
(only Wayne County's rows of the national and state tables, to keep the set-up fast), under the
dataset and resource names the registry expects.
"""

from __future__ import annotations

import csv
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p import config
from ckanext.cd3p.common import geography
from ckanext.cd3p.indicators import cache, registry
from tests import equity, factories, partners


@pytest.fixture
def sources(agreement: dict[str, Any]) -> dict[str, Any]:
    """The sources, loaded for a test that changes them."""
    return equity.load_sources()


@pytest.fixture
def kept(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    """The sources, for a test that only reads them (built once while no test changes them)."""
    return equity.kept_sources(request)


pytestmark = pytest.mark.usefixtures("with_plugins", "clean_index")


def test_tract_values_and_citywide_share_from_counts(kept: dict[str, Any]) -> None:
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    detroit = geography.tracts()
    expected = {}
    num = den = 0.0
    for geoid in detroit:
        hh, f = equity.num(acs[geoid]["households"]), equity.num(acs[geoid]["f_broadband"])
        expected[geoid] = None if hh is None or f is None else (1 - f) * 100
        if expected[geoid] is not None:
            num += hh * (1 - f)
            den += hh

    result = equity.show("households-without-broadband")

    got = {v["id"]: v["value"] for v in result["values"]}
    assert set(got) == set(detroit)
    for geoid, value in expected.items():
        assert got[geoid] == (pytest.approx(value) if value is not None else None), geoid
    no_data = [g for g, v in got.items() if v is None]
    assert 0 < len(no_data) == sum(1 for v in expected.values() if v is None)
    assert result["citywide"]["value"] == pytest.approx(num / den * 100)
    assert result["citywide"]["denominator"] == pytest.approx(den)
    assert result["citywide"]["tracts"] == 297
    assert result["citywide"]["tracts_with_data"] == 297 - len(no_data)
    assert result["vintage"].startswith("ACS 2015-2019")
    assert [s["dataset"] for s in result["sources"]] == ["detroit-tract-broadband-acs-2015-2019"]


def test_poverty_rate_weights_another_sources_population(kept: dict[str, Any]) -> None:
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    pov = {
        r["GEOID"]: r
        for r in equity.csv_rows("michigan_tracts_acs2014_2018_poverty_unemployment.csv", "GEOID")
    }
    num = den = 0.0
    for geoid in geography.tracts():
        p, pop = equity.num(pov.get(geoid, {}).get("povP")), equity.num(acs[geoid]["population"])
        if p is not None and pop is not None:
            num += pop * p / 100
            den += pop

    result = equity.show("poverty-rate", "city")

    assert [v["id"] for v in result["values"]] == ["city"]
    assert result["citywide"]["value"] == pytest.approx(num / den * 100)
    assert {s["dataset"] for s in result["sources"]} == {
        "michigan-tracts-poverty-unemployment-acs-2014-2018",
        "detroit-tract-broadband-acs-2015-2019",
    }


def test_district_income_is_a_household_weighted_average_of_medians(kept: dict[str, Any]) -> None:
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    sums: dict[str, list[float]] = {}
    for geoid, tract in geography.tracts().items():
        mhi, hh = equity.num(acs[geoid]["mhi"]), equity.num(acs[geoid]["households"])
        if mhi is not None and hh is not None:
            s = sums.setdefault(tract.district, [0.0, 0.0])
            s[0] += mhi * hh
            s[1] += hh

    result = equity.show("median-household-income", "council_district")

    assert [v["id"] for v in result["values"]] == [f"district-{n}" for n in range(1, 8)]
    for v in result["values"]:
        assert v["value"] == pytest.approx(sums[v["id"]][0] / sums[v["id"]][1])
        assert v["numerator"] is None  # an amount has no count numerator
    assert "approximation" in result["indicator"]["caveat"]


def test_small_cells_are_suppressed_outside_the_partner_tier(sources: dict[str, Any]) -> None:
    call_action(
        "package_patch",
        {"user": partners.site_user()},
        id="detroit-tract-broadband-acs-2015-2019",
        small_cell_threshold=1000,
    )
    small = {
        v["id"]
        for v in equity.show("households-without-computer", user=partners.site_user())["values"]
        if v["denominator"] is not None and v["denominator"] < 1000
    }
    assert small, "the demo data has tracts under 1,000 households"

    public = {v["id"]: v for v in equity.show("households-without-computer")["values"]}
    assert {g for g, v in public.items() if v["suppressed"]} == small
    assert all(public[g]["value"] is None and public[g]["denominator"] is None for g in small)

    member = factories.User()
    partners.join(sources["org"], member)
    seen = {v["id"]: v for v in equity.show("households-without-computer", user=member["name"])["values"]}
    assert not any(v["suppressed"] for v in seen.values())
    assert all(seen[g]["value"] is not None for g in small)


def test_members_of_the_owning_organization_read_what_the_datastore_gives_them(
    sources: dict[str, Any],
) -> None:
    """One rule (common/privacy.sees_raw): the DataStore gave the source's organization its raw rows,
    while the indicators suppressed the same cells for it. A member whose acknowledgement was
    revoked is out of the partner tier, still in the organization."""
    site = {"user": partners.site_user()}
    dataset = call_action(
        "package_patch", site, id="detroit-tract-broadband-acs-2015-2019", small_cell_threshold=1000
    )
    member = factories.User()
    partners.join(sources["org"], member)
    [ack] = call_action("cd3p_signature_list", site, user_id=member["id"], kind="acknowledge")["results"]
    call_action("cd3p_signature_revoke", site, id=ack["id"], reason="left the programme")

    resource = next(r for r in dataset["resources"] if r.get("datastore_active"))
    rows = call_action("datastore_search", {"user": member["name"]}, resource_id=resource["id"], limit=1000)
    assert "suppressed" not in rows  # the raw table
    seen = {v["id"]: v for v in equity.show("households-without-computer", user=member["name"])["values"]}
    small = {g for g, v in seen.items() if v["denominator"] is not None and v["denominator"] < 1000}
    assert small and not any(v["suppressed"] for v in seen.values())
    public = {v["id"]: v for v in equity.show("households-without-computer")["values"]}
    assert {g for g, v in public.items() if v["suppressed"]} == small


def test_a_partner_tier_source_is_refused_to_the_public(sources: dict[str, Any]) -> None:
    call_action(
        "package_patch",
        {"user": partners.site_user()},
        id="us-tracts-no-internet-2019",
        access_level="partners",
    )
    with pytest.raises(tk.NotAuthorized):
        equity.show("households-no-internet")
    other = partners.organization(factories.User(), title="Other partner")
    member = factories.User()
    partners.join(other, member)
    assert equity.show("households-no-internet", user=member["name"])["citywide"]["value"] > 0


def test_unknown_indicator_and_level(kept: dict[str, Any]) -> None:
    with pytest.raises(tk.ObjectNotFound, match="Indicator not found"):
        equity.show("households-with-flying-cars")
    with pytest.raises(tk.ValidationError) as e:
        equity.show("poverty-rate", "county")
    assert "level" in e.value.error_dict


def test_list_by_topic() -> None:
    ids = [i["id"] for i in call_action("cd3p_indicator_list", topic="devices")]
    assert ids == ["households-without-computer"]
    assert len(call_action("cd3p_indicator_list")) == 10
    assert call_action("cd3p_indicator_list", topic="index")[0]["kind"] == "index"


def test_place_shows_every_indicator_against_the_city(kept: dict[str, Any]) -> None:
    place = call_action("cd3p_place_show", level="council_district", id="district-3")

    assert place["name"] == "Council District 3"
    assert [i["indicator"]["id"] for i in place["indicators"]] == registry.registry().ids()
    poverty = next(i for i in place["indicators"] if i["indicator"]["id"] == "poverty-rate")
    by_district = {v["id"]: v for v in equity.show("poverty-rate", "council_district")["values"]}
    assert poverty["value"] == by_district["district-3"]
    assert poverty["citywide"] == equity.show("poverty-rate", "city")["citywide"]
    with pytest.raises(tk.ObjectNotFound, match="No council_district with id district-9"):
        call_action("cd3p_place_show", level="council_district", id="district-9")


def test_place_withholds_what_the_caller_may_not_read(sources: dict[str, Any]) -> None:
    call_action(
        "package_patch",
        {"user": partners.site_user()},
        id="us-tracts-no-internet-2019",
        access_level="partners",
    )
    place = call_action("cd3p_place_show", {"user": "", "ignore_auth": False}, level="city", id="city")
    assert place["withheld"] == ["households-no-internet"]
    assert len(place["indicators"]) == 9  # the index is computed without the withheld component
    index = next(i for i in place["indicators"] if i["indicator"]["id"] == "digital-equity-index")
    assert index["value"]["value"] is not None


def test_a_datastore_change_reaches_the_next_request(sources: dict[str, Any]) -> None:
    before = equity.show("households-without-broadband", "council_district")
    tract = next(g for g, t in geography.tracts().items() if t.district == "district-1")
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    resource_id = before["sources"][0]["resource_id"]
    assert equity.show("households-without-broadband", "council_district") == before  # served again (cached)

    call_action(
        "datastore_upsert",
        resource_id=resource_id,
        method="update",
        records=[{"_id": _row_id(resource_id, tract), "f_broadband": 0.0}],
        force=True,
    )

    after = {v["id"]: v for v in equity.show("households-without-broadband", "council_district")["values"]}
    old = {v["id"]: v for v in before["values"]}
    hh, f = float(acs[tract]["households"]), float(acs[tract]["f_broadband"])
    assert after["district-1"]["numerator"] == pytest.approx(old["district-1"]["numerator"] + hh * f)
    assert after["district-2"] == old["district-2"]


def _row_id(resource_id: str, geoid: str) -> int:
    found = call_action("datastore_search", resource_id=resource_id, filters={"geoid": geoid})["records"]
    return found[0]["_id"]


@pytest.mark.usefixtures("clean_datastore")
def test_a_partner_upload_changes_the_numbers_once_xloader_finishes(
    agreement: dict[str, Any], xloader_token: str, sysadmin: dict[str, Any]
) -> None:
    """The live path: a partner editor uploads a new version of the source CSV; the worker loads it."""
    import io

    from werkzeug.datastructures import FileStorage

    from ckanext.cd3p.demo import DemoLoader, tract_indicators_csv
    from tests.helpers import wait_for_xloader

    source = registry.registry().sources["tract-acs"]
    editor = factories.User()
    org = partners.organization(factories.User())
    partners.join(org, editor, "editor")
    as_editor = {"user": editor["name"], "ignore_auth": False}
    original = tract_indicators_csv(
        config.data_dir() / "indicators" / "tracts_acs2015_2019_fcc_ookla.geojson"
    )

    def put(data: bytes, resource_id: str | None = None) -> dict[str, Any]:
        fields = {"url": "tracts.csv", "upload": FileStorage(io.BytesIO(data), filename="tracts.csv")}
        if resource_id:
            return call_action("resource_patch", as_editor, id=resource_id, **fields)
        return call_action(
            "resource_create", as_editor, package_id=dataset["id"], name=source.resource, **fields
        )

    dataset = call_action(
        "package_create",
        as_editor,
        name=source.dataset,
        title="Tract indicators",
        owner_org=org["id"],
        geography_level="tract",
        contains_personal_data="no",
    )
    resource = put(original)
    assert wait_for_xloader(resource["id"])["status"] == "complete"
    loader = DemoLoader(config.data_dir(), sysadmin["name"])
    if loader.apply_types({resource["id"]: {"geoid": "text"}}):  # GEOIDs stay text, as in the demo
        loader.wait_for_datastore([resource["id"]], submitted=True, timeout=120)
    before = equity.show("households-without-broadband", "city")["citywide"]
    last_job = call_action("xloader_status", resource_id=resource["id"])["job_id"]

    # The new file: every tract in District 4 now reports full broadband adoption.
    district4 = {g for g, t in geography.tracts().items() if t.district == "district-4"}
    rows = list(csv.DictReader(io.StringIO(original.decode())))
    for row in rows:
        if row["geoid"] in district4:
            row["f_broadband"] = "1.0"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    put(out.getvalue().encode(), resource["id"])
    assert wait_for_xloader(resource["id"], after=last_job)["status"] == "complete"

    after = equity.show("households-without-broadband", "city")["citywide"]
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    removed = sum(
        float(acs[g]["households"]) * (1 - float(acs[g]["f_broadband"]))
        for g in district4
        if acs[g]["households"] is not None and acs[g]["f_broadband"] is not None
    )
    assert after["numerator"] == pytest.approx(before["numerator"] - removed, rel=1e-6)
    assert district4 and after["value"] < before["value"]


def test_values_are_cached_until_a_change_or_a_refresh(sources: dict[str, Any]) -> None:
    """A change made behind the DataStore API's back is not seen until a sysadmin refreshes: proof
    that the cache serves reads, and that the upsert hook above is what keeps it fresh."""
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    before = equity.show("households-without-computer", "city")["citywide"]
    resource_id = before and equity.show("households-without-computer")["sources"][0]["resource_id"]
    with get_write_engine().begin() as conn:
        conn.execute(sa.text(f'UPDATE "{resource_id}" SET f_computer = 0'))  # test-made id, not user input

    assert equity.show("households-without-computer", "city")["citywide"] == before
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_indicator_refresh", {"user": factories.User()["name"], "ignore_auth": False})
    call_action("cd3p_indicator_refresh", {"user": partners.site_user(), "ignore_auth": False})
    assert equity.show("households-without-computer", "city")["citywide"]["value"] == pytest.approx(100.0)


def test_nothing_stale_is_served_from_memory_after_redis_loses_its_keys(sources: dict[str, Any]) -> None:
    """The web process keeps decoded results under keys naming the table versions; if Redis loses
    them (a restart without persistence), versions start from 0 again, and a new epoch keeps the
    old results in memory from being taken for current ones."""
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    before = equity.show("households-without-computer", "city")["citywide"]["value"]
    assert before != pytest.approx(100.0)
    resource_id = equity.show("households-without-computer")["sources"][0]["resource_id"]
    with get_write_engine().begin() as conn:
        conn.execute(sa.text(f'UPDATE "{resource_id}" SET f_computer = 0'))  # test-made id, not user input
    redis = cache._redis()
    for key in redis.scan_iter("cd3p:indicators:*"):
        redis.delete(key)
    cache.invalidate(resource_id)  # a load after the loss: the version is back where it was

    assert equity.show("households-without-computer", "city")["citywide"]["value"] == pytest.approx(100.0)


def test_digital_equity_index_from_the_source_files(kept: dict[str, Any]) -> None:
    """The method on the index's page, done here from the files: orient, min-max over Detroit's
    tracts, mean per sub-score (half the components at least), mean of the two."""
    acs = {r["geoid"]: r for r in equity.acs_rows()}
    pov = {
        r["GEOID"]: r
        for r in equity.csv_rows("michigan_tracts_acs2014_2018_poverty_unemployment.csv", "GEOID")
    }
    oeps = {r["FIPS"]: r for r in equity.csv_rows("oeps_tract_2019_no_internet.csv", "FIPS")}
    detroit = list(geography.tracts())

    def col(rows: dict[str, Any], column: str, weight: str, transform: Any = lambda x: x) -> dict[str, float]:
        """A component's tract values; a value counts only with a positive weight (its universe)."""
        out = {}
        for g in detroit:
            x, w = equity.num(rows.get(g, {}).get(column)), equity.num(acs[g][weight])
            if x is not None and w is not None and w > 0:
                out[g] = transform(x)
        return out

    need = {  # higher = more need
        "access": [
            col(acs, "f_broadband", "households", lambda x: 1 - x),
            col(acs, "f_computer", "households", lambda x: 1 - x),
            col(oeps, "NoIntP", "households"),
            col(acs, "d_mbps", "tests", lambda x: -x),
            col(acs, "n_isp", "households", lambda x: -x),
        ],
        "socioeconomic": [
            col(pov, "povP", "population"),
            col(pov, "unempP", "population"),
            col(acs, "f_ba", "population", lambda x: -x),
            col(acs, "mhi", "households", lambda x: -x),
        ],
    }
    scaled = {
        group: [
            {g: (v - min(c.values())) / (max(c.values()) - min(c.values())) for g, v in c.items()}
            for c in comps
        ]
        for group, comps in need.items()
    }
    expected: dict[str, float] = {}
    for g in detroit:
        subs = []
        for _group, comps in scaled.items():
            present = [c[g] for c in comps if g in c]
            if len(present) >= (len(comps) + 1) // 2:
                subs.append(100 * sum(present) / len(present))
        if len(subs) == 2:
            expected[g] = sum(subs) / 2

    result = equity.show("digital-equity-index")

    got = {v["id"]: v["value"] for v in result["values"] if v["value"] is not None}
    assert set(got) == set(expected)
    for g, value in expected.items():
        assert got[g] == pytest.approx(value), g
    assert min(got.values()) >= 0
    assert max(got.values()) <= 100
    weights = {g: equity.num(acs[g]["households"]) or 0.0 for g in expected}
    city = sum(expected[g] * weights[g] for g in expected) / sum(weights.values())
    assert result["citywide"]["value"] == pytest.approx(city)
    assert result["withheld"] == []
