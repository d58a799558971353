"""Template helpers of data requests: the labels of states, kinds and outcomes, and a request's age."""

from __future__ import annotations

import datetime as dt

from ckan.plugins import toolkit as tk


def _labels() -> dict[str, str]:
    return {
        "open": tk._("Open"),
        "assigned": tk._("Assigned"),
        "in_progress": tk._("In progress"),
        "fulfilled": tk._("Fulfilled"),
        "declined": tk._("Declined"),
        "duplicate": tk._("Duplicate"),
        "new_data": tk._("New data"),
        "access": tk._("Access"),
    }


def cd3p_request_label(code: str | None) -> str:
    """The label of a request's state, kind or outcome (the code itself if it has none)."""
    return _labels().get(code or "", code or "")


def cd3p_request_age(created: str | dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    """Whole days since the request was made."""
    if not created:
        return None
    moment = created if isinstance(created, dt.datetime) else dt.datetime.fromisoformat(created)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(((now or dt.datetime.now(dt.UTC)) - moment).days, 0)


def cd3p_request_options(codes: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(code, label) of each state, kind or outcome, for a choice."""
    return [(code, cd3p_request_label(code)) for code in codes]
