"""Freshness where readers see it: the badge on dataset pages and in search results (in words, with
the last change's date), the search facet, the admin list of datasets past due (sysadmins), and
the freshness of the sources on indicator and impact pages. Frozen in time (freezegun)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ckan.tests.helpers import call_action
from freezegun import freeze_time

from ckanext.cd3p.feeds import daily, freshness
from tests import equity, factories, partners
from tests.web import PASSWORD, Browser, is_login_redirect, person, soup, text

DAY = dt.timedelta(days=1)


def _created(dataset: dict[str, Any]) -> dt.datetime:
    found = freshness.moment(dataset["metadata_created"])
    assert found is not None
    return found


@pytest.fixture
def w(agreement: dict[str, Any], clean_index: None) -> dict[str, Any]:
    """A partner publishing a weekly dataset with a steward, a monthly one and one updated as needed;
    a sysadmin and a registered user who can log in."""
    world: dict[str, Any] = {
        "admin": person(),
        "sysadmin": factories.Sysadmin(password=PASSWORD),
        "user": person(),
    }
    world["org"] = partners.organization(world["admin"], title="Eastside Connect", name="eastside")
    common = {"owner_org": world["org"]["id"]}
    world["weekly"] = factories.Dataset(
        name="hotspot-loans",
        title="Hotspot loans <b>lent</b>",
        update_frequency="weekly",
        steward_name="Dana Reyes",
        steward_email="dana.reyes@example.org",
        **common,
    )
    world["monthly"] = factories.Dataset(
        name="device-repairs", title="Device repairs", update_frequency="monthly", **common
    )
    world["as-needed"] = factories.Dataset(
        name="training-sites", title="Training sites", update_frequency="irregular", **common
    )
    world["start"] = max(_created(world[k]) for k in ("weekly", "monthly", "as-needed"))
    return world


pytestmark = pytest.mark.usefixtures("with_plugins")


def _items(page: Any) -> dict[str, str]:
    """Each search result's title and the text of its freshness badge."""
    return {
        " ".join(item.select_one(".dataset-heading a").get_text(" ", strip=True).split()): " ".join(
            item.select_one(".cd3p-freshness").get_text("", strip=False).split()
        )
        for item in page.select(".dataset-item")
    }


def test_the_facet_filters_search_and_each_result_has_its_badge(app: Any, w: dict[str, Any]) -> None:
    day = w["start"].date().isoformat()
    with freeze_time(w["start"] + 14 * DAY + dt.timedelta(hours=1)):
        daily.run()  # the weekly dataset is overdue; the monthly one is fresh until its 30th day
        result = call_action("package_search", **{"facet.field": '["freshness"]'})
        facet = result["search_facets"]["freshness"]
        assert facet["title"] == "Freshness"
        assert {i["name"]: (i["display_name"], i["count"]) for i in facet["items"]} == {
            "fresh": ("Fresh", 2),
            "overdue": ("Overdue", 1),
        }
        overdue = call_action("package_search", fq='freshness:"overdue"')
        assert [d["name"] for d in overdue["results"]] == ["hotspot-loans"]

        page = soup(app.get("/dataset/", query_string={"freshness": "overdue"}))
        assert _items(page) == {"Hotspot loans <b>lent</b>": f"Overdue: data changed {day}"}
        everything = soup(app.get("/dataset/"))
        assert _items(everything) == {
            "Hotspot loans <b>lent</b>": f"Overdue: data changed {day}",
            "Device repairs": f"Fresh: data changed {day}",
            "Training sites": f"Fresh: data changed {day}",
        }
        assert _facet(everything, "Freshness") == {"Fresh": "2", "Overdue": "1"}


def _facet(page: Any, title: str) -> dict[str, str]:
    """The items of the search page's facet of that title, with their counts."""
    (section,) = [
        s for s in page.select("section") if s.find("h2") and s.find("h2").get_text(strip=True) == title
    ]
    return {
        li.select_one(".item-label").get_text(strip=True): li.select_one(".item-count").get_text(strip=True)
        for li in section.select("li")
    }


def test_the_dataset_page_says_how_fresh_it_is(app: Any, w: dict[str, Any]) -> None:
    day = w["start"].date().isoformat()
    created = _created(w["weekly"])
    due = (created + 7 * DAY).date().isoformat()
    for age, expected in ((0, "Fresh"), (7, "Due for update"), (14, "Overdue"), (21, "Delinquent")):
        with freeze_time(w["start"] + age * DAY + dt.timedelta(hours=1)):
            line = soup(app.get("/dataset/hotspot-loans")).select_one(".cd3p-freshness-line")
        assert " ".join(line.get_text("").split()) == (
            f"Freshness: {expected}: data changed {created.date().isoformat()} "
            f"Update frequency: Weekly; next version due {due}."
        ), age
        assert line.select_one(".cd3p-freshness")["data-freshness"] == freshness.state(
            "weekly", created, w["start"] + age * DAY + dt.timedelta(hours=1)
        )
    with freeze_time(w["start"] + 400 * DAY):
        line = soup(app.get("/dataset/training-sites")).select_one(".cd3p-freshness-line")
    assert " ".join(line.get_text("").split()) == f"Freshness: Fresh: data changed {day}"


def test_the_admin_page_lists_the_datasets_past_due_oldest_first(app: Any, w: dict[str, Any]) -> None:
    sysadmin = Browser(app, w["sysadmin"])
    with freeze_time(w["start"] + 31 * DAY):
        page = sysadmin.page("/ckan-admin/freshness")
        assert "2 datasets past due." in text(sysadmin.get("/ckan-admin/freshness"))
    now = text(sysadmin.get("/ckan-admin/freshness"))
    assert "0 datasets past due." in now and "Every dataset is fresh." in now
    rows = page.select("table.cd3p-freshness-list tbody tr")
    assert [r["data-dataset"] for r in rows] == ["hotspot-loans", "device-repairs"]  # due since day 7, day 30
    cells = [[" ".join(td.get_text("").split()) for td in r.select("td")] for r in rows]
    created = _created(w["weekly"])
    assert cells[0][:3] == ["Hotspot loans <b>lent</b>", "Delinquent", "Weekly"]
    assert cells[0][3] == created.strftime("%Y-%m-%d %H:%M UTC")
    assert cells[0][4] == (created + 7 * DAY).strftime("%Y-%m-%d %H:%M UTC")
    assert cells[0][5:] == ["Eastside Connect", "Dana Reyes (dana.reyes@example.org)"]
    assert cells[1][:3] == ["Device repairs", "Due for update", "Monthly"]
    assert cells[1][6] == "None: the organization's admins are told"

    assert Browser(app, w["user"]).get("/ckan-admin/freshness").status_code == 403
    assert Browser(app, w["admin"]).get("/ckan-admin/freshness").status_code == 403
    assert is_login_redirect(Browser(app).get("/ckan-admin/freshness"))


@pytest.fixture
def sources(agreement: dict[str, Any], clean_datastore: None, clean_index: None) -> dict[str, Any]:
    """The Census sources of the indicators, weekly, without a change since they were created."""
    loaded = equity.load_sources()
    for dataset in loaded["datasets"].values():
        call_action(
            "package_patch", {"user": partners.site_user()}, id=dataset["id"], update_frequency="weekly"
        )
    return loaded


def _sources_shown(page: Any) -> dict[str, str]:
    return {
        li["data-dataset"]: " ".join(li.select_one(".cd3p-freshness").get_text("").split())
        for li in page.select(".cd3p-source-freshness li")
    }


def test_indicator_and_impact_pages_show_their_sources_freshness(app: Any, sources: dict[str, Any]) -> None:
    acs, no_internet = sources["datasets"]["tract-acs"], sources["datasets"]["tract-no-internet"]
    changed = {
        name: call_action("cd3p_freshness_show", id=d["id"])["last_change"][:10]
        for name, d in (("acs", acs), ("no", no_internet))
    }
    later = max(
        freshness.moment(call_action("cd3p_freshness_show", id=d["id"])["last_change"])
        for d in (acs, no_internet)
    )
    with freeze_time(later + 14 * DAY):
        indicator = soup(app.get("/equity/indicator/households-no-internet"))
        impact = soup(app.get("/impact", query_string={"measure": "devices_distributed"}))
    assert _sources_shown(indicator) == {
        no_internet["name"]: f"Overdue: data changed {changed['no']}",
        acs["name"]: f"Overdue: data changed {changed['acs']}",
    }
    assert _sources_shown(impact) == {acs["name"]: f"Overdue: data changed {changed['acs']}"}
