"""E-mail delivery shared by every feature's notifications (``ckanext.cd3p.notifications``).

A feature says who is told and renders a plain-text template of its own; delivery uses CKAN's mailer
and ``smtp.*`` options. A failure is logged and never undoes or fails the action that caused it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import flask_babel
from ckan import authz, model
from ckan.lib import mailer
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config

log = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])


def in_site_language(notification: _F) -> _F:
    """Writes a notification's subject and body in the portal's language (``ckan.locale_default``),
    whoever's request sends it: CKAN keeps no language per user, and the person told is rarely the
    one acting."""

    @functools.wraps(notification)
    def written(*args: Any, **kwargs: Any) -> Any:
        with flask_babel.force_locale(tk.config.get("ckan.locale_default") or "en"):
            return notification(*args, **kwargs)

    return written  # type: ignore[return-value]


def send(users: Iterable[model.User | None], subject: str, template: str, **extra: Any) -> None:
    """E-mails each user, once, the template rendered for them, when notifications are on.

    The template gets ``user`` (the recipient), ``site_url`` and ``extra``. Users that are None or
    have no e-mail address are skipped; a user whose message cannot be rendered or delivered is
    logged and skipped.
    """
    if not config.notifications():
        return
    seen: set[str] = set()
    for user in users:
        if not user or not user.email or user.id in seen:
            continue
        seen.add(user.id)
        try:
            body = tk.render(template, {"user": user, "site_url": tk.config.get("ckan.site_url"), **extra})
            mailer.mail_user(user, subject, body)
        except Exception:  # delivery must never fail the action; the log says what happened
            log.exception("cd3p: could not e-mail %s about %s", user.name, subject)


def sysadmins() -> list[model.User]:
    """The active sysadmins."""
    return model.Session.query(model.User).filter_by(sysadmin=True, state="active").all()


def org_admins(org_id: str) -> list[model.User]:
    """The active admins of the organization (by id or name)."""
    admin_ids = authz.get_group_or_org_admin_ids(org_id)
    return (
        model.Session.query(model.User)
        .filter(model.User.id.in_(admin_ids), model.User.state == "active")
        .all()
    )
