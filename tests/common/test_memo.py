"""What a request remembers (common/memo.py): a user's permission labels, which CKAN asks for in every
dataset auth check, are worked out once per request, and again after the request writes anything."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.helpers import statements

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")


@pytest.fixture
def tier() -> dict[str, Any]:
    """A signed organization, a member who acknowledged, an admin, and three partner-tier datasets."""
    partners.active_agreement()
    admin = factories.User()
    org = partners.organization(admin)
    member = factories.User()
    partners.join(org, member)
    datasets = [
        factories.Dataset(owner_org=org["id"], private=True, access_level="partners", title=f"Tier {n}")
        for n in range(3)
    ]
    return {"org": org, "admin": admin, "member": member, "datasets": datasets}


def test_a_members_labels_are_read_once_per_request(tier: dict[str, Any]) -> None:
    member = {"user": tier["member"]["name"], "ignore_auth": False}
    with statements("cd3p_signature") as first:
        call_action("package_show", dict(member), id=tier["datasets"][0]["id"])
    # The ledger was read to find the member in the partner tier: one statement for the tier (the
    # active version, the organization's signature, the member's acknowledgement), one for grants...
    assert len(first) == 2, first
    assert sum("cd3p_access_grant" in s for s in first) == 1, first
    with statements("cd3p_signature") as later:
        for dataset in tier["datasets"]:
            assert call_action("package_show", dict(member), id=dataset["id"])["title"] == dataset["title"]
        found = call_action("package_search", dict(member), q="Tier", include_private=True)
    # ...and not again for three more dataset auth checks and a search in the same request.
    assert later == []
    assert found["count"] == 3


def test_a_write_in_the_request_makes_the_labels_be_read_again(tier: dict[str, Any]) -> None:
    newcomer = factories.User()
    partners.acknowledge(newcomer)
    dataset = tier["datasets"][0]["id"]
    # Someone who acknowledged the agreement but belongs to no signed organization is not in the tier...
    with pytest.raises(tk.NotAuthorized):
        call_action("package_show", {"user": newcomer["name"], "ignore_auth": False}, id=dataset)
    call_action(
        "organization_member_create",
        {"user": partners.site_user()},
        id=tier["org"]["id"],
        username=newcomer["name"],
        role="member",
    )
    # ...and is, in the same request, once a sysadmin has made them a member.
    shown = call_action("package_show", {"user": newcomer["name"], "ignore_auth": False}, id=dataset)
    assert shown["id"] == dataset


def test_a_visitor_and_a_member_are_remembered_apart(tier: dict[str, Any]) -> None:
    dataset = tier["datasets"][1]["id"]
    member = {"user": tier["member"]["name"], "ignore_auth": False}
    assert call_action("package_show", member, id=dataset)["id"] == dataset
    with pytest.raises(tk.NotAuthorized):
        call_action("package_show", {"user": "", "ignore_auth": False}, id=dataset)
    assert (
        call_action("package_search", {"user": "", "ignore_auth": False}, q="Tier", include_private=True)[
            "count"
        ]
        == 0
    )
