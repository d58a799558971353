"""The personal-data screening (:mod:`ckanext.cd3p.ingestion.screening`) on real files written to
tmp_path, and on
the real Detroit tables, which must pass clean: a screening that cries wolf on the portal's own
indicator files would teach partners to ignore it.

Pure functions only, no CKAN fixtures: the file also runs with ``-p no:ckan``. The personal values
below are made up (555-01xx phone numbers, example.org addresses, SSNs of the 1xx-4xx areas).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ckanext.cd3p.ingestion import screening
from ckanext.cd3p.ingestion.screening import Finding, ScreeningError

DATA_DIR = Path(
    os.environ.get("CD3P_DATA_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "detroit"
)

GIVEN = ["James", "Mary", "Robert", "Patricia", "Tyrone", "Keisha", "Jose", "Fatima", "Michael", "Linda"]
SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Davis", "Hassan", "Kowalski", "Moore", "Lee"]


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def screen_file(path: Path, fmt: str = "CSV", **kw: Any) -> list[Finding]:
    return screening.screen(screening.read_tables(path, fmt), **kw)


def one(findings: list[Finding], kind: str) -> Finding:
    matching = [f for f in findings if f.kind == kind]
    assert len(matching) == 1, findings
    return matching[0]


def people_table(values: list[str], column: str = "contact") -> list[list[Any]]:
    """40 rows of a tract table; the personal values fill ``column`` in every other row (50 %)."""
    rows: list[list[Any]] = [["tract", column, "households"]]
    for i in range(40):
        rows.append([f"26163{5001 + i:04d}00", values[i % len(values)] if i % 2 == 0 else "", 100 + i])
    return rows


def personal_rows() -> set[int]:
    """Spreadsheet row numbers of people_table's personal values (the header is row 1)."""
    return {i + 2 for i in range(40) if i % 2 == 0}


def assert_private(finding: Finding, values: list[str]) -> None:
    """The finding points at rows, but never repeats the personal values."""
    assert finding.rows and len(finding.rows) <= 5
    assert set(finding.rows) <= personal_rows()
    text = json.dumps(screening.as_dict(finding))
    for value in values:
        assert value not in text


# --- one test per kind ----------------------------------------------------------------------------

NAMES = [f"{g} {s}" for g, s in zip(GIVEN, SURNAMES, strict=True)] + ["Smith, Mary", "Mr. James A. Moore Jr."]
SSNS = ["123-45-6789", "219-09-9999", "078-05-1120", "431 54 1234", "512-33-7001"]
EMAILS = ["jane.doe@example.org", "t.smith+cd3p@example.com", "KEISHA_B@EXAMPLE.NET", "mailto:jg@example.org"]
PHONES = ["(313) 555-0100", "313-555-0101", "313.555.0102", "313 555 0103", "+1 313 555 0104", "+13135550105"]
ADDRESSES = [
    "1234 Woodward Ave",
    "19400 W 7 Mile Rd",
    "5057 Trumbull St.",
    "8200 E Jefferson Ave Apt 4",
    "2 Woodward Ave, Detroit, MI 48226",
    "16101 Grand River Ave Detroit MI 48227",
    "440 Burroughs St Suite 300",
]


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("person_name", NAMES),
        ("ssn", SSNS),
        ("email", EMAILS),
        ("phone", PHONES),
        ("street_address", ADDRESSES),
    ],
)
def test_values_of_each_kind_are_found(tmp_path: Path, kind: str, values: list[str]) -> None:
    findings = screen_file(write_csv(tmp_path / "t.csv", people_table(values)))
    finding = one(findings, kind)
    assert (finding.sheet, finding.column) == ("", "contact")
    assert (finding.matched, finding.sampled) == (20, 20)
    assert "20 of 20 sampled values" in finding.reason
    assert_private(finding, values)
    assert [f.kind for f in findings] == [kind]


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("first_name", "person_name"),
        ("LastName", "person_name"),
        ("Participant Name", "person_name"),
        ("DOB", "birth_date"),
        ("date_of_birth", "birth_date"),
        ("dateOfBirth", "birth_date"),
        ("SSN", "ssn"),
        ("social_security_number", "ssn"),
        ("E-mail", "email"),
        ("email_address", "email"),
        ("Phone #", "phone"),
        ("cell", "phone"),
        ("home_telephone", "phone"),
        ("address", "street_address"),
        ("Street", "street_address"),
        ("mailing-address-line-1", "street_address"),
    ],
)
def test_column_names_that_say_personal_data(tmp_path: Path, column: str, kind: str) -> None:
    values = ["x1", "x2", "x3"]  # codes, not personal values: the name alone flags the column
    finding = one(screen_file(write_csv(tmp_path / "t.csv", people_table(values, column))), kind)
    assert finding.column == column
    assert "the column name says" in finding.reason
    assert set(finding.rows) <= personal_rows()


@pytest.mark.parametrize(
    "column",
    ["NAME", "COUNTY NAME", "births", "ip_address", "MAC address", "web address", "url", "mobile_broadband",
     "pct_use_email", "street name", "age_group", "households_with_phone"],
)  # fmt: skip
def test_column_names_that_do_not(tmp_path: Path, column: str) -> None:
    assert screen_file(write_csv(tmp_path / "t.csv", people_table(["a", "b"], column))) == []


def test_columns_named_for_phones_that_hold_measures(tmp_path: Path) -> None:
    # broadband tables: the share of households with a cellular plan, tests on mobile networks
    rows = [["tract", "cell", "mobile", "phone"]]
    rows += [
        [f"26163{5001 + i}00", f"{40 + i / 10:.1f}%", f"{0.5 + i / 100:.2f}", 120 + i] for i in range(30)
    ]
    assert screen_file(write_csv(tmp_path / "t.csv", rows)) == []
    # but a phone column of 10-digit numbers without separators is a phone list
    rows = [["tract", "phone"]] + [[f"26163{5001 + i}00", 3135550100 + i] for i in range(30)]
    assert [(f.column, f.kind) for f in screen_file(write_csv(tmp_path / "t.csv", rows))] == [
        ("phone", "phone")
    ]


def test_birth_dates_by_column_name(tmp_path: Path) -> None:
    rows = [["client_id", "Date of Birth"]] + [[i, f"19{50 + i}-0{1 + i % 9}-1{i % 10}"] for i in range(30)]
    finding = one(screen_file(write_csv(tmp_path / "t.csv", rows)), "birth_date")
    assert finding.column == "Date of Birth"
    assert finding.rows == [2, 3, 4, 5, 6]
    assert "1950" not in finding.reason


def birthdays(n: int) -> list[str]:
    rng = random.Random(7)
    return [f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(1935, 2012)}" for _ in range(n)]


def test_birth_dates_by_values_next_to_names(tmp_path: Path) -> None:
    days = birthdays(40)
    rows = [["client", "d"]] + [[NAMES[i % 10], days[i]] for i in range(40)]
    findings = screen_file(write_csv(tmp_path / "t.csv", rows))
    assert [(f.column, f.kind) for f in findings] == [("client", "person_name"), ("d", "birth_date")]
    birth = findings[1]
    assert birth.matched == 40 and "person names" in birth.reason
    assert birth.rows == [2, 3, 4, 5, 6]
    for day in days:
        assert day not in birth.reason


def test_dates_alone_are_not_birth_dates(tmp_path: Path) -> None:
    days = birthdays(40)
    rows = [["tract", "d"]] + [[f"26163{5001 + i}00", days[i]] for i in range(40)]
    assert screen_file(write_csv(tmp_path / "t.csv", rows)) == []
    # next to names, report dates of recent years are not birth dates either
    recent = [f"2021-0{1 + i % 9}-1{i % 10}" for i in range(40)]
    rows = [["client", "visit"]] + [[NAMES[i % 10], recent[i]] for i in range(40)]
    assert [f.kind for f in screen_file(write_csv(tmp_path / "t.csv", rows))] == ["person_name"]


def test_exact_ages_of_individual_rows(tmp_path: Path) -> None:
    rows = [["tract", "age", "income"]] + [[f"26163{5001 + i}00", 20 + i, 30000 + i] for i in range(30)]
    finding = one(screen_file(write_csv(tmp_path / "t.csv", rows)), "exact_age")
    assert finding.column == "age"
    assert "no count column" in finding.reason
    assert (finding.matched, finding.sampled) == (30, 30)
    assert finding.rows == [2, 3, 4, 5, 6]


def test_exact_ages_with_small_counts(tmp_path: Path) -> None:
    # single years of age with the number of people: ages 85+ have few people
    rows = [["Age", "Persons"]] + [[age, 4 if age >= 85 else 1200 - age] for age in range(0, 101)]
    finding = one(screen_file(write_csv(tmp_path / "t.csv", rows)), "exact_age")
    assert finding.column == "Age"
    assert finding.matched == 16 and finding.sampled == 101
    assert finding.rows == [87, 88, 89, 90, 91]  # age 85 is on row 87
    assert "from 1 to 10" in finding.reason
    # a threshold of 4 makes a count of 4 large enough
    assert screen_file(tmp_path / "t.csv", small_cell_threshold=4) == []


def test_ages_with_large_counts_or_age_groups_pass(tmp_path: Path) -> None:
    rows = [["age", "population"]] + [[age, f"{1200 + age:,}"] for age in range(0, 101)]
    assert screen_file(write_csv(tmp_path / "t.csv", rows)) == []
    groups = [["age", "count"], ["0-4", 3], ["5-17", 7], ["18-64", 2], ["65+", 1]]
    assert screen_file(write_csv(tmp_path / "g.csv", groups)) == []


# --- values that are not personal data ------------------------------------------------------------


def test_codes_and_numbers_are_not_phone_numbers(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["GEOID", "zip", "fips", "count", "ratio", "id"]]
    for i in range(50):
        rows.append(
            [f"2616350{i:02d}00", f"482{i % 40:02d}", f"26{163 + i:03d}", 3135550100 + i, "313555.0100", i]
        )
    assert screen_file(write_csv(tmp_path / "t.csv", rows)) == []


def test_separators_percents_negatives_and_empty_cells(tmp_path: Path) -> None:
    rows = [
        ["tract", "population", "change", "loss", "share", "income", "note"],
        ["26163500100", "1,234", "-5", "(5)", "12.5%", "$41,250", ""],
        ["26163500200", "12,345,678", "-1,234.5", "(1,200)", "-0.5%", "", ""],
        ["26163500300", "", "", "", "", "$1,200.50", ""],
        ["26163500400", "0", "+3", "(0.25)", "100%", "6.0e-4", ""],
    ]
    tables = screening.read_tables(write_csv(tmp_path / "t.csv", rows), "CSV")
    assert tables[0].rows == rows[1:]
    assert tables[0].total_rows == 4
    assert screening.screen(tables) == []


def test_real_detroit_tables_pass(tmp_path: Path) -> None:
    files = sorted((DATA_DIR / "indicators").glob("*.csv"))
    assert files, DATA_DIR
    for path in files:
        tables = screening.read_tables(path, "CSV")
        assert screening.screen(tables) == [], path.name
        with path.open(newline="") as f:
            assert tables[0].total_rows == sum(1 for _ in csv.reader(f)) - 1, path.name
        assert len(tables[0].rows) == min(5000, tables[0].total_rows)


def test_detroit_neighbourhood_names_are_not_person_names(tmp_path: Path) -> None:
    features = json.loads((DATA_DIR / "boundaries" / "neighborhoods.geojson").read_text())["features"]
    names = [f["properties"]["name"] for f in features]
    assert len(names) == 208 and {"Arden Park", "Boston Edison", "Palmer Woods"} <= set(names)
    for column in ("name", "neighborhood", "contact"):
        rows = [[column, "households"]] + [[name, 1000 + i] for i, name in enumerate(names)]
        assert screen_file(write_csv(tmp_path / "n.csv", rows)) == [], column


def test_census_place_names_are_not_person_names(tmp_path: Path) -> None:
    rows = [["NAME", "COUNTY NAME", "GEOID"]]
    # two of these counties are named after people, as a few US counties are
    counties = ["Wayne", "Oakland", "Jeff Davis", "St. Clair", "Van Buren", "Prince George's", "Anne Arundel"]
    counties += ["Kent", "Genesee", "Ingham", "Washtenaw", "Macomb"]
    for i in range(40):
        county = counties[i % len(counties)]
        rows.append([f"Census Tract {5001 + i}, {county} County, Michigan", county, f"26163{5001 + i}00"])
    assert screen_file(write_csv(tmp_path / "t.csv", rows)) == []


# --- encodings ------------------------------------------------------------------------------------

PLAIN = [["place", "note"], ["Café", "Señor"], ["Crème brûlée", "naïve façade"]]
# curly quotes, en dash, euro sign: bytes 0x80-0x9F in Windows-1252
CP1252_ONLY = ["\u201cCorktown\u201d \u2013 \u201979", "\u20ac5"]


@pytest.mark.parametrize(
    ("encoding", "detected", "rows"),
    [
        ("utf-8", "utf-8", [*PLAIN, CP1252_ONLY]),
        ("utf-8-sig", "utf-8-sig", [*PLAIN, CP1252_ONLY]),
        ("cp1252", "windows-1252", [*PLAIN, CP1252_ONLY]),
        ("latin-1", "iso-8859-1", PLAIN),
    ],
)
def test_encodings_are_detected_and_decoded(
    tmp_path: Path, encoding: str, detected: str, rows: list[list[str]]
) -> None:
    path = write_csv(tmp_path / "t.csv", rows, encoding=encoding)
    assert screening.detect_encoding(path.read_bytes()[:65536]) == detected
    (table,) = screening.read_tables(path, "csv")
    assert table.encoding == detected
    assert table.header == ["place", "note"]  # no byte-order mark left in the first name
    assert table.rows == rows[1:]


def test_detect_encoding_on_bytes() -> None:
    assert screening.detect_encoding(b"plain ascii") == "utf-8"
    assert screening.detect_encoding("Café".encode()[:-1]) == "utf-8"  # cut inside é
    assert screening.detect_encoding(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert screening.detect_encoding("Señor “x”".encode("cp1252")) == "windows-1252"
    assert screening.detect_encoding("Señor".encode("latin-1")) == "iso-8859-1"
    assert screening.detect_encoding(b"caf\xe9 \x81") == "iso-8859-1"  # 0x81 is not Windows-1252


def test_a_file_that_stops_being_utf8_after_the_first_chunk(tmp_path: Path) -> None:
    rows = [["place", "households"]] + [[f"Tract {i}", i] for i in range(20000)] + [["Café “Eastern”", 1]]
    path = write_csv(tmp_path / "t.csv", rows, encoding="cp1252")
    assert screening.detect_encoding(path.read_bytes()[:65536]) == "utf-8"  # the first 64 KB are ASCII
    (table,) = screening.read_tables(path, "CSV", sample_rows=30000)
    assert table.encoding == "windows-1252"
    assert table.rows[-1] == ["Café “Eastern”", "1"]


# --- formats --------------------------------------------------------------------------------------


def test_xlsx_personal_data_on_the_second_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["GEOID", "households", "share"])
    for i in range(30):
        summary.append([f"26163{5001 + i}00", 1000 + i, 0.25 + i / 100])
    people = workbook.create_sheet("Participants")
    people.append(["Participant", "Contact", "Joined"])
    for i in range(12):
        if i == 3:
            people.append([])  # a blank row keeps its number
        people.append([NAMES[i % 10], EMAILS[i % 4], dt.datetime(2020, 6, 1 + i)])
    path = tmp_path / "t.xlsx"
    workbook.save(path)

    tables = screening.read_tables(path, "xlsx")
    assert [(t.sheet, t.total_rows, t.encoding) for t in tables] == [
        ("Summary", 30, None),
        ("Participants", 12, None),
    ]
    assert tables[1].header == ["Participant", "Contact", "Joined"]
    assert tables[1].row_numbers == [2, 3, 4, *range(6, 15)]
    assert tables[1].rows[0][2] == "2020-06-01"
    findings = screening.screen(tables)
    assert [(f.sheet, f.column, f.kind) for f in findings] == [
        ("Participants", "Participant", "person_name"),
        ("Participants", "Contact", "email"),
    ]
    assert findings[0].rows == [2, 3, 4, 6, 7]


def test_xlsx_with_a_wrong_declared_dimension_is_read_whole(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "email"])
    for i in range(10):
        sheet.append([i, EMAILS[i % 4]])
    workbook.save(tmp_path / "good.xlsx")
    # some tools write a dimension of "A1"; openpyxl's read-only mode would then see one column
    with zipfile.ZipFile(tmp_path / "good.xlsx") as src, zipfile.ZipFile(tmp_path / "t.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B11"/>', b'<dimension ref="A1"/>')
            dst.writestr(item, data)
    (table,) = screening.read_tables(tmp_path / "t.xlsx", "XLSX")
    assert table.header == ["id", "email"] and table.total_rows == 10
    assert one(screening.screen([table]), "email").column == "email"


def test_xlsx_title_rows_above_the_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Youth program participants, 2023"])
    sheet.append(["Source: partner records"])
    sheet.append([])
    sheet.append(["first_name", "ward", "households"])
    for i in range(10):
        sheet.append([GIVEN[i], i % 7 + 1, 100 + i])
    workbook.save(tmp_path / "t.xlsx")
    (table,) = screening.read_tables(tmp_path / "t.xlsx", "XLSX")
    assert table.header == ["first_name", "ward", "households"]
    assert table.total_rows == 10 and table.row_numbers[0] == 5
    finding = one(screening.screen([table]), "person_name")
    assert finding.column == "first_name" and finding.rows == [5, 6, 7, 8, 9]


def test_json_records(tmp_path: Path) -> None:
    records = [{"tract": f"26163{5001 + i}00", "phone": None, "who": NAMES[i % 10]} for i in range(20)]
    records[4]["extra"] = {"nested": [1, 2]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(records, indent=1))
    (table,) = screening.read_tables(path, "JSON")
    assert table.header == ["tract", "phone", "who", "extra"]
    assert table.total_rows == 20 and table.row_numbers[:3] == [2, 3, 4]
    assert table.rows[4] == ["26163500500", "", NAMES[4], '{"nested": [1, 2]}']
    findings = screening.screen([table])
    assert [(f.column, f.kind) for f in findings] == [("phone", "phone"), ("who", "person_name")]
    assert findings[0].reason == "the column name says phone number (it has no values in the sample)"
    # the same records inside {"fields": ..., "records": [...]}, as the DataStore API returns them
    path.write_text(json.dumps({"fields": [{"id": "tract"}], "records": records}))
    assert screening.read_tables(path, "json")[0].rows == table.rows
    path.write_text(json.dumps({"help": "...", "result": {"records": records, "total": 20}}))
    assert screening.read_tables(path, "json")[0].total_rows == 20


def test_tsv_semicolon_csv_and_txt(tmp_path: Path) -> None:
    rows = people_table(PHONES)
    for name, fmt, delimiter in (("t.tsv", "TSV", "\t"), ("s.csv", "CSV", ";"), ("t.txt", "TXT", "\t")):
        path = write_csv(tmp_path / name, rows, delimiter=delimiter)
        (table,) = screening.read_tables(path, fmt)
        assert table.header == ["tract", "contact", "households"], name
        assert one(screening.screen([table]), "phone").column == "contact"


def test_as_dict_is_json_ready(tmp_path: Path) -> None:
    (finding,) = screen_file(write_csv(tmp_path / "t.csv", people_table(EMAILS)))
    assert json.loads(json.dumps(screening.as_dict(finding))) == {
        "sheet": "",
        "column": "contact",
        "kind": "email",
        "reason": "20 of 20 sampled values look like e-mail addresses",
        "rows": [2, 4, 6, 8, 10],
        "matched": 20,
        "sampled": 20,
    }


# --- malformed files ------------------------------------------------------------------------------


def error_of(tmp_path: Path, content: bytes, fmt: str = "CSV", name: str = "t.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScreeningError) as caught:
        screening.read_tables(path, fmt)
    message = str(caught.value)
    assert "Traceback" not in message and "Error(" not in message
    return message


def test_unterminated_quote(tmp_path: Path) -> None:
    message = error_of(tmp_path, b'a,b\n1,2\n3,"abc\n4,5\n')
    assert "row 3 (line 3" in message and "never closed" in message


def test_text_after_a_closing_quote(tmp_path: Path) -> None:
    message = error_of(tmp_path, b'a,b\n1,2\n3,4\n5,"ab"c\n')
    assert "row 4 (line 4" in message and "closing quote" in message


def test_nul_byte(tmp_path: Path) -> None:
    message = error_of(tmp_path, b"a,b\n1,2\n3,\x004\n")
    assert "Line 3" in message and "NUL" in message


def test_rows_with_more_fields_than_the_header(tmp_path: Path) -> None:
    message = error_of(tmp_path, b"a,b\n1,2\n3,4,5\n6,7\n8,9,10,11\n12,13,\n")
    assert message.startswith("Rows 3, 5 of the file have more fields than the header's 2 columns")
    lines = ["a,b"] + [f"{i},{i},{i}" for i in range(8)]
    message = error_of(tmp_path, "\n".join(lines).encode())
    assert message.startswith("Rows 2, 3, 4, 5, 6 (and 3 more) of the file have more fields")


def test_empty_and_blank_files(tmp_path: Path) -> None:
    assert error_of(tmp_path, b"") == "The file is empty."
    assert "blank" in error_of(tmp_path, b"\n\r\n,,\n")
    assert error_of(tmp_path, b"", "XLSX", "t.xlsx") == "The file is empty."
    assert "blank" in error_of(tmp_path, b"  \n", "JSON", "t.json")


def test_binary_files_declared_as_csv(tmp_path: Path) -> None:
    message = error_of(tmp_path, random.Random(1).randbytes(4096))
    assert "not CSV text" in message
    message = error_of(tmp_path, b"\x01\x02\x03\x04garbage\x05\x06" * 50)
    assert "not CSV text" in message
    workbook = openpyxl.Workbook()
    workbook.save(tmp_path / "w.xlsx")
    assert "ZIP archive" in error_of(tmp_path, (tmp_path / "w.xlsx").read_bytes())
    assert "UTF-16" in error_of(tmp_path, "a,b\n1,2\n".encode("utf-16"))


def test_files_that_are_not_xlsx(tmp_path: Path) -> None:
    assert "not an XLSX workbook" in error_of(tmp_path, b"a,b\n1,2\n", "XLSX", "t.xlsx")
    assert ".xls" in error_of(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "XLSX", "t.xlsx")
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.writestr("readme.txt", "not a workbook")
    message = error_of(tmp_path, (tmp_path / "z.zip").read_bytes(), "XLSX", "t.xlsx")
    assert "not an XLSX workbook that can be read" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"a": 1, "b": [1, 2]}', 'an object without a "records" list'),
        (b'{"records": {"a": 1}}', '"records" of the JSON object are not a list'),
        (b'[{"a": 1}, 2]', "Record 2 (line 1) is a number, not an object"),
        (b'[{"a": 1},\n ["x"]]', "Record 2 (line 2) is a list, not an object"),
        (b'"just text"', "The JSON is a string, not a list of records"),
        (b'[{"a": 1},\n{"a": 2,}]', "not valid at line 2"),
        (b'[{"a": 1}, {"a": 2}', "a ] is missing"),
        (b'[{"a": 1}] [{"a": 2}]', "more data after its list"),
        (b'{"a": 1}\n{"a": 2}\n', 'an object without a "records" list'),
    ],
)
def test_json_that_is_not_a_list_of_records(tmp_path: Path, content: bytes, expected: str) -> None:
    assert expected in error_of(tmp_path, content, "JSON", "t.json")


def test_unknown_format(tmp_path: Path) -> None:
    assert "not PDF" in error_of(tmp_path, b"%PDF-1.4", "PDF", "t.pdf")


# --- big files ------------------------------------------------------------------------------------


def test_big_file_is_streamed_and_sampled(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "geoid", "share", "contact"])
        for i in range(200_000):
            # e-mail addresses only in the last quarter: a sample of the first rows would miss them
            contact = f"person{i}@example.org" if i >= 150_000 else ""
            writer.writerow([i, f"26163{i % 9000:06d}", f"{i % 1000 / 10}%", contact])
    (table,) = screening.read_tables(path, "CSV", sample_rows=2000)
    assert table.total_rows == 200_000
    assert len(table.rows) == len(table.row_numbers) == 2000
    assert table.row_numbers == sorted(set(table.row_numbers))
    assert all(row[0] == str(n - 2) for n, row in zip(table.row_numbers, table.rows, strict=True))
    assert table.row_numbers[0] < 10_000 and table.row_numbers[-1] > 190_000  # spread over the file
    assert screening.read_tables(path, "CSV", sample_rows=2000)[0].row_numbers == table.row_numbers
    finding = one(screening.screen([table]), "email")
    assert finding.column == "contact" and min(finding.rows) >= 150_002


# --- files without quotes are read line by line ---------------------------------------------------

UNQUOTED = [
    # blank lines, a short row, an empty extra field, a row of delimiters only, CRLF and CR line ends,
    # no final newline
    ("CSV", "a,b,c\n1,2,3\n\n4,5\n6,7,8,\n,,\n9,10,11\r\n12,13,14\r15, 16 ,17"),
    ("CSV", "\n,\n id , name \nx,y\n"),  # blank lines above the header
    ("CSV", "\ufeffid,name\nx,y\n"),  # a BOM
    ("TSV", "a\tb\n1\t2\n3\t\n\t\n4\t5\t\t\n"),
    ("CSV", "a;b\n1;2\n3;4;\n"),  # semicolons
    ("CSV", "a,b\n" + "".join(f"{i},{i * 7 % 13}\n" + ("\n" if i % 97 == 0 else "") for i in range(3000))),
]


@pytest.mark.parametrize(("fmt", "content"), UNQUOTED)
def test_a_file_without_quotes_reads_as_the_csv_reader_reads_it(
    tmp_path: Path, fmt: str, content: str
) -> None:
    path = tmp_path / "t.txt"
    path.write_text(content, encoding="utf-8", newline="")
    by_lines = screening.read_tables(path, fmt, sample_rows=50)[0]
    by_csv = screening._read_delimited(path, fmt, 50, encoding=by_lines.encoding)  # the csv module's reading
    assert by_lines == by_csv
    seen: list[tuple[int, list[str]]] = []  # every row, as a check of geography codes sees them
    assert (
        screening.read_tables(path, fmt, 50, on_row=lambda s, h, n, v: seen.append((n, list(v))))[0] == by_csv
    )
    expected: list[tuple[int, list[str]]] = []
    screening._read_delimited(
        path, fmt, 50, lambda s, h, n, v: expected.append((n, list(v))), encoding="utf-8"
    )
    assert seen == expected and len(seen) == by_csv.total_rows


def test_errors_in_a_file_without_quotes_are_the_csv_readers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    for content in (
        "a,b\n1,2\n3,4,5\n6,7\n8,9,10,11\n",
        "a,b\n1,2\n3," + "x" * (csv.field_size_limit() + 1) + "\n",
    ):
        path.write_text(content)
        with pytest.raises(ScreeningError) as by_lines:
            screening.read_tables(path, "CSV")
        with pytest.raises(ScreeningError) as by_csv:
            screening._read_delimited(path, "CSV", 5000, encoding="utf-8")
        assert str(by_lines.value) == str(by_csv.value)
