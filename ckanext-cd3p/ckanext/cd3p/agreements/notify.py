"""E-mail notifications of the partner workflow (``ckanext.cd3p.notifications``).

Bodies are plain-text templates in ``templates/cd3p/agreements/emails/``. Delivery uses CKAN's mailer and
``smtp.*`` options; a failure is logged and never undoes or fails the action that caused it.
"""

from __future__ import annotations

import logging
from typing import Any

from ckan import authz, model
from ckan.lib import mailer
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config
from ckanext.cd3p.agreements.model import MembershipRequest, PartnerApplication

log = logging.getLogger(__name__)


def _send(users: list[model.User], subject: str, template: str, **extra: Any) -> None:
    if not config.notifications():
        return
    for user in users:
        if not user or not user.email:
            continue
        try:
            body = tk.render(template, {"user": user, "site_url": tk.config.get("ckan.site_url"), **extra})
            mailer.mail_user(user, subject, body)
        except Exception:  # delivery must never fail the action; the log says what happened
            log.exception("cd3p: could not e-mail %s about %s", user.name, subject)


def _sysadmins() -> list[model.User]:
    return model.Session.query(model.User).filter_by(sysadmin=True, state="active").all()


def _org_admins(org_id: str) -> list[model.User]:
    admin_ids = authz.get_group_or_org_admin_ids(org_id)
    return (
        model.Session.query(model.User)
        .filter(model.User.id.in_(admin_ids), model.User.state == "active")
        .all()
    )


def application_received(application: PartnerApplication) -> None:
    _send(
        _sysadmins(),
        tk._("New partner application: {org}").format(org=application.organization_title),
        "cd3p/agreements/emails/application_received.txt",
        application=application,
    )


def application_decided(application: PartnerApplication) -> None:
    _send(
        [model.User.get(application.user_id)],
        tk._("Your partner application for {org} was {state}").format(
            org=application.organization_title, state=application.state
        ),
        "cd3p/agreements/emails/application_decided.txt",
        application=application,
    )


def request_received(row: MembershipRequest) -> None:
    _send(
        _org_admins(row.organization_id),
        tk._("{user} asks to join {org}").format(user=row.user_name, org=row.organization_name),
        "cd3p/agreements/emails/request_received.txt",
        request=row,
    )


def request_decided(row: MembershipRequest) -> None:
    _send(
        [model.User.get(row.user_id)],
        tk._("Your request to join {org} was {state}").format(org=row.organization_name, state=row.state),
        "cd3p/agreements/emails/request_decided.txt",
        request=row,
    )
