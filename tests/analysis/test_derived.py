"""Derived resources: a query's result saved as a resource (cd3p_query_save), its provenance
(cd3p_derived_show, the resource page), the refusals (a dataset more open than a source, another
organization's dataset for organization-only data, an unsigned organization, the row cap), the
refresh when a source table is loaded again (and a failed refresh keeping the previous result),
and the small-cell suppression of its counts for visitors. Real services: the worker checks and
loads every file, the tests poll for it."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p import config
from ckanext.cd3p.analysis import derived
from ckanext.cd3p.analysis.spec import canonical, parse
from ckanext.cd3p.indicators import cache
from tests import factories, partners
from tests.helpers import poll, wait_for_load
from tests.web import person

ANONYMOUS: dict[str, Any] = {"user": "", "ignore_auth": False}


def as_user(user: dict[str, Any]) -> dict[str, Any]:
    """The user's context, their rights checked (call_action ignores auth unless told not to)."""
    return {"user": user["name"], "ignore_auth": False}


ROWS = [
    ("t1", "A", 120, 0.5),
    ("t2", "A", 3, 0.25),
    ("t3", "B", 40, 0.75),
    ("t4", "B", 55, 0.125),
    ("t5", "C", 7, 0.375),
]
# The same tracts a year later: every count doubled.
ROWS_LATER = [(t, g, 2 * h, s) for t, g, h, s in ROWS]

# Households and rows per group, the mean share: the query every test saves.
BY_GROUP = {
    "group_by": ["grp"],
    "aggregates": [
        {"fn": "sum", "column": "households", "as": "households"},
        {"fn": "count", "as": "n"},
        {"fn": "mean", "column": "share", "as": "mean_share"},
    ],
}


def table_file(
    rows: list[tuple[Any, ...]], header: tuple[str, ...] = ("tract", "grp", "households", "share")
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def by_group(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """BY_GROUP computed here, in Python."""
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[row[1]].append(row)
    return [
        {
            "grp": g,
            "households": sum(r[2] for r in found),
            "n": len(found),
            "mean_share": sum(r[3] for r in found) / len(found),
        }
        for g, found in sorted(groups.items())
    ]


def table(resource_id: str, context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The DataStore table's rows without _id, numbers as floats (no context: ignore_auth, which
    reads the raw table)."""
    found = call_action(
        "datastore_search", dict(context or {}), resource_id=resource_id, limit=1000, sort="_id"
    )
    return floats([{k: v for k, v in r.items() if k != "_id"} for r in found["records"]])


def floats(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: float(v) if isinstance(v, int | float) else v for k, v in r.items()} for r in rows]


@pytest.fixture
def w(partner: dict[str, Any], put: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The signed partner S with a public source table (households are counts), and datasets of S to
    save into: public, partner-tier and organization-only."""
    org = partner["org"]
    source_ds = factories.Dataset(owner_org=org["id"], access_level="public", title="Tract households")
    source = put(table_file(ROWS), "households.csv", source_ds, name="Households", count_columns="households")
    check = wait_for_load(source["id"])
    assert check["state"] == "passed", check["report"]
    return {
        **partner,
        "source_ds": source_ds,
        "source": call_action("resource_show", id=source["id"]),
        "check": check,
        "public": factories.Dataset(owner_org=org["id"], access_level="public", title="Derived public"),
        "tier": factories.Dataset(owner_org=org["id"], access_level="partners", title="Derived tier"),
        "own": factories.Dataset(owner_org=org["id"], access_level="organization", title="Derived own"),
    }


def save(
    user: dict[str, Any], spec: dict[str, Any], dataset: dict[str, Any], name: str = "By group"
) -> dict[str, Any]:
    return call_action("cd3p_query_save", as_user(user), spec=spec, package_id=dataset["id"], name=name)


def saved(user: dict[str, Any], spec: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """Saves and waits for the derived table's load."""
    resource = save(user, spec, dataset)
    check = wait_for_load(resource["id"])
    assert check["state"] == "passed", check["report"]
    return resource


def log_of(resource_id: str) -> list[dict[str, Any]]:
    return call_action("cd3p_derived_show", dict(ANONYMOUS), id=resource_id)["log"]


# --- saving ---------------------------------------------------------------------------------------


def test_save_puts_the_result_into_the_datastore_with_its_provenance(w: dict[str, Any], app: Any) -> None:
    spec = {"resource_id": w["source"]["id"], **BY_GROUP, "limit": 1}
    resource = saved(w["editor"], spec, w["public"])

    shown = call_action("resource_show", id=resource["id"])
    cap = config.analysis_row_cap()
    whole = canonical(parse({**spec, "limit": cap}, cap))  # the whole result: the row cap, offset 0
    assert shown["format"] == "CSV" and shown["name"] == "By group" and shown["url_type"] == "upload"
    assert shown["derived_query"] == whole
    assert json.loads(shown["derived_from"]) == [
        {"resource_id": w["source"]["id"], "version": cache.version(w["source"]["id"])}
    ]
    assert cache.version(w["source"]["id"]) >= 1
    assert shown["prov_was_derived_from"] == [
        f"{tk.config['ckan.site_url'].rstrip('/')}/dataset/{w['source_ds']['id']}/resource/{w['source']['id']}"
    ]
    assert shown["derived_saved_by"] == w["editor"]["name"]
    assert shown["derived_saved"][:4].isdigit() and "T" in shown["derived_saved"]
    assert shown["count_columns"] == "households, n"

    # The whole result (the spec's limit of 1 does not apply), as computed here.
    assert table(resource["id"]) == floats(by_group(ROWS))

    provenance = call_action("cd3p_derived_show", dict(ANONYMOUS), id=resource["id"])
    assert provenance["spec"] == json.loads(whole)
    assert provenance["saved_by"] == w["editor"]["name"] and provenance["refreshed"] is None
    assert provenance["log"] == []
    assert provenance["sources"] == [
        {
            "resource_id": w["source"]["id"],
            "version": cache.version(w["source"]["id"]),
            "readable": True,
            "name": w["source"]["name"],
            "package_id": w["source_ds"]["id"],
            "package_name": w["source_ds"]["name"],
            "package_title": "Tract households",
        }
    ]

    page = app.get(f"/dataset/{w['public']['name']}/resource/{resource['id']}")
    assert page.status_code == 200
    assert 'class="cd3p-derived' in page.text and "Derived from a query" in page.text
    assert w["source"]["id"] in page.text and "Tract households" in page.text
    other = app.get(f"/dataset/{w['source_ds']['name']}/resource/{w['source']['id']}")
    assert other.status_code == 200 and "cd3p-derived" not in other.text


def test_count_columns_of_a_public_derived_resource_are_suppressed_for_visitors(w: dict[str, Any]) -> None:
    resource = saved(w["editor"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["public"])
    # Counts from 1 to 10 are hidden from visitors: the rows per group, and group C's households.
    expected = [
        {**r, "n": None, "households": r["households"] if r["households"] >= 11 else None}
        for r in floats(by_group(ROWS))
    ]
    assert table(resource["id"], ANONYMOUS) == expected
    assert table(resource["id"], {"user": w["member"]["name"], "ignore_auth": False}) == floats(
        by_group(ROWS)
    )


def test_a_partner_tier_source_is_refused_for_a_public_dataset(
    w: dict[str, Any], put: Callable[..., Any]
) -> None:
    tier_source = put(table_file(ROWS, ("tract", "grp", "households", "rate")), "tier.csv", w["tier"])
    assert wait_for_load(tier_source["id"])["state"] == "passed"
    spec = {"resource_id": tier_source["id"], "group_by": ["grp"]}
    with pytest.raises(tk.ValidationError) as refused:
        save(w["editor"], spec, w["public"])
    assert refused.value.error_dict == {
        "package_id": [
            "A derived resource cannot be more open than its most restricted source: a source is "
            "partners data, and this dataset is public."
        ]
    }
    # A join of the public source with the partner-tier one is as restricted as the latter.
    joined = {
        "resource_id": w["source"]["id"],
        "columns": ["tract", "households", "rate"],
        "join": {"resource_id": tier_source["id"], "on": ["tract", "tract"], "columns": ["rate"]},
    }
    with pytest.raises(tk.ValidationError) as refused:
        save(w["editor"], joined, w["public"])
    assert list(refused.value.error_dict) == ["package_id"]
    # Into a partner-tier or organization-only dataset it goes.
    assert save(w["editor"], spec, w["tier"])["package_id"] == w["tier"]["id"]
    assert save(w["editor"], spec, w["own"])["package_id"] == w["own"]["id"]


def test_an_organization_only_source_stays_in_its_organization(
    w: dict[str, Any], put: Callable[..., Any]
) -> None:
    own_source = put(table_file(ROWS), "own.csv", w["own"])
    assert wait_for_load(own_source["id"])["state"] == "passed"
    other = partners.organization(person(), name="westside-data")
    theirs = factories.Dataset(owner_org=other["id"], access_level="organization")
    sysadmin = factories.Sysadmin()  # may read the source and write into either organization
    spec = {"resource_id": own_source["id"], **BY_GROUP}
    with pytest.raises(tk.ValidationError) as refused:
        save(sysadmin, spec, theirs)
    assert refused.value.error_dict == {
        "package_id": [
            "A source is kept to its own organization: its result may only be saved into an "
            "organization-only dataset of that organization."
        ]
    }
    with pytest.raises(tk.ValidationError) as refused:
        save(w["editor"], spec, w["tier"])
    assert "organization data, and this dataset is partners" in refused.value.error_dict["package_id"][0]
    assert save(w["editor"], spec, w["own"])["package_id"] == w["own"]["id"]


def test_an_unsigned_organization_may_not_save_into_its_dataset(w: dict[str, Any]) -> None:
    admin = person()
    unsigned = partners.organization(admin, signed=False, name="unsigned-circle")
    dataset = factories.Dataset(owner_org=unsigned["id"], access_level="public")
    with pytest.raises(tk.NotAuthorized) as refused:
        save(admin, {"resource_id": w["source"]["id"], **BY_GROUP}, dataset)
    assert "Data Sharing Agreement" in str(refused.value)
    assert call_action("package_show", id=dataset["id"])["resources"] == []


def test_a_member_who_may_not_publish_is_refused(w: dict[str, Any]) -> None:
    with pytest.raises(tk.NotAuthorized):
        save(w["member"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["public"])
    with pytest.raises(tk.NotAuthorized):
        call_action(
            "cd3p_query_save",
            ANONYMOUS,
            spec={"resource_id": w["source"]["id"]},
            package_id=w["public"]["id"],
            name="x",
        )


def test_a_result_over_the_row_cap_is_refused(
    w: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.analysis.row_cap", 4)
    with pytest.raises(tk.ValidationError) as refused:
        save(
            w["editor"],
            {"resource_id": w["source"]["id"], "columns": ["tract", "households"], "limit": 2},
            w["tier"],
        )
    assert refused.value.error_dict == {
        "spec": ["The result has 5 rows; a saved result has at most 4: narrow it with filters or a group"]
    }
    # Three groups fit.
    assert save(w["editor"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["tier"])["id"]


def test_a_bad_spec_names_its_key(w: dict[str, Any]) -> None:
    with pytest.raises(tk.ValidationError) as refused:
        save(w["editor"], {"resource_id": w["source"]["id"], "columns": ["nope"]}, w["public"])
    assert refused.value.error_dict == {"columns[0]": ["No such column: nope"]}
    with pytest.raises(tk.ObjectNotFound):
        save(w["editor"], {"resource_id": w["source"]["id"]}, {"id": "no-such-dataset"})


# --- refreshing -----------------------------------------------------------------------------------


def test_a_derived_resource_refreshes_when_its_source_is_loaded_again(
    w: dict[str, Any], put: Callable[..., Any]
) -> None:
    resource = saved(w["editor"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["public"])
    before = wait_for_load(resource["id"])
    version = cache.version(w["source"]["id"])

    put(table_file(ROWS_LATER), "households.csv", id=w["source"]["id"])
    assert wait_for_load(w["source"]["id"], after=w["check"]["id"])["state"] == "passed"
    entry = poll(lambda: log_of(resource["id"]), 60, "the refresh log")[0]
    assert entry["outcome"] == "refreshed", entry
    assert entry["cause"] == f"source {w['source']['id']} changed"
    assert entry["sources"] == [{"resource_id": w["source"]["id"], "version": version + 1}]
    wait_for_load(resource["id"], after=before["id"])
    assert table(resource["id"]) == floats(by_group(ROWS_LATER))

    shown = call_action("cd3p_derived_show", dict(ANONYMOUS), id=resource["id"])
    assert shown["refreshed"] is not None and shown["sources"][0]["version"] == version + 1
    assert json.loads(call_action("resource_show", id=resource["id"])["derived_from"]) == entry["sources"]


def test_a_failed_refresh_keeps_the_previous_result(w: dict[str, Any], put: Callable[..., Any]) -> None:
    resource = saved(w["editor"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["public"])
    file_before = call_action("resource_show", id=resource["id"])

    # The source loses the households column the query sums.
    put(
        table_file([(t, g, s) for t, g, _h, s in ROWS], ("tract", "grp", "share")),
        "households.csv",
        id=w["source"]["id"],
    )
    assert wait_for_load(w["source"]["id"], after=w["check"]["id"])["state"] == "passed"
    entry = poll(lambda: log_of(resource["id"]), 60, "the refresh log")[0]
    assert entry["outcome"] == "failed"
    assert entry["message"] == "aggregates[0].column: No such column: households"
    after = call_action("resource_show", id=resource["id"])
    assert (after["url"], after["last_modified"]) == (file_before["url"], file_before["last_modified"])
    assert table(resource["id"]) == floats(by_group(ROWS))
    assert call_action("cd3p_derived_show", dict(ANONYMOUS), id=resource["id"])["refreshed"] is None


def test_a_refresh_asked_for_by_an_editor(w: dict[str, Any]) -> None:
    resource = saved(w["editor"], {"resource_id": w["source"]["id"], **BY_GROUP}, w["public"])
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_derived_refresh", as_user(w["member"]), id=resource["id"])
    entry = call_action("cd3p_derived_refresh", as_user(w["admin"]), id=resource["id"])
    assert (entry["outcome"], entry["cause"]) == ("refreshed", f"asked by {w['admin']['name']}")
    assert log_of(resource["id"])[0]["id"] == entry["id"]

    # The saver left the organization: the refresh, in their name, fails and changes nothing.
    call_action(
        "organization_member_delete",
        {"user": partners.site_user()},
        id=w["org"]["id"],
        username=w["editor"]["name"],
    )
    entry = call_action("cd3p_derived_refresh", as_user(w["admin"]), id=resource["id"])
    assert entry["outcome"] == "failed" and entry["message"]
    assert [e["outcome"] for e in log_of(resource["id"])] == ["failed", "refreshed"]


# --- provenance -----------------------------------------------------------------------------------


def test_provenance_names_only_the_sources_the_caller_may_see(
    w: dict[str, Any], put: Callable[..., Any]
) -> None:
    source_ds = factories.Dataset(owner_org=w["org"]["id"], access_level="partners")
    tier_source = put(table_file(ROWS), "tier.csv", source_ds, name="Tier table")
    assert wait_for_load(tier_source["id"])["state"] == "passed"
    resource = save(w["editor"], {"resource_id": tier_source["id"], **BY_GROUP}, w["tier"])
    # The source's dataset is later kept to its organization; a partner of another organization
    # still sees the derived resource (partner tier), but of its source only the id.
    call_action(
        "package_patch", {"user": partners.site_user()}, id=source_ds["id"], access_level="organization"
    )
    outsider = person()
    other = partners.organization(person(), name="northend-partners")
    partners.join(other, outsider, "member")
    shown = call_action("cd3p_derived_show", as_user(outsider), id=resource["id"])
    assert shown["sources"] == [
        {"resource_id": tier_source["id"], "version": cache.version(tier_source["id"]), "readable": False}
    ]
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_derived_show", ANONYMOUS, id=resource["id"])
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_derived_show", dict(ANONYMOUS), id=w["source"]["id"])  # not derived
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_derived_show", dict(ANONYMOUS), id="no-such-resource")


# --- the rule, on its own -------------------------------------------------------------------------


def _ds(
    level: str | None, org: str = "S", private: bool = False, threshold: int | None = None
) -> dict[str, Any]:
    return {"owner_org": org, "access_level": level, "private": private, "small_cell_threshold": threshold}


@pytest.mark.parametrize(
    ("sources", "target", "refused"),
    [
        ([_ds("public")], _ds("public"), False),
        ([_ds("public"), _ds("partners")], _ds("public"), True),
        ([_ds("partners")], _ds("partners", org="O"), False),
        ([_ds("partners")], _ds("organization"), False),
        ([_ds("organization")], _ds("organization"), False),
        ([_ds("organization")], _ds("organization", org="O"), True),
        ([_ds("organization")], _ds("partners"), True),
        ([_ds(None, private=True)], _ds("partners"), True),  # private without a level: organization
        ([_ds(None, private=False)], _ds("public"), False),
        ([_ds("public", threshold=30)], _ds("public", threshold=11), True),  # its counts are suppressed
        ([_ds("public", threshold=30)], _ds("partners"), False),
        ([_ds("public", threshold=11)], _ds("public", threshold=30), False),
    ],
)
def test_openness(
    with_plugins: None, sources: list[dict[str, Any]], target: dict[str, Any], refused: bool
) -> None:
    found = derived.openness([(s, {"count_columns": "households"}) for s in sources], target)
    assert (found is not None) == refused, found
