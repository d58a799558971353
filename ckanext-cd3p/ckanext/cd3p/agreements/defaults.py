"""What the portal ships with: the template Data Sharing Agreement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckan.plugins import toolkit as tk

DEFAULT_AGREEMENT = Path(__file__).parent / "default.md"


def ensure_default_agreement(echo: Callable[[str], None]) -> dict[str, Any]:
    """Creates and activates the shipped template agreement when no version is active yet."""
    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
    try:
        current = tk.get_action("cd3p_agreement_show")(context, {"id": "current"})
        echo(f"agreement: version {current['version']} is active")
        return current
    except tk.ObjectNotFound:
        pass
    version = "template-1"
    existing = {a["version"] for a in tk.get_action("cd3p_agreement_list")(context, {})}
    if version not in existing:
        tk.get_action("cd3p_agreement_create")(
            context,
            {
                "version": version,
                "title": "CD3P Data Sharing Agreement (template for counsel)",
                "body": DEFAULT_AGREEMENT.read_text(encoding="utf-8"),
            },
        )
    current = tk.get_action("cd3p_agreement_activate")(context, {"id": version})
    echo(f"agreement: activated the shipped template as version {version}; replace it with the City's text")
    return current
