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


def cd3p_access_request_target(code: int | str | None) -> str | None:
    """On the "not found" page of a dataset, for a logged-in reader: the name they asked for, so
    the page can offer to ask its organization for access. Said for any name (whether a dataset
    has it or not), so the page tells nobody that a dataset they cannot read exists."""
    if str(code) != "404" or not tk.current_user.is_authenticated:
        return None
    args = tk.request.view_args or {}
    if not (tk.request.endpoint or "").endswith(".read") or "package_type" not in args:
        return None
    name = args.get("id")
    return name if isinstance(name, str) and name else None
