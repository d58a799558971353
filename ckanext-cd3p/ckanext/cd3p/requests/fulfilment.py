"""A new-data request linked to a dataset its requester cannot read yet (closing it as fulfilled
with that dataset, ``cd3p_data_request_close``) is fulfilled when the dataset becomes visible to
the requester: checked whenever the dataset is updated (the plugin's ``after_dataset_update``),
with one indexed query for the open requests linked to it, and a look at each of those.

A dataset that becomes visible to a requester in another way (the requester joins the
organization, or their organization signs the agreement) fulfils the request at the dataset's next
change.
"""

from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.requests import notify, rules
from ckanext.cd3p.requests.model import OPEN_STATES, DataRequest


def link(row: DataRequest, dataset: model.Package) -> None:
    """Links an open new-data request to the dataset that will fulfil it; the assigned
    organization is then at work on it."""
    row.dataset_id = dataset.id
    if row.state == "assigned":
        row.state = "in_progress"


def fulfil(row: DataRequest, dataset_id: str, by: str) -> None:
    """Closes the request as fulfilled by the dataset (in the caller's transaction)."""
    row.fulfilled_dataset_id = dataset_id
    row.state = "fulfilled"
    row.closed = row.updated = utcnow()
    row.closed_by = by


def dataset_changed(context: Any, dataset_id: str) -> list[DataRequest]:
    """Fulfils the open new-data requests linked to the dataset that its requesters can now read
    (in the transaction of the change, committed with it); returns them."""
    linked = (
        model.Session.query(DataRequest)
        .filter(
            DataRequest.kind == "new_data",
            DataRequest.dataset_id == dataset_id,
            DataRequest.state.in_(OPEN_STATES),
        )
        .all()
    )
    done = [row for row in linked if rules.reads(row.requester_name, dataset_id)]
    if not done:
        return done
    actor = rules.user(context.get("user")) or rules.user(
        tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    )
    for row in done:
        fulfil(row, dataset_id, actor.name if actor else "")
        if actor is not None:
            notify.closed(row, actor)
    return done
