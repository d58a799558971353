"""Geography codes of a declared key column, checked on every row of real files written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from ckanext.cd3p.common import geography
from ckanext.cd3p.ingestion import validation

TRACTS = sorted(geography.tracts())


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("level", "good", "bad"),
    [
        (
            "tract",
            [TRACTS[0], f"{TRACTS[1]}.0", f" {TRACTS[2]} "],
            ["26163999999", "26125100100", "5001", ""],
        ),
        ("council-district", ["1", "District 3", "council district 7", "district-5"], ["8", "0", "Ward 3"]),
        (
            "neighborhood",
            ["Arden Park", "BOSTON EDISON", "neighborhood-palmer-woods"],
            ["Arden", "Royal Oak"],
        ),
        ("zip", ["48201", "48226-1234", "48235.0"], ["48301", "4820", "90210"]),
    ],
)
def test_known_codes_of_each_level(level: str, good: list[str], bad: list[str]) -> None:
    assert [v for v in good if not validation.is_known(level, v)] == []
    assert [v for v in bad if validation.is_known(level, v)] == []


def test_unknown_codes_are_listed_with_their_rows(tmp_path: Path) -> None:
    rows = [f"{g};{i}" for i, g in enumerate(TRACTS[:3])] + ["26163999999;9", ";4", f"{TRACTS[3]};5"]
    path = write(tmp_path, "codes.csv", "GEOID;households\n" + "\n".join(rows) + "\n")  # a semicolon CSV

    report = validation.check_codes(path, "CSV", "geoid", "tract")  # the column name in any case

    assert report == {
        "column": "geoid",
        "level": "tract",
        "checked": True,
        "rows": 6,
        "unknown_total": 2,
        "unknown": [{"sheet": "", "row": 5, "value": "26163999999"}, {"sheet": "", "row": 6, "value": ""}],
    }


def test_every_row_is_counted_but_only_the_first_unknown_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "many.csv", "zip\n" + "99999\n" * 250 + "48201\n")

    report = validation.check_codes(path, "CSV", "zip", "zip")

    assert (report["rows"], report["unknown_total"], len(report["unknown"])) == (
        251,
        250,
        validation.SHOWN_UNKNOWN,
    )
    assert report["unknown"][0] == {"sheet": "", "row": 2, "value": "99999"}


def test_a_workbook_is_checked_on_every_sheet_with_the_column(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["About this file"])
    notes.append(["Counts by tract, 2025", "source: survey"])
    data = workbook.create_sheet("Data")
    data.append(["Households by tract"])  # a title row above the header
    data.append(["GEOID", "households"])
    data.append([int(TRACTS[0]), 10])  # a number, as spreadsheets store GEOIDs
    data.append([float(TRACTS[1]), 12])
    data.append(["26163000000", 3])
    path = tmp_path / "codes.xlsx"
    workbook.save(path)

    report = validation.check_codes(path, "XLSX", "GEOID", "tract")

    assert report["rows"] == 3
    assert report["unknown"] == [{"sheet": "Data", "row": 5, "value": "26163000000"}]


def test_a_missing_column_names_the_columns_there_are(tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", "tract_id,households\n26163500100,4\n")

    report = validation.check_codes(path, "CSV", "geoid", "tract")

    assert "No column 'geoid'" in report["error"]
    assert "tract_id, households" in report["error"]
    assert "rows" not in report


def test_levels_without_a_code_list_are_not_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "points.csv", "lat,lon\n42.3,-83.0\n")
    assert validation.check_codes(path, "CSV", "lat", "point") == {
        "column": "lat",
        "level": "point",
        "checked": False,
    }
    assert validation.checker("lat", "county") is None
