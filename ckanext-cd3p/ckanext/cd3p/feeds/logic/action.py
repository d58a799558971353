"""Actions of freshness and feeds: a dataset's freshness, the list of datasets past due, a
resource's feed and a fetch of it now.

Every action checks access first (``logic/auth.py``), then validates its input with the schema of
the same name in ``logic/schema.py``. The rules are ``feeds/freshness.py``'s and ``feeds/pull.py``'s.
"""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p.common import actions
from ckanext.cd3p.feeds import changes, daily, freshness, pull
from ckanext.cd3p.feeds.logic import schema


@tk.side_effect_free
def cd3p_freshness_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A dataset's freshness, from its update frequency and its last data change (whoever may see
    the dataset).

    :param id: the dataset's id or name
    :returns: ``id``, ``name``, ``title``, ``state`` (``fresh``, ``due``, ``overdue`` or ``delinquent``),
        ``last_change`` and ``due_at`` (ISO 8601, UTC; ``due_at`` is null for a frequency that is
        never due: as needed, never, none), ``frequency``
    """
    tk.check_access("cd3p_freshness_show", context, data_dict)
    data = actions.validate(data_dict, schema.freshness_show(), context)
    dataset = tk.get_action("package_show")(dict(context), {"id": data["id"]})
    found = freshness.of_dict(dataset, changes.recorded_change(dataset["id"]))
    return {
        "id": dataset["id"],
        "name": dataset["name"],
        "title": dataset.get("title") or dataset["name"],
        **found,
    }


@tk.side_effect_free
def cd3p_freshness_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The datasets past due (due, overdue or delinquent), oldest first (the earliest ``due_at``),
    with their organization and data steward (sysadmins).

    :param limit: at most this many (100 unless given, at most 1,000)
    :param offset: skip this many
    :returns: ``count`` and ``results`` (``id``, ``name``, ``title``, ``type``, ``organization``
        (``id``, ``name``, ``title``, or null), ``steward_name``, ``steward_email``, ``state``,
        ``last_change``, ``due_at``, ``frequency``)
    """
    tk.check_access("cd3p_freshness_list", context, data_dict)
    data = actions.validate(data_dict, schema.freshness_list(), context)
    found = daily.past_due()
    return {"count": len(found), "results": found[data["offset"] : data["offset"] + data["limit"]]}


@tk.side_effect_free
def cd3p_feed_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A resource's feed: its refresh schedule, its last and next fetch, and its last ten fetches
    with what came of each and why (whoever may see the resource).

    :param id: the resource's id
    :returns: ``resource_id``, ``frequency`` (``hourly``, ``daily``, ``weekly``, ``monthly``, or null
        for a resource that is not a feed), ``url``, ``last_fetch`` and ``next_fetch`` (ISO 8601, UTC),
        ``failures`` (in a row, now), ``fetches`` (newest first: ``started``, ``seconds``,
        ``outcome`` (``unchanged``, ``loaded``, ``held`` or ``failed``), ``message``, ``size``,
        ``sha256``, ``check_id``, ``asked``: fetched at an editor's request)
    """
    tk.check_access("cd3p_feed_show", context, data_dict)
    data = actions.validate(data_dict, schema.feed_show(), context)
    resource = tk.get_action("resource_show")(dict(context), {"id": data["id"]})
    return pull.describe(resource["id"])


def cd3p_feed_run(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Fetches the resource's feed now, on the worker, whatever its schedule (the dataset's
    editors). Unchanged content is not reloaded; new content is checked and loaded.

    :param id: the resource's id
    :returns: the feed as ``cd3p_feed_show`` answers it, with ``queued``: true
    :raises ValidationError: the resource has no refresh schedule, or a fetch was asked for less
        than a minute ago
    """
    tk.check_access("cd3p_feed_run", context, data_dict)
    data = actions.validate(data_dict, schema.feed_run(), context)
    resource = tk.get_action("resource_show")(dict(context), {"id": data["id"]})
    found = pull.describe(resource["id"])
    if not found["frequency"]:
        raise tk.ValidationError({"id": [tk._("This resource has no refresh schedule")]})
    if not pull.queue_run(resource["id"], by=context.get("user") or ""):
        raise tk.ValidationError({"id": [tk._("A fetch of this feed was asked for less than a minute ago")]})
    return {**pull.describe(resource["id"]), "queued": True}
