"""E-mail notifications of the partner workflow (``ckanext.cd3p.notifications``).

Bodies are plain-text templates in ``templates/cd3p/agreements/emails/``. Delivery is
``common/notify.py``'s: a failure is logged and never undoes or fails the action that caused it.
"""

from __future__ import annotations

from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.agreements.model import MembershipRequest, PartnerApplication
from ckanext.cd3p.common.notify import in_site_language, org_admins, send, sysadmins


@in_site_language
def application_received(application: PartnerApplication) -> None:
    send(
        sysadmins(),
        tk._("New partner application: {org}").format(org=application.organization_title),
        "cd3p/agreements/emails/application_received.txt",
        application=application,
    )


@in_site_language
def application_decided(application: PartnerApplication) -> None:
    send(
        [model.User.get(application.user_id)],
        (
            tk._("Your partner application for {org} was approved")
            if application.state == "approved"
            else tk._("Your partner application for {org} was rejected")
        ).format(org=application.organization_title),
        "cd3p/agreements/emails/application_decided.txt",
        application=application,
    )


@in_site_language
def request_received(row: MembershipRequest) -> None:
    send(
        org_admins(row.organization_id),
        tk._("{user} asks to join {org}").format(user=row.user_name, org=row.organization_name),
        "cd3p/agreements/emails/request_received.txt",
        request=row,
    )


@in_site_language
def request_decided(row: MembershipRequest) -> None:
    send(
        [model.User.get(row.user_id)],
        (
            tk._("Your request to join {org} was approved")
            if row.state == "approved"
            else tk._("Your request to join {org} was rejected")
        ).format(org=row.organization_name),
        "cd3p/agreements/emails/request_decided.txt",
        request=row,
    )
