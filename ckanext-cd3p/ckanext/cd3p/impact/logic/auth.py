"""Auth functions of programme impact. The measures and the report template are public (they are
what a partner needs before reporting anything); so are the readings of reach, which count only
the programmes ``package_search`` shows the caller; a programme is shown to whoever may see its
dataset."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.cd3p.common import auth, inputs


@tk.auth_allow_anonymous_access
def cd3p_measure_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_outcome_template(context: Context, data_dict: DataDict | None) -> AuthResult:
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_programme_list(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; the list holds the programmes the caller may see."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_impact_summary(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; only the programmes the caller may see are counted, citywide."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_impact_place_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; a place's reading counts only the programmes the caller may see."""
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_programme_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Whoever may see the programme's dataset (``package_show``)."""
    ref = inputs.text_id((data_dict or {}).get("id"))
    if not ref:
        return auth.refuse(tk._("No programme given"))
    try:
        tk.check_access("package_show", dict(context), {"id": ref})
    except tk.NotAuthorized:
        return auth.refuse(tk._("You may not see this programme"))
    return auth.ALLOWED


@tk.auth_allow_anonymous_access
def cd3p_impact_show(context: Context, data_dict: DataDict | None) -> AuthResult:
    """Anyone; only the programmes the caller may see are counted, and the action refuses a
    selection that could undo the suppression of small counts (``reach.refusal``)."""
    return auth.ALLOWED
