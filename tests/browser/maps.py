"""What the browser tests read of a map page."""

from __future__ import annotations

from playwright.sync_api import Page


def legend(page: Page) -> list[tuple[float, float, str]]:
    """A map legend's classes as the page shows them: (lower, upper, colour) each."""
    items = page.locator(".cd3p-legend-class")
    return [
        (
            float(items.nth(i).get_attribute("data-lower") or "nan"),
            float(items.nth(i).get_attribute("data-upper") or "nan"),
            items.nth(i).get_attribute("data-color") or "",
        )
        for i in range(items.count())
    ]
