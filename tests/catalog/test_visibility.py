"""The data steward's contact is for the owning organization (and, with the agreement gate, partners)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ckan.lib.search.common import make_connection
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.helpers import database_state, kept_world

STEWARD = {"steward_name": "Ada Lovelace", "steward_email": "ada.steward@example.org"}


@pytest.fixture
def setup(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    """A dataset with a steward, its organization's editor, an outsider, another organization's admin
    and a sysadmin: built once, kept while the tests only read it."""
    return kept_world(request, "steward", _steward_world, lambda w: database_state())


def _steward_world() -> dict[str, Any]:
    partners.active_agreement()
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
    def test_core_s_default_schema_keeps_the_contact_in_extras_and_hides_it_there_too(
        self, setup: dict[str, Any], who: str, sees: bool
    ) -> None:
        """``use_default_schema`` gives the dataset as CKAN's own schema has it: scheming's fields are
        extras there, out of reach of a filter of the top-level keys."""
        user = "" if who == "anonymous" else setup[who]["name"]
        context = {"user": user, "ignore_auth": False}

        shown = call_action("package_show", dict(context), id=setup["dataset"]["id"], use_default_schema=True)
        found = call_action("package_search", dict(context), q="laptop", use_default_schema=True)["results"]

        keys = {e["key"] for e in shown.get("extras", [])}
        assert ("steward_email" in keys or "steward_email" in shown) is sees
        assert "ada.steward@example.org" not in json.dumps(found)
        assert ("ada.steward@example.org" in json.dumps(shown)) is sees

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


# --- the search index: no field a query or a facet reads holds the contact --------------------------


def _solr_hits(q: str) -> int:
    """Documents of this site that Solr itself finds for a query (no CKAN filter in between)."""
    conn = make_connection()
    return conn.search(q=q, fq=f'+site_id:"{tk.config["ckan.site_id"]}"', rows=0).hits


@pytest.mark.usefixtures("with_plugins")
class TestStewardOutOfTheSearchIndex:
    @pytest.mark.parametrize("who", ["anonymous", "other_admin"])
    def test_a_facet_on_the_contact_counts_nothing(self, setup: dict[str, Any], who: str) -> None:
        user = "" if who == "anonymous" else setup[who]["name"]

        result = call_action(
            "package_search",
            {"user": user},
            **{"facet.field": '["steward_email", "steward_name", "organization"]', "rows": 0},
        )

        assert result["count"] == 1
        assert result["facets"]["steward_email"] == {}
        assert result["facets"]["steward_name"] == {}
        assert result["search_facets"]["steward_email"]["items"] == []
        assert len(result["facets"]["organization"]) == 1  # the same facet request counts other fields

    @pytest.mark.parametrize("who", ["anonymous", "other_admin"])
    @pytest.mark.parametrize(
        "q",
        [
            'steward_email:"ada.steward@example.org"',
            'extras_steward_email:"ada.steward@example.org"',
            'steward_name:"Ada Lovelace"',
            '"ada.steward@example.org"',
            "Lovelace",
        ],
    )
    def test_a_query_for_the_contact_finds_nothing(self, setup: dict[str, Any], who: str, q: str) -> None:
        user = "" if who == "anonymous" else setup[who]["name"]

        assert call_action("package_search", {"user": user}, q=q)["count"] == 0
        found = call_action("package_search", {"user": user}, q="Laptop programme")
        assert [d["id"] for d in found["results"]] == [setup["dataset"]["id"]]

    def test_solr_holds_the_contact_in_no_searchable_field(self, setup: dict[str, Any]) -> None:
        for q in (
            'steward_email:"ada.steward@example.org"',
            "steward_email:*",
            "steward_name:*",
            "extras_steward_email:*",
            "extras_steward_name:*",
            'text:"ada.steward@example.org"',
            "text:lovelace",
        ):
            assert _solr_hits(q) == 0, q
        assert _solr_hits("text:laptop") == 1
        assert _solr_hits('extras_geography_level:"tract"') == 1  # other extras are still indexed

    @pytest.mark.parametrize("fl", ["data_dict", "validated_data_dict"])
    def test_the_stored_dictionaries_asked_for_with_fl_leave_the_contact_out(
        self, setup: dict[str, Any], fl: str
    ) -> None:
        result = call_action("package_search", {"user": ""}, q="Laptop", fl=[fl, "id"])

        assert len(result["results"]) == 1
        stored = result["results"][0][fl]
        assert "ada.steward@example.org" not in stored and "Ada Lovelace" not in stored
        assert json.loads(stored)["title"] == "Laptop programme participants"

    def test_the_owning_organizations_member_still_sees_the_contact(self, setup: dict[str, Any]) -> None:
        shown = call_action("package_show", {"user": setup["editor"]["name"]}, id=setup["dataset"]["id"])

        assert (shown["steward_name"], shown["steward_email"]) == ("Ada Lovelace", "ada.steward@example.org")


# --- activity: the dataset as it was, without the contact for those who may not see it -------------


@pytest.fixture
def changed(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    """A dataset created and then given a new steward by the organization's editor, an outsider who
    follows it, and its two activities (newest first)."""
    return kept_world(request, "steward activity", _changed_world, lambda w: database_state())


def _changed_world() -> dict[str, Any]:
    setup = _steward_world()
    editor = setup["editor"]["name"]
    dataset = factories.Dataset(
        owner_org=setup["dataset"]["owner_org"], title="Broadband survey", user=editor, **STEWARD
    )
    call_action("package_patch", {"user": editor}, id=dataset["id"], steward_name="Grace Hopper")
    group = factories.Group()
    call_action(
        "member_create",
        {"user": setup["sysadmin"]["name"]},
        id=group["id"],
        object=dataset["id"],
        object_type="package",
        capacity="public",
    )
    for follower in ("outsider", "editor"):
        call_action("follow_dataset", {"user": setup[follower]["name"]}, id=dataset["id"])
    activities = call_action("package_activity_list", {"user": setup["sysadmin"]["name"]}, id=dataset["id"])
    assert [a["activity_type"] for a in activities] == ["changed package", "new package"]
    assert activities[0]["data"]["package"]["steward_name"] == "Grace Hopper"  # the sysadmin sees it
    return {**setup, "changed": dataset, "group": group, "activities": activities}


def _carries_contact(value: Any) -> bool:
    text = json.dumps(value)
    return any(s in text for s in ("ada.steward@example.org", "Ada Lovelace", "Grace Hopper"))


NOT_SEEING = ["anonymous", "outsider", "other_admin"]


def _as(setup: dict[str, Any], who: str) -> dict[str, Any]:
    """The context of a call as that user (call_action's default is an internal call, which sees all)."""
    return {"user": "" if who == "anonymous" else setup[who]["name"], "ignore_auth": False}


@pytest.mark.usefixtures("with_plugins")
class TestStewardOutOfActivity:
    @pytest.mark.parametrize("who", NOT_SEEING)
    def test_activity_lists(self, changed: dict[str, Any], who: str) -> None:
        context = _as(changed, who)
        lists = {
            "package": call_action("package_activity_list", context, id=changed["changed"]["id"]),
            "organization": call_action(
                "organization_activity_list", context, id=changed["changed"]["owner_org"]
            ),
            "group": call_action("group_activity_list", context, id=changed["group"]["id"]),
            "user": call_action("user_activity_list", context, id=changed["editor"]["name"]),
            "recently changed": call_action("recently_changed_packages_activity_list", context),
        }
        if who == "outsider":  # follows the dataset
            lists["dashboard"] = call_action("dashboard_activity_list", context)

        for name, activities in lists.items():
            packages = [a["data"]["package"] for a in activities if "package" in a.get("data", {})]
            titles = {p["title"] for p in packages}
            assert "Broadband survey" in titles, name  # the activities are there
            assert not any(_carries_contact(p) for p in packages), name

    @pytest.mark.parametrize(("who", "sees"), [("outsider", False), ("editor", True)])
    def test_the_datasets_a_user_follows(self, changed: dict[str, Any], who: str, sees: bool) -> None:
        context = _as(changed, who)
        me = changed[who]["name"]

        followed = call_action("dataset_followee_list", context, id=me)
        everything = [
            f["dict"] for f in call_action("followee_list", context, id=me) if f["type"] == "dataset"
        ]

        for datasets in (followed, everything):
            assert [d["title"] for d in datasets] == ["Broadband survey"]
            assert _carries_contact(datasets) is sees

    @pytest.mark.parametrize("who", NOT_SEEING)
    def test_one_activity_without_its_detail(self, changed: dict[str, Any], who: str) -> None:
        activity_id = changed["activities"][0]["id"]

        shown = call_action("activity_show", _as(changed, who), id=activity_id, include_data=False)

        assert shown["data"]["package"]["title"] == "Broadband survey"  # core returns the data anyway
        assert not _carries_contact(shown)
        with pytest.raises(tk.NotAuthorized):  # the detail is for editors unless the site opens it
            call_action("activity_data_show", _as(changed, who), id=activity_id)

    @pytest.mark.ckan_config("ckan.auth.public_activity_stream_detail", True)
    @pytest.mark.parametrize("who", NOT_SEEING)
    def test_one_activity_and_its_data(self, changed: dict[str, Any], who: str) -> None:
        context = _as(changed, who)
        activity_id = changed["activities"][0]["id"]

        shown = call_action("activity_show", context, id=activity_id, include_data=True)
        data = call_action("activity_data_show", context, id=activity_id)
        package = call_action("activity_data_show", context, id=activity_id, object_type="package")

        assert shown["data"]["package"]["title"] == "Broadband survey"
        assert package["title"] == data["package"]["title"] == "Broadband survey"
        for found in (shown, data, package):
            assert not _carries_contact(found)
            assert "steward_name" not in json.dumps(found)

    @pytest.mark.ckan_config("ckan.auth.public_activity_stream_detail", True)
    @pytest.mark.parametrize("who", NOT_SEEING)
    @pytest.mark.parametrize("diff_type", ["unified", "context", "html"])
    def test_the_diff_of_a_new_steward(self, changed: dict[str, Any], who: str, diff_type: str) -> None:
        diff = call_action(
            "activity_diff",
            _as(changed, who),
            id=changed["activities"][0]["id"],
            object_type="package",
            diff_type=diff_type,
        )

        assert not _carries_contact(diff)
        assert [a["data"]["package"]["title"] for a in diff["activities"]] == ["Broadband survey"] * 2

    @pytest.mark.parametrize("who", ["editor", "sysadmin"])
    def test_the_organization_and_sysadmins_see_the_contact_in_activity(
        self, changed: dict[str, Any], who: str
    ) -> None:
        context = _as(changed, who)
        activity_id = changed["activities"][0]["id"]

        listed = call_action("package_activity_list", context, id=changed["changed"]["id"])
        package = call_action("activity_data_show", context, id=activity_id, object_type="package")
        diff = call_action("activity_diff", context, id=activity_id, object_type="package")

        assert listed[0]["data"]["package"]["steward_name"] == "Grace Hopper"
        assert listed[1]["data"]["package"]["steward_name"] == "Ada Lovelace"
        assert package["steward_email"] == "ada.steward@example.org"
        assert '-  "steward_name": "Ada Lovelace",' in diff["diff"]
        assert '+  "steward_name": "Grace Hopper",' in diff["diff"]

    @pytest.mark.ckan_config("ckan.auth.public_activity_stream_detail", True)
    def test_the_activity_pages(self, app: Any, changed: dict[str, Any]) -> None:
        activity_id = changed["activities"][0]["id"]
        name = changed["changed"]["name"]
        for path in (
            f"/dataset/activity/{name}",
            f"/dataset/changes/{activity_id}",
            f"/dataset/{name}/history/{activity_id}",
        ):
            response = app.get(path)
            assert response.status_code == 200, path
            assert "Broadband survey" in response.body, path
            assert not _carries_contact(response.body), path


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestBulkMakePublic:
    """Core's bulk "make public" set the private flag alone, past the schema: a dataset kept to its
    organization (personal data) became public while its access level still said otherwise."""

    def _org(self) -> tuple[dict[str, Any], dict[str, Any]]:
        admin = factories.UserWithToken()
        return admin, factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}])

    def test_a_dataset_kept_to_its_organization_is_refused_and_stays_private(self, app: Any) -> None:
        admin, org = self._org()
        kept = factories.Dataset(owner_org=org["id"], name="clients", access_level="organization")
        with pytest.raises(tk.NotAuthorized, match="clients"):
            call_action(
                "bulk_update_public", {"user": admin["name"]}, datasets=[kept["id"]], org_id=org["id"]
            )
        response = app.post(
            f"/organization/bulk_process/{org['name']}",
            data={f"dataset_{kept['id']}": "on", "bulk_action.public": "public"},
            headers={"Authorization": admin["token"]},
        )
        assert response.status_code == 403
        assert call_action("package_show", id=kept["id"])["private"] is True

    def test_another_organizations_datasets_are_neither_named_nor_changed(self) -> None:
        admin, org = self._org()
        other = factories.Dataset(
            owner_org=factories.Organization()["id"], name="their-clients", access_level="organization"
        )
        call_action("bulk_update_public", {"user": admin["name"]}, datasets=[other["id"]], org_id=org["id"])
        assert call_action("package_show", id=other["id"])["private"] is True

    def test_datasets_whose_access_level_is_public_are_made_public(self) -> None:
        admin, org = self._org()
        shown = factories.Dataset(owner_org=org["id"], access_level="public")
        call_action("bulk_update_private", {"user": admin["name"]}, datasets=[shown["id"]], org_id=org["id"])
        assert call_action("package_show", id=shown["id"])["private"] is True
        call_action("bulk_update_public", {"user": admin["name"]}, datasets=[shown["id"]], org_id=org["id"])
        assert call_action("package_show", id=shown["id"])["private"] is False
