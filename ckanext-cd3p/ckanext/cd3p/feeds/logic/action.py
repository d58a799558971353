"""Actions of freshness: a dataset's freshness, and the list of datasets past due.

Every action checks access first (``logic/auth.py``), then validates its input with the schema of
the same name in ``logic/schema.py``. The rule is ``feeds/freshness.py``'s.
"""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p.common import actions
from ckanext.cd3p.feeds import changes, daily, freshness
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
