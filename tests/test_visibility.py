"""The data steward's contact is for the owning organization (and, with the agreement gate, partners)."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.tests.helpers import call_action

from tests import factories, partners

STEWARD = {"steward_name": "Ada Lovelace", "steward_email": "ada.steward@example.org"}


@pytest.fixture
def setup(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    editor = factories.UserWithToken()
    outsider = factories.UserWithToken()
    other_admin = factories.UserWithToken()
    sysadmin = factories.SysadminWithToken()
    org = partners.organization(factories.User())
    partners.join(org, editor, "editor")
    partners.organization(other_admin)
    dataset = factories.Dataset(owner_org=org["id"], title="Laptop programme participants", **STEWARD)
    return {
        "dataset": dataset,
        "editor": editor,
        "outsider": outsider,
        "other_admin": other_admin,
        "sysadmin": sysadmin,
    }


@pytest.mark.usefixtures("with_plugins")
class TestStewardVisibility:
    @pytest.mark.parametrize(
        ("who", "sees"),
        [
            ("anonymous", False),
            ("outsider", False),
            ("other_admin", False),
            ("editor", True),
            ("sysadmin", True),
        ],
    )
    def test_package_show(self, setup: dict[str, Any], who: str, sees: bool) -> None:
        user = "" if who == "anonymous" else setup[who]["name"]

        shown = call_action("package_show", {"user": user, "ignore_auth": False}, id=setup["dataset"]["id"])

        assert (shown.get("steward_email") == STEWARD["steward_email"]) is sees
        assert ("steward_name" in shown) is sees
        assert shown["title"] == "Laptop programme participants"

    def test_search_results_never_carry_the_contact(self, setup: dict[str, Any]) -> None:
        for user in ("", setup["editor"]["name"], setup["sysadmin"]["name"]):
            results = call_action("package_search", {"user": user}, q="laptop")["results"]
            assert len(results) == 1
            assert "steward_email" not in results[0]

    @pytest.mark.parametrize(("who", "sees"), [("anonymous", False), ("outsider", False), ("editor", True)])
    def test_dataset_page(self, app: Any, setup: dict[str, Any], who: str, sees: bool) -> None:
        headers = {} if who == "anonymous" else {"Authorization": setup[who]["token"]}

        response = app.get(f"/dataset/{setup['dataset']['name']}", headers=headers)

        assert response.status_code == 200
        assert "About this data" in response.body
        assert ("ada.steward@example.org" in response.body) is sees
        assert ("Data steward" in response.body) is sees

    def test_editor_update_keeps_the_contact(self, setup: dict[str, Any]) -> None:
        call_action(
            "package_patch", {"user": setup["editor"]["name"]}, id=setup["dataset"]["id"], notes="Updated."
        )

        shown = call_action("package_show", {"user": setup["sysadmin"]["name"]}, id=setup["dataset"]["id"])
        assert shown["steward_email"] == STEWARD["steward_email"]
        assert shown["notes"] == "Updated."
