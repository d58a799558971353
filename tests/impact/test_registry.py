"""The measure registry: the shipped list as agreed, and a broken file refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ckanext.cd3p.impact import registry

EXPECTED_IDS = [
    "devices_distributed",
    "households_connected",
    "training_enrolled",
    "training_completed",
    "certifications_earned",
    "navigator_sessions",
    "internships_started",
    "internships_completed",
    "job_placements",
    "employed_q2_after_exit",
    "median_earnings_q2",
]


def test_measures_are_the_agreed_list_in_order() -> None:
    assert list(registry.MEASURES) == EXPECTED_IDS


def test_units_kinds_and_people() -> None:
    units = {m.id: m.unit for m in registry.MEASURES.values()}
    assert units["devices_distributed"] == "devices"
    assert units["households_connected"] == "households"
    assert units["navigator_sessions"] == "sessions"
    assert units["median_earnings_q2"] == "usd"
    assert {units[i] for i in EXPECTED_IDS[2:5] + EXPECTED_IDS[6:10]} == {"people"}
    kinds = [m.kind for m in registry.MEASURES.values()]
    assert kinds == ["count"] * 10 + ["median"]
    assert not registry.measure("median_earnings_q2").summable
    assert registry.measure("median_earnings_q2").of == "employed_q2_after_exit"
    hidden = {m.id for m in registry.MEASURES.values() if m.people}
    assert hidden == set(EXPECTED_IDS) - {"navigator_sessions", "median_earnings_q2"}


def test_needs_name_the_shipped_indicators() -> None:
    needs = {m.id: (m.need.indicator, m.need.count) if m.need else None for m in registry.MEASURES.values()}
    assert needs["devices_distributed"] == ("households-without-computer", "numerator")
    assert needs["households_connected"] == ("households-without-broadband", "numerator")
    assert needs["training_enrolled"] == ("bachelors-or-higher", "complement")
    assert needs["job_placements"] == ("unemployment-rate", "numerator")
    assert needs["navigator_sessions"] is None
    assert needs["median_earnings_q2"] is None
    for m in registry.MEASURES.values():
        if m.need is None:
            assert (
                "no shipped" in m.need_note.lower() or "no count" in m.need_note.lower() or m.kind == "median"
            )
        assert m.definition and m.source


def test_every_need_has_a_count_in_the_indicator_registry() -> None:
    kinds = registry.indicator_kinds()
    measures, _ = registry.load(indicators=kinds)
    for m in measures.values():
        if m.need is not None:
            assert kinds[m.need.indicator] in ("share", "percent"), m.id


def test_need_counts_from_numerator_and_denominator() -> None:
    without_computer = registry.measure("devices_distributed").need
    without_degree = registry.measure("training_enrolled").need
    assert without_computer is not None and without_degree is not None
    assert without_computer.count_from(120.0, 800.0) == 120.0
    assert without_degree.count_from(300.0, 1000.0) == 700.0
    assert without_degree.count_from(None, 1000.0) is None
    assert without_degree.count_from(300.0, None) is None


def test_services() -> None:
    assert list(registry.SERVICES) == [
        "device_distribution",
        "device_repair",
        "home_internet",
        "public_wifi",
        "digital_skills",
        "digital_navigators",
        "it_certification",
        "it_internships",
        "job_placement",
    ]
    assert registry.SERVICES["device_repair"].title == "Device repair or refurbishment"


# --- broken files ---------------------------------------------------------------------------------


def _shipped() -> dict:
    return yaml.safe_load(registry.MEASURES_FILE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "measures.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_the_shipped_file_loads_from_a_copy(tmp_path: Path) -> None:
    measures, services = registry.load(_write(tmp_path, _shipped()))
    assert list(measures) == EXPECTED_IDS
    assert len(services) == 9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["measures"][1].update(colour="blue"), "unknown keys ['colour']"),
        (lambda raw: raw["measures"][1].update(unit="laptops"), "unit 'laptops'"),
        (lambda raw: raw["measures"][1].update(kind="mean"), "kind 'mean'"),
        (lambda raw: raw["measures"][1].update(people="yes"), "people must be true or false"),
        (lambda raw: raw["measures"][1].pop("definition"), "missing keys ['definition']"),
        (lambda raw: raw["measures"][1]["need"].update(count="ratio"), "need count"),
        (lambda raw: raw["measures"][1].update(need=None, need_note=""), "need_note"),
    ],
)
def test_a_bad_measure_is_refused_naming_file_and_id(tmp_path: Path, change, message: str) -> None:
    raw = _shipped()
    change(raw)
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError) as error:
        registry.load(path)
    assert str(path) in str(error.value)
    assert "'households_connected'" in str(error.value)
    assert message in str(error.value)


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    raw = _shipped()
    raw["measures"].append(dict(raw["measures"][0]))
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError, match=r"measure 'devices_distributed': duplicate id"):
        registry.load(path)


def test_a_duplicate_service_and_an_unknown_top_level_key_are_refused(tmp_path: Path) -> None:
    raw = _shipped()
    raw["services"].append({"id": "job_placement", "title": "Again"})
    with pytest.raises(ValueError, match=r"service 'job_placement': duplicate id"):
        registry.load(_write(tmp_path, raw))
    raw = _shipped()
    raw["programmes"] = []
    with pytest.raises(ValueError, match=r"unknown keys \['programmes'\]"):
        registry.load(_write(tmp_path, raw))


def test_a_need_must_name_an_indicator_with_a_count(tmp_path: Path) -> None:
    path = _write(tmp_path, _shipped())
    kinds = {"households-without-computer": "share", "households-without-broadband": "amount"}
    with pytest.raises(ValueError, match=r"'households_connected'.*a amount indicator has no count"):
        registry.load(path, indicators=kinds)
    with pytest.raises(ValueError, match=r"'training_enrolled'.*no such indicator"):
        registry.load(path, indicators={**kinds, "households-without-broadband": "share"})


def test_a_median_must_name_a_count_measure(tmp_path: Path) -> None:
    raw = _shipped()
    raw["measures"][-1]["of"] = "median_earnings_q2"
    with pytest.raises(ValueError, match=r"'median_earnings_q2'.*not a count measure"):
        registry.load(_write(tmp_path, raw))
