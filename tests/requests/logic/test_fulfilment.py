"""A new-data request linked to a dataset its requester cannot read yet is fulfilled when the
dataset becomes visible to them, and not before."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.plugins import toolkit as tk

from tests import factories, partners
from tests.requests.world import act

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """A resident's new-data request assigned to a signed partner, whose organization-only dataset
    is being prepared to fulfil it, and another of its datasets."""
    world: dict[str, Any] = {"resident": factories.User(), "admin": factories.User()}
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    world["draft"] = factories.Dataset(
        owner_org=world["org"]["id"], title="Hotspot loans 2026", access_level="organization"
    )
    world["other"] = factories.Dataset(
        owner_org=world["org"]["id"], title="Staff rota", access_level="organization"
    )
    request = act(
        "cd3p_data_request_create",
        world["resident"],
        title="Hotspot loans by tract",
        description="For the east side",
        addressed_to=world["org"]["name"],
    )
    act("cd3p_data_request_assign", world["admin"], id=request["id"], organization_id=world["org"]["id"])
    world["request"] = request
    return world


def _show(w: dict[str, Any]) -> dict[str, Any]:
    return act("cd3p_data_request_show", w["resident"], id=w["request"]["id"])


def test_a_linked_request_is_fulfilled_when_its_dataset_becomes_visible(w: dict[str, Any]) -> None:
    linked = act(
        "cd3p_data_request_close",
        w["admin"],
        id=w["request"]["id"],
        outcome="fulfilled",
        dataset_id=w["draft"]["name"],
    )
    assert (linked["state"], linked["dataset_id"], linked["fulfilled_dataset_id"]) == (
        "in_progress",
        w["draft"]["id"],
        None,
    )
    with pytest.raises(tk.NotAuthorized):
        act("package_show", w["resident"], id=w["draft"]["id"])
    # The dataset is named only to those who may read it; the requester learns that one is coming.
    assert (_show(w)["linked"], _show(w)["dataset_id"]) == (True, None)
    assert act("cd3p_data_request_list", None)["results"][0]["dataset_id"] is None
    admin_view = act("cd3p_data_request_show", w["admin"], id=w["request"]["id"])
    assert admin_view["dataset_id"] == w["draft"]["id"]

    # Another dataset made public, or the linked one changed but still closed: nothing happens.
    act("package_patch", w["admin"], id=w["other"]["id"], access_level="public")
    act("package_patch", w["admin"], id=w["draft"]["id"], notes="Almost ready")
    assert _show(w)["state"] == "in_progress"

    act("package_patch", w["admin"], id=w["draft"]["id"], access_level="public")
    done = _show(w)
    assert (done["state"], done["fulfilled_dataset_id"], done["closed_by"]) == (
        "fulfilled",
        w["draft"]["id"],
        w["admin"]["name"],
    )
    assert done["closed"] is not None
    assert act("package_show", w["resident"], id=w["draft"]["id"])["name"] == w["draft"]["name"]


def test_a_reopened_request_forgets_its_link(w: dict[str, Any]) -> None:
    rid = w["request"]["id"]
    act("cd3p_data_request_close", w["admin"], id=rid, outcome="fulfilled", dataset_id=w["draft"]["id"])
    act("cd3p_data_request_close", w["admin"], id=rid, outcome="declined", reason="The dataset was withdrawn")
    act("cd3p_data_request_reopen", w["resident"], id=rid)
    assert (_show(w)["state"], _show(w)["dataset_id"]) == ("assigned", None)
    # The link is gone: publishing the dataset fulfils nothing.
    act("package_patch", w["admin"], id=w["draft"]["id"], access_level="public")
    assert _show(w)["state"] == "assigned"


def test_linking_needs_the_same_rights_as_closing(w: dict[str, Any]) -> None:
    with pytest.raises(tk.NotAuthorized):
        act(
            "cd3p_data_request_close",
            w["resident"],
            id=w["request"]["id"],
            outcome="fulfilled",
            dataset_id=w["draft"]["id"],
        )
    with pytest.raises(tk.ValidationError) as error:
        act(
            "cd3p_data_request_close",
            w["admin"],
            id=w["request"]["id"],
            outcome="fulfilled",
            dataset_id="nothing",
        )
    assert set(error.value.error_dict) == {"dataset_id"}
