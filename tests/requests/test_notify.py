"""E-mail about data requests, delivered to a real SMTP server (aiosmtpd) on 127.0.0.1: who is
told of each event, what they are told, and that an access request reaches only those who may see
it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.mail import Inbox, body, free_port, subject
from tests.requests.world import act

pytestmark = pytest.mark.usefixtures("with_plugins", "with_request_context")


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """A signed partner with two admins and an editor, a sysadmin, a requester, two followers, and
    the partner's organization-only dataset; everyone with an e-mail address named after them."""
    world: dict[str, Any] = {
        name: factories.User(email=f"{name}@example.org")
        for name in ("resident", "neighbour", "cousin", "admin", "admin2", "editor")
    }
    world["sysadmin"] = factories.Sysadmin(email="sysadmin@example.org")
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    partners.join(world["org"], world["admin2"], "admin")
    partners.join(world["org"], world["editor"], "editor")
    world["closed"] = factories.Dataset(
        owner_org=world["org"]["id"], title="Device recipients", access_level="organization"
    )
    return world


def _told(inbox: Inbox) -> list[str]:
    """Who the messages since the last call went to, by the name before the @, sorted (a person
    told twice appears twice); the messages are then forgotten."""
    names = sorted(address.split("@")[0] for address in inbox.recipients())
    inbox.clear()
    return names


def _url(request: dict[str, Any]) -> str:
    return f"{tk.config['ckan.site_url'].rstrip('/')}/data-requests/{request['id']}"


def _new(w: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {
        "title": "Broadband subscriptions by block",
        "description": "For Osborn & Denby's blocks",
        "addressed_to": w["org"]["name"],
        **fields,
    }
    return act("cd3p_data_request_create", w["resident"], **data)


def test_a_new_data_request_tells_the_people_concerned_at_each_step(w: dict[str, Any], inbox: Inbox) -> None:
    inbox.clear()
    request = _new(w)
    (first, _) = inbox.messages
    assert _told(inbox) == ["admin", "admin2"]  # the partner asked: its admins, not its editor
    assert subject(first) == "New data request: Broadband subscriptions by block"
    text = body(first)
    assert "Broadband subscriptions by block" in text
    assert "For Osborn & Denby's blocks" in text  # plain text, not HTML-escaped
    assert f"{w['resident']['name']} asks Eastside Connect for new data" in text
    assert _url(request) in text

    for name in ("neighbour", "cousin", "admin2"):  # a follower who is also an admin is told once
        act("cd3p_data_request_follow", w[name], id=request["id"])
    call_action("user_delete", {"user": w["sysadmin"]["name"]}, id=w["cousin"]["id"])  # no longer active
    assert _told(inbox) == []

    act("cd3p_data_request_assign", w["sysadmin"], id=request["id"], organization_id=w["org"]["id"])
    subjects = {subject(m) for m in inbox.messages}
    assert subjects == {"Data request assigned to Eastside Connect: Broadband subscriptions by block"}
    assert _url(request) in body(inbox.messages[0])
    assert f"{w['sysadmin']['name']} assigned" in body(inbox.messages[0])
    assert _told(inbox) == ["admin", "admin2", "neighbour", "resident"]  # not the sysadmin who did it

    act("cd3p_data_request_comment", w["admin"], id=request["id"], text="We have it for 2025 <soon>.")
    (comment, *_) = inbox.to("resident@example.org")
    assert subject(comment) == "New comment on data request: Broadband subscriptions by block"
    assert "We have it for 2025 <soon>." in body(comment)
    assert f"{w['admin']['name']} commented" in body(comment)
    assert _url(request) in body(comment)
    assert _told(inbox) == ["admin2", "neighbour", "resident"]  # not its author

    act("cd3p_data_request_comment", w["resident"], id=request["id"], text="Thank you!")
    assert _told(inbox) == ["admin", "admin2", "neighbour"]

    act(
        "cd3p_data_request_close",
        w["admin"],
        id=request["id"],
        outcome="declined",
        reason="Only the State keeps these counts",
    )
    (declined, *_) = inbox.to("neighbour@example.org")
    assert subject(declined) == "Data request declined: Broadband subscriptions by block"
    assert "Reason:\nOnly the State keeps these counts" in body(declined)
    assert _url(request) in body(declined)
    assert _told(inbox) == ["admin2", "neighbour", "resident"]

    act("cd3p_data_request_reopen", w["resident"], id=request["id"])
    (reopened, *_) = inbox.to("admin@example.org")
    assert subject(reopened) == "Data request reopened: Broadband subscriptions by block"
    assert f"{w['resident']['name']} reopened" in body(reopened)
    assert _told(inbox) == ["admin", "admin2", "neighbour"]

    other = _new(w, title="Broadband subscriptions, again")
    inbox.clear()
    act(
        "cd3p_data_request_close",
        w["admin2"],
        id=request["id"],
        outcome="duplicate",
        duplicate_of=other["id"],
    )
    (duplicate, *_) = inbox.to("resident@example.org")
    assert subject(duplicate) == "Data request closed as a duplicate: Broadband subscriptions by block"
    assert f"as a duplicate of {_url(other)}" in body(duplicate)
    assert _told(inbox) == ["admin", "neighbour", "resident"]


def test_a_request_to_the_city_tells_the_sysadmins(w: dict[str, Any], inbox: Inbox) -> None:
    inbox.clear()
    assert not model.User.get(partners.site_user()).email  # a sysadmin with no address
    gone = factories.Sysadmin(email="gone@example.org")
    call_action("user_delete", {"user": w["sysadmin"]["name"]}, id=gone["id"])
    request = act(
        "cd3p_data_request_create",
        w["resident"],
        title="Street lights out, by month",
        description="Since 2020",
    )
    (message,) = inbox.messages
    assert "the City for new data" in body(message)
    assert _url(request) in body(message)
    assert _told(inbox) == ["sysadmin"]


def test_an_access_request_reaches_only_those_who_may_see_it(w: dict[str, Any], inbox: Inbox) -> None:
    inbox.clear()
    request = act(
        "cd3p_data_request_create",
        w["resident"],
        kind="access",
        title="Device recipients",
        description="Rows for our district",
        dataset_id=w["closed"]["name"],
        purpose="Plan next year's device drive",
    )
    (message, _) = inbox.messages
    assert subject(message) == "Access request: Device recipients"
    assert "Plan next year's device drive" in body(message)
    assert "asks Eastside Connect for access to the dataset Device recipients" in body(message)
    assert _told(inbox) == ["admin", "admin2"]

    with pytest.raises(tk.NotAuthorized):  # one who may not see it cannot follow it
        act("cd3p_data_request_follow", w["neighbour"], id=request["id"])
    # An admin follows it, then is made an editor: they follow it still, and may no longer see it.
    act("cd3p_data_request_follow", w["admin2"], id=request["id"])
    act("cd3p_data_request_follow", w["sysadmin"], id=request["id"])
    call_action(
        "organization_member_create",
        {"user": partners.site_user()},
        id=w["org"]["id"],
        username=w["admin2"]["name"],
        role="editor",
    )
    assert act("cd3p_data_request_show", w["sysadmin"], id=request["id"])["follower_count"] == 2

    act("cd3p_data_request_comment", w["resident"], id=request["id"], text="It is for the library.")
    assert _told(inbox) == ["admin", "sysadmin"]
    act("cd3p_data_request_comment", w["admin"], id=request["id"], text="Which district?")
    assert _told(inbox) == ["resident", "sysadmin"]
    act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="declined", reason="Not yet")
    assert _told(inbox) == ["resident", "sysadmin"]


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run in the block."""
    run: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        run.append(statement)

    engine = model.Session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield run
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_the_recipients_take_the_same_queries_however_many_they_are(w: dict[str, Any], inbox: Inbox) -> None:
    request = _new(w)
    act("cd3p_data_request_follow", w["neighbour"], id=request["id"])
    inbox.clear()
    with _statements() as few:
        act("cd3p_data_request_comment", w["admin"], id=request["id"], text="One")
    assert _told(inbox) == ["admin2", "neighbour", "resident"]
    for number in range(5):
        follower = factories.User(email=f"follower{number}@example.org")
        act("cd3p_data_request_follow", follower, id=request["id"])
    inbox.clear()
    with _statements() as many:
        act("cd3p_data_request_comment", w["admin"], id=request["id"], text="Two")
    assert len(inbox.messages) == 8
    assert len(many) == len(few)


def test_nothing_is_sent_when_notifications_are_off(
    w: dict[str, Any], inbox: Inbox, ckan_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.notifications", False)
    inbox.clear()
    request = _new(w)
    act("cd3p_data_request_follow", w["neighbour"], id=request["id"])
    act("cd3p_data_request_assign", w["admin"], id=request["id"], organization_id=w["org"]["id"])
    act("cd3p_data_request_comment", w["admin"], id=request["id"], text="Soon")
    act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="declined", reason="No")
    act("cd3p_data_request_reopen", w["resident"], id=request["id"])
    assert inbox.messages == []


def test_an_unreachable_smtp_server_does_not_fail_the_actions(
    w: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.notifications", True)
    request = _new(w)
    act("cd3p_data_request_assign", w["admin"], id=request["id"], organization_id=w["org"]["id"])
    act("cd3p_data_request_comment", w["admin"], id=request["id"], text="Soon")
    act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="declined", reason="No")
    shown = act("cd3p_data_request_show", w["resident"], id=request["id"])
    assert (shown["state"], len(shown["comments"])) == ("declined", 1)
