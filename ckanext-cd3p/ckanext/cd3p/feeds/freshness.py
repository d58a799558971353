"""Freshness: the one rule that says whether a dataset is fresh, due, overdue or delinquent.

From the dataset's declared update frequency (``update_frequency``) and its last data change, with
the thresholds of the Humanitarian Data Exchange (HDX): a dataset becomes **due** once its
frequency's period has passed since its last change, **overdue** and **delinquent** at the later
thresholds below (days). "As needed" (``irregular``), ``never`` and no frequency: always fresh.

| frequency | due | overdue | delinquent |
|---|---:|---:|---:|
| continuous, daily | 1 | 2 | 3 |
| weekly | 7 | 14 | 21 |
| monthly | 30 | 44 | 60 |
| quarterly | 90 | 120 | 150 |
| semiannual | 180 | 210 | 240 |
| annual | 365 | 425 | 455 |

A threshold is reached at the very moment (exactly 7 days after the last change, a weekly dataset is
due); ``due_at`` is the last change plus the due days.

The **last data change** is the newest of: the dataset's row in ``cd3p_data_change`` (a DataStore
table of it loaded, a DataStore write: ``feeds/changes.py``) and each active resource's
``last_modified`` (a file uploaded or replaced) or, without one, its ``created``; a dataset with
none of these falls back to its ``metadata_created``. Editing the metadata (a title) changes none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.cd3p.common.model import utcnow

STATES = ("fresh", "due", "overdue", "delinquent")

# Days after the last change at which a dataset of each frequency is due, overdue and delinquent.
THRESHOLDS: dict[str, tuple[int, int, int]] = {
    "continuous": (1, 2, 3),
    "daily": (1, 2, 3),
    "weekly": (7, 14, 21),
    "monthly": (30, 44, 60),
    "quarterly": (90, 120, 150),
    "semiannual": (180, 210, 240),
    "annual": (365, 425, 455),
}


def labels() -> dict[str, str]:
    """The readable name of each state (badges, the facet, e-mails)."""
    return {
        "fresh": tk._("Fresh"),
        "due": tk._("Due for update"),
        "overdue": tk._("Overdue"),
        "delinquent": tk._("Delinquent"),
    }


def frequency_label(code: str | None) -> str:
    """The dataset schema's label of an update frequency ("Weekly"); the code if it has none."""
    schema = tk.h.scheming_get_dataset_schema("dataset") or {}
    for field in schema.get("dataset_fields", []):
        if field.get("field_name") == "update_frequency":
            for choice in field.get("choices") or []:
                if choice.get("value") == code:
                    return tk._(choice.get("label") or code)
    return code or ""


def rank(state: str | None) -> int:
    """0 for fresh (or nothing) up to 3 for delinquent."""
    return STATES.index(state) if state in STATES else 0


def state(frequency: str | None, last_change: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The state of a dataset of this frequency last changed then (always fresh without thresholds)."""
    days = THRESHOLDS.get(frequency or "")
    if days is None or last_change is None:
        return "fresh"
    age = (now or utcnow()) - last_change
    found = "fresh"
    for name, limit in zip(STATES[1:], days, strict=True):
        if age >= dt.timedelta(days=limit):
            found = name
    return found


def due_at(frequency: str | None, last_change: dt.datetime | None) -> dt.datetime | None:
    """When a dataset of this frequency last changed then becomes due (None: never)."""
    days = THRESHOLDS.get(frequency or "")
    if days is None or last_change is None:
        return None
    return last_change + dt.timedelta(days=days[0])


def moment(value: Any) -> dt.datetime | None:
    """A time from CKAN (ISO text or a datetime, naive meaning UTC) as an aware UTC datetime."""
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value.removesuffix("Z"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def last_change(
    recorded: dt.datetime | None, resources: Iterable[dict[str, Any]], created: Any
) -> dt.datetime | None:
    """The newest of the recorded change and the active resources' ``last_modified`` (else
    ``created``); without any, the dataset's creation."""
    times = [moment(recorded)] + [
        moment(r.get("last_modified") or r.get("created"))
        for r in resources
        if r.get("state", "active") == "active"
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else moment(created)


def _field(pkg_dict: dict[str, Any], name: str) -> Any:
    """A dataset field, at the top level (validated) or among ``extras`` (CKAN's unvalidated dict)."""
    if pkg_dict.get(name) not in (None, ""):
        return pkg_dict[name]
    for extra in pkg_dict.get("extras") or []:
        if isinstance(extra, dict) and extra.get("key") == name:
            return extra.get("value")
    return pkg_dict.get(f"extras_{name}")


def describe(
    frequency: str | None, changed: dt.datetime | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """``state``, ``last_change``, ``due_at`` (ISO 8601 text) and ``frequency``."""
    due = due_at(frequency, changed)
    return {
        "state": state(frequency, changed, now),
        "last_change": changed.isoformat() if changed else None,
        "due_at": due.isoformat() if due else None,
        "frequency": frequency or None,
    }


def of_dict(
    pkg_dict: dict[str, Any], recorded: dt.datetime | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The freshness of a dataset dict (``package_show``'s, validated or not, or a search result)."""
    resources = pkg_dict.get("resources") or []
    changed = last_change(recorded, resources, pkg_dict.get("metadata_created"))
    frequency = _field(pkg_dict, "update_frequency")
    return describe(frequency if isinstance(frequency, str) else None, changed, now)


def of_index(index_doc: dict[str, Any], recorded: dt.datetime | None) -> str:
    """The state of a dataset as CKAN is about to index it (its resources are in ``data_dict``)."""
    try:
        original = json.loads(index_doc.get("data_dict") or "{}")
    except ValueError:
        original = {}
    resources = original.get("resources") or []
    changed = last_change(
        recorded, resources, original.get("metadata_created") or index_doc.get("metadata_created")
    )
    frequency = _field(index_doc, "update_frequency")
    return state(frequency if isinstance(frequency, str) else None, changed)
