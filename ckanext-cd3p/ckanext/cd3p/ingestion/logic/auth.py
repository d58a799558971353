"""Auth functions of the checks (the dataset's editors; the queue is for sysadmins) and the chained
``datastore_search_sql``, which refuses raw tables of suppressed counts to those outside the tier."""

from __future__ import annotations

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from ckanext.cd3p.common import auth, inputs
from ckanext.cd3p.ingestion import suppression

# --- checks before loading -----------------------------------------------------------------------


def _resource_editor(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Those who may change the resource's dataset (its organization's editors and admins, sysadmins):
    the check's report names columns that look personal, so it is not for every reader."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    resource = model.Resource.get(ref) if ref else None
    if resource is None:
        return auth.refuse(tk._("Resource not found"))
    try:
        tk.check_access("package_update", dict(context), {"id": resource.package_id})
    except tk.NotAuthorized:
        return auth.refuse(tk._("Only editors of the dataset can see or act on its file checks"))
    return auth.ALLOWED


cd3p_resource_check_show = _resource_editor


cd3p_resource_check_run = _resource_editor


cd3p_resource_mark_personal = _resource_editor


cd3p_resource_check_list = auth.sysadmins_only


cd3p_resource_check_release = auth.sysadmins_only


# --- small-cell suppression ---------------------------------------------------------------------


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(next_auth: AuthFunction, context: Context, data_dict: DataDict | None) -> AuthResult:
    """Core's check (read access to every table the query's plan reads, given as ``table_names``),
    after ours: outside the partner tier and the dataset's organization, a table with suppressed
    small counts is read through its public view only (see :func:`suppression.refused_tables`)."""
    sql = str((data_dict or {}).get("sql") or "")
    refused = suppression.refused_tables(context, context.get("table_names") or [], sql)
    if refused:
        return auth.refuse(
            tk._("This table has suppressed small counts; query its public view {name} instead.").format(
                name=suppression.view_name(refused[0])
            )
        )
    return next_auth(context, data_dict)
