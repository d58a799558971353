"""Reach against need, checked on a city of five tracts whose every number is worked out here."""

from __future__ import annotations

from typing import Any

import pytest

from ckanext.cd3p.common.privacy import Cells
from ckanext.cd3p.impact import computation
from ckanext.cd3p.impact.computation import Selection
from ckanext.cd3p.impact.reports import Row

# Five tracts in two council districts and three neighbourhoods.
TRACTS = {
    "t1": ("district-1", "neighborhood-a"),
    "t2": ("district-1", "neighborhood-a"),
    "t3": ("district-1", "neighborhood-b"),
    "t4": ("district-2", "neighborhood-b"),
    "t5": ("district-2", "neighborhood-c"),
}
# Households without a computer: t4 has none, t5 has no data.
NEED = {"t1": 100.0, "t2": 50.0, "t3": 200.0, "t4": 0.0}

M = "devices_distributed"


def r(
    period: str,
    level: str,
    code: str,
    count: float,
    cost: float | None = None,
    target: int | None = None,
    **kw,
) -> Row:
    return Row(
        row=0,
        period=period,
        geo_level=level,
        geo_id=code,
        measure=kw.get("measure", M),
        count=count,
        cost=cost,
        target=target,
        programme=kw.get("programme", "p1"),
        organization=kw.get("organization", "o1"),
    )


ROWS = [
    r("2025-Q1", "tract", "t1", 20, 2000),
    r("2025-Q2", "tract", "t1", 10, 1000),
    r("2025-Q1", "tract", "t2", 30),
    r("2025-Q1", "tract", "t3", 15, 1500, target=20),
    r("2025-Q2", "tract", "t4", 12, 600),
    r("2025-Q1", "council_district", "district-1", 40, 800),
    r("2025-Q2", "zip", "48201", 25, 500),
    r("2025-Q2", "city", "city", 0, target=100),
    r("2025-Q2", "neighborhood", "neighborhood-c", 11),
    r("2025-Q3", "tract", "t5", 13, programme="p2", organization="o2"),
    r("2025-Q1", "tract", "t1", 99, 5, measure="households_connected"),
]


def run(level: str, crosswalk: Any = None, names: Any = None, **chosen: str) -> dict:
    selection = Selection(**chosen)
    return computation.impact(
        ROWS,
        M,
        level,
        TRACTS,
        NEED,
        cells=Cells(11, raw=True),
        selection=selection,
        crosswalk=crosswalk,
        names=names,
    )


def by_id(result: dict) -> dict[str, dict]:
    return {v["id"]: v for v in result["values"]}


def test_tracts() -> None:
    got = by_id(run("tract"))
    assert list(got) == ["t1", "t2", "t3", "t4", "t5"]
    t1 = got["t1"]
    assert (t1["outcomes"], t1["need"], t1["spend"]) == (30, 100.0, 3000.0)
    assert t1["coverage"] == pytest.approx(30.0)
    assert t1["unmet"] == pytest.approx(70.0)
    assert t1["cost_per_outcome"] == pytest.approx(100.0)
    t2 = got["t2"]
    assert (t2["outcomes"], t2["coverage"], t2["unmet"], t2["spend"], t2["cost_per_outcome"]) == (
        30,
        60.0,
        20.0,
        None,
        None,
    )
    assert got["t3"]["coverage"] == pytest.approx(7.5)
    t4 = got["t4"]  # need 0: no coverage, and unmet never below zero
    assert (t4["outcomes"], t4["need"], t4["coverage"], t4["unmet"], t4["cost_per_outcome"]) == (
        12,
        0.0,
        None,
        0,
        50.0,
    )
    t5 = got["t5"]  # no need count
    assert (t5["outcomes"], t5["need"], t5["coverage"], t5["unmet"]) == (13, None, None, None)
    assert not any(v["suppressed"] for v in got.values())


def test_districts_count_their_own_rows_and_their_tracts() -> None:
    got = by_id(run("council_district"))
    d1 = got["district-1"]
    assert d1["outcomes"] == 30 + 30 + 15 + 40
    assert d1["need"] == 350.0
    assert d1["coverage"] == pytest.approx(115 / 350 * 100)
    assert d1["unmet"] == pytest.approx(235.0)
    assert d1["spend"] == pytest.approx(5300.0)
    assert d1["cost_per_outcome"] == pytest.approx(5300 / 115)
    d2 = got["district-2"]
    assert (d2["outcomes"], d2["need"], d2["coverage"], d2["unmet"], d2["spend"]) == (25, 0.0, None, 0, 600.0)
    assert d2["cost_per_outcome"] == pytest.approx(24.0)


def test_neighbourhoods() -> None:
    got = by_id(run("neighborhood"))
    assert (got["neighborhood-a"]["outcomes"], got["neighborhood-a"]["coverage"]) == (60, 40.0)
    assert got["neighborhood-b"]["outcomes"] == 27
    assert got["neighborhood-b"]["cost_per_outcome"] == pytest.approx(2100 / 27)
    c = got["neighborhood-c"]  # its own row and t5's; t5 has no need count
    assert (c["outcomes"], c["need"], c["spend"]) == (24, None, None)


def test_zip_rows_count_in_their_zip_and_the_city_only() -> None:
    zips = by_id(run("zip"))
    assert list(zips) == ["48201"]
    assert (zips["48201"]["outcomes"], zips["48201"]["need"], zips["48201"]["cost_per_outcome"]) == (
        25,
        None,
        20.0,
    )
    tracts = run("tract")
    assert sum(v["outcomes"] for v in tracts["values"]) == 30 + 30 + 15 + 12 + 13
    districts = run("council_district")
    assert sum(v["outcomes"] for v in districts["values"]) == 115 + 25
    assert tracts["city"]["outcomes"] == 176  # tracts 100, district row 40, neighbourhood row 11, ZIP 25


def test_the_city_is_every_row() -> None:
    city = run("tract")["city"]
    rows = [x for x in ROWS if x.measure == M]
    outcomes = sum(x.count for x in rows)
    spend = sum(x.cost for x in rows if x.cost is not None)
    need = sum(NEED.values())
    assert city["id"] == "city"
    assert city["outcomes"] == outcomes == 176
    assert city["need"] == need == 350.0
    assert city["coverage"] == pytest.approx(outcomes / need * 100)
    assert city["unmet"] == pytest.approx(need - outcomes)
    assert city["spend"] == pytest.approx(spend) == pytest.approx(6400.0)
    assert city["cost_per_outcome"] == pytest.approx(spend / outcomes)


def test_quarters_and_programme_filters() -> None:
    q2 = run("tract", period_from="2025-Q2", period_to="2025-Q2")
    assert by_id(q2)["t1"]["outcomes"] == 10
    assert by_id(q2)["t2"]["outcomes"] == 0
    assert q2["city"]["outcomes"] == 10 + 12 + 25 + 0 + 11
    assert [t["period"] for t in q2["trend"]] == ["2025-Q2"]
    assert run("tract", period_from="2025-Q3")["city"]["outcomes"] == 13
    p1 = run("tract", programme="p1")
    assert p1["city"]["outcomes"] == 176 - 13
    assert by_id(p1)["t5"]["outcomes"] == 0
    assert run("tract", organization="o2")["city"]["outcomes"] == 13


def test_trend_with_targets_and_cost_per_outcome() -> None:
    result = run("tract")
    trend = {t["period"]: t for t in result["trend"]}
    assert list(trend) == ["2025-Q1", "2025-Q2", "2025-Q3"]
    q1, q2, q3 = trend.values()
    assert (q1["outcomes"], q1["target"], q1["spend"]) == (20 + 30 + 15 + 40, 20, 4300.0)
    assert q1["cost_per_outcome"] == pytest.approx(4300 / 105)
    assert (q2["outcomes"], q2["target"], q2["spend"]) == (58, 100, 2100.0)
    assert (q3["outcomes"], q3["target"], q3["spend"], q3["cost_per_outcome"]) == (13, None, None, None)
    assert sum(t["outcomes"] for t in result["trend"]) == result["city"]["outcomes"]
    assert result["programmes_without_cost"] == ["p2"]


def test_cost_per_outcome_needs_a_spend_and_outcomes() -> None:
    assert computation.cost_per_outcome(4300.0, 105) == pytest.approx(4300 / 105)
    assert computation.cost_per_outcome(0.0, 20) == 0.0
    assert computation.cost_per_outcome(None, 20) is None
    assert computation.cost_per_outcome(500.0, 0) is None


def test_a_range_without_rows_still_lists_its_quarters() -> None:
    result = run("council_district", period_from="2026-Q1", period_to="2026-Q2")
    assert [t["period"] for t in result["trend"]] == ["2026-Q1", "2026-Q2"]
    assert result["city"]["outcomes"] == 0
    assert result["city"]["cost_per_outcome"] is None


def test_a_crosswalk_shares_zip_counts_out_among_tracts() -> None:
    result = run("tract", crosswalk={"48201": [("t1", 0.6), ("t2", 0.2)]})
    got = by_id(result)
    assert got["t1"]["outcomes"] == pytest.approx(30 + 15)
    assert got["t2"]["outcomes"] == pytest.approx(30 + 5)
    assert got["t1"]["spend"] == pytest.approx(3000 + 300)
    assert result["city"]["outcomes"] == 176  # counted once
    assert by_id(run("council_district", crosswalk={"48201": [("t1", 0.6), ("t2", 0.2)]}))["district-1"][
        "outcomes"
    ] == pytest.approx(115 + 20)
    with pytest.raises(ValueError, match="add up to at most 1"):
        run("tract", crosswalk={"48201": [("t1", 0.8), ("t2", 0.4)]})


def test_names_and_levels() -> None:
    result = run("council_district", names={"district-1": "Council District 1"})
    assert by_id(result)["district-1"]["name"] == "Council District 1"
    assert by_id(result)["district-2"]["name"] is None
    with pytest.raises(ValueError, match="level must be one of"):
        run("county")


def test_a_median_is_never_added_up() -> None:
    with pytest.raises(ValueError, match="median_earnings_q2 is a median"):
        computation.impact(ROWS, "median_earnings_q2", "tract", TRACTS, NEED)


# --- targeting ------------------------------------------------------------------------------------

# Five tracts from most need (a) to least (e).
INDEX = {"a": 90.0, "b": 70.0, "c": 50.0, "d": 30.0, "e": 10.0}


def target_rows(outcomes: dict[str, int], spend: dict[str, float] | None = None) -> list[Row]:
    spend = spend or {}
    return [r("2025-Q1", "tract", t, n, spend.get(t)) for t, n in outcomes.items()]


def curve_index(outcomes: dict[str, float], index: dict[str, float]) -> float:
    """2 x the area under the concentration curve, tracts from most need to least, minus 1
    (trapezoids): the definition, computed without the code under test."""
    ordered = sorted(index, key=lambda t: -index[t])
    total = sum(outcomes.get(t, 0) for t in ordered)
    area, before = 0.0, 0.0
    for t in ordered:
        after = before + outcomes.get(t, 0) / total
        area += (before + after) / 2 / len(ordered)
        before = after
    return 2 * area - 1


def test_targeting_by_hand() -> None:
    outcomes = {"a": 40, "b": 30, "c": 20, "d": 10, "e": 0}
    rows = [
        *target_rows(outcomes, {"a": 400.0, "b": 100.0}),
        r("2025-Q1", "zip", "48201", 500),
        r("2025-Q1", "tract", "zz", 7),
    ]
    result = computation.targeting(
        rows, M, INDEX, need={"a": 10.0, "b": 10.0, "c": 10.0, "d": 10.0, "e": 60.0}
    )
    assert result["tracts"] == 5 and result["top_fifth_tracts"] == 1
    assert result["outcomes"] == 100  # the ZIP row is not at tract level; tract zz has no score
    assert result["unscored_outcomes"] == 7
    assert result["top_fifth_outcome_share"] == pytest.approx(0.4)
    assert result["top_fifth_spend_share"] == pytest.approx(0.8)
    assert result["top_fifth_need_share"] == pytest.approx(0.1)
    # ranks from least need: e .1, d .3, c .5, b .7, a .9; mean 20; 2/(5 x 20) x 70 - 1
    assert result["concentration_index"] == pytest.approx(0.4)
    assert curve_index(outcomes, INDEX) == pytest.approx(0.4)
    assert result["suppressed"] is False


def test_concentration_index_sign_and_evenness() -> None:
    towards_need = {"a": 40, "b": 30, "c": 20, "d": 10, "e": 0}
    away = {"a": 0, "b": 10, "c": 20, "d": 30, "e": 40}
    assert computation.concentration_index(towards_need, INDEX) == pytest.approx(0.4)
    assert computation.concentration_index(away, INDEX) == pytest.approx(-0.4)
    assert computation.concentration_index(away, INDEX) == pytest.approx(curve_index(away, INDEX))
    assert computation.concentration_index(dict.fromkeys(INDEX, 7), INDEX) == pytest.approx(0.0)
    assert computation.concentration_index({"a": 5}, INDEX) == pytest.approx(0.8)  # all in the neediest
    assert computation.concentration_index({}, INDEX) is None


def test_tied_scores_share_their_rank() -> None:
    ranks = computation.fractional_ranks({"a": 5.0, "b": 5.0, "c": 1.0, "d": 9.0})
    assert ranks == {"c": 0.125, "a": 0.5, "b": 0.5, "d": 0.875}
    # a and b tied: moving outcomes between them changes nothing
    tie = {"a": 5.0, "b": 5.0, "c": 1.0, "d": 9.0}
    assert computation.concentration_index({"a": 10}, tie) == pytest.approx(
        computation.concentration_index({"b": 10}, tie)
    )


def test_top_fifth_rounds_up_and_keeps_ties() -> None:
    assert computation.top_fifth(INDEX) == {"a"}
    scores = {f"t{i}": float(s) for i, s in enumerate([9, 8, 8, 7, 6, 5, 4, 3, 2, 1])}
    assert computation.top_fifth(scores) == {"t0", "t1", "t2"}
    assert len(computation.top_fifth({f"t{i}": float(i) for i in range(11)})) == 3


def test_targeting_of_a_small_count_is_hidden() -> None:
    result = computation.targeting(target_rows({"a": 4, "b": 3}), M, INDEX)
    assert result["suppressed"] is True
    assert result["outcomes"] is None and result["top_fifth_outcome_share"] is None
    assert result["concentration_index"] is None
    raw = computation.targeting(target_rows({"a": 4, "b": 3}), M, INDEX, cells=Cells(11, raw=True))
    assert raw["top_fifth_outcome_share"] == pytest.approx(4 / 7)


# --- earnings -------------------------------------------------------------------------------------


def earnings_rows(employed_q1: int) -> list[Row]:
    return [
        r("2025-Q1", "city", "city", employed_q1, 10000.0, measure="employed_q2_after_exit"),
        r("2025-Q1", "city", "city", 9000.0, measure="median_earnings_q2"),
        r("2025-Q2", "city", "city", 15, measure="employed_q2_after_exit"),  # no cost: left out
        r("2025-Q2", "city", "city", 8000.0, measure="median_earnings_q2"),
        r("2025-Q3", "city", "city", 9, 500.0, measure="employed_q2_after_exit"),  # no median: left out
    ]


def test_reported_earnings_per_dollar() -> None:
    result = computation.reported_earnings_per_dollar(earnings_rows(20))
    assert result is not None
    assert (result["pairs"], result["people"], result["earnings"], result["spend"]) == (
        1,
        20,
        180000.0,
        10000.0,
    )
    assert result["per_dollar"] == pytest.approx(18.0)
    assert "not a return caused by the programme" in result["note"]
    assert "not a causal return" in computation.reported_earnings_per_dollar.__doc__


def test_reported_earnings_need_both_measures_and_a_cost() -> None:
    assert computation.reported_earnings_per_dollar(earnings_rows(20)[2:]) is None
    assert (
        computation.reported_earnings_per_dollar(
            earnings_rows(20), selection=Selection(period_from="2025-Q2")
        )
        is None
    )
    small = computation.reported_earnings_per_dollar(earnings_rows(6))
    assert small is not None and small["suppressed"] is True
    assert (small["people"], small["earnings"], small["per_dollar"]) == (None, None, None)


def test_method_states_the_sign_convention() -> None:
    assert "positive when outcomes concentrate in the tracts of highest need" in computation.METHOD
    assert "<" not in computation.METHOD  # text, not markup
