"""E-mail notifications of data requests (``ckanext.cd3p.notifications``), one function per event,
called by the actions once their change is committed.

Who is told:

- **created**: the admins of the organization the request is addressed to; sysadmins when it is
  addressed to the City (no organization).
- **assigned**, **commented**, **closed** and **reopened**: the requester, the followers, and the
  admins of the request's organization: the one it is assigned to, else the one it is addressed
  to (an access request's: its dataset's organization, ``rules.deciding_org``); sysadmins when it
  has none (the City).

Never the person who caused the event; each person once; only active users with an e-mail address.
An access request is told only to those who may see it (``rules.may_see``): its requester, the
admins of its dataset's organization and sysadmins; a follower who is none of these (an admin since
removed, say) is left out. The recipients are found in one query (two for an access request).

Bodies are plain-text templates in ``templates/cd3p/requests/emails/``; delivery is
``common/notify.py``'s: a failure is logged and never fails the action.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config
from ckanext.cd3p.common.notify import in_site_language, send
from ckanext.cd3p.requests import rules
from ckanext.cd3p.requests.model import DataRequest, DataRequestComment, DataRequestFollower

log = logging.getLogger(__name__)

_TEMPLATES = "cd3p/requests/emails/"


def _admins(org_id: str) -> sa.Select:
    """The ids of the organization's admins (a subquery)."""
    return sa.select(model.Member.table_id).where(
        model.Member.group_id == org_id,
        model.Member.table_name == "user",
        model.Member.capacity == "admin",
        model.Member.state == "active",
    )


def _organization(row: DataRequest) -> str | None:
    """The organization whose admins are told: the deciding one for an access request; the one a
    new-data request is assigned to, else the one it is addressed to; None for the City."""
    if row.kind == "access":
        return rules.deciding_org(row)
    return row.organization_id or row.addressed_to


def _recipients(row: DataRequest, actor: model.User, people: bool = True) -> list[model.User]:
    """The admins of the request's organization (sysadmins for the City) and, with ``people``, its
    requester and followers: active, with an e-mail address, who may see the request, not ``actor``."""
    org_id = _organization(row)
    told = [model.User.id.in_(_admins(org_id)) if org_id else model.User.sysadmin.is_(True)]
    if people:
        followers = sa.select(DataRequestFollower.user_id).where(DataRequestFollower.request_id == row.id)
        told += [model.User.id == row.requester_id, model.User.id.in_(followers)]
    query = model.Session.query(model.User).filter(
        sa.or_(*told),
        model.User.state == "active",
        model.User.email.isnot(None),
        model.User.email != "",
        model.User.id != actor.id,
    )
    if row.kind == "access":  # rules.may_see, for every user at once
        seers = [model.User.sysadmin.is_(True), model.User.id == row.requester_id]
        owner = rules.dataset_org(row)
        if owner:
            seers.append(model.User.id.in_(_admins(owner)))
        query = query.filter(sa.or_(*seers))
    return query.order_by(model.User.name).all()


def _url(endpoint: str, **values: Any) -> str:
    """The absolute address of a page, in the site's default language."""
    return tk.url_for(endpoint, _external=True, locale="default", **values)


def _tell(
    row: DataRequest,
    actor: model.User,
    subject: str,
    template: str,
    people: bool = True,
    **extra: Any,
) -> None:
    """Tells the request's recipients (:func:`_recipients`) with the template, which gets the
    ``request``, its ``organization`` (None for the City), its ``dataset`` (an access request's), the
    ``actor``, the request's ``url``, the ``duplicate_url`` of the request it repeats (if any) and
    ``extra``."""
    if not config.notifications():
        return
    try:
        users = _recipients(row, actor, people)
        if not users:
            return
        org_id = _organization(row)
        org = model.Group.get(org_id) if org_id else None
        send(
            users,
            subject,
            _TEMPLATES + template,
            request=row,
            actor=actor,
            organization=org,
            dataset=model.Package.get(row.dataset_id) if row.dataset_id else None,
            url=_url("cd3p_requests.read", id=row.id),
            duplicate_url=_url("cd3p_requests.read", id=row.duplicate_of) if row.duplicate_of else None,
            **extra,
        )
    except Exception:  # never fail the action, whose change is committed already
        log.exception("cd3p: could not notify about data request %s", row.id)


@in_site_language
def created(row: DataRequest, actor: model.User) -> None:
    """A request was made: its organization's admins (sysadmins, for the City) are told."""
    subject = tk._("Access request: {title}") if row.kind == "access" else tk._("New data request: {title}")
    _tell(row, actor, subject.format(title=row.title), "created.txt", people=False)


@in_site_language
def assigned(row: DataRequest, actor: model.User) -> None:
    """A request was assigned to (or claimed by) an organization."""
    org = model.Group.get(row.organization_id) if row.organization_id else None
    subject = tk._("Data request assigned to {org}: {title}").format(
        org=org.display_name if org else row.organization_id, title=row.title
    )
    _tell(row, actor, subject, "assigned.txt")


@in_site_language
def commented(row: DataRequest, comment: DataRequestComment, actor: model.User) -> None:
    """Someone commented on a request."""
    subject = tk._("New comment on data request: {title}").format(title=row.title)
    _tell(row, actor, subject, "commented.txt", comment=comment)


@in_site_language
def closed(row: DataRequest, actor: model.User) -> None:
    """A request was closed as fulfilled, declined or duplicate. The fulfilling dataset is not
    named: some recipients may not be allowed to read it (the request page shows it to those who
    may)."""
    subjects = {
        "fulfilled": tk._("Data request fulfilled: {title}"),
        "declined": tk._("Data request declined: {title}"),
        "duplicate": tk._("Data request closed as a duplicate: {title}"),
    }
    subject = subjects.get(row.state, tk._("Data request closed: {title}")).format(title=row.title)
    _tell(row, actor, subject, "closed.txt")


@in_site_language
def reopened(row: DataRequest, actor: model.User) -> None:
    """A closed request was reopened."""
    subject = tk._("Data request reopened: {title}").format(title=row.title)
    _tell(row, actor, subject, "reopened.txt")
