"""Template helpers of the DCAT-US catalog."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.dcatus.logic.action import TYPE

FORMATS = (("ttl", "Turtle"), ("jsonld", "JSON-LD"), ("rdf", "RDF/XML"))


def cd3p_dcat_links(pkg_dict: dict[str, Any]) -> list[dict[str, str]]:
    """The dataset's DCAT-US description in each format, for a dataset the catalog lists (a
    public one of the catalog's type, which a visitor sees too); none for any other."""
    if pkg_dict.get("private") or pkg_dict.get("state") != "active" or pkg_dict.get("type") != TYPE:
        return []
    return [
        {"label": label, "url": tk.h.url_for("dcat.read_dataset", _id=pkg_dict["name"], _format=fmt)}
        for fmt, label in FORMATS
    ]
