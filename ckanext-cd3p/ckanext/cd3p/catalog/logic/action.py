"""The catalog's chained core actions: activity and followee lists carry the datasets as
``package_show`` would show them to the caller (no steward contact for those who may not see it)."""

from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p.catalog import visibility
from ckanext.cd3p.common import inputs

# --- activity: the datasets in it, as package_show would show them to the caller ------------------
# ckanext-activity keeps the whole dataset (package_show's, as the site user saw it) in each dataset
# activity; these actions return it. The steward contact leaves it for callers who may not see it.


# What core's activity actions would fail on instead of refusing (``id`` is required by those that
# take one: core's own message for it names no field).
_ACTIVITY_INPUTS: dict[str, Any] = {
    "ids": ("id", "object_id"),
    "numbers": ("limit", "offset"),
    "flags": ("include_hidden_activity",),
    "timestamps": ("before", "after"),
    "texts": ("object_type", "diff_type", "activity_type"),
}


def _activity_list(up_func: Action, context: Context, data_dict: DataDict, has_id: bool = True) -> Any:
    inputs.guard(data_dict, required=("id",) if has_id else (), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    visibility.hide_steward_in_activities(context, result)
    return result


def _activity_lister(has_id: bool = True) -> Action:
    """A chained activity list action: core's, with its input guarded and the steward left out."""

    @tk.side_effect_free
    @tk.chained_action
    def chained(up_func: Action, context: Context, data_dict: DataDict) -> Any:
        return _activity_list(up_func, context, data_dict, has_id)

    return chained


package_activity_list = _activity_lister()


group_activity_list = _activity_lister()


organization_activity_list = _activity_lister()


user_activity_list = _activity_lister()


dashboard_activity_list = _activity_lister(has_id=False)


recently_changed_packages_activity_list = _activity_lister(has_id=False)


@tk.side_effect_free
@tk.chained_action
def activity_show(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    visibility.hide_steward_in_activities(context, [result])
    return result


@tk.side_effect_free
@tk.chained_action
def activity_data_show(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    return visibility.hide_steward_in_activity_data(context, result, data_dict.get("object_type"))


@tk.side_effect_free
@tk.chained_action
def activity_diff(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    return visibility.hide_steward_in_diff(context, result, data_dict)


# --- followed datasets: CKAN's dictionaries of them, the contact in their extras ----------------------


@tk.side_effect_free
@tk.chained_action
def dataset_followee_list(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, ids=("id",), required=("id",))
    caller = context.copy()
    return visibility.hide_steward_in_datasets(caller, up_func(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def followee_list(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core followee_list (the dashboard's), which reads the followed datasets with core's
    dataset_followee_list itself, and sets ``ignore_auth`` in the context it is given: the caller
    is read from a copy made before."""
    inputs.guard(data_dict, ids=("id",), required=("id",), texts=("q",))
    caller = context.copy()
    followees = up_func(context, data_dict)
    datasets = [f for f in followees if f.get("type") == "dataset"]
    shown = visibility.hide_steward_in_datasets(caller, [f.get("dict") for f in datasets])
    for followee, pkg_dict in zip(datasets, shown, strict=True):
        followee["dict"] = pkg_dict
    return followees


# --- the organization's bulk "make public" ----------------------------------------------------------


@tk.chained_action
def bulk_update_public(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core's bulk "make public" sets only the private flag, by SQL, past the schema: a dataset kept
    to its organization or to partners (personal data, the partner tier) would be public while its
    access level, which the publishing gate, the personal-data rule and the suppressed views read,
    still says otherwise. Such datasets are refused (403, as core's page shows a refusal), named:
    their access level is changed on their own page, through the schema."""
    inputs.guard(data_dict, ids=("org_id",), required=("org_id",))
    datasets = data_dict.get("datasets")
    if not isinstance(datasets, list) or not all(inputs.text_id(d) for d in datasets):
        raise tk.ValidationError({"datasets": [tk._("Must be a list of dataset ids")]})
    tk.check_access("bulk_update_public", context, data_dict)
    org = model.Group.get(data_dict["org_id"])
    # Core changes only the organization's own datasets: only those are looked at, and named.
    owned = model.Session.query(model.Package).filter(
        model.Package.id.in_(datasets), model.Package.owner_org == (org.id if org else None)
    )
    kept = sorted(pkg.name for pkg in owned if pkg.extras.get("access_level") != "public")
    if kept:
        raise tk.NotAuthorized(
            tk._("Change the access level on the page of each of these datasets: {names}").format(
                names=", ".join(kept)
            )
        )
    return up_func(context, data_dict)
