"""Auth functions of programme impact: the measures and the report template are public (they are
what a partner needs before reporting anything)."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth


@tk.auth_allow_anonymous_access
def cd3p_measure_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_outcome_template(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.ALLOWED
