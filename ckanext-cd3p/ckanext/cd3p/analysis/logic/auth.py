"""Auth functions of the analysis workspace. Running a query is open to anyone: every table it
reads is checked with the caller's own ``datastore_search`` authorization before it runs
(``analysis/runner.py``)."""

from __future__ import annotations

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.analysis.model import SavedQuery
from ckanext.cd3p.common import auth, inputs


@tk.auth_allow_anonymous_access
def cd3p_query_run(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; the action refuses a table the caller may not read."""
    return auth.ALLOWED


# --- saved queries --------------------------------------------------------------------------------


def cd3p_saved_query_create(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user (under their own profile)."""
    return auth.logged_in(context)


def cd3p_saved_query_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user: the list holds their own saved queries."""
    return auth.logged_in(context)


@tk.auth_allow_anonymous_access
def cd3p_saved_query_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone with the link: its name and spec (what it returns is computed in the viewer's rights)."""
    return auth.ALLOWED


def cd3p_saved_query_delete(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Its owner (and sysadmins). An id that names no saved query passes, for the action to answer
    it with ObjectNotFound."""
    logged_in = auth.logged_in(context)
    if not logged_in["success"]:
        return logged_in
    ref = inputs.text_id((data_dict or {}).get("id"))
    row = model.Session.get(SavedQuery, ref) if ref else None
    user = model.User.get(context.get("user") or "")
    if row is not None and (user is None or row.user_id != user.id):
        return auth.refuse(tk._("Only its owner can delete a saved query"))
    return auth.ALLOWED


# --- derived resources ----------------------------------------------------------------------------


def cd3p_query_save(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Logged-in users; the action checks that they may add a resource to the dataset
    (``resource_create``, with the agreement gate) and read every table of the query."""
    return auth.logged_in(context)


def _derived_resource(data_dict: DataDict | None) -> model.Resource:
    ref = inputs.text_id((data_dict or {}).get("id"))
    resource = model.Resource.get(ref) if ref else None
    if resource is None or resource.state != "active":
        raise tk.ObjectNotFound(tk._("Resource not found"))
    return resource


def _delegated(
    context: Context, data_dict: DataDict | None, auth_name: str, refusal: str, of_dataset: bool = False
) -> AuthResult:
    """The derived resource's own rule: core's ``auth_name`` on it (``id``) or on its dataset."""
    resource = _derived_resource(data_dict)
    target = {"id": resource.package_id if of_dataset else resource.id}
    try:
        tk.check_access(auth_name, dict(context), target)
    except tk.NotAuthorized:
        return auth.refuse(refusal)
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_derived_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Whoever may see the derived resource (``resource_show``)."""
    return _delegated(context, data_dict, "resource_show", tk._("You may not see this resource"))


def cd3p_derived_refresh(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Those who may change the derived resource's dataset (``package_update``)."""
    return _delegated(
        context,
        data_dict,
        "package_update",
        tk._("Only editors of the dataset can refresh its derived resources"),
        of_dataset=True,
    )
