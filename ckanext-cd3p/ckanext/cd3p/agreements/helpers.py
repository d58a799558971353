"""Template helpers of the agreement gate: the user's organizations and the notices of what they
must still sign or acknowledge."""

from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.common.memo import remembered


def _my_organizations() -> list[dict[str, Any]]:
    """Organizations the logged-in user is a member of, each with ``capacity`` (cached per request).

    For a sysadmin organization_list_for_user lists every organization as "admin"; only the ones
    they actually belong to count here.
    """
    user = tk.current_user
    if not user.is_authenticated:
        return []
    return remembered("agreements", ("organizations", user.name), lambda: _organizations_of(user))


def _organizations_of(user: Any) -> list[dict[str, Any]]:
    orgs = tk.get_action("organization_list_for_user")(
        {"user": user.name}, {"id": user.name, "permission": "read"}
    )
    if user.sysadmin:
        # One query for the memberships they really have (not one role look-up per organization).
        roles = dict(
            model.Session.query(model.Member.group_id, model.Member.capacity).filter(
                model.Member.table_name == "user",
                model.Member.table_id == user.id,
                model.Member.state == "active",
            )
        )
        orgs = [{**org, "capacity": roles[org["id"]]} for org in orgs if org["id"] in roles]
    return orgs


def cd3p_is_member(org_id: str) -> bool:
    """Whether the logged-in user belongs to the organization (id or name)."""
    return any(org_id in (org["id"], org["name"]) for org in _my_organizations())


def cd3p_agreement_notices() -> list[dict[str, Any]]:
    """What the banner says to the logged-in user about their organizations' signatures.

    Each notice has ``kind``: ``grace`` (signed an older version, rights kept until ``grace_end``;
    shown to every member), ``unsigned`` or ``lapsed`` (no rights; shown to the organization's
    admins, who can sign), plus ``organization`` (its dict), ``status`` (cd3p_agreement_status)
    and ``sign_url``.
    """
    user = tk.current_user
    if not user.is_authenticated:
        return []
    return remembered("agreements", ("notices", user.name), lambda: _notices_for(user))


def _notices_for(user: Any) -> list[dict[str, Any]]:
    notices = []
    status_of = tk.get_action("cd3p_agreement_status")
    for org in sorted(_my_organizations(), key=lambda o: (o.get("title") or o["name"]).lower()):
        try:
            status = status_of({"user": user.name}, {"organization_id": org["id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            continue
        if not status.get("active_version"):
            continue  # nothing to sign yet
        if status["current"] and status["stale"]:
            kind = "grace"
        elif not status["current"] and org.get("capacity") == "admin":
            kind = "lapsed" if status["stale"] else "unsigned"
        else:
            continue
        notices.append(
            {
                "kind": kind,
                "organization": org,
                "status": status,
                "sign_url": tk.h.url_for("cd3p.organization_agreement", id=org["name"]),
            }
        )
    return notices
