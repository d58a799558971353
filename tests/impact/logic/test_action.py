"""The measures and the outcome report's template, through the Action API."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action, call_auth
from openpyxl import load_workbook

from ckanext.cd3p.impact import registry
from tests.impact.test_registry import EXPECTED_IDS  # the ids the issue fixes, in its order

pytestmark = pytest.mark.usefixtures("with_plugins")

MEASURES_YAML = Path(registry.__file__).parent / "measures.yaml"


def _anonymous() -> dict[str, Any]:
    return {"user": "", "ignore_auth": False}


def test_anyone_may_read_the_measures_and_the_template() -> None:
    assert call_auth("cd3p_measure_list", _anonymous()) is True
    assert call_auth("cd3p_outcome_template", _anonymous()) is True


def test_the_measures_are_the_fixed_list_with_their_definitions_and_needs() -> None:
    measures = call_action("cd3p_measure_list", _anonymous())

    assert [m["id"] for m in measures] == EXPECTED_IDS
    from_file = {m["id"]: m for m in yaml.safe_load(MEASURES_YAML.read_text())["measures"]}
    for m in measures:
        assert m["definition"].split() == from_file[m["id"]]["definition"].split()
        assert (m["need"] or {}).get("indicator") == (from_file[m["id"]]["need"] or {}).get("indicator")
    devices = measures[0]
    assert devices["need"] == {
        "indicator": "households-without-computer",
        "count": "numerator",
        "label": "households without a computer",
    }
    assert next(m for m in measures if m["id"] == "navigator_sessions")["need"] is None


def test_the_csv_template_has_the_columns_and_one_row_per_measure() -> None:
    found = call_action("cd3p_outcome_template", _anonymous(), format="csv")

    assert (found["filename"], found["encoding"]) == ("cd3p-outcome-report.csv", "utf-8")
    rows = list(csv.reader(io.StringIO(found["content"])))
    assert rows[0] == ["period", "geo_level", "geo_id", "measure", "count", "cost", "target"]
    assert [r[3] for r in rows[1:]] == EXPECTED_IDS
    assert all(r[0] == r[1] == r[2] == r[4] == "" for r in rows[1:])


def test_the_workbook_template_opens_with_the_report_and_the_measures() -> None:
    found = call_action("cd3p_outcome_template", _anonymous(), format="xlsx")

    book = load_workbook(io.BytesIO(base64.b64decode(found["content"])))
    report = book.worksheets[0]
    assert [c.value for c in report[1]] == [
        "period",
        "geo_level",
        "geo_id",
        "measure",
        "count",
        "cost",
        "target",
    ]
    measures_sheet = next(ws for ws in book.worksheets if ws.title == "Measures")
    ids = [row[0] for row in measures_sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert ids == EXPECTED_IDS


@pytest.mark.parametrize("fmt", ["pdf", "CSV ", ["csv"], "<b>csv</b>"])
def test_another_format_is_refused_naming_the_field(fmt: Any) -> None:
    with pytest.raises(tk.ValidationError) as error:
        call_action("cd3p_outcome_template", _anonymous(), format=fmt)
    assert "format" in error.value.error_dict
