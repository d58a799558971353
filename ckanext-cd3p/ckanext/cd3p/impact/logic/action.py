"""Actions of programme impact: the outcome measures, and the outcome report's template."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p.common import actions
from ckanext.cd3p.common import schema as common_schema
from ckanext.cd3p.impact import registry, reports
from ckanext.cd3p.impact.logic import schema

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@tk.side_effect_free
def cd3p_measure_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The outcome measures a programme reports (``impact/measures.yaml``), in order: each with
    ``id``, ``title``, ``unit``, ``kind`` (``count`` or ``median``), ``definition``, ``source``,
    ``people`` (small counts are suppressed), ``need`` (the indicator and count it answers, or None
    where no shipped indicator counts that need), ``need_note`` and ``of`` (a median's count)."""
    tk.check_access("cd3p_measure_list", context, data_dict)
    actions.validate(data_dict, common_schema.nothing(), context)
    return [dataclasses.asdict(m) for m in registry.MEASURES.values()]


@tk.side_effect_free
def cd3p_outcome_template(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The blank outcome report: one row per measure, in the documented columns.

    :param format: ``csv`` (default) or ``xlsx`` (with a sheet of the measures' definitions)
    :returns: ``format``, ``filename``, ``media_type``, ``columns``, ``encoding`` (``utf-8`` for
        CSV, ``base64`` for a workbook) and ``content``
    """
    tk.check_access("cd3p_outcome_template", context, data_dict)
    data = actions.validate(data_dict, schema.outcome_template(), context)
    fmt = data["format"]
    if fmt == "csv":
        encoding, content = "utf-8", reports.template_csv().decode("utf-8")
    else:
        encoding, content = "base64", base64.b64encode(reports.template_xlsx()).decode("ascii")
    return {
        "format": fmt,
        "filename": f"cd3p-outcome-report.{fmt}",
        "media_type": MEDIA_TYPES[fmt],
        "columns": list(reports.COLUMNS),
        "encoding": encoding,
        "content": content,
    }
