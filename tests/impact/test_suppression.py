"""Small-cell suppression: primary, secondary, and an audit that no hidden count can be worked out,
checked against an independent rank computation."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from ckanext.cd3p.common.privacy import Cells
from ckanext.cd3p.impact import computation, suppression
from ckanext.cd3p.impact.reports import Row
from ckanext.cd3p.impact.suppression import Group


def rank(rows: list[dict[str, int]]) -> int:
    """The rank of a matrix (rows as dicts), by plain Gaussian elimination over the rationals."""
    matrix = [{k: Fraction(v) for k, v in row.items() if v} for row in rows]
    columns = sorted({c for row in matrix for c in row})
    found = 0
    for column in columns:
        pivot = next((i for i in range(found, len(matrix)) if matrix[i].get(column)), None)
        if pivot is None:
            continue
        matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
        for i in range(len(matrix)):
            if i != found and matrix[i].get(column):
                factor = matrix[i][column] / matrix[found][column]
                for k, v in matrix[found].items():
                    matrix[i][k] = matrix[i].get(k, 0) - factor * v
                matrix[i] = {k: v for k, v in matrix[i].items() if v}
        found += 1
    return found


def determined(groups: list[Group], hidden: set[str]) -> set[str]:
    """Hidden cells the group sums pin down: those whose column, removed, lowers the rank (a cell
    is determined exactly when no solution of the homogeneous system moves it)."""
    rows = []
    for g in groups:
        row: dict[str, int] = {}
        if g.total in hidden:
            row[g.total] = 1
        for p in g.parts:
            if p in hidden:
                row[p] = row.get(p, 0) - 1
        rows.append(row)
    full = rank(rows)
    return {x for x in hidden if rank([{k: v for k, v in row.items() if k != x} for row in rows]) < full}


def test_primary() -> None:
    values = {"zero": 0, "one": 1, "ten": 10, "ten and a half": 10.5, "eleven": 11, "many": 500}
    assert suppression.primary(values, Cells(11, raw=False)) == {"one", "ten", "ten and a half"}
    assert suppression.primary(values, Cells(2, raw=False)) == {"one"}
    assert suppression.primary(values, Cells(11, raw=True)) == set()
    assert suppression.primary(values, Cells(11, raw=False), people=False) == set()
    with pytest.raises(ValueError):
        suppression.primary(values, Cells(0, raw=False))


def test_fail_closed() -> None:
    values = {"a": 50, "b": None, "c": math.nan, "d": 0}
    assert suppression.primary(values, Cells(11, raw=False)) == {"b", "c"}
    assert suppression.primary(values, Cells(11, raw=False), people=False) == {"b", "c"}
    assert suppression.suppress(values, [], Cells(11, raw=False), people=None) == {"a", "b", "c", "d"}


def test_a_district_total_minus_its_other_tracts() -> None:
    # district = t1 + t2 + t3 + what was reported for the district as a whole (0 here)
    values = {"district": 63, "t1": 3, "t2": 20, "t3": 40, "direct": 0}
    groups = [Group("district", ("t1", "t2", "t3", "direct"))]
    assert suppression.primary(values, Cells(11, raw=False)) == {"t1"}  # alone, t1 = 63 - 20 - 40 - 0
    hidden = suppression.suppress(values, groups, Cells(11, raw=False), unshown={"direct"})
    assert hidden == {"t1", "t2"}  # the next smallest shown
    assert determined(groups, hidden) == set()


def test_a_small_count_reported_for_the_district_as_a_whole() -> None:
    # The district-level rows are in no tract, so district minus tracts gives them away.
    values = {"district": 75, "t1": 30, "t2": 40, "direct": 5}
    groups = [Group("district", ("t1", "t2", "direct"))]
    hidden = suppression.suppress(values, groups, Cells(11, raw=False), unshown={"direct"})
    assert hidden == {"direct", "t1"}
    assert determined(groups, hidden) == set()


def test_the_city_total() -> None:
    # t1 is district-1's only tract: both small, both hidden, so district-1 is safe on its own.
    # But the city minus the other tracts, or minus the other district, would give them away.
    values = {"city": 57, "d1": 5, "d2": 52, "t1": 5, "t2": 12, "t3": 40, "r1": 0, "r2": 0, "rc": 0}
    groups = [
        Group("d1", ("t1", "r1")),
        Group("d2", ("t2", "t3", "r2")),
        Group("city", ("t1", "t2", "t3", "r1", "r2", "rc")),
        Group("city", ("d1", "d2", "rc")),
    ]
    hidden = suppression.suppress(values, groups, Cells(11, raw=False), unshown={"r1", "r2", "rc"})
    assert hidden == {"t1", "d1", "t2", "d2"}
    assert "city" not in hidden
    assert determined(groups, hidden) == set()


def test_hidden_parts_must_not_add_up_to_a_small_count() -> None:
    values = {"total": 55, "a": 2, "b": 3, "c": 50}
    hidden = suppression.suppress(values, [Group("total", ("a", "b", "c"))], Cells(11, raw=False))
    assert hidden == {"a", "b", "c"}  # a + b = 5 would say both are under 5


def test_the_audit_catches_what_no_single_group_shows() -> None:
    # A neighbourhood inside a district: every group has two or more hidden cells, yet
    # t3 = district - t4 - neighbourhood.
    values = {"district": 49, "hood": 14, "t1": 6, "t2": 8, "t3": 5, "t4": 30}
    groups = [Group("district", ("t1", "t2", "t3", "t4")), Group("hood", ("t1", "t2"))]
    primary = suppression.primary(values, Cells(11, raw=False))
    assert primary == {"t1", "t2", "t3"}
    assert determined(groups, primary) == {"t3"}
    assert suppression.recoverable(groups, primary) == {"t3"}
    hidden = suppression.suppress(values, groups, Cells(11, raw=False))
    assert hidden == {"t1", "t2", "t3", "t4"}
    assert determined(groups, hidden) == set()


def test_quarters_within_their_total() -> None:
    values = {"all": 160, "q1": 40, "q2": 4, "q3": 55, "q4": 61}
    hidden = suppression.suppress(values, [Group("all", ("q1", "q2", "q3", "q4"))], Cells(11, raw=False))
    assert hidden == {"q2", "q1"}


def test_ties_are_broken_the_same_way_every_time() -> None:
    values = {"total": 64, "a": 4, "b": 30, "c": 30}
    groups = [Group("total", ("a", "b", "c"))]
    assert suppression.suppress(values, groups, Cells(11, raw=False)) == {"a", "b"}
    assert suppression.suppress(dict(reversed(values.items())), groups, Cells(11, raw=False)) == {"a", "b"}


def test_recoverable_agrees_with_an_independent_rank_computation() -> None:
    rng = random.Random(7)
    cells = [f"c{i}" for i in range(9)]
    for _ in range(300):
        groups = []
        for _ in range(rng.randint(1, 5)):
            total, *parts = rng.sample(cells, rng.randint(2, 5))
            groups.append(Group(total, tuple(parts)))
        hidden = set(rng.sample(cells, rng.randint(1, 6)))
        assert suppression.recoverable(groups, hidden) == determined(groups, hidden), (groups, hidden)


def test_suppress_leaves_nothing_recoverable_in_random_hierarchies() -> None:
    rng = random.Random(11)
    for _ in range(60):
        tracts = {f"t{i}": rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20, 35]) for i in range(8)}
        districts = {"d1": ["t0", "t1", "t2", "t3"], "d2": ["t4", "t5", "t6", "t7"]}
        hoods = {"n1": ["t0", "t1"], "n2": ["t2", "t3", "t4"], "n3": ["t5", "t6", "t7"]}
        values: dict[str, float] = dict(tracts)
        groups = []
        for name, members in {**districts, **hoods}.items():
            values[name] = sum(tracts[t] for t in members)
            groups.append(Group(name, tuple(members)))
        values["city"] = sum(tracts.values())
        groups += [
            Group("city", tuple(tracts)),
            Group("city", ("d1", "d2")),
            Group("city", ("n1", "n2", "n3")),
        ]
        hidden = suppression.suppress(values, groups, Cells(11, raw=False))
        assert all(not (0 < v < 11) or k in hidden for k, v in values.items())
        assert determined(groups, hidden) == set(), (values, hidden)
        for g in groups:
            assert sum(k in hidden for k in g.cells()) != 1


def test_blank() -> None:
    entry = {
        "id": "t1",
        "outcomes": 3,
        "need": 90.0,
        "coverage": 3.3,
        "unmet": 87.0,
        "spend": 300.0,
        "cost_per_outcome": 100.0,
    }
    hidden = suppression.blank(entry, True)
    assert hidden == {
        **entry,
        "outcomes": None,
        "coverage": None,
        "unmet": None,
        "spend": None,
        "cost_per_outcome": None,
        "suppressed": True,
    }
    assert suppression.blank(entry, False) == {**entry, "suppressed": False}


# --- through impact(): every level of one selection suppressed together -------------------------------------


def tract_rows(counts: dict[str, int], measure: str = "devices_distributed") -> list[Row]:
    return [
        Row(row=i, period="2025-Q1", geo_level="tract", geo_id=t, measure=measure, count=n, cost=100.0 * n)
        for i, (t, n) in enumerate(counts.items(), start=1)
    ]


def test_impact_hides_a_tract_and_the_next_smallest_of_its_district() -> None:
    tracts = {
        "t1": ("district-1", "neighborhood-a"),
        "t2": ("district-1", "neighborhood-a"),
        "t3": ("district-1", "neighborhood-b"),
        "t4": ("district-2", "neighborhood-b"),
    }
    need = {"t1": 90.0, "t2": 100.0, "t3": 100.0, "t4": 100.0}
    rows = tract_rows({"t1": 3, "t2": 20, "t3": 40, "t4": 50})
    result = computation.impact(rows, "devices_distributed", "tract", tracts, need)
    got = {v["id"]: v for v in result["values"]}
    assert {t for t, v in got.items() if v["suppressed"]} == {"t1", "t2"}
    for t in ("t1", "t2"):
        v = got[t]
        assert (v["outcomes"], v["coverage"], v["unmet"], v["spend"], v["cost_per_outcome"]) == (None,) * 5
        assert v["need"] == need[t]  # the need says nothing of the count
    assert (got["t3"]["spend"], got["t3"]["cost_per_outcome"]) == (4000.0, 100.0)
    assert got["t3"]["outcomes"] == 40
    districts = {
        v["id"]: v
        for v in computation.impact(rows, "devices_distributed", "council_district", tracts, need)["values"]
    }
    assert districts["district-1"]["outcomes"] == 63 and not districts["district-1"]["suppressed"]
    hoods = {
        v["id"]: v
        for v in computation.impact(rows, "devices_distributed", "neighborhood", tracts, need)["values"]
    }
    assert hoods["neighborhood-a"]["outcomes"] == 23  # t1 + t2, both hidden: neither can be told
    assert result["city"]["outcomes"] == 113


def test_impact_protects_the_city_total() -> None:
    tracts = {
        "t1": ("district-1", "neighborhood-a"),
        "t2": ("district-2", "neighborhood-a"),
        "t3": ("district-2", "neighborhood-a"),
    }
    rows = tract_rows({"t1": 5, "t2": 30, "t3": 40})
    hidden = set()
    for level in ("tract", "council_district"):
        result = computation.impact(rows, "devices_distributed", level, tracts)
        hidden |= {(level, v["id"]) for v in result["values"] if v["suppressed"]}
        assert result["city"]["outcomes"] == 75
    assert hidden == {
        ("tract", "t1"),
        ("tract", "t2"),
        ("council_district", "district-1"),
        ("council_district", "district-2"),
    }


def test_impact_shows_raw_counts_and_counts_of_things_that_are_not_people() -> None:
    tracts = {"t1": ("district-1", "neighborhood-a"), "t2": ("district-1", "neighborhood-a")}
    rows = tract_rows({"t1": 3, "t2": 40})
    raw = computation.impact(rows, "devices_distributed", "tract", tracts, cells=Cells(11, raw=True))
    assert [v["outcomes"] for v in raw["values"]] == [3, 40]
    sessions = computation.impact(
        tract_rows({"t1": 3, "t2": 40}, "navigator_sessions"), "navigator_sessions", "tract", tracts
    )
    assert [v["outcomes"] for v in sessions["values"]] == [3, 40]


def test_impact_hides_a_small_quarter_of_the_trend() -> None:
    tracts = {"t1": ("district-1", "neighborhood-a")}
    rows = [
        Row(row=i, period=q, geo_level="tract", geo_id="t1", measure="devices_distributed", count=n)
        for i, (q, n) in enumerate((("2025-Q1", 30), ("2025-Q2", 4), ("2025-Q3", 25)), start=1)
    ]
    trend = computation.impact(rows, "devices_distributed", "tract", tracts)["trend"]
    assert [(t["period"], t["outcomes"], t["suppressed"]) for t in trend] == [
        ("2025-Q1", 30, False),
        ("2025-Q2", None, True),
        ("2025-Q3", None, True),
    ]


def test_nothing_hidden_can_be_worked_out_from_every_level_published() -> None:
    """What the public sees of one selection, at every level, rebuilt into equations here."""
    rng = random.Random(5)
    tracts = {f"t{i:02d}": (f"district-{i % 3}", f"neighborhood-{i % 4}") for i in range(12)}
    rows = tract_rows({t: rng.choice([0, 2, 4, 9, 15, 30]) for t in tracts})
    shown: dict[str, float | None] = {}
    for level in ("tract", "council_district", "neighborhood"):
        result = computation.impact(rows, "devices_distributed", level, tracts)
        shown.update({v["id"]: v["outcomes"] for v in result["values"]})
        shown["city"] = result["city"]["outcomes"]
    hidden = {k for k, v in shown.items() if v is None}
    assert hidden and "city" not in hidden
    assert all(v is None or not 0 < v < 11 for v in shown.values())
    groups = [Group("city", tuple(tracts))]
    for n in range(3):
        groups.append(
            Group(f"district-{n}", tuple(t for t, (d, _) in tracts.items() if d == f"district-{n}"))
        )
    for n in range(4):
        groups.append(
            Group(f"neighborhood-{n}", tuple(t for t, (_, h) in tracts.items() if h == f"neighborhood-{n}"))
        )
    groups += [
        Group("city", tuple(f"district-{n}" for n in range(3))),
        Group("city", tuple(f"neighborhood-{n}" for n in range(4))),
    ]
    assert determined(groups, hidden) == set()
