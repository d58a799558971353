"""Who may see what: the partner tier, and a dataset's data steward contact.

Partner tier: a dataset whose access level is "partners" is private (so CKAN's own rules give it to
the owning organization and sysadmins) and carries one more permission label, ``cd3p-partners``, which
every member of an organization with a current signature of the Data Sharing Agreement holds. Solr
filters searches by those labels and package_show (hence resource downloads and the DataStore's
searches) checks the same labels, so every way in gives one answer.

Steward contact: the steward's name and e-mail are for the owning organization's members and
sysadmins. The fields are removed from what package_show returns to others, from every
package_search result, from the datasets in activity data and in the followee lists (those
actions are chained in logic/action.py), so pages (which read through those actions) and the API
give the same answer. They are in no field of the search index that a query or a facet reads.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable
from typing import Any

from ckan import authz, model
from ckan.lib.plugins import get_permission_labels
from ckan.types import Context

STEWARD_FIELDS = ("steward_name", "steward_email")


def _user_org_ids(context: Context) -> set[str] | None:
    """The organizations the caller belongs to; None for a sysadmin or an internal call (sees all)."""
    if context.get("ignore_auth"):
        return None
    user = context.get("user") or ""
    if authz.is_sysadmin(user):
        return None
    if not user:
        return set()
    # The organizations CKAN's permission labels already name (``member-<id>``: any capacity),
    # worked out once per request for every dataset auth check.
    user_obj = context.get("auth_user_obj")
    if user_obj is None or getattr(user_obj, "name", None) != user:
        user_obj = model.User.get(user)
    if user_obj is None:
        return set()
    labels = get_permission_labels().get_user_dataset_labels(user_obj)
    return {label.removeprefix("member-") for label in labels if label.startswith("member-")}


def _may_see(pkg_dict: dict[str, Any], org_ids: set[str] | None) -> bool:
    """The rule: the steward contact is for the owning organization's members (and sysadmins and
    internal calls, whose ``org_ids`` is None)."""
    return org_ids is None or pkg_dict.get("owner_org") in org_ids


def _remove(pkg_dict: dict[str, Any]) -> None:
    """Takes the steward contact out, at the top level and from ``extras``, where CKAN's default
    schema (``use_default_schema``) and its unvalidated dictionaries keep scheming's fields."""
    for field in STEWARD_FIELDS:
        pkg_dict.pop(field, None)
    if isinstance(pkg_dict.get("extras"), list):
        pkg_dict["extras"] = [
            e for e in pkg_dict["extras"] if not (isinstance(e, dict) and e.get("key") in STEWARD_FIELDS)
        ]


def _strip(pkg_dict: dict[str, Any], org_ids: set[str] | None) -> None:
    if not _may_see(pkg_dict, org_ids):
        _remove(pkg_dict)


def hide_steward(context: Context, pkg_dict: dict[str, Any]) -> None:
    """For package_show: one membership look-up per caller and request."""
    if _carries_steward(pkg_dict):
        _strip(pkg_dict, _user_org_ids(context))


def hide_steward_in_results(results: list[dict[str, Any]]) -> None:
    """For package_search, whose hooks get no caller: results never carry the steward contact, not
    even in the stored dictionaries a caller may ask for with ``fl`` (``data_dict``,
    ``validated_data_dict``: JSON text, which package_show's cache reads too, so the index keeps it).

    The dataset page and package_show give it to those who may see it.
    """
    for pkg_dict in results:
        _remove(pkg_dict)
        _clean_stored(pkg_dict)


def _clean_stored(pkg_dict: dict[str, Any]) -> None:
    """The stored dictionaries, JSON text; ``data_dict`` holds ``validated_data_dict`` in its turn."""
    for stored in ("data_dict", "validated_data_dict"):
        if isinstance(pkg_dict.get(stored), str):
            inner = _without_steward(json.loads(pkg_dict[stored]))
            _clean_stored(inner)
            pkg_dict[stored] = json.dumps(inner)


def _without_steward(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """A copy without the steward contact, at the top level and in ``extras`` (CKAN's unvalidated
    dictionary, which the search index reads, keeps scheming's fields there)."""
    shown = dict(pkg_dict)
    _remove(shown)
    return shown


def unindex_steward(index_doc: dict[str, Any]) -> None:
    """For before_dataset_index: the steward contact is in no field Solr searches or facets.

    CKAN's index sends each of the dataset's extras as ``extras_<key>`` (text, copied into the
    ``text`` field every free-text search reads) and, unless the name is taken, as ``<key>`` (an
    indexed string, so a fielded query and a facet). Both are left out; the stored dictionaries
    (not indexed) keep the fields for package_show's cache and are cleaned in search results
    (:func:`hide_steward_in_results`).
    """
    for field in STEWARD_FIELDS:
        index_doc.pop(field, None)
        index_doc.pop(f"extras_{field}", None)


def _carries_steward(pkg_dict: dict[str, Any]) -> bool:
    extras = pkg_dict.get("extras")
    return any(field in pkg_dict for field in STEWARD_FIELDS) or (
        isinstance(extras, list)
        and any(isinstance(e, dict) and e.get("key") in STEWARD_FIELDS for e in extras)
    )


def _org_ids_once(context: Context) -> Callable[[], set[str] | None]:
    """The caller's organizations, looked up on first use only (most activities carry no contact)."""
    return functools.cache(lambda: _user_org_ids(context))


def _shown(pkg_dict: Any, org_ids: Callable[[], set[str] | None]) -> Any:
    """A dataset of an activity or a followee list as the caller may see it: a copy without the
    contact, or the dataset itself (never changed in place: an activity's dataset is its ORM data,
    which everything else in the session reads)."""
    if not isinstance(pkg_dict, dict) or not _carries_steward(pkg_dict):
        return pkg_dict
    return pkg_dict if _may_see(pkg_dict, org_ids()) else _without_steward(pkg_dict)


def hide_steward_in_activities(context: Context, activities: list[dict[str, Any]]) -> None:
    """For the activity actions: each activity's dataset (``data.package``, the whole dataset as
    it was) loses the steward contact unless the caller may see it (the same rule as
    package_show's: the owning organization's members and sysadmins). One membership look-up."""
    org_ids = _org_ids_once(context)
    for activity in activities:
        data = activity.get("data")
        if isinstance(data, dict) and "package" in data:
            shown = _shown(data["package"], org_ids)
            if shown is not data["package"]:
                activity["data"] = {**data, "package": shown}


def hide_steward_in_datasets(context: Context, pkg_dicts: list[Any]) -> list[Any]:
    """For the followee lists, whose datasets are CKAN's unvalidated dictionaries (the contact in
    ``extras``): the datasets as the caller may see them. One membership look-up."""
    org_ids = _org_ids_once(context)
    return [_shown(pkg_dict, org_ids) for pkg_dict in pkg_dicts]


def hide_steward_in_activity_data(context: Context, data: Any, object_type: str | None) -> Any:
    """For activity_data_show: its answer is the activity's data, or (with ``object_type``) one
    object of it."""
    if object_type == "package":
        return _shown(data, _org_ids_once(context))
    if not object_type and isinstance(data, dict) and "package" in data:
        shown = _shown(data["package"], _org_ids_once(context))
        return data if shown is data["package"] else {**data, "package": shown}
    return data


def hide_steward_in_diff(context: Context, diff: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """For activity_diff: the two versions lose the contact as in the activity lists, and so does
    the text of the diff, which core makes from the stored versions: when the caller may not see
    a contact they carry, it is made again from the versions they see, the way core makes it."""
    activities = diff.get("activities") or []
    object_type = data_dict.get("object_type")
    before = [(a.get("data") or {}).get(object_type) for a in activities]
    if object_type == "package":
        hide_steward_in_activities(context, activities)
    after = [(a.get("data") or {}).get(object_type) for a in activities]
    if len(after) == 2 and any(b is not a for b, a in zip(before, after, strict=True)):
        diff["diff"] = _diff_text(after, data_dict.get("diff_type") or "unified")
    return diff


def _diff_text(objects: list[Any], diff_type: str) -> str:
    """The text of a diff of two versions, as ckanext-activity's activity_diff writes it."""
    before, after = (json.dumps(obj, indent=2, sort_keys=True).split("\n") for obj in objects)
    if diff_type == "unified":
        return "\n".join(difflib.unified_diff(before, after))
    if diff_type == "context":
        return "\n".join(difflib.context_diff(before, after))
    # "html" (core refused any other type before this runs): lines wrapped for the page
    before, after = (
        [w for line in lines for w in re.findall(r".{1,70}(?:\s+|$)", line)] for lines in (before, after)
    )
    return difflib.HtmlDiff().make_table(before, after)
