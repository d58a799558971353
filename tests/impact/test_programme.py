"""A programme is a dataset of its own type, ``programme``, owned by a partner organization."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners

pytestmark = pytest.mark.usefixtures("with_plugins")

PROGRAMME = {
    "type": "programme",
    "name": "eastside-laptop-lending",
    "title": "Eastside Laptop Lending",
    "notes": "Laptops lent to families for the school year.",
    "services": ["device_distribution", "device_repair"],
    "populations": ["families-with-children"],
    "temporal_start": "2024-01-01",
    "temporal_end": "2025-12-31",
    "funding": [
        {"source": "City of Detroit general fund", "kind": "city", "amount": "150000"},
        {"source": "A foundation", "kind": "philanthropy", "amount": 99999.5},
    ],
    "targets": [{"measure": "devices_distributed", "target": "800"}],
    "contact_name": "Programme desk",
    "contact_email": "laptops@example.org",
    "access_level": "public",
    "contains_personal_data": "no",
}


@pytest.fixture
def editor(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    """An editor of a signed partner organization."""
    user = factories.User()
    org = partners.organization(factories.User())
    partners.join(org, user, "editor")
    return {"user": user, "org": org}


def _create(editor: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**PROGRAMME, "owner_org": editor["org"]["id"], **changes}
    return call_action("package_create", {"user": editor["user"]["name"]}, **data)


def test_a_partner_editor_creates_a_programme_and_anyone_reads_it(editor: dict[str, Any]) -> None:
    created = _create(editor)

    shown = call_action("package_show", {"user": "", "ignore_auth": False}, id="eastside-laptop-lending")
    assert shown["type"] == "programme"
    assert shown["services"] == ["device_distribution", "device_repair"]
    assert [(f["kind"], f["amount"]) for f in shown["funding"]] == [
        ("city", "150000.00"),
        ("philanthropy", "99999.50"),
    ]
    assert shown["targets"] == [{"measure": "devices_distributed", "target": 800}]
    assert shown["illustrative"] == "no"
    assert shown["private"] is False
    assert created["id"] == shown["id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"services": ["teleportation"]}, "services"),
        ({"services": []}, "services"),
        ({"funding": [{"source": "x", "kind": "city", "amount": "-5"}]}, "funding"),
        ({"funding": [{"source": "x", "kind": "city", "amount": "$1,000"}]}, "funding"),
        ({"funding": [{"source": "x", "kind": "city", "amount": "10.005"}]}, "funding"),
        ({"targets": [{"measure": "happiness", "target": "5"}]}, "targets"),
        ({"targets": [{"measure": "job_placements", "target": "-1"}]}, "targets"),
        ({"temporal_start": "2025-01-01", "temporal_end": "2024-01-01"}, "temporal_end"),
        ({"url": "javascript:alert(1)"}, "url"),
    ],
)
def test_a_bad_field_is_refused_by_name_and_nothing_is_created(
    editor: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(tk.ValidationError) as error:
        _create(editor, **changes)
    assert field in error.value.error_dict
    with pytest.raises(tk.ObjectNotFound):
        call_action("package_show", id=PROGRAMME["name"])


def test_an_unsigned_organization_may_not_publish_a_programme(agreement: dict[str, Any]) -> None:
    admin = factories.User()
    org = partners.organization(admin, signed=False)

    with pytest.raises(tk.NotAuthorized):
        call_action(
            "package_create", {"user": admin["name"], "ignore_auth": False}, **PROGRAMME, owner_org=org["id"]
        )


def test_the_programme_page_shows_its_services(app: Any, editor: dict[str, Any]) -> None:
    _create(editor)

    response = app.get("/programme/eastside-laptop-lending")

    assert response.status_code == 200
    assert "Eastside Laptop Lending" in response.body
    assert "Device repair or refurbishment" in response.body


@pytest.mark.parametrize(("illustrative", "labelled"), [("yes", True), ("no", False)])
def test_an_illustrative_programme_says_so_on_its_page(
    app: Any, editor: dict[str, Any], illustrative: str, labelled: bool
) -> None:
    _create(editor, illustrative=illustrative)

    body = app.get("/programme/eastside-laptop-lending").body

    assert ("Illustrative data." in body) is labelled
    assert "Eastside Laptop Lending" in body


def test_a_long_repeating_field_is_indexed_and_found(editor: dict[str, Any]) -> None:
    """Repeating fields reach Solr as JSON text, cut to a term Solr takes (100 KB would be refused)."""
    _create(editor, funding=[{"source": "x" * 100_000, "kind": "city", "amount": "1"}])

    found = call_action("package_search", q="name:eastside-laptop-lending", fq="dataset_type:programme")
    assert found["count"] == 1
    assert found["results"][0]["funding"][0]["source"] == "x" * 100_000


def test_someone_elses_organization_is_refused(editor: dict[str, Any]) -> None:
    other = partners.organization(factories.User())

    with pytest.raises(tk.NotAuthorized):
        call_action(
            "package_create",
            {"user": editor["user"]["name"], "ignore_auth": False},
            **{**PROGRAMME, "owner_org": other["id"]},
        )


def test_an_organization_only_programme_is_not_shown_to_the_public(app: Any, editor: dict[str, Any]) -> None:
    _create(editor, access_level="organization")

    with pytest.raises(tk.NotAuthorized):
        call_action("package_show", {"user": "", "ignore_auth": False}, id=PROGRAMME["name"])
    assert app.get(f"/programme/{PROGRAMME['name']}").status_code == 404
    member_view = call_action("package_show", {"user": editor["user"]["name"]}, id=PROGRAMME["name"])
    assert member_view["private"] is True
