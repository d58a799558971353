"""What a query cannot do: reach past its spec into SQL (every spec field tried with injection
payloads), or read through a suppressed table's public view to the small counts it hides."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from tests import factories, partners

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

ANONYMOUS: dict[str, Any] = {"user": "", "ignore_auth": False}
THRESHOLD = 11


@pytest.fixture
def table(agreement: dict[str, Any]) -> dict[str, Any]:
    """A public dataset's table of three tracts of one council district, whose count column
    ``households`` has a small count (3) that the public view hides."""
    org = partners.organization(factories.User(), title="Eastside Connect")
    dataset = factories.Dataset(owner_org=org["id"], access_level="public", small_cell_threshold=THRESHOLD)
    district = "district-3"
    tracts = sorted(t for t, tract in geography.tracts().items() if tract.district == district)[:3]
    rows = [
        {"geoid": t, "name": f"Tract {t}", "households": n} for t, n in zip(tracts, (3, 20, 40), strict=True)
    ]
    created = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": "households", "count_columns": "households"},
        fields=[
            {"id": "geoid", "type": "text"},
            {"id": "name", "type": "text"},
            {"id": "households", "type": "int"},
        ],
        records=rows,
        force=True,
    )
    return {"id": created["resource_id"], "rows": rows, "district": district}


def run(spec: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    return call_action("cd3p_query_run", dict(context or ANONYMOUS), spec=spec)


def _count(resource_id: str) -> int:
    return call_action("datastore_search", resource_id=resource_id, limit=0)["total"]


PAYLOADS = [
    "x'; DROP TABLE cd3p_signature; --",
    'geoid" FROM pg_catalog.pg_authid --',
    "1) OR (1=1",
    'households; DELETE FROM "x"',
]


def test_no_spec_field_reaches_the_sql(table: dict[str, Any]) -> None:
    rid = table["id"]
    for payload in PAYLOADS:
        specs = [
            {"resource_id": payload},
            {"resource_id": rid, "columns": [payload]},
            {"resource_id": rid, "filters": [{"column": payload, "op": "eq", "value": 1}]},
            {"resource_id": rid, "group_by": [payload]},
            {"resource_id": rid, "rollup": {"key": payload, "level": "city"}},
            {"resource_id": rid, "aggregates": [{"fn": "sum", "column": payload}]},
            {"resource_id": rid, "sort": [{"column": payload}]},
            {"resource_id": rid, "join": {"resource_id": payload, "on": ["geoid", "geoid"]}},
            {"resource_id": rid, "join": {"resource_id": rid, "on": [payload, "geoid"]}},
            {"resource_id": rid, "join": {"resource_id": rid, "on": ["geoid", payload]}},
        ]
        for spec in specs:
            with pytest.raises(tk.ValidationError):
                run(spec)
        # A value is a bound parameter: it matches nothing, and drops nothing.
        for op in ("eq", "contains"):
            found = run({"resource_id": rid, "filters": [{"column": "name", "op": op, "value": payload}]})
            assert (found["total"], found["records"]) == (0, [])
        found = run(
            {"resource_id": rid, "filters": [{"column": "name", "op": "in", "value": [payload, "Tract"]}]}
        )
        assert found["total"] == 0
        # An output name is a quoted identifier: the result's column is named exactly so.
        named = run({"resource_id": rid, "aggregates": [{"fn": "count", "as": payload}]})
        assert named["records"] == [{payload: 3}]
    assert _count(rid) == 3
    assert call_action("cd3p_ledger_verify")["valid"] is True  # cd3p_signature is still there


def test_a_visitor_sums_the_public_view_never_the_hidden_counts(table: dict[str, Any]) -> None:
    spec = {
        "resource_id": table["id"],
        "rollup": {"key": "geoid", "level": "council_district"},
        "aggregates": [{"fn": "sum", "column": "households", "as": "households"}],
    }
    shown = [n for n in (r["households"] for r in table["rows"]) if n >= THRESHOLD]
    assert run(spec)["records"] == [{"council_district": table["district"], "households": sum(shown)}]
    raw = run(spec, {"user": partners.site_user(), "ignore_auth": False})
    assert raw["records"] == [{"council_district": table["district"], "households": 63}]
    # Nor can a filter find the hidden row: for the public it holds no count.
    hidden = run({"resource_id": table["id"], "filters": [{"column": "households", "op": "eq", "value": 3}]})
    assert hidden["total"] == 0
    assert '_public"' in hidden["sql"]
