"""Auth functions of the indicators: reading is open to everyone (the DataStore's own rules then
apply to each source table); changing the registered sources is for sysadmins."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth

# --- indicators ---------------------------------------------------------------------------------


@tk.auth_allow_anonymous_access
def cd3p_indicator_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_indicator_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; the values come through datastore_search in the caller's name, which checks the
    source tables' own access."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_place_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; indicators whose source the caller may not read are withheld by the action."""
    return auth.ALLOWED


cd3p_indicator_refresh = auth.sysadmins_only


# Registering a source changes what every visitor's pages compute: the City's data team decides.
cd3p_indicator_source_create = auth.sysadmins_only


cd3p_indicator_source_delete = auth.sysadmins_only


cd3p_indicator_source_list = auth.sysadmins_only
