"""Auth functions of the partner directory: one per action. The directory, a profile and the gaps
are public (what each caller sees of programmes is the actions' to limit); a user's partnership
is their own, so it needs a login."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth


@tk.auth_allow_anonymous_access
def cd3p_partner_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_partner_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone (an unknown organization is the action's ObjectNotFound)."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_partner_gaps(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone: the need counts are read in the caller's name, as the equity pages read them."""
    return auth.ALLOWED


def cd3p_partnership_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Any logged-in user (their own partnership)."""
    return auth.logged_in(context)
