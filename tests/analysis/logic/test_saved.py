"""The saved-query actions: a query saved under its owner's profile in its canonical form, listed for
them alone (newest first), shown to anyone with its id, deleted by its owner or a sysadmin; the
refusals (visitors, other users, a bad name or spec, an unknown id, the cap of saved queries)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.analysis.logic import action as analysis_action
from tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")

ANONYMOUS: dict[str, Any] = {"user": "", "ignore_auth": False}
SPEC = {
    "resource_id": "26163-tracts",
    "sort": ["geoid"],
    "aggregates": [{"fn": "count"}],
    "group_by": ["geoid"],
}


def _as(user: dict[str, Any]) -> dict[str, Any]:
    return {"user": user["name"], "ignore_auth": False}


def test_a_query_is_saved_in_its_canonical_form_and_listed_for_its_owner_only() -> None:
    owner, other = factories.User(), factories.User()
    first = call_action("cd3p_saved_query_create", _as(owner), name="  Tracts  ", spec=SPEC)
    assert first["name"] == "Tracts" and first["user_name"] == owner["name"]
    assert first["spec"] == {
        "resource_id": "26163-tracts",
        "columns": [],
        "filters": [],
        "group_by": ["geoid"],
        "aggregates": [{"fn": "count", "as": "count"}],
        "sort": [{"column": "geoid", "desc": False}],
        "limit": 100,
        "offset": 0,
    }
    assert "user_id" not in first
    second = call_action("cd3p_saved_query_create", _as(owner), name="Second", spec=json.dumps(SPEC))
    assert second["spec"] == first["spec"]

    listed = call_action("cd3p_saved_query_list", _as(owner))
    assert [q["id"] for q in listed] == [second["id"], first["id"]]
    assert call_action("cd3p_saved_query_list", _as(other)) == []

    for context in (_as(other), ANONYMOUS):
        shown = call_action("cd3p_saved_query_show", dict(context), id=first["id"])
        assert (shown["name"], shown["spec"], shown["user_name"]) == ("Tracts", first["spec"], owner["name"])


def test_refusals() -> None:
    owner, other = factories.User(), factories.User()
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_saved_query_create", dict(ANONYMOUS), name="x", spec=SPEC)
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_saved_query_list", dict(ANONYMOUS))
    bad = [
        ({"spec": SPEC}, "name"),
        ({"name": " ", "spec": SPEC}, "name"),
        ({"name": "x" * 201, "spec": SPEC}, "name"),
        ({"name": 7, "spec": SPEC}, "name"),
        ({"name": "x"}, "spec"),
        ({"name": "x", "spec": "not json"}, "spec"),
        (
            {"name": "x", "spec": {**SPEC, "filters": [{"column": "a", "op": "like", "value": 1}]}},
            "filters[0].op",
        ),
    ]
    for data, key in bad:
        with pytest.raises(tk.ValidationError) as error:
            call_action("cd3p_saved_query_create", _as(owner), **data)
        assert key in error.value.error_dict, (data, error.value.error_dict)
    saved = call_action("cd3p_saved_query_create", _as(owner), name="Mine", spec=SPEC)
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_saved_query_show", dict(ANONYMOUS), id="no-such-query")
    with pytest.raises(tk.ValidationError):
        call_action("cd3p_saved_query_show", dict(ANONYMOUS), id="")
    for context in (_as(other), ANONYMOUS):
        with pytest.raises(tk.NotAuthorized):
            call_action("cd3p_saved_query_delete", dict(context), id=saved["id"])
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_saved_query_delete", _as(owner), id="no-such-query")
    assert call_action("cd3p_saved_query_show", dict(ANONYMOUS), id=saved["id"])["name"] == "Mine"


def test_the_owner_or_a_sysadmin_deletes() -> None:
    owner = factories.User()
    sysadmin = factories.Sysadmin()
    mine = call_action("cd3p_saved_query_create", _as(owner), name="Mine", spec=SPEC)
    theirs = call_action("cd3p_saved_query_create", _as(owner), name="Theirs", spec=SPEC)
    assert call_action("cd3p_saved_query_delete", _as(owner), id=mine["id"])["name"] == "Mine"
    assert call_action("cd3p_saved_query_delete", _as(sysadmin), id=theirs["id"])["name"] == "Theirs"
    assert call_action("cd3p_saved_query_list", _as(owner)) == []
    with pytest.raises(tk.ObjectNotFound):
        call_action("cd3p_saved_query_show", dict(ANONYMOUS), id=mine["id"])


def test_a_user_keeps_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis_action, "MAX_SAVED_QUERIES", 2)
    owner = factories.User()
    for n in range(2):
        call_action("cd3p_saved_query_create", _as(owner), name=f"q{n}", spec=SPEC)
    with pytest.raises(tk.ValidationError) as error:
        call_action("cd3p_saved_query_create", _as(owner), name="one more", spec=SPEC)
    assert "delete one first" in error.value.error_dict["name"][0]
    # Another user has their own.
    call_action("cd3p_saved_query_create", _as(factories.User()), name="theirs", spec=SPEC)
