"""Access grants: approving an access request opens the dataset to its requester (search, page,
DataStore, download) and to nobody else, until the grant expires or is revoked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from ckanext.cd3p import config
from tests import factories, partners
from tests.requests.world import act, closed_dataset
from tests.web import Browser, person

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")


@pytest.fixture
def w(agreement: dict[str, Any], app: Any) -> dict[str, Any]:
    """A signed partner's organization-only dataset with a DataStore table, its admin, a resident
    who asks for access (and acknowledged the agreement), and a neighbour who did not ask."""
    world: dict[str, Any] = {
        "admin": factories.User(),
        "resident": person(),
        "neighbour": person(),
        "app": app,
    }
    partners.acknowledge(world["resident"])
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    world["closed"], world["resource"] = closed_dataset(world["org"])
    return world


def _approve(w: dict[str, Any]) -> dict[str, Any]:
    request = act(
        "cd3p_data_request_create",
        w["resident"],
        kind="access",
        title="Device recipients",
        description="Our district's rows",
        dataset_id=w["closed"]["name"],
        purpose="Plan next year's device drive",
    )
    return act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="fulfilled")


def reads(user: dict[str, Any], w: dict[str, Any]) -> dict[str, bool]:
    """What the user can reach of the dataset: search, page (package_show), the DataStore."""

    def allowed(action: str, **data: Any) -> bool:
        try:
            act(action, user, **data)
        except tk.NotAuthorized:
            return False
        return True

    found = act("package_search", user, q=f"id:{w['closed']['id']}", include_private=True)["count"]
    browser = Browser(w["app"], user)
    dataset, resource = w["closed"]["id"], w["resource"]["id"]
    return {
        "search": found == 1,
        "page": allowed("package_show", id=dataset),
        "datastore": allowed("datastore_search", resource_id=resource),
        # the web page, the file (a link: its download is the redirect to it) and the table's CSV
        "web": browser.get(f"/dataset/{w['closed']['name']}").status_code == 200,
        "download": browser.get(f"/dataset/{dataset}/resource/{resource}/download").status_code == 302,
        "dump": browser.get(f"/datastore/dump/{resource}").status_code == 200,
    }


NOTHING = dict.fromkeys(("search", "page", "datastore", "web", "download", "dump"), False)
EVERYTHING = dict.fromkeys(NOTHING, True)


def test_an_approved_request_opens_the_dataset_to_its_requester_only(app: Any, w: dict[str, Any]) -> None:
    assert reads(w["resident"], w) == NOTHING
    closed = _approve(w)
    assert (closed["state"], closed["fulfilled_dataset_id"]) == ("fulfilled", w["closed"]["id"])

    assert reads(w["resident"], w) == EVERYTHING
    assert reads(w["neighbour"], w) == NOTHING
    rows = act("datastore_search", w["resident"], resource_id=w["resource"]["id"])["records"]
    assert [r["tract"] for r in rows] == ["26163500100"]
    # The dataset's page, through the web, for the grantee; a 404 for the neighbour.
    assert Browser(app, w["resident"]).get(f"/dataset/{w['closed']['name']}").status_code == 200
    assert Browser(app, w["neighbour"]).get(f"/dataset/{w['closed']['name']}").status_code == 404

    (grant,) = act("cd3p_access_grant_list", w["resident"], mine=True)
    assert (grant["dataset_name"], grant["user_name"], grant["standing"]) == (
        w["closed"]["name"],
        w["resident"]["name"],
        True,
    )
    lasts = dt.datetime.fromisoformat(grant["expires"]) - dt.datetime.fromisoformat(grant["created"])
    assert lasts == dt.timedelta(days=config.grant_days()) == dt.timedelta(days=365)
    assert [g["id"] for g in act("cd3p_access_grant_list", w["admin"])] == [grant["id"]]
    assert act("cd3p_access_grant_list", w["neighbour"]) == []


def test_a_revoked_grant_stops_access_at_once(w: dict[str, Any]) -> None:
    _approve(w)
    (grant,) = act("cd3p_access_grant_list", w["admin"])
    with pytest.raises(tk.NotAuthorized):
        act("cd3p_access_grant_revoke", w["resident"], id=grant["id"], reason="mine")
    with pytest.raises(tk.ValidationError) as error:
        act("cd3p_access_grant_revoke", w["admin"], id=grant["id"], reason=" ")
    assert set(error.value.error_dict) == {"reason"}

    revoked = act("cd3p_access_grant_revoke", w["admin"], id=grant["id"], reason="The project ended")
    assert (revoked["standing"], revoked["revoked_by"], revoked["revoke_reason"]) == (
        False,
        w["admin"]["name"],
        "The project ended",
    )
    assert reads(w["resident"], w) == NOTHING
    with pytest.raises(tk.ValidationError):
        act("cd3p_access_grant_revoke", w["admin"], id=grant["id"], reason="again")
    with pytest.raises(tk.NotAuthorized, match="not found"):
        act("cd3p_access_grant_revoke", w["admin"], id="no-such-grant", reason="x")


def test_an_expired_grant_stops_access(w: dict[str, Any]) -> None:
    _approve(w)
    assert reads(w["resident"], w) == EVERYTHING
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=config.grant_days(), hours=1)
    with freeze_time(later):
        assert reads(w["resident"], w) == NOTHING
        (grant,) = act("cd3p_access_grant_list", w["resident"])
        assert grant["standing"] is False
        assert act("cd3p_access_grant_list", w["resident"], standing=True) == []
    assert reads(w["resident"], w) == EVERYTHING  # before its expiry, it stands


def test_a_grant_and_its_revocation_are_entries_of_the_ledger(
    agreement: dict[str, Any], w: dict[str, Any]
) -> None:
    sysadmin = factories.Sysadmin()
    _approve(w)
    (grant,) = act("cd3p_access_grant_list", w["admin"])
    (entry,) = act("cd3p_signature_list", sysadmin, kind="grant")["results"]
    assert {k: entry[k] for k in ("id", "dataset_id", "dataset_name", "grantee_name", "user_name")} == {
        "id": grant["id"],
        "dataset_id": w["closed"]["id"],
        "dataset_name": w["closed"]["name"],
        "grantee_name": w["resident"]["name"],
        "user_name": w["admin"]["name"],  # who granted it, as every entry names who made it
    }
    assert entry["expires"] == grant["expires"]
    assert (entry["organization_id"], entry["agreement_id"]) == (w["org"]["id"], agreement["id"])
    # The dataset's organization sees it in its own ledger.
    own = act("cd3p_signature_list", w["admin"], organization_id=w["org"]["id"], kind="grant")
    assert [e["id"] for e in own["results"]] == [grant["id"]]
    # Only the grant's own action ends it: revoking the entry in the ledger would leave the access.
    with pytest.raises(tk.ValidationError, match="cd3p_access_grant_revoke"):
        act("cd3p_signature_revoke", sysadmin, id=grant["id"], reason="x")

    act("cd3p_access_grant_revoke", w["admin"], id=grant["id"], reason="The project ended")
    (revocation,) = act("cd3p_signature_list", sysadmin, kind="revoke")["results"]
    assert (revocation["revokes"], revocation["reason"], revocation["user_name"]) == (
        grant["id"],
        "The project ended",
        w["admin"]["name"],
    )
    assert act("cd3p_signature_list", sysadmin, kind="grant")["results"][0]["revoked"] is True
    verified = act("cd3p_ledger_verify", sysadmin)
    assert verified["valid"] is True
    # The resident's acknowledgement, the partner's signature, the grant and its revocation.
    assert verified["entries"] == act("cd3p_signature_list", sysadmin)["count"] >= 4
