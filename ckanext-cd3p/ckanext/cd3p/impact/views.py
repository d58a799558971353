"""Pages of programme impact: so far, the outcome report's template as a download."""

from __future__ import annotations

import base64

from ckan.plugins import toolkit as tk
from ckan.types import Response
from flask import make_response

from ckanext.cd3p.common import pages
from ckanext.cd3p.impact.logic.schema import TEMPLATE_FORMATS

cd3p_impact = pages.blueprint("cd3p_impact", __name__)


def outcome_template(fmt: str) -> Response:
    """The blank outcome report, CSV or XLSX (through ``cd3p_outcome_template``)."""
    if fmt not in TEMPLATE_FORMATS:
        raise tk.ObjectNotFound(tk._("The template comes as CSV or XLSX"))
    found = pages.call("cd3p_outcome_template", {"format": fmt})
    content = found["content"]
    body = content.encode("utf-8") if found["encoding"] == "utf-8" else base64.b64decode(content)
    response = make_response(body)
    response.headers["Content-Type"] = found["media_type"]
    response.headers["Content-Disposition"] = f'attachment; filename="{found["filename"]}"'
    return response


cd3p_impact.add_url_rule("/impact/outcome-report-template.<fmt>", view_func=outcome_template)

blueprints = [cd3p_impact]
