"""Auth functions of resilience: what waits for recovery is for sysadmins (CKAN lets them through
every auth function); the chained core functions keep core's rules."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context, DataDict


@tk.auth_disallow_anonymous_access
def cd3p_recovery_show(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": False, "msg": tk._("Only sysadmins may see what waits for recovery")}
