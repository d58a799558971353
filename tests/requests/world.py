"""What the data request tests share: actions called as a user (auth applies), and an
organization-only dataset with a one-row DataStore table to ask for."""

from __future__ import annotations

from typing import Any

from ckan.tests.helpers import call_action

from tests import factories


def as_user(user: dict[str, Any] | None) -> dict[str, Any]:
    """A context in the user's name (a visitor's for None), with auth checked."""
    return {"user": user["name"] if user else "", "ignore_auth": False}


def act(action: str, user: dict[str, Any] | None, **data: Any) -> Any:
    return call_action(action, as_user(user), **data)


def closed_dataset(org: dict[str, Any], **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An organization-only dataset of ``org`` and its resource, whose DataStore table holds one
    tract's 40 devices."""
    dataset = factories.Dataset(
        owner_org=org["id"], **{"title": "Device recipients", "access_level": "organization", **fields}
    )
    resource = factories.Resource(package_id=dataset["id"], url="http://example.com/r.csv")
    call_action(
        "datastore_create",
        resource_id=resource["id"],
        force=True,
        fields=[{"id": "tract", "type": "text"}, {"id": "devices", "type": "int"}],
        records=[{"tract": "26163500100", "devices": 40}],
    )
    return dataset, resource
