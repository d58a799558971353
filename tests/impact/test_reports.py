"""Outcome reports: what a partner's file may hold, each mistake reported on its row and column,
and the blank templates."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from ckanext.cd3p.impact import registry, reports

TRACT = "26163520100"
KNOWN = {
    ("tract", TRACT),
    ("tract", "26163520200"),
    ("council_district", "district-3"),
    ("neighborhood", "neighborhood-arden-park"),
    ("zip", "48201"),
    ("city", "city"),
}


def known(level: str, code: str) -> bool:
    return (level, code) in KNOWN


def row(**values: str) -> dict[str, str]:
    base = {
        "period": "2025-Q3",
        "geo_level": "tract",
        "geo_id": TRACT,
        "measure": "devices_distributed",
        "count": "5",
        "cost": "",
        "target": "",
    }
    return {**base, **values}


def problems(*rows: dict[str, object]) -> list[tuple[int, str, str]]:
    report = reports.check_rows(rows, known)  # type: ignore[arg-type]
    return [(p.row, p.column, p.message) for p in report.problems]


def test_a_good_report_parses() -> None:
    report = reports.check_rows(
        [
            row(count="3", cost="1250.50", target="4"),
            row(period="2025-07", geo_id="26163520200", count="3.0"),
            row(geo_level="Council District", geo_id="District 3", measure="training_enrolled", count="0"),
            row(geo_level="neighbourhood", geo_id="Arden Park", measure="households_connected"),
            row(geo_level="zip", geo_id="48201-1234", count="12"),
            row(geo_level="city", geo_id="Detroit", count="0", target="120"),
        ],
        known,
        programme="laptops",
        organization="eastside",
    )
    assert report.ok and report.problem_count == 0
    first, monthly, district, hood, zip_row, city = report.rows
    assert (first.row, first.count, first.cost, first.target) == (1, 3, 1250.5, 4)
    assert (monthly.period, monthly.month, monthly.count) == ("2025-Q3", 7, 3)
    assert (district.geo_level, district.geo_id, district.count) == ("council_district", "district-3", 0)
    assert (hood.geo_level, hood.geo_id) == ("neighborhood", "neighborhood-arden-park")
    assert zip_row.geo_id == "48201"
    assert (city.geo_id, city.target) == ("city", 120)
    assert {(r.programme, r.organization) for r in report.rows} == {("laptops", "eastside")}


@pytest.mark.parametrize(
    ("text", "quarter", "month"),
    [
        ("2025-Q1", "2025-Q1", None),
        ("2025-q4", "2025-Q4", None),
        ("2025-01", "2025-Q1", 1),
        ("2025-3", "2025-Q1", 3),
        ("2025-04", "2025-Q2", 4),
        ("2025-09", "2025-Q3", 9),
        ("2025-10", "2025-Q4", 10),
        ("2025-12-01", "2025-Q4", 12),
        ("2025-07-01 00:00:00", "2025-Q3", 7),
        ("2000-Q1", "2000-Q1", None),
        ("2100-12", "2100-Q4", 12),
    ],
)
def test_periods(text: str, quarter: str, month: int | None) -> None:
    assert reports.parse_period(text) == (quarter, month)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13", "A month is 01 to 12 (found 13)"),
        ("2025-00", "A month is 01 to 12 (found 00)"),
        ("2025-Q5", "A quarter is Q1 to Q4 (found Q5)"),
        ("2025-Q0", "A quarter is Q1 to Q4 (found Q0)"),
        ("1999-Q4", "The year must be from 2000 to 2100 (found 1999)"),
        ("2101-01", "The year must be from 2000 to 2100 (found 2101)"),
        ("2025-02-30", "'2025-02-30' is not a date"),
        ("Q3 2025", "Write the period as a quarter"),
        ("", "Write the period as a quarter"),
    ],
)
def test_bad_periods_on_their_row(text: str, message: str) -> None:
    found = problems(row(), row(period=text))
    assert len(found) == 1
    number, column, text_found = found[0]
    assert (number, column) == (2, "period")
    assert text_found.startswith(message)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("3.5", "The count must be a whole number (found 3.5)"),
        ("-1", "The count cannot be negative (found -1)"),
        ("", "The count is missing: write 0 if there were none"),
        ("abc", "The count is not a number (found 'abc')"),
        ("1,234", "Write the count as a plain number, without $, commas or spaces (found '1,234')"),
        ("+3", "Write the count without a + sign (found +3)"),
        ("1e3", "The count is not a number (found '1e3')"),
    ],
)
def test_bad_counts_on_their_row(count: str, message: str) -> None:
    assert problems(row(), row(geo_id="26163520200"), row(period="2025-Q4", count=count)) == [
        (3, "count", message)
    ]


def test_whole_counts_written_as_a_spreadsheet_writes_them() -> None:
    report = reports.check_rows(
        [row(count="3"), row(period="2025-Q4", count="3.0"), row(period="2026-Q1", count="03")], known
    )
    assert report.ok
    assert [r.count for r in report.rows] == [3, 3, 3]
    assert all(isinstance(r.count, int) for r in report.rows)


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"cost": "-5"}, "cost", "The cost cannot be negative (found -5)"),
        (
            {"cost": "$1,200"},
            "cost",
            "Write the cost as a plain number, without $, commas or spaces (found '$1,200')",
        ),
        ({"cost": "lots"}, "cost", "The cost is not a number (found 'lots')"),
        ({"target": "2.5"}, "target", "The target must be a whole number (found 2.5)"),
        ({"target": "-2"}, "target", "The target cannot be negative (found -2)"),
        (
            {"geo_level": "county"},
            "geo_level",
            "Unknown geo_level 'county': use one of tract, council_district",
        ),
        (
            {"geo_id": "26163999999"},
            "geo_id",
            "Unknown census tract '26163999999': not a census tract of Detroit",
        ),
        ({"geo_level": "zip", "geo_id": "90210"}, "geo_id", "Unknown ZIP code '90210'"),
        ({"geo_level": "council_district", "geo_id": "9"}, "geo_id", "Unknown council district '9'"),
        ({"geo_level": "neighborhood", "geo_id": "Atlantis"}, "geo_id", "Unknown neighborhood 'Atlantis'"),
        (
            {"measure": "devices_distibuted"},
            "measure",
            "Unknown measure 'devices_distibuted'. Did you mean devices_distributed?",
        ),
        (
            {"measure": "laptops"},
            "measure",
            "Unknown measure 'laptops'. See the Measures sheet of the template.",
        ),
    ],
)
def test_bad_values_on_their_row_and_column(values: dict[str, str], column: str, message: str) -> None:
    found = problems(row(), row(period="2025-Q4", **values))
    assert [(n, c) for n, c, _ in found] == [(2, column)]
    assert found[0][2].startswith(message)


def test_every_problem_of_a_row_is_reported() -> None:
    found = problems(row(period="2025-Q9", geo_level="planet", count="-1", cost="x"))
    assert [(n, c) for n, c, _ in found] == [(1, "period"), (1, "geo_level"), (1, "count"), (1, "cost")]


def test_values_are_checked_to_be_text_before_they_are_stripped() -> None:
    found = problems(row(), {**row(period="2025-Q4"), "count": 7}, {**row(period="2026-Q1"), "cost": None})
    assert found == [(2, "count", "The cell could not be read as text (int)")]
    assert problems(row(count="abc\x00")) == [
        (1, "count", "Must not contain a NUL character; type the value again")
    ]


def test_missing_required_columns_are_reported_once() -> None:
    rows = [{"period": "2025-Q3", "geo_id": TRACT, "count": "4"} for _ in range(50)]
    report = reports.check_rows(rows, known)
    assert report.problem_count == 1
    assert str(report.problems[0]) == "Header: Missing required columns: geo_level, measure"
    assert report.rows == ()


def test_optional_columns_may_be_left_out() -> None:
    rows = [{k: v for k, v in row().items() if k not in ("cost", "target")}]
    report = reports.check_rows(rows, known)
    assert report.ok and report.rows[0].cost is None and report.rows[0].target is None


def test_unknown_columns_are_refused_once() -> None:
    rows = [
        {**row(), "Participant name": "x", "costs": "10"},
        {**row(period="2025-Q4"), "Participant name": "y", "costs": ""},
    ]
    report = reports.check_rows(rows, known)
    assert report.problem_count == 1
    assert report.problems[0].row == reports.HEADER
    assert "Unknown columns: Participant name, costs" in report.problems[0].message


def test_header_names_are_matched_whatever_their_case_and_spaces() -> None:
    data = (
        "\ufeffPeriod , GEO_LEVEL,geo_id,Measure,COUNT\r\n2025-Q3,tract,26163520100,devices_distributed,2\r\n"
    )
    report = reports.check_rows(reports.read_csv(data.encode("utf-8")), known)
    assert report.ok and report.rows[0].count == 2


def test_a_csv_report_with_row_numbers_as_in_the_file() -> None:
    data = (
        "period,geo_level,geo_id,measure,count,cost,target\r\n"
        "2025-Q3,tract,26163520100,devices_distributed,4,,\r\n"
        ",,,,,,\r\n"
        "\r\n"
        "2025-Q3,tract,26163520200,devices_distributed,4,,,surplus\r\n"
        "2025-Q3,tract,26163520200,households_connected,4.5,,\r\n"
    )
    report = reports.check_rows(reports.read_csv(data.encode()), known)
    assert [str(p) for p in report.problems] == [
        "Row 4 (line 5): This row has more cells than the header has columns",
        "Row 5 (line 6), column count: The count must be a whole number (found 4.5)",
    ]
    assert [r.row for r in report.rows] == [1]


def test_the_same_period_place_and_measure_twice_is_double_counting() -> None:
    found = problems(row(), row(measure="households_connected"), row(count="7"))
    assert found == [(3, "", "Same period, place and measure as row 1: report each once")]


def test_a_quarter_beside_its_own_months_is_double_counting() -> None:
    found = problems(
        row(period="2025-07"), row(period="2025-08"), row(period="2025-Q3"), row(period="2025-Q4")
    )
    assert len(found) == 1
    number, column, message = found[0]
    assert (number, column) == (3, "period")
    assert message.startswith("Row 1 reports this place and measure for the quarter 2025-Q3")


def test_what_another_report_counts_already_is_double_counting() -> None:
    where = 'row 4 (line 5) of the report "Q3"'
    elsewhere = {
        ("2025-Q3", None, "tract", TRACT, "devices_distributed"): where,
        ("2025-Q2", None, "tract", TRACT, "devices_distributed"): where,
        ("2025-Q4", 11, "tract", TRACT, "devices_distributed"): where,
    }
    checker = reports.Checker(known)
    checks = [
        row(),  # the same period, place and measure
        row(measure="households_connected"),  # another measure
        row(period="2025-05"),  # a month of a quarter counted there
        row(period="2025-Q4"),  # the quarter of a month counted there
    ]
    for number, record in enumerate(checks, start=1):
        checker.add(number, record)
    found = checker.report(elsewhere)
    assert [(p.row, p.column, p.message) for p in found.problems] == [
        (
            1,
            "",
            f"Same period, place and measure as {where}: counted twice. Report each once, in one "
            "report of the programme",
        ),
        (
            3,
            "period",
            'Row 4 (line 5) of the report "Q3" reports this place and measure for the whole quarter 2025-Q2, '
            "and this row for one of its months: counted twice. Report either the quarter or its months",
        ),
        (
            4,
            "period",
            'Row 4 (line 5) of the report "Q3" reports this place and measure for a month of 2025-Q4, '
            "and this row for the whole quarter: counted twice. Report either the quarter or its months",
        ),
    ]
    assert found.problem_count == 3


def test_a_median_needs_its_count_beside_it() -> None:
    median = row(geo_level="city", geo_id="city", measure="median_earnings_q2", count="9800.50")
    count = row(geo_level="city", geo_id="city", measure="employed_q2_after_exit", count="18")
    report = reports.check_rows([count, median], known)
    assert report.ok and report.rows[1].count == 9800.5
    found = problems(
        median, row(geo_level="city", geo_id="city", measure="employed_q2_after_exit", period="2025-Q4")
    )
    assert [(n, c) for n, c, _ in found] == [(1, "measure")]
    assert "needs the employed_q2_after_exit count of the same period and place" in found[0][2]
    assert problems(count, {**median, "count": "-3"}) == [
        (2, "count", "The median in dollars cannot be negative (found -3)")
    ]


def test_an_empty_report_is_refused() -> None:
    assert problems() == [(0, "", "The report is empty: it has no header and no rows")]
    blank = dict.fromkeys(reports.COLUMNS, "")
    assert problems(blank, blank) == [(0, "", "The report has no data rows")]


def test_known_is_asked_with_the_portal_codes() -> None:
    asked = []

    def spy(level: str, code: str) -> bool:
        asked.append((level, code))
        return True

    reports.check_rows(
        [
            row(geo_id="26163520100.0"),
            row(geo_level="council_district", geo_id="Council District 3"),
            row(geo_level="neighborhood", geo_id="Arden Park"),
            row(geo_level="city", geo_id=""),
        ],
        spy,
    )
    assert asked == [
        ("tract", "26163520100"),
        ("council_district", "district-3"),
        ("neighborhood", "neighborhood-arden-park"),
        ("city", "city"),
    ]


def test_problems_are_counted_beyond_those_listed() -> None:
    rows = [row(period=f"2025-Q{1 + i % 4}", geo_id=f"x{i}") for i in range(reports.MAX_PROBLEMS + 50)]
    report = reports.check_rows(rows, known)
    assert len(report.problems) == reports.MAX_PROBLEMS
    assert report.problem_count == reports.MAX_PROBLEMS + 50


# --- templates ------------------------------------------------------------------------------------


def test_template_csv() -> None:
    text = reports.template_csv().decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "period,geo_level,geo_id,measure,count,cost,target"
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["measure"] for r in records] == list(registry.MEASURES)
    assert all(r["count"] == "" and r["period"] == "" for r in records)


def test_template_xlsx() -> None:
    book = load_workbook(io.BytesIO(reports.template_xlsx()))
    assert book.sheetnames == ["Report", "Measures", "Columns"]
    report = [list(r) for r in book["Report"].iter_rows(values_only=True)]
    assert report[0] == list(reports.COLUMNS)
    assert [r[3] for r in report[1:]] == list(registry.MEASURES)
    assert book["Report"]["A2"].number_format == "@"
    measures = [list(r) for r in book["Measures"].iter_rows(values_only=True)]
    assert measures[0][:5] == ["measure", "title", "unit", "kind", "definition"]
    assert [r[0] for r in measures[1:]] == list(registry.MEASURES)
    by_id = {r[0]: r for r in measures[1:]}
    assert by_id["devices_distributed"][4] == registry.measure("devices_distributed").definition
    assert by_id["median_earnings_q2"][2:4] == ["usd", "median"]
    columns = [list(r) for r in book["Columns"].iter_rows(values_only=True)]
    assert [r[0] for r in columns[1:]] == list(reports.COLUMNS)
    assert [r[1] for r in columns[1:]] == ["yes"] * 5 + ["no"] * 2


def test_a_filled_in_xlsx_template_checks() -> None:
    book = load_workbook(io.BytesIO(reports.template_xlsx()))
    sheet = book["Report"]
    sheet["A2"], sheet["B2"], sheet["C2"], sheet["E2"], sheet["F2"] = "2025-Q3", "tract", TRACT, 6, 1800.5
    sheet.delete_rows(3, len(registry.MEASURES))
    values = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    records = [{h: "" if v is None else str(v) for h, v in zip(header, r, strict=True)} for r in values[1:]]
    report = reports.check_rows(records, known)
    assert report.ok, report.problems
    assert (report.rows[0].measure, report.rows[0].count, report.rows[0].cost) == (
        "devices_distributed",
        6,
        1800.5,
    )


def test_read_csv_keeps_empty_lines_and_marks_missing_and_extra_cells() -> None:
    assert list(reports.read_csv(b"")) == []
    data = b"period,count\r\n2025-Q3\r\n\r\n2025-Q4,1,2\r\n"
    assert list(reports.read_csv(data)) == [
        {"period": "2025-Q3", "count": None},
        {"period": None, "count": None},
        {"period": "2025-Q4", "count": "1", None: ["2"]},
    ]


def test_a_column_given_twice_is_refused() -> None:
    data = (
        b"period,geo_level,geo_id,measure,count,count\r\n"
        b"2025-Q3,tract,26163520100,devices_distributed,2,9\r\n"
    )
    report = reports.check_rows(reports.read_csv(data), known)
    assert [str(p) for p in report.problems] == [
        "Header: Unknown columns: count (repeated). A report has only the columns period, geo_level, "
        "geo_id, measure, count, cost, target; remove or rename the others"
    ]
    mixed = [{**row(), "Count": "3"}]
    assert problems(*mixed) == [(0, "", "Columns given twice: count")]
