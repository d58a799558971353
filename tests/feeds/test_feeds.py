"""Feeds against a partner's system played by a real HTTP server on 127.0.0.1, with the clock given
(frozen) to each run: a due feed fetched, checked and loaded, and the indicator built on it changed
(its values computed here from the served rows); unchanged content (a 304 to the conditional
request, or the same bytes) recorded and not reloaded; a failed fetch and a bad file each keeping
the old table; failures backing off and telling the organization's admins once; forbidden
addresses refused through a feed; the schedule kept in step with the resource form and API;
``cd3p_feed_show``, ``cd3p_feed_run`` (on the real worker) and the resource page.

Rows are real: each Detroit tract's households from the ACS file shipped with the demo data, and
an illustrative count of households without a computer."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ckan import model
from ckan.lib.redis import connect_to_redis
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import pull, scheduler
from ckanext.cd3p.feeds.model import Feed
from ckanext.cd3p.ingestion.model import ResourceCheck
from tests import equity, partners
from tests.helpers import poll, serving, wait_for_check, wait_for_load, worker_idle
from tests.mail import Inbox, subject
from tests.web import soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_index")

DAY = dt.timedelta(days=1)
TRACTS = 40  # of the real ACS file's Detroit tracts


class Source:
    """What the partner's system serves at /households.csv, and what it was asked."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.honour_etag = True
        self.asked: list[dict[str, str]] = []

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def _handler(source: Source) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # the name http.server calls
            if self.path == "/to-metadata":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            if self.path != "/households.csv":
                self.send_response(404)
                self.end_headers()
                return
            source.asked.append(dict(self.headers))
            if source.status != 200:
                self.send_response(source.status)
                self.end_headers()
                return
            if source.honour_etag and self.headers.get("If-None-Match") == source.etag():
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("ETag", source.etag())
            self.send_header("Content-Length", str(len(source.body)))
            self.end_headers()
            self.wfile.write(source.body)

    return Handler


@pytest.fixture
def source() -> Iterator[tuple[Source, str]]:
    served = Source()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))) as base:
        yield served, base


def rows(share: float) -> list[dict[str, Any]]:
    """The first Detroit tracts of the ACS file: households, and ``share`` of them without a computer
    (illustrative counts)."""
    found = []
    for r in equity.acs_rows():
        households = equity.num(r["households"])
        if r["geoid"] in geography.tracts() and households and households >= 100:
            found.append(
                {"geoid": r["geoid"], "households": int(households), "no_computer": round(households * share)}
            )
        if len(found) == TRACTS:
            break
    return found


def csv(table: list[dict[str, Any]]) -> bytes:
    lines = ["geoid,households,no_computer"] + [
        f"{r['geoid']},{r['households']},{r['no_computer']}" for r in table
    ]
    return ("\n".join(lines) + "\n").encode()


V1, V2 = rows(0.20), rows(0.12)


@pytest.fixture
def feed(partner: dict[str, Any], source: tuple[Source, str]) -> dict[str, Any]:
    """The partner's public dataset with a daily feed of its households table (loaded once, as every
    new link is), and an indicator registered on it."""
    served, base = source
    served.body = csv(V1)
    editor = {"user": partner["editor"]["name"]}
    dataset = call_action(
        "package_create",
        editor,
        name="eastside-households-feed",
        title="Eastside households (feed)",
        owner_org=partner["org"]["id"],
        update_frequency="daily",
        geography_level="tract",
        contains_personal_data="no",
    )
    resource = call_action(
        "resource_create",
        editor,
        package_id=dataset["id"],
        name="Households by tract",
        url=f"{base}/households.csv",
        format="CSV",
        geo_key_column="geoid",
        geo_key_level="tract",
        refresh_frequency="daily",
    )
    assert wait_for_load(resource["id"])["report"]["load"]["state"] == "complete"
    call_action(
        "cd3p_indicator_source_create",
        {"user": partners.site_user()},
        id="eastside-feed",
        dataset=dataset["name"],
        resource=resource["name"],
        key="geoid",
        vintage="Feed",
        citation="Eastside households feed (illustrative)",
        indicators=[
            {
                "id": "feed-no-computer",
                "title": "Households without a computer (feed)",
                "description": "Illustrative.",
                "topic": "devices",
                "unit": "percent",
                "direction": "higher",
                "column": "no_computer",
                "kind": "count",
                "weight_column": "households",
                "weight_label": "households",
            }
        ],
    )
    row = model.Session.get(Feed, resource["id"])
    assert row is not None
    return {
        "dataset": dataset,
        "resource": resource,
        "served": served,
        "base": base,
        "created": row.created,
        **partner,
    }


def table(resource_id: str) -> list[dict[str, Any]]:
    found = call_action("datastore_search", resource_id=resource_id, limit=1000, sort="geoid")
    return [
        {"geoid": r["geoid"], "households": int(r["households"]), "no_computer": int(r["no_computer"])}
        for r in found["records"]
    ]


def indicator() -> dict[str, float]:
    return {v["id"]: v["value"] for v in equity.show("feed-no-computer")["values"] if v["value"] is not None}


def expected(table_rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["geoid"]: pytest.approx(100 * r["no_computer"] / r["households"]) for r in table_rows}


def shown(resource_id: str, user: str = "") -> dict[str, Any]:
    return call_action("cd3p_feed_show", {"user": user, "ignore_auth": False}, id=resource_id)


def checks_of(resource_id: str) -> int:
    return model.Session.query(ResourceCheck).filter_by(resource_id=resource_id).count()


def by_geoid(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(table_rows, key=lambda r: r["geoid"])


def test_a_due_feed_is_fetched_and_loaded_and_unchanged_content_is_not_reloaded(feed: dict[str, Any]) -> None:
    rid, served = feed["resource"]["id"], feed["served"]
    assert table(rid) == by_geoid(V1)
    assert indicator() == expected(V1)
    t0 = feed["created"]
    assert shown(rid)["next_fetch"] == (t0 + DAY).isoformat()  # the link was loaded at once already
    assert pull.due(now=t0 + DAY - dt.timedelta(seconds=1)) == []
    assert pull.due(now=t0 + DAY) == [rid]

    served.body = csv(V2)
    assert pull.run_due(now=t0 + DAY) == {"loaded": 1}
    assert table(rid) == by_geoid(V2)
    assert indicator() == expected(V2)  # the indicator built on the table changed with it
    found = shown(rid)
    assert found["fetches"][0]["outcome"] == "loaded"
    assert found["fetches"][0]["message"] == f"Loaded {TRACTS} rows."
    assert found["fetches"][0]["sha256"] == hashlib.sha256(csv(V2)).hexdigest()
    assert (found["last_fetch"], found["next_fetch"]) == ((t0 + DAY).isoformat(), (t0 + 2 * DAY).isoformat())
    assert pull.run_due(now=t0 + DAY + dt.timedelta(hours=1)) == {}  # not due again yet

    before = checks_of(rid)
    assert pull.run_due(now=t0 + 2 * DAY) == {"unchanged": 1}  # a 304 to If-None-Match
    assert served.asked[-1].get("If-None-Match") == served.etag()
    served.honour_etag = False  # a server that always sends the file: the same bytes
    assert pull.run_due(now=t0 + 3 * DAY) == {"unchanged": 1}
    assert checks_of(rid) == before  # neither was checked or loaded again
    assert table(rid) == by_geoid(V2)
    outcomes = [(f["outcome"], f["message"][:30]) for f in shown(rid)["fetches"]]
    assert outcomes == [
        ("unchanged", "The same content as the last f"),
        ("unchanged", "Not modified since the last fe"),
        ("loaded", f"Loaded {TRACTS} rows."),
    ]


@pytest.mark.usefixtures("with_request_context")  # the e-mail is rendered here
def test_a_failed_fetch_or_a_bad_file_keeps_the_table_backs_off_and_tells_the_admins_once(
    feed: dict[str, Any], inbox: Inbox
) -> None:
    rid, served = feed["resource"]["id"], feed["served"]
    inbox.clear()
    now = feed["created"] + DAY

    served.status = 500
    assert pull.run_due(now=now) == {"failed": 1}
    found = shown(rid)
    assert found["fetches"][0]["message"] == "The server answered 500"
    assert found["failures"] == 1
    assert found["next_fetch"] == (now + 2 * DAY).isoformat()  # twice the period
    assert table(rid) == by_geoid(V1) and indicator() == expected(V1)

    now += 2 * DAY
    served.status = 200
    bad = [dict(r) for r in V2]
    bad[3]["geoid"] = "26163999999"  # no such tract
    served.body = csv(bad)
    assert pull.run_due(now=now) == {"failed": 1}
    found = shown(rid)
    assert found["fetches"][0]["message"] == (
        "Not loaded: the file failed its check. 1 geography code is not known ('26163999999', row 5)."
    )
    assert found["fetches"][0]["check_id"]
    assert found["next_fetch"] == (now + 4 * DAY).isoformat()
    assert table(rid) == by_geoid(V1) and indicator() == expected(V1)  # the old table is kept
    assert inbox.messages == []  # two failures: nobody told yet

    now += 4 * DAY
    served.status = 503
    assert pull.run_due(now=now) == {"failed": 1}
    assert shown(rid)["next_fetch"] == (now + 7 * DAY).isoformat()  # at most four periods or a week
    told = [(m["To"].split("<")[-1].rstrip(">"), subject(m)) for m in inbox.messages]
    assert told == [(feed["admin"]["email"], "Feed failing: Households by tract")]
    body = inbox.messages[0].get_payload(decode=True).decode()
    assert "has failed 3 times in a row" in body and "The server answered 503" in body

    now += 7 * DAY
    assert pull.run_due(now=now) == {"failed": 1}
    assert len(inbox.messages) == 1  # told once for this run of failures
    assert shown(rid)["failures"] == 4

    now += 7 * DAY
    served.status = 200
    served.body = csv(V2)
    assert pull.run_due(now=now) == {"loaded": 1}
    found = shown(rid)
    assert (found["failures"], found["next_fetch"]) == (0, (now + DAY).isoformat())
    assert table(rid) == by_geoid(V2) and indicator() == expected(V2)
    assert [f["outcome"] for f in found["fetches"]] == ["loaded", "failed", "failed", "failed", "failed"]
    row = model.Session.get(Feed, rid)
    model.Session.refresh(row)
    assert row.notified is False  # the next run of failures is told again


def test_only_the_last_ten_fetches_are_kept(feed: dict[str, Any]) -> None:
    rid, now = feed["resource"]["id"], feed["created"]
    for day in range(1, 13):
        pull.run_due(now=now + day * DAY)
    fetches = shown(rid)["fetches"]
    assert len(fetches) == 10
    assert fetches[0]["started"] == (now + 12 * DAY).isoformat()
    assert fetches[-1]["started"] == (now + 3 * DAY).isoformat()


def test_forbidden_addresses_are_refused_through_a_feed(
    feed: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = {"user": feed["editor"]["name"]}
    redirected = call_action(
        "resource_create",
        editor,
        package_id=feed["dataset"]["id"],
        url=feed["base"] + "/to-metadata",
        format="CSV",
        refresh_frequency="hourly",
    )
    # The link's first load is refused too, by the same rule (ingestion/checks.py, on the worker).
    check = wait_for_check(redirected["id"])
    assert check["state"] == "failed" and "169.254.169.254" in check["report"]["error"]
    private = call_action(
        "resource_create",
        editor,
        package_id=feed["dataset"]["id"],
        url="http://10.1.2.3/households.csv",
        format="CSV",
        refresh_frequency="hourly",
    )
    wait_for_check(private["id"])
    later = feed["created"] + DAY
    for resource_id, shown_address in ((redirected["id"], "169.254.169.254"), (private["id"], "10.1.2.3")):
        done = pull.run(resource_id, now=later)
        assert done is not None and done.outcome == "failed"
        assert shown_address in done.message and "refused" in done.message

    # Without the tests' allow-list, their own server (loopback, by address or by name) is refused.
    feed["served"].asked.clear()
    monkeypatch.setitem(ckan_config, "ckanext.cd3p.feeds.allowed_hosts", [])
    for url in (
        feed["base"] + "/households.csv",
        feed["base"].replace("127.0.0.1", "localhost") + "/households.csv",
    ):
        model.Session.get(Feed, feed["resource"]["id"]).url = url
        model.Resource.get(feed["resource"]["id"]).url = url
        model.Session.commit()
        done = pull.run(feed["resource"]["id"], now=later)
        assert done is not None and done.outcome == "failed" and "refused" in done.message, url
    assert feed["served"].asked == []  # the server was never asked by a feed
    assert table(feed["resource"]["id"]) == by_geoid(V1)


def test_the_schedule_follows_the_resource_form_and_api(feed: dict[str, Any]) -> None:
    editor = {"user": feed["editor"]["name"]}
    rid = feed["resource"]["id"]
    with pytest.raises(tk.ValidationError) as refused:
        call_action("resource_patch", editor, id=rid, refresh_frequency="fortnightly")
    assert refused.value.error_dict["refresh_frequency"] == [
        "Must be one of: hourly, daily, weekly, monthly, or empty"
    ]
    with pytest.raises(tk.ValidationError) as refused:
        call_action("resource_patch", editor, id=rid, refresh_frequency=["daily"])
    assert "refresh_frequency" in refused.value.error_dict
    assert shown(rid)["frequency"] == "daily"

    call_action("resource_patch", editor, id=rid, refresh_frequency="weekly")
    found = shown(rid)
    assert found["frequency"] == "weekly"
    assert found["next_fetch"] == (feed["created"] + 7 * DAY).isoformat()
    assert call_action("resource_show", id=rid)["refresh_frequency"] == "weekly"

    call_action("resource_patch", editor, id=rid, refresh_frequency="")
    assert shown(rid)["frequency"] is None
    assert model.Session.get(Feed, rid) is None
    with pytest.raises(tk.ValidationError) as refused:
        call_action("cd3p_feed_run", editor, id=rid)
    assert refused.value.error_dict == {"id": ["This resource has no refresh schedule"]}


def test_an_uploaded_file_cannot_be_a_feed(feed: dict[str, Any], put: Any) -> None:
    with pytest.raises(tk.ValidationError) as refused:
        put(csv(V1), "households.csv", feed["dataset"], refresh_frequency="daily")
    assert refused.value.error_dict["refresh_frequency"] == [
        "Only a resource linked by URL can be fetched on a schedule"
    ]
    worker_idle()


def test_editors_fetch_now_on_the_worker_and_others_may_not(feed: dict[str, Any]) -> None:
    rid, served = feed["resource"]["id"], feed["served"]
    for who in ("member",):
        with pytest.raises(tk.NotAuthorized):
            call_action("cd3p_feed_run", {"user": feed[who]["name"], "ignore_auth": False}, id=rid)
    with pytest.raises(tk.NotAuthorized):
        call_action("cd3p_feed_run", {"user": "", "ignore_auth": False}, id=rid)
    assert shown(rid)["fetches"] == []

    served.body = csv(V2)
    answer = call_action("cd3p_feed_run", {"user": feed["editor"]["name"], "ignore_auth": False}, id=rid)
    assert answer["queued"] is True
    found = poll(
        lambda: (model.Session.expire_all(), shown(rid)["fetches"])[1], timeout=90, what="the worker fetched"
    )
    assert [(f["outcome"], f["asked"]) for f in found] == [("loaded", True)]
    assert table(rid) == by_geoid(V2)
    with pytest.raises(tk.ValidationError) as refused:  # at most one a minute
        call_action("cd3p_feed_run", {"user": feed["admin"]["name"], "ignore_auth": False}, id=rid)
    assert refused.value.error_dict == {"id": ["A fetch of this feed was asked for less than a minute ago"]}
    worker_idle()


def test_the_scheduler_queues_the_feeds_due_and_the_worker_fetches_them(feed: dict[str, Any]) -> None:
    rid = feed["resource"]["id"]
    row = model.Session.get(Feed, rid)
    row.next_fetch = utcnow() - dt.timedelta(seconds=1)  # due now, by the worker's clock
    model.Session.commit()
    feed["served"].body = csv(V2)
    connect_to_redis().delete(scheduler.KEY_PREFIX + "feeds")
    feeds_task = tuple(t for t in scheduler.TASKS if t.name == "feeds")
    assert scheduler.tick(feeds_task) == ["feeds"]
    found = poll(
        lambda: (model.Session.expire_all(), shown(rid)["fetches"])[1], timeout=90, what="the worker fetched"
    )
    assert [(f["outcome"], f["asked"]) for f in found] == [("loaded", False)]
    assert table(rid) == by_geoid(V2)
    worker_idle()


def test_the_resource_page_shows_the_feed_and_editors_may_fetch_it(feed: dict[str, Any], app: Any) -> None:
    rid, now = feed["resource"]["id"], feed["created"] + DAY
    feed["served"].status = 500
    pull.run(rid, now=now)
    feed["served"].status, feed["served"].body = 200, csv(V2)
    pull.run(rid, now=now + DAY)
    url = f"/dataset/{feed['dataset']['name']}/resource/{rid}"

    page = soup(app.get(url, headers={"Authorization": feed["editor"]["token"]}, status=200))
    section = page.select_one("section.cd3p-feed")
    assert section is not None and section["data-frequency"] == "daily" and section["data-failures"] == "0"
    cells = [td.get_text(" ", strip=True) for td in section.select("tr[data-outcome=failed] td")]
    assert cells[1:4] == ["Failed", "The server answered 500", "—"]
    cells = [td.get_text(" ", strip=True) for td in section.select("tr[data-outcome=loaded] td")]
    assert cells[1:4] == ["Loaded", f"Loaded {TRACTS} rows.", f"{len(csv(V2)):,} bytes"]
    assert "Next fetch: " + (now + 2 * DAY).strftime("%Y-%m-%d %H:%M:%S UTC") in section.get_text(
        " ", strip=True
    )
    assert section.select_one("form.cd3p-feed-run button").get_text(strip=True) == "Fetch now"

    public = soup(app.get(url, status=200)).select_one("section.cd3p-feed")
    assert public is not None and public.select_one("form.cd3p-feed-run") is None
    member = soup(app.get(url, headers={"Authorization": feed["member"]["token"]}, status=200))
    assert member.select_one("form.cd3p-feed-run") is None
    app.post(url + "/feed", headers={"Authorization": feed["member"]["token"]}, status=403)
