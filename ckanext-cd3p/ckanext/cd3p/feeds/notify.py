"""E-mail of freshness and feeds (``ckanext.cd3p.notifications``), through ``common/notify.py``.

- **overdue**: the dataset's data steward (its ``steward_email``, who need not have an account);
  a dataset without one: its organization's admins.
- **delinquent**: every active sysadmin.
- **a feed failing** (``ckanext.cd3p.feeds.notify_after`` fetches in a row): its organization's
  admins.

Bodies are plain-text templates in ``templates/cd3p/feeds/emails/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.common import notify
from ckanext.cd3p.feeds import freshness
from ckanext.cd3p.feeds.model import Feed, FeedFetch

_TEMPLATES = "cd3p/feeds/emails/"


@dataclass(frozen=True)
class Steward:
    """A data steward as a recipient: what CKAN's mailer and ``notify.send`` read of a user."""

    id: str
    name: str
    email: str
    display_name: str


def stewards(pkg: model.Package) -> list[Any]:
    """Who is told that the dataset is overdue: its steward, else its organization's admins."""
    extras = pkg.extras or {}
    email = (extras.get("steward_email") or "").strip()
    if email:
        name = (extras.get("steward_name") or "").strip() or email
        return [Steward(id=f"steward:{email.lower()}", name=email, email=email, display_name=name)]
    return notify.org_admins(pkg.owner_org) if pkg.owner_org else []


def _site() -> str:
    return (tk.config.get("ckan.site_url") or "").rstrip("/")


@notify.in_site_language
def tell(state: str, pkg: model.Package, fresh: dict[str, Any]) -> None:
    """E-mails those told about a dataset that became ``overdue`` or ``delinquent``."""
    recipients = stewards(pkg) if state == "overdue" else notify.sysadmins()
    site = _site()
    title = pkg.title or pkg.name
    subject = tk._("{state}: {title}").format(state=freshness.labels()[state], title=title)
    notify.send(
        recipients,
        subject,
        f"{_TEMPLATES}{state}.txt",
        dataset=pkg,
        title=title,
        state_label=freshness.labels()[state],
        frequency=freshness.frequency_label(fresh["frequency"]),
        last_change=(fresh["last_change"] or "")[:10],
        due_at=(fresh["due_at"] or "")[:10],
        url=f"{site}/{pkg.type or 'dataset'}/{pkg.name}",
        admin_url=f"{site}/ckan-admin/freshness",
    )


@notify.in_site_language
def feed_failing(feed: Feed, fetched: FeedFetch) -> None:
    """E-mails the organization's admins that the feed (a ``cd3p_feed`` row) keeps failing, with
    the last fetch's reason (a ``cd3p_feed_fetch`` row)."""
    resource = model.Resource.get(feed.resource_id)
    pkg = model.Package.get(feed.dataset_id)
    if resource is None or pkg is None or not pkg.owner_org:
        return
    name = resource.name or resource.url
    notify.send(
        notify.org_admins(pkg.owner_org),
        tk._("Feed failing: {name}").format(name=name),
        f"{_TEMPLATES}feed_failing.txt",
        title=pkg.title or pkg.name,
        resource_name=name,
        feed_url=feed.url,
        failures=feed.failures,
        message=fetched.message,
        next_fetch=feed.next_fetch.strftime("%Y-%m-%d %H:%M UTC"),
        url=f"{_site()}/{pkg.type or 'dataset'}/{pkg.name}/resource/{resource.id}",
    )
