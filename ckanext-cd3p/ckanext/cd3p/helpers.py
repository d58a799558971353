"""Template helpers, registered with the `cd3p_` prefix."""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk

__all__ = ["cd3p_featured_datasets"]


def cd3p_featured_datasets(limit: int = 6) -> list[dict[str, Any]]:
    """The most recently changed datasets the current user may see, for the home page."""
    result = tk.get_action("package_search")(
        {}, {"rows": limit, "sort": "metadata_modified desc", "include_private": True}
    )
    return result["results"]
