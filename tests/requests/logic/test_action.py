"""Data requests through the Action API: the lifecycle, following, the lists, who sees an access
request, and every refusal with its exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.cd3p.requests.model import DataRequest
from tests import factories, partners
from tests.requests.world import act
from tests.web import soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

MISSING = "no-such-request"


@pytest.fixture
def w(agreement: dict[str, Any]) -> dict[str, Any]:
    """A signed partner (admin, editor) and another (admin), a sysadmin, two residents, and the
    partner's public and organization-only datasets."""
    world: dict[str, Any] = {
        "sysadmin": factories.Sysadmin(),
        "resident": factories.User(),
        "neighbour": factories.User(),
        "admin": factories.User(),
        "editor": factories.User(),
        "other_admin": factories.User(),
    }
    world["org"] = partners.organization(world["admin"], title="Eastside Connect")
    partners.join(world["org"], world["editor"], "editor")
    world["other"] = partners.organization(world["other_admin"], title="Westside Labs")
    world["public"] = factories.Dataset(owner_org=world["org"]["id"], title="Hotspot loans")
    world["closed"] = factories.Dataset(
        owner_org=world["org"]["id"], title="Device recipients", access_level="organization"
    )
    assert world["closed"]["private"] is True
    return world


def _new(w: dict[str, Any], user: str = "resident", **fields: Any) -> dict[str, Any]:
    data = {"title": "Broadband subscriptions by block", "description": "For **Osborn** and Denby", **fields}
    return act("cd3p_data_request_create", w[user], **data)


def _access(w: dict[str, Any], user: str = "resident", **fields: Any) -> dict[str, Any]:
    data = {
        "kind": "access",
        "title": "Device recipients",
        "description": "Rows for our district",
        "dataset_id": w["closed"]["name"],
        "purpose": "Plan next year's device drive",
        **fields,
    }
    return act("cd3p_data_request_create", w[user], **data)


def _show(w: dict[str, Any], request: dict[str, Any], user: str | None = "sysadmin") -> dict[str, Any]:
    return act("cd3p_data_request_show", w[user] if user else None, id=request["id"])


def _errors(error: pytest.ExceptionInfo[tk.ValidationError]) -> set[str]:
    return set(error.value.error_dict)


class TestLifecycle:
    def test_create_claim_comment_close_and_reopen(self, w: dict[str, Any]) -> None:
        request = _new(w, places="Osborn, 26163501200")
        assert (request["kind"], request["state"], request["addressed_to"]) == ("new_data", "open", None)
        assert request["requester_id"] == w["resident"]["id"]
        assert request["first_response"] is None and request["follower_count"] == 0
        assert _show(w, request, None)["title"] == "Broadband subscriptions by block"  # public

        # The requester's own comment is no response; the organization's claim is.
        act("cd3p_data_request_comment", w["resident"], id=request["id"], text="Any news?")
        assert _show(w, request)["first_response"] is None
        claimed = act(
            "cd3p_data_request_assign", w["admin"], id=request["id"], organization_id=w["org"]["name"]
        )
        assert (claimed["state"], claimed["organization_id"]) == ("assigned", w["org"]["id"])
        assert claimed["first_response"] is not None

        # The assigned organization's admin answering puts it in progress.
        act("cd3p_data_request_comment", w["admin"], id=request["id"], text="We have it for 2025.")
        shown = _show(w, request, "neighbour")
        assert shown["state"] == "in_progress"
        assert [c["text"] for c in shown["comments"]] == ["Any news?", "We have it for 2025."]
        assert [c["author_name"] for c in shown["comments"]] == [w["resident"]["name"], w["admin"]["name"]]

        closed = act(
            "cd3p_data_request_close",
            w["admin"],
            id=request["id"],
            outcome="fulfilled",
            dataset_id=w["public"]["name"],
        )
        assert (closed["state"], closed["fulfilled_dataset_id"]) == ("fulfilled", w["public"]["id"])
        assert closed["closed"] is not None and closed["closed_by"] == w["admin"]["name"]

        reopened = act("cd3p_data_request_reopen", w["resident"], id=request["id"])
        assert (reopened["state"], reopened["fulfilled_dataset_id"], reopened["closed"]) == (
            "assigned",
            None,
            None,
        )

        declined = act(
            "cd3p_data_request_close", w["admin"], id=request["id"], outcome="declined", reason="Not ours"
        )
        assert (declined["state"], declined["decline_reason"]) == ("declined", "Not ours")
        act("cd3p_data_request_reopen", w["admin"], id=request["id"])

        first = _new(w, "neighbour")
        duplicate = act(
            "cd3p_data_request_close",
            w["admin"],
            id=request["id"],
            outcome="duplicate",
            duplicate_of=first["id"],
        )
        assert (duplicate["state"], duplicate["duplicate_of"]) == ("duplicate", first["id"])
        reopened = act("cd3p_data_request_reopen", w["sysadmin"], id=request["id"])
        assert (reopened["state"], reopened["duplicate_of"]) == ("assigned", None)

    def test_a_sysadmin_assigns_and_closes(self, w: dict[str, Any]) -> None:
        request = _new(w, addressed_to=w["other"]["name"])
        assert request["addressed_to"] == w["other"]["id"]
        assigned = act(
            "cd3p_data_request_assign", w["sysadmin"], id=request["id"], organization_id=w["org"]["id"]
        )
        assert assigned["organization_id"] == w["org"]["id"]
        # The new organization's admins now decide; the other's no longer.
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_close", w["other_admin"], id=request["id"], outcome="declined", reason="x")
        unassigned = _new(w)
        closed = act(
            "cd3p_data_request_close", w["sysadmin"], id=unassigned["id"], outcome="declined", reason="No"
        )
        assert closed["state"] == "declined" and closed["organization_id"] is None
        assert act("cd3p_data_request_reopen", w["resident"], id=unassigned["id"])["state"] == "open"

    def test_the_requester_changes_the_words_while_open(self, w: dict[str, Any]) -> None:
        request = _new(w, places="Osborn")
        changed = act(
            "cd3p_data_request_update", w["resident"], id=request["id"], title="Subscriptions", places=""
        )
        assert (changed["title"], changed["places"], changed["description"]) == (
            "Subscriptions",
            None,
            request["description"],
        )
        act("cd3p_data_request_assign", w["admin"], id=request["id"], organization_id=w["org"]["id"])
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_update", w["resident"], id=request["id"], title="Again")
        assert _errors(error) == {"id"}
        assert _show(w, request)["title"] == "Subscriptions"

    def test_markup_is_kept_as_text(self, w: dict[str, Any]) -> None:
        markup = "<script>alert(1)</script> **bold** [x](javascript:alert(2))"
        request = _new(w, title=markup, description=markup, places=markup)
        comment = act("cd3p_data_request_comment", w["neighbour"], id=request["id"], text=markup)
        shown = _show(w, request, None)
        assert shown["title"] == shown["description"] == shown["places"] == comment["text"] == markup
        assert shown["comments"][0]["text"] == markup


class TestFollowing:
    def test_follow_unfollow_and_the_count(self, w: dict[str, Any]) -> None:
        request = _new(w)
        assert act("cd3p_data_request_follow", w["neighbour"], id=request["id"])["follower_count"] == 1
        assert act("cd3p_data_request_follow", w["editor"], id=request["id"])["follower_count"] == 2
        assert _show(w, request, "neighbour")["following"] is True
        assert _show(w, request, "resident")["following"] is False
        assert _show(w, request, None)["follower_count"] == 2
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_follow", w["neighbour"], id=request["id"])
        assert _errors(error) == {"id"}
        assert act("cd3p_data_request_unfollow", w["neighbour"], id=request["id"])["follower_count"] == 1
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_unfollow", w["neighbour"], id=request["id"])
        assert _errors(error) == {"id"}
        listed = act("cd3p_data_request_list", None)["results"]
        assert [(r["id"], r["follower_count"]) for r in listed] == [(request["id"], 1)]

    def test_visitors_do_not_follow(self, w: dict[str, Any]) -> None:
        request = _new(w)
        for action in ("cd3p_data_request_follow", "cd3p_data_request_unfollow"):
            with pytest.raises(tk.NotAuthorized):
                act(action, None, id=request["id"])


class TestList:
    def test_filters_and_paging(self, w: dict[str, Any]) -> None:
        city = _new(w, title="City")
        addressed = _new(w, "neighbour", title="Addressed", addressed_to=w["other"]["id"])
        claimed = _new(w, "neighbour", title="Claimed")
        act("cd3p_data_request_assign", w["admin"], id=claimed["id"], organization_id=w["org"]["id"])
        _access(w)
        act("cd3p_data_request_follow", w["editor"], id=city["id"])

        def titles(user: str | None = "sysadmin", **filters: Any) -> list[str]:
            found = act("cd3p_data_request_list", w[user] if user else None, **filters)
            assert found["count"] == len(found["results"]) or "limit" in filters
            return sorted(r["title"] for r in found["results"])

        assert titles() == sorted(["City", "Addressed", "Claimed", "Device recipients"])
        assert titles(None) == ["Addressed", "City", "Claimed"]
        assert titles(state="assigned") == ["Claimed"]
        assert titles(kind="access") == ["Device recipients"]
        assert titles(kind="new_data", state="open") == ["Addressed", "City"]
        assert titles(organization_id=w["other"]["name"]) == ["Addressed"]
        assert titles(organization_id=w["org"]["id"]) == ["Claimed", "Device recipients"]
        assert titles("resident", mine=True) == ["City", "Device recipients"]
        assert titles("neighbour", mine="true") == ["Addressed", "Claimed"]
        assert titles("editor", followed=True) == ["City"]
        page = act("cd3p_data_request_list", None, limit=1, offset=1)
        assert page["count"] == 3 and len(page["results"]) == 1
        assert {r["id"] for r in act("cd3p_data_request_list", None)["results"]} == {
            city["id"],
            addressed["id"],
            claimed["id"],
        }

    def test_refusals(self, w: dict[str, Any]) -> None:
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_list", None, mine=True)
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_list", None, followed=True)
        with pytest.raises(tk.ObjectNotFound):
            act("cd3p_data_request_list", None, organization_id="no-such-org")
        for field, value in (("state", "closed"), ("kind", "other"), ("mine", "perhaps"), ("limit", 5000)):
            with pytest.raises(tk.ValidationError) as error:
                act("cd3p_data_request_list", None, **{field: value})
            assert _errors(error) == {field}


class TestAccessRequests:
    def test_who_sees_one(self, w: dict[str, Any]) -> None:
        request = _access(w)
        assert (request["dataset_id"], request["addressed_to"]) == (w["closed"]["id"], w["org"]["id"])
        for user in ("resident", "admin", "sysadmin"):
            assert _show(w, request, user)["purpose"] == "Plan next year's device drive"
            listed = act("cd3p_data_request_list", w[user])["results"]
            assert [r["id"] for r in listed] == [request["id"]]
        for user in (None, "neighbour", "editor", "other_admin"):
            with pytest.raises(tk.NotAuthorized):
                _show(w, request, user)
            assert act("cd3p_data_request_list", w[user] if user else None)["count"] == 0
            if user:
                for action in ("cd3p_data_request_comment", "cd3p_data_request_follow"):
                    with pytest.raises(tk.NotAuthorized):
                        act(action, w[user], id=request["id"], text="Me too")

    def test_declined_or_duplicate_and_fulfilled_only_for_an_acknowledging_requester(
        self, w: dict[str, Any]
    ) -> None:
        request = _access(w)
        with pytest.raises(
            tk.ValidationError, match="not acknowledged the active Data Sharing Agreement"
        ) as error:
            act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="fulfilled")
        assert _errors(error) == {"outcome"}
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_assign", w["sysadmin"], id=request["id"], organization_id=w["other"]["id"])
        assert _errors(error) == {"organization_id"}
        claimed = act(
            "cd3p_data_request_assign", w["admin"], id=request["id"], organization_id=w["org"]["id"]
        )
        assert claimed["state"] == "assigned"
        declined = act(
            "cd3p_data_request_close",
            w["admin"],
            id=request["id"],
            outcome="declined",
            reason="Personal data",
        )
        assert declined["state"] == "declined"
        again = _access(w)  # a closed one is not in the way of asking again
        act("cd3p_data_request_reopen", w["resident"], id=request["id"])
        closed = act(
            "cd3p_data_request_close",
            w["admin"],
            id=again["id"],
            outcome="duplicate",
            duplicate_of=request["id"],
        )
        assert closed["duplicate_of"] == request["id"]

    def test_refused_requests(self, w: dict[str, Any]) -> None:
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_create", w["resident"], kind="access", title="t", description="d")
        assert _errors(error) == {"dataset_id", "purpose"}
        with pytest.raises(tk.ValidationError) as error:
            _access(w, dataset_id="no-such-dataset")
        assert _errors(error) == {"dataset_id"}
        for user, dataset in (("resident", "public"), ("editor", "closed"), ("sysadmin", "closed")):
            with pytest.raises(tk.ValidationError, match="already read") as error:
                _access(w, user, dataset_id=w[dataset]["id"])
            assert _errors(error) == {"dataset_id"}
        with pytest.raises(tk.ValidationError) as error:
            _access(w, addressed_to=w["other"]["id"])
        assert _errors(error) == {"addressed_to"}
        _access(w)
        with pytest.raises(tk.ValidationError, match="already asked") as error:
            _access(w)
        assert _errors(error) == {"dataset_id"}
        with pytest.raises(tk.ValidationError) as error:
            _new(w, dataset_id=w["closed"]["id"])
        assert _errors(error) == {"dataset_id"}


class TestRefusals:
    def test_creating_needs_a_login_and_good_input(self, w: dict[str, Any]) -> None:
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_create", None, title="t", description="d")
        cases: list[tuple[dict[str, Any], str]] = [
            ({"title": "", "description": "d"}, "title"),
            ({"title": "   ", "description": "d"}, "title"),
            ({"title": "t"}, "description"),
            ({"title": ["t"], "description": "d"}, "title"),
            ({"title": "t" * 201, "description": "d"}, "title"),
            ({"title": "t", "description": "d" * 10_001}, "description"),
            ({"title": "t", "description": "a\x00b"}, "description"),
            ({"title": "t", "description": "d", "places": 7}, "places"),
            ({"title": "t", "description": "d", "kind": "gossip"}, "kind"),
            ({"title": "t", "description": "d", "addressed_to": "no-such-org"}, "addressed_to"),
        ]
        for data, field in cases:
            with pytest.raises(tk.ValidationError) as error:
                act("cd3p_data_request_create", w["resident"], **data)
            assert field in _errors(error), (data, error.value.error_dict)
        assert act("cd3p_data_request_list", w["sysadmin"])["count"] == 0

    def test_unknown_ids_are_not_found(self, w: dict[str, Any]) -> None:
        calls = {
            "cd3p_data_request_show": {},
            "cd3p_data_request_update": {"title": "x"},
            "cd3p_data_request_assign": {"organization_id": w["org"]["id"]},
            "cd3p_data_request_close": {"outcome": "declined", "reason": "x"},
            "cd3p_data_request_reopen": {},
            "cd3p_data_request_comment": {"text": "x"},
            "cd3p_data_request_follow": {},
            "cd3p_data_request_unfollow": {},
        }
        for action, data in calls.items():
            with pytest.raises(tk.ObjectNotFound):
                act(action, w["sysadmin"], id=MISSING, **data)
        with pytest.raises(tk.ObjectNotFound):
            act("cd3p_data_request_show", None, id=MISSING)

    def test_only_the_right_roles_change_a_request(self, w: dict[str, Any]) -> None:
        request = _new(w, addressed_to=w["other"]["id"])
        refused = [
            ("cd3p_data_request_update", "neighbour", {"title": "x"}),
            ("cd3p_data_request_update", "admin", {"title": "x"}),
            ("cd3p_data_request_update", None, {"title": "x"}),
            # A request addressed to another partner is theirs to claim, or a sysadmin's to assign.
            ("cd3p_data_request_assign", "admin", {"organization_id": w["org"]["id"]}),
            # One claims for one's own organization only.
            ("cd3p_data_request_assign", "admin", {"organization_id": w["other"]["id"]}),
            ("cd3p_data_request_assign", "resident", {"organization_id": w["other"]["id"]}),
            ("cd3p_data_request_assign", "editor", {"organization_id": w["org"]["id"]}),
            ("cd3p_data_request_close", "resident", {"outcome": "declined", "reason": "x"}),
            ("cd3p_data_request_close", "other_admin", {"outcome": "declined", "reason": "x"}),  # unclaimed
            ("cd3p_data_request_reopen", "neighbour", {}),
            ("cd3p_data_request_comment", None, {"text": "x"}),
        ]
        for action, user, data in refused:
            with pytest.raises(tk.NotAuthorized):
                act(action, w[user] if user else None, id=request["id"], **data)
        act("cd3p_data_request_assign", w["other_admin"], id=request["id"], organization_id=w["other"]["id"])
        # Claimed: another organization's admin cannot take it over.
        with pytest.raises(tk.NotAuthorized):
            act("cd3p_data_request_close", w["admin"], id=request["id"], outcome="declined", reason="x")
        shown = _show(w, request)
        assert (shown["state"], shown["title"], shown["comments"]) == ("assigned", request["title"], [])

    def test_closing_needs_its_outcome_and_a_closed_request(self, w: dict[str, Any]) -> None:
        request = _new(w)
        other = _new(w, "neighbour")
        hidden = _access(w, "neighbour")
        close = w["sysadmin"]
        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "outcome"),
            ({"outcome": "approved"}, "outcome"),
            ({"outcome": "declined"}, "reason"),
            ({"outcome": "declined", "reason": "   "}, "reason"),
            ({"outcome": "declined", "reason": "r" * 10_001}, "reason"),
            ({"outcome": "duplicate"}, "duplicate_of"),
            ({"outcome": "duplicate", "duplicate_of": request["id"]}, "duplicate_of"),
            ({"outcome": "duplicate", "duplicate_of": MISSING}, "duplicate_of"),
            ({"outcome": "fulfilled"}, "dataset_id"),
            ({"outcome": "fulfilled", "dataset_id": "no-such-dataset"}, "dataset_id"),
            # (A dataset not yet visible to the requester links it: test_fulfilment.py.)
        ]
        for data, field in cases:
            with pytest.raises(tk.ValidationError) as error:
                act("cd3p_data_request_close", close, id=request["id"], **data)
            assert _errors(error) == {field}, (data, error.value.error_dict)
        # An access request the closer cannot see is no request to repeat.
        act("cd3p_data_request_assign", w["sysadmin"], id=request["id"], organization_id=w["other"]["id"])
        with pytest.raises(tk.ValidationError) as error:
            act(
                "cd3p_data_request_close",
                w["other_admin"],
                id=request["id"],
                outcome="duplicate",
                duplicate_of=hidden["id"],
            )
        assert _errors(error) == {"duplicate_of"}
        with pytest.raises(tk.ValidationError) as error:
            act("cd3p_data_request_reopen", close, id=request["id"])
        assert _errors(error) == {"id"}
        act(
            "cd3p_data_request_close",
            w["other_admin"],
            id=request["id"],
            outcome="duplicate",
            duplicate_of=other["id"],
        )
        for action, data in (
            ("cd3p_data_request_close", {"outcome": "declined", "reason": "x"}),
            ("cd3p_data_request_assign", {"organization_id": w["org"]["id"]}),
            ("cd3p_data_request_update", {"title": "x"}),
        ):
            user = w["resident"] if action.endswith("update") else close
            with pytest.raises(tk.ValidationError) as error:
                act(action, user, id=request["id"], **data)
            assert _errors(error) == {"id"}
        assert _show(w, request)["state"] == "duplicate"

    def test_comments_are_checked(self, w: dict[str, Any]) -> None:
        request = _new(w)
        for text in ("", "  ", None, 5, ["x"], "c" * 10_001, "\ud800"):
            with pytest.raises(tk.ValidationError) as error:
                act("cd3p_data_request_comment", w["neighbour"], id=request["id"], text=text)
            assert _errors(error) == {"text"}
        assert _show(w, request)["comments"] == []


@pytest.mark.ckan_config("ckanext.cd3p.requests.hourly_limit", 3)
def test_a_user_may_post_so_many_requests_and_comments_an_hour(w: dict[str, Any]) -> None:
    first = _new(w)
    _new(w, title="Second")
    act("cd3p_data_request_comment", w["resident"], id=first["id"], text="Third post")
    with pytest.raises(tk.ValidationError, match="this hour") as error:
        _new(w, title="Fourth")
    assert _errors(error) == {"limit"}
    with pytest.raises(tk.ValidationError, match="this hour"):
        act("cd3p_data_request_comment", w["resident"], id=first["id"], text="Fifth")
    listed = act("cd3p_data_request_list", w["sysadmin"], mine=False)
    assert {r["title"] for r in listed["results"]} == {"Broadband subscriptions by block", "Second"}
    # Another user, and a sysadmin, are not held by the resident's count.
    _new(w, user="neighbour")
    for n in range(4):
        _new(w, user="sysadmin", title=f"City {n}")


def test_the_list_gives_the_median_days_to_a_first_response_and_to_close(w: dict[str, Any], app: Any) -> None:
    asked = [_new(w, title=f"Request {n}") for n in range(4)]
    now = dt.datetime.now(dt.UTC)
    # Asked 10 days ago each; answered after 1, 2 and 6 days (one never); closed after 3 and 9.
    timeline = [(1, 3), (2, None), (6, 9), (None, None)]
    for request, (answered, closed) in zip(asked, timeline, strict=True):
        row = model.Session.get(DataRequest, request["id"])
        row.created = now - dt.timedelta(days=10)
        row.first_response = None if answered is None else row.created + dt.timedelta(days=answered)
        row.closed = None if closed is None else row.created + dt.timedelta(days=closed)
    model.Session.commit()

    medians = act("cd3p_data_request_list", None)["median_days"]
    assert medians["first_response"] == pytest.approx(2.0)  # of 1, 2 and 6
    assert medians["close"] == pytest.approx(6.0)  # of 3 and 9
    page = soup(app.get("/data-requests"))
    assert " ".join(page.select_one(".cd3p-request-medians").get_text().split()) == (
        "Median time to a first response: 2.0 days. Median time to close: 6.0 days."
    )
    assert act("cd3p_data_request_list", None, state="declined")["median_days"] == {
        "first_response": None,
        "close": None,
    }
