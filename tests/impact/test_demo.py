"""The illustrative programmes: deterministic, well-formed reports, tilted towards need."""

from __future__ import annotations

import json

import pytest

from ckanext.cd3p.common.privacy import Cells
from ckanext.cd3p.impact import computation, demo, registry, reports

TRACTS = [f"26163{n:06d}" for n in range(5001, 5061)]  # 60 made-up GEOIDs
ZIPS = ["48201", "48202", "48204"]
DISTRICTS = [f"district-{n}" for n in range(1, 8)]
ORGS = ["eastside-tech-hub", "westside-library", "detroit-works-partners"]
# Half the tracts in great need, half in little.
INDEX = {t: (95.0 if i % 2 else 5.0) for i, t in enumerate(TRACTS)}


def make(**kw) -> list[dict]:
    args = {"tracts": TRACTS, "zips": ZIPS, "districts": DISTRICTS, "need_index": INDEX, "count": 6, **kw}
    return demo.programmes(ORGS, **args)


def known(level: str, code: str) -> bool:
    return {"tract": code in TRACTS, "zip": code in ZIPS, "council_district": code in DISTRICTS}.get(
        level, code == "city"
    )


def test_the_same_seed_and_inputs_give_the_same_programmes() -> None:
    assert json.dumps(make(seed=7)) == json.dumps(make(seed=7))
    assert json.dumps(make(seed=7, tracts=list(reversed(TRACTS)))) == json.dumps(make(seed=7))
    assert make(seed=7)[0]["rows"] != make(seed=8)[0]["rows"]


def test_programmes_are_described_and_flagged_illustrative() -> None:
    found = make()
    assert [p["name"] for p in found] == [
        "laptops-for-learners",
        "connect-home",
        "digital-skills-for-all",
        "neighborhood-navigators",
        "it-careers-pathway",
        "tech-internships-detroit",
    ]
    assert [p["organization"] for p in found] == ORGS * 2
    for p in found:
        assert p["illustrative"] is True
        assert set(p) == {
            "name", "title", "organization", "services", "populations", "funding",
            "period", "targets", "contact", "illustrative", "rows",
        }  # fmt: skip
        assert set(p["services"]) <= set(registry.SERVICES)
        assert p["period"] == {"start": "2024-01-01", "end": "2025-12-31"}
        assert p["funding"] and all(f["amount"] > 0 and f["source"] for f in p["funding"])
        assert {f["kind"] for f in p["funding"]} <= {
            "federal",
            "state",
            "city",
            "philanthropy",
            "corporate",
            "earned",
        }
        assert p["contact"]["email"].endswith("@example.org")
        [target] = p["targets"]
        reported = sum(
            int(r["target"]) for r in p["rows"] if r["target"] and r["measure"] == target["measure"]
        )
        assert target["target"] == reported > 0
    assert len(make(count=4)) == 4
    with pytest.raises(ValueError):
        make(count=7)


def test_every_report_checks_and_spans_eight_quarters() -> None:
    for p in make():
        report = reports.check_rows(p["rows"], known, programme=p["name"], organization=p["organization"])
        assert report.ok, [str(x) for x in report.problems[:5]]
        assert sorted({r.period for r in report.rows}) == list(demo.QUARTERS)
        assert len(demo.QUARTERS) == 8


def test_rows_are_mostly_tracts_with_some_zip_and_district_rows_costs_and_targets() -> None:
    rows = [r for p in make() for r in p["rows"]]
    levels = [r["geo_level"] for r in rows]
    assert levels.count("tract") > 0.8 * len(rows)
    assert levels.count("zip") > 0 and levels.count("council_district") > 0
    assert sum(1 for r in rows if r["cost"]) > len(rows) / 2
    assert any(r["target"] for r in rows)
    devices = [
        int(r["count"]) for r in rows if r["measure"] == "devices_distributed" and r["geo_level"] == "tract"
    ]
    assert 1 <= sum(devices) / len(devices) <= 30  # a plausible number per tract and quarter


def test_service_is_tilted_towards_need_but_not_only_there() -> None:
    rows = [r for p in make() for r in p["rows"] if r["geo_level"] == "tract"]
    high = sum(1 for r in rows if INDEX[r["geo_id"]] > 50)
    low = len(rows) - high
    assert high > 2 * low
    assert low > 0.2 * len(rows)


def test_demo_reports_feed_the_computation() -> None:
    places = {t: (DISTRICTS[i % 7], f"neighborhood-{i % 9}") for i, t in enumerate(TRACTS)}
    rows = []
    for p in make():
        rows += reports.check_rows(p["rows"], known, programme=p["name"], organization=p["organization"]).rows
    result = computation.impact(
        rows, "devices_distributed", "council_district", places, cells=Cells(11, raw=True)
    )
    expected = sum(r.count for r in rows if r.measure == "devices_distributed")
    assert result["city"]["outcomes"] == expected > 0
    assert computation.reported_earnings_per_dollar(rows) is not None
