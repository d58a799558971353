"""Outcome reports go through the checks before loading: a good one counts as soon as its load
ends, a bad one is refused with its row numbers and the previous numbers stay."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from ckanext.cd3p.common import geography
from ckanext.cd3p.impact import outcomes, reports
from ckanext.cd3p.indicators import cache
from tests.helpers import statements, wait_for_load
from tests.impact.test_programme import PROGRAMME

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")

TRACTS = sorted(geography.tracts())[:6]
PUBLIC = {"user": "", "ignore_auth": False}


def report(
    rows: list[tuple[Any, ...]],
    columns: tuple[str, ...] = ("period", "geo_level", "geo_id", "measure", "count", "cost"),
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def expected(data: bytes, measure: str) -> dict[str, float]:
    """Outcomes per tract and in the city, read from the report file itself."""
    found: dict[str, float] = {"city": 0.0}
    for row in csv.DictReader(io.StringIO(data.decode())):
        if row["measure"] != measure:
            continue
        found["city"] += float(row["count"])
        if row["geo_level"] == "tract":
            found[row["geo_id"]] = found.get(row["geo_id"], 0.0) + float(row["count"])
    return found


GOOD = report(
    [
        ("2025-Q1", "tract", t, "devices_distributed", 20 + 3 * i, 100 * (20 + 3 * i))
        for i, t in enumerate(TRACTS)
    ]
    + [
        ("2025-Q2", "tract", TRACTS[0], "devices_distributed", 15, 1500),
        ("2025-Q2", "city", "city", "devices_distributed", 12, ""),
    ]
)


@pytest.fixture
def programme(partner: dict[str, Any]) -> dict[str, Any]:
    return call_action(
        "package_create",
        {"user": partner["editor"]["name"]},
        **{**PROGRAMME, "owner_org": partner["org"]["id"]},
    )


def shown(level: str = "tract") -> dict[str, Any]:
    return call_action("cd3p_impact_show", dict(PUBLIC), measure="devices_distributed", level=level)


def test_a_report_counts_once_loaded_and_a_bad_one_keeps_the_previous_numbers(
    programme: dict[str, Any], put: Any
) -> None:
    resource = put(GOOD, "report.csv", programme)
    check = wait_for_load(resource["id"])
    assert check["state"] == "passed", check["report"]
    assert check["report"]["outcome_report"]["rows"] == 8

    want = expected(GOOD, "devices_distributed")
    result = shown()
    got = {v["id"]: v["outcomes"] for v in result["values"] if v["outcomes"]}
    assert got == {t: want[t] for t in TRACTS}
    assert result["city"]["outcomes"] == want["city"] == sum(20 + 3 * i for i in range(6)) + 15 + 12
    assert [p["name"] for p in result["programmes"]] == [PROGRAMME["name"]]

    bad = report(
        [
            ("2025-Q1", "tract", TRACTS[0], "devices_handed_out", 5, ""),
            ("2025-Q1", "tract", TRACTS[1], "devices_distributed", -2, ""),
            ("2025-13", "tract", TRACTS[2], "devices_distributed", 4, ""),
            ("2025-Q1", "tract", "26163999999", "devices_distributed", 4, ""),
            ("2025-Q1", "tract", TRACTS[3], "devices_distributed", 2.5, ""),
        ]
    )
    again = put(bad, "report.csv", id=resource["id"])
    refused = wait_for_load(again["id"], after=check["id"])
    assert refused["state"] == "failed"
    problems = refused["report"]["outcome_report"]["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [
        (2, "measure"),
        (3, "count"),
        (4, "period"),
        (5, "geo_id"),
        (6, "count"),
    ]
    assert shown()["city"]["outcomes"] == want["city"]  # the previous numbers stay

    changed = report([("2025-Q3", "tract", t, "devices_distributed", 30, "") for t in TRACTS])
    third = put(changed, "report.csv", id=resource["id"])
    assert wait_for_load(third["id"], after=refused["id"])["state"] == "passed"
    assert shown()["city"]["outcomes"] == 30 * len(TRACTS)  # live: no refresh asked for


def test_a_partner_tier_programme_counts_only_for_those_who_may_read_it(
    partner: dict[str, Any], put: Any
) -> None:
    tier = call_action(
        "package_create",
        {"user": partner["editor"]["name"]},
        **{**PROGRAMME, "owner_org": partner["org"]["id"], "access_level": "partners"},
    )
    resource = put(SMALL, "report.csv", tier)
    assert wait_for_load(resource["id"])["state"] == "passed"

    public = shown()
    assert public["programmes"] == [] and public["city"]["outcomes"] == 0
    assert call_action("cd3p_programme_list", dict(PUBLIC)) == []

    member = {"user": partner["member"]["name"], "ignore_auth": False}
    raw = call_action("cd3p_impact_show", member, measure="devices_distributed", level="tract")
    assert [p["name"] for p in raw["programmes"]] == [PROGRAMME["name"]]
    assert {v["id"]: v["outcomes"] for v in raw["values"] if v["outcomes"]} == {TRACTS[0]: 3, TRACTS[1]: 40}
    assert not any(v["suppressed"] for v in raw["values"])


SMALL = report(
    [
        ("2025-Q1", "tract", TRACTS[0], "devices_distributed", 3, ""),
        ("2025-Q1", "tract", TRACTS[1], "devices_distributed", 40, ""),
    ]
)


def test_the_public_sees_small_counts_hidden_and_narrow_selections_only_citywide(
    programme: dict[str, Any], put: Any
) -> None:
    resource = put(SMALL, "report.csv", programme)
    assert wait_for_load(resource["id"])["state"] == "passed"

    values = {v["id"]: v for v in shown()["values"]}
    assert values[TRACTS[0]]["suppressed"] and values[TRACTS[0]]["outcomes"] is None
    # secondary: with the city total of 43 shown, 40 beside it would give the 3 back
    assert values[TRACTS[1]]["suppressed"] and values[TRACTS[1]]["outcomes"] is None
    assert shown("city")["city"]["outcomes"] == 43

    with pytest.raises(tk.NotAuthorized, match="only to partners"):
        call_action(
            "cd3p_impact_show",
            dict(PUBLIC),
            measure="devices_distributed",
            level="tract",
            period_from="2025-Q1",
        )
    city = call_action(
        "cd3p_impact_show", dict(PUBLIC), measure="devices_distributed", level="city", period_from="2025-Q1"
    )
    assert city["city"]["outcomes"] == 43

    listed = call_action("cd3p_programme_list", dict(PUBLIC))
    assert [(t["measure"], t["outcomes"]) for t in listed[0]["totals"]] == [("devices_distributed", 43)]
    page = call_action("cd3p_programme_show", dict(PUBLIC), id=programme["name"])
    assert page["measures"][0]["city"]["outcomes"] == 43
    assert [r["state"] for r in page["reports"]] == ["passed"]


# Devices: a tract's 3 beside a district's 40, which only the city total (43) could protect.
PAGE = report(
    [
        ("2025-Q1", "tract", TRACTS[0], "devices_distributed", 3, 300, 10),
        ("2025-Q1", "council_district", "district-3", "devices_distributed", 40, 4000, 50),
        ("2025-Q1", "tract", TRACTS[0], "training_enrolled", 25, "", ""),
        ("2025-Q3", "tract", TRACTS[1], "training_enrolled", 30, 600, 20),
    ],
    columns=("period", "geo_level", "geo_id", "measure", "count", "cost", "target"),
)


def test_a_programme_page_sums_every_measure_in_one_query_and_hides_what_a_small_place_gives_back(
    programme: dict[str, Any], partner: dict[str, Any], put: Any
) -> None:
    resource = put(PAGE, "report.csv", programme)
    assert wait_for_load(resource["id"])["state"] == "passed"

    with statements("cd3p_outcome") as read:
        page = call_action("cd3p_programme_show", dict(PUBLIC), id=programme["name"])
    assert len(read) == 2  # every measure's sums, then the earnings pairs: not one per measure

    def numbers(entry: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(entry[k] for k in ("outcomes", "spend", "cost_per_outcome", "suppressed"))

    devices, training = page["measures"]
    assert devices["measure"]["id"] == "devices_distributed"
    # The 3 is hidden; beside the 40 reported for the district, the city's 43 would give it back,
    # so the total goes, and the one quarter that equals it.
    assert numbers(devices["city"]) == (None, None, None, True)
    assert devices["target"] == 60
    assert [(t["period"], t["outcomes"], t["target"], t["suppressed"]) for t in devices["trend"]] == [
        ("2025-Q1", None, 60, True)
    ]
    assert training["measure"]["id"] == "training_enrolled"
    assert numbers(training["city"]) == (55, 600.0, pytest.approx(600 / 55), False)
    assert training["target"] == 20
    assert [
        (t["period"], t["outcomes"], t["target"], t["spend"], t["cost_per_outcome"], t["suppressed"])
        for t in training["trend"]
    ] == [
        ("2025-Q1", 25, None, None, None, False),
        ("2025-Q2", 0, None, None, None, False),
        ("2025-Q3", 30, 20, 600.0, 20.0, False),
    ]
    assert page["earnings_per_dollar"] is None
    # The programmes' list hides the devices total too: alone, it is the city's hidden 43.
    (listed,) = call_action("cd3p_programme_list", dict(PUBLIC))
    totals = {t["measure"]: (t["outcomes"], t["suppressed"]) for t in listed["totals"]}
    assert totals == {"devices_distributed": (None, True), "training_enrolled": (55, False)}

    member = {"user": partner["member"]["name"], "ignore_auth": False}
    raw = call_action("cd3p_programme_show", member, id=programme["name"])["measures"][0]
    assert numbers(raw["city"]) == (43, 4300.0, 100.0, False)
    assert [(t["period"], t["outcomes"], t["suppressed"]) for t in raw["trend"]] == [("2025-Q1", 43, False)]


def test_a_report_repeating_another_reports_rows_is_refused_and_a_new_file_of_the_same_report_is_not(
    programme: dict[str, Any], put: Any
) -> None:
    first = put(SMALL, "first.csv", programme, name="January to March")
    check = wait_for_load(first["id"])
    assert check["state"] == "passed"

    repeats = report(
        [
            ("2025-Q2", "tract", TRACTS[0], "devices_distributed", 7, ""),
            ("2025-Q1", "tract", TRACTS[1], "devices_distributed", 40, ""),  # the first's row 2
            ("2025-02", "tract", TRACTS[0], "devices_distributed", 1, ""),  # a month of its Q1 row
            ("2025-Q1", "tract", TRACTS[2], "devices_distributed", 5, ""),
        ]
    )
    second = put(repeats, "second.csv", programme, name="Corrections")
    refused = wait_for_load(second["id"])
    assert refused["state"] == "failed"
    assert refused["report"]["outcome_report"]["problem_count"] == 2
    assert [
        (p["line"], p["column"], p["message"]) for p in refused["report"]["outcome_report"]["problems"]
    ] == [
        (
            3,
            "",
            'Same period, place and measure as row 2 (line 3) of the report "January to March": '
            "counted twice. Report each once, in one report of the programme",
        ),
        (
            4,
            "period",
            'Row 1 (line 2) of the report "January to March" reports this place and measure for the '
            "whole quarter 2025-Q1, and this row for one of its months: counted twice. Report either "
            "the quarter or its months",
        ),
    ]
    assert shown("city")["city"]["outcomes"] == 43  # counted once

    # A new file of the first report replaces its own rows: not a repeat.
    again = put(SMALL, "first.csv", id=first["id"])
    assert wait_for_load(again["id"], after=check["id"])["state"] == "passed"
    fixed = report(
        [
            ("2025-Q2", "tract", TRACTS[0], "devices_distributed", 7, ""),
            ("2025-Q1", "tract", TRACTS[2], "devices_distributed", 5, ""),
        ]
    )
    corrected = put(fixed, "second.csv", id=second["id"])
    assert wait_for_load(corrected["id"], after=refused["id"])["state"] == "passed"
    assert shown("city")["city"]["outcomes"] == 43 + 7 + 5


def test_forgetting_rows_forgets_the_cached_readings_only_when_rows_went(monkeypatch: Any) -> None:
    invalidated: list[str] = []
    monkeypatch.setattr(cache, "invalidate", invalidated.append)
    row = reports.Row(1, "2025-Q1", "tract", TRACTS[0], "devices_distributed", 20)
    rows = [row, reports.Row(2, "2025-Q1", "tract", TRACTS[1], "devices_distributed", 30)]
    assert outcomes.store("test-forget-report", "test-forget-programme", "", rows) == 2
    assert invalidated == [outcomes.CACHE_KEY]

    assert outcomes.forget(["test-forget-other-resource"]) == 0
    assert outcomes.forget(package_id="test-forget-other-programme") == 0
    assert invalidated == [outcomes.CACHE_KEY]  # nothing deleted, nothing forgotten

    assert outcomes.forget(["test-forget-report"]) == 2
    assert invalidated == [outcomes.CACHE_KEY] * 2
    assert outcomes.forget(["test-forget-report"], package_id="test-forget-programme") == 0
    assert invalidated == [outcomes.CACHE_KEY] * 2


def test_a_programmes_reports_and_their_checks_are_read_in_one_query(
    programme: dict[str, Any], put: Any
) -> None:
    first = put(SMALL, "first.csv", programme, name="First")
    later = report([("2025-Q2", "tract", TRACTS[0], "devices_distributed", 12, "")])
    second = put(later, "second.csv", programme, name="Second")
    assert wait_for_load(first["id"])["state"] == wait_for_load(second["id"])["state"] == "passed"
    dataset = call_action("package_show", id=programme["id"])
    with statements("cd3p_resource_check") as read:
        states = outcomes.report_states(dataset)
    assert len(read) == 1
    assert [(s["name"], s["state"], s["rows"], s["problem_count"]) for s in states] == [
        ("First", "passed", 2, 0),
        ("Second", "passed", 1, 0),
    ]


def test_a_report_taken_out_by_an_update_stops_counting(
    programme: dict[str, Any], put: Any, partner: dict[str, Any]
) -> None:
    resource = put(SMALL, "report.csv", programme)
    assert wait_for_load(resource["id"])["state"] == "passed"
    assert shown("city")["city"]["outcomes"] == 43

    call_action("package_patch", {"user": partner["editor"]["name"]}, id=programme["id"], resources=[])
    assert shown("city")["city"]["outcomes"] == 0
