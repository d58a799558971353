"""Template helpers of freshness and feeds: a dataset's freshness for its badge (the dataset page
and search results), the label of a state, the freshness of the source datasets of indicator and
impact pages, and a resource's feed for its page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import pages
from ckanext.cd3p.feeds import changes, freshness, pull


def cd3p_freshness(pkg_dict: dict[str, Any] | None) -> dict[str, Any] | None:
    """The freshness of a dataset dict the page already read (``state``, ``last_change``,
    ``due_at``, ``frequency``): the recorded changes are read once per request, whatever the number
    of datasets on the page."""
    if not isinstance(pkg_dict, dict) or not pkg_dict.get("id"):
        return None
    change = changes.recorded().get(pkg_dict["id"], (None, "fresh"))[0]
    return freshness.of_dict(pkg_dict, change)


def cd3p_freshness_label(state: str | None) -> str:
    """The readable name of a freshness state."""
    return freshness.labels().get(state or "", state or "")


def cd3p_freshness_of_datasets(names: Iterable[str] | None) -> list[dict[str, Any]]:
    """The freshness of each dataset named (``cd3p_freshness_show`` in the visitor's name, each
    once); those the visitor may not read are left out."""
    user = tk.current_user.name if tk.current_user.is_authenticated else ""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in names or []:
        if not isinstance(name, str) or name in seen:
            continue
        seen.add(name)
        try:
            found.append(tk.get_action("cd3p_freshness_show")({"user": user}, {"id": name}))
        except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError):
            continue
    return found


def cd3p_freshness_of_indicator(indicator_id: str | None) -> list[dict[str, Any]]:
    """The freshness of the source datasets of an indicator (an index: of its components)."""
    from ckanext.cd3p.indicators import registry

    reg = registry.registry()
    if reg.index is not None and indicator_id == reg.index.id:
        ids = [i for ids in reg.index.components.values() for i in ids]
    else:
        ids = [indicator_id] if indicator_id in reg.indicators else []
    names = []
    for ind_id in ids:
        ind = reg.indicators.get(ind_id)
        if ind is None:
            continue
        for source_id in (ind.source, ind.weight.source):
            if source_id in reg.sources:
                names.append(reg.sources[source_id].dataset)
    return cd3p_freshness_of_datasets(names)


def cd3p_freshness_frequency_label(code: str | None) -> str:
    """The label of an update frequency ("Weekly")."""
    return freshness.frequency_label(code)


def cd3p_feed(resource_id: str | None) -> dict[str, Any] | None:
    """The resource's feed (``cd3p_feed_show`` in the visitor's name), with ``may_run`` (whether
    the visitor may fetch it now); None when the resource is not a feed or may not be seen."""
    if not isinstance(resource_id, str) or not resource_id:
        return None
    try:
        found = pages.call("cd3p_feed_show", {"id": resource_id})
    except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError):
        return None
    if not found["frequency"]:
        return None
    may_run = pages.allowed("cd3p_feed_run", {"id": resource_id})
    return {**found, "may_run": may_run, "label": pull.labels()[found["frequency"]]}


def cd3p_feed_outcome_label(outcome: str | None) -> str:
    """The readable name of a fetch's outcome."""
    return pull.outcome_labels().get(outcome or "", outcome or "")
