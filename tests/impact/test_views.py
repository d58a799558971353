"""The outcome report's template as a download."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_the_template_downloads_as_a_file(app: Any, fmt: str, media_type: str) -> None:
    response = app.get(f"/impact/outcome-report-template.{fmt}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="cd3p-outcome-report.{fmt}"'
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    else:
        header = [c.value for c in load_workbook(io.BytesIO(response.get_data())).worksheets[0][1]]
    assert header == ["period", "geo_level", "geo_id", "measure", "count", "cost", "target"]


def test_another_format_is_not_found(app: Any) -> None:
    assert app.get("/impact/outcome-report-template.pdf").status_code == 404
