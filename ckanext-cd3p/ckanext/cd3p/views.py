"""Pages of the Data Sharing Agreement (blueprint ``cd3p``). Every page reads and writes through the
cd3p actions, so the auth functions apply exactly as in the API."""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from flask import Blueprint

cd3p = Blueprint("cd3p", __name__)


def agreement_read() -> str:
    agreement = tk.get_action("cd3p_agreement_show")({}, {"id": "current"})
    return tk.render("cd3p/agreement/read.html", {"agreement": agreement})


def organization_agreement(id: str) -> str:
    return tk.render("cd3p/agreement/read.html", {})


cd3p.add_url_rule("/agreement", view_func=agreement_read)
cd3p.add_url_rule("/organization/<id>/agreement", view_func=organization_agreement, methods=["GET", "POST"])


def get_blueprints() -> list[Blueprint]:
    return [cd3p]
