"""Auth functions of freshness and feeds: one per action. CKAN lets sysadmins through every auth function."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth, inputs


@tk.auth_allow_anonymous_access
def cd3p_freshness_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Whoever may see the dataset (``package_show``)."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    if not ref:
        return auth.refuse(tk._("No dataset given"))
    try:
        tk.check_access("package_show", dict(context), {"id": ref})
    except tk.NotAuthorized:
        return auth.refuse(tk._("You may not see this dataset"))
    return auth.ALLOWED


def cd3p_freshness_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Sysadmins."""
    return auth.sysadmins_only(context, data_dict)


@tk.auth_allow_anonymous_access
def cd3p_feed_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Whoever may see the resource (``resource_show``)."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    if not ref:
        return auth.refuse(tk._("No resource given"))
    try:
        tk.check_access("resource_show", dict(context), {"id": ref})
    except tk.NotAuthorized:
        return auth.refuse(tk._("You may not see this resource"))
    return auth.ALLOWED


def cd3p_feed_run(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Whoever may edit the resource (``resource_update``: the dataset's editors)."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    if not ref:
        return auth.refuse(tk._("No resource given"))
    try:
        tk.check_access("resource_update", dict(context), {"id": ref})
    except tk.NotAuthorized:
        return auth.refuse(tk._("You may not edit this resource"))
    return auth.ALLOWED
